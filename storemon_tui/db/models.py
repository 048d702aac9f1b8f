"""The database schema, as SQLModel tables.

Design notes (why it looks like this):

* ``store`` maps each opaque text ``store_id`` to a small integer
  ``store_key``. Store ids are 19–20 digit numbers or UUIDs and must never be
  converted to numbers, but two million polls keyed by a 20-byte text column
  make every index fat and every scan slow. Polls, hours and zones therefore
  reference ``store_key``; ``store_id`` stays TEXT in exactly one place.
* ``poll`` is keyed by ``(store_key, ts_us)`` — the contract's poll identity —
  and is a ``WITHOUT ROWID`` table on SQLite, so the primary key *is* the
  table: a per-store time-range scan is a single B-tree range read and the
  report reads polls back already sorted.
* No foreign keys: the importer creates every ``store`` row in the same
  transaction as the rows that reference it, and PostgreSQL's per-row
  foreign-key triggers made a two-million-poll import many times slower
  (bench/README.md).
* ``poll_recent`` has ``poll``'s shape and takes the polls a small import
  adds (an hourly file). ``poll`` is clustered by store, so one hour's
  polls of 10,000 stores would land on ~10,000 different pages of it, each
  journaled and written back (0.7 s of a 10,000-row import into 19 M
  polls); in the small ``poll_recent`` they share a few hundred. Imports
  fold it into ``poll`` once it holds enough rows to make that rewrite
  pay (``ingest/recent.py``). The two tables never hold the same
  ``(store_key, ts_us)``, so every reader takes their union
  (``db/poll_sources.py``).
* Timestamps are integer microseconds since the Unix epoch (UTC). They sort,
  compare and subtract exactly, unlike text or floats.
* Business-hours times are microseconds since local midnight (``24:00:00`` is
  86 400 000 000). The report engine applies the contract's rules to them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer, SmallInteger, String, Text
from sqlmodel import Field, SQLModel


class Meta(SQLModel, table=True):
    """Key/value facts about the database: schema version, data version."""

    __tablename__ = "meta"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))


class Store(SQLModel, table=True):
    """One row per distinct store id ever seen in any input file."""

    __tablename__ = "store"

    store_key: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    store_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))


class Poll(SQLModel, table=True):
    """One status observation: was the store online at this instant?"""

    __tablename__ = "poll"
    __table_args__ = {"sqlite_with_rowid": False}

    store_key: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    ts_us: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    active: int = Field(sa_column=Column(SmallInteger, nullable=False))


class PollRecent(SQLModel, table=True):
    """A poll imported since ``poll_recent`` was last folded into ``poll`` (see the module's notes)."""

    __tablename__ = "poll_recent"
    __table_args__ = {"sqlite_with_rowid": False}

    store_key: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    ts_us: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    active: int = Field(sa_column=Column(SmallInteger, nullable=False))


class BusinessHours(SQLModel, table=True):
    """One opening interval on one local weekday (0 = Monday … 6 = Sunday)."""

    __tablename__ = "business_hours"
    __table_args__ = (Index("ix_business_hours_store", "store_key", "day_of_week"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    store_key: int = Field(sa_column=Column(Integer, nullable=False))
    day_of_week: int = Field(sa_column=Column(SmallInteger, nullable=False))
    start_us: int = Field(sa_column=Column(BigInteger, nullable=False))
    end_us: int = Field(sa_column=Column(BigInteger, nullable=False))


class StoreTimezone(SQLModel, table=True):
    """The IANA zone a store's business hours are written in."""

    __tablename__ = "store_timezone"

    store_key: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    timezone_str: str = Field(sa_column=Column(Text, nullable=False))


class Report(SQLModel, table=True):
    """A report job and, once complete, where its CSV lives."""

    __tablename__ = "report"

    id: str = Field(sa_column=Column(String(32), primary_key=True))
    created_at: datetime = Field(nullable=False)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    as_of_us: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    status: str = Field(sa_column=Column(String(16), nullable=False, index=True))
    progress: float = 0.0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    row_count: int | None = None
    file_path: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data_version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    owner: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    """``host:pid`` of the process computing it, to tell a dead job from a live one."""
