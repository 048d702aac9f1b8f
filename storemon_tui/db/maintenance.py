"""Clearing data and summarising what the database holds.

Clearing is one transaction and bumps the data version, so reports computed
before it are flagged as stale. Report CSV files are deleted together with
their records (after the commit, so a failed clear deletes no file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from storemon_tui.db.browse import Pager
from storemon_tui.db.database import Database, bump_data_version, get_data_version
from storemon_tui.db.poll_sources import POLL_TABLES
from storemon_tui.db.summary_sql import EARLIEST_POLL_SQL, LATEST_POLL_SQL, POLL_COUNT_SQL, STORES_WITH_POLLS_SQL
from storemon_tui.display import counted

ROW_NOUNS = {
    "polls": ("poll", "polls"),
    "business_hours": ("business hours row", "business hours rows"),
    "time_zones": ("time zone", "time zones"),
    "reports": ("report", "reports"),
}
"""How a count of each clearable table's rows reads (``1 poll``, ``193 time zones``)."""
CLEARABLE: dict[str, tuple[str, ...]] = {
    "polls": POLL_TABLES,
    "business_hours": ("business_hours",),
    "time_zones": ("store_timezone",),
    "reports": ("report",),
}
"""The tables behind each clearable name (polls live in two: db/poll_sources.py)."""


@dataclass(frozen=True)
class DataSummary:
    """What the header shows: how much data, and the report's default "now"."""

    stores: int
    """Stores with at least one poll."""
    polls: int
    latest_poll_us: int | None
    hours_rows: int
    zones: int
    reports: int
    data_version: int


def latest_poll_us(conn: Connection) -> int | None:
    """The newest poll's timestamp: the report's default "now".

    See :data:`~storemon_tui.db.summary_sql.LATEST_POLL_SQL` for why it seeks per store.
    """
    value = conn.execute(text(LATEST_POLL_SQL)).scalar()
    return int(value) if value is not None else None


def earliest_poll_us(conn: Connection) -> int | None:
    """The oldest poll's timestamp (one seek per store, like :func:`latest_poll_us`)."""
    value = conn.execute(text(EARLIEST_POLL_SQL)).scalar()
    return int(value) if value is not None else None


def stores_with_polls(conn: Connection) -> int:
    """How many stores have at least one poll (one seek per store, no scan)."""
    return int(conn.execute(text(STORES_WITH_POLLS_SQL)).scalar() or 0)


def summarize(db: Database) -> DataSummary:
    """Counts for the header: cheap enough to run on every start and after every import."""
    with db.connect() as conn:
        polls = int(conn.execute(text(POLL_COUNT_SQL)).scalar() or 0)
        return DataSummary(
            stores=stores_with_polls(conn) if polls else 0,
            polls=polls,
            latest_poll_us=latest_poll_us(conn) if polls else None,
            hours_rows=_count(conn, "business_hours"),
            zones=_count(conn, "store_timezone"),
            reports=_count(conn, "report"),
            data_version=get_data_version(conn),
        )


def _count(conn: Connection, *tables: str) -> int:
    return sum(int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0) for table in tables)


def describe_clear(db: Database, tables: list[str]) -> str:
    """What a clear of ``tables`` would delete, for a confirmation dialog."""
    with db.connect() as conn:
        parts = []
        for name in tables:
            rows = _count(conn, *CLEARABLE[name])
            parts.append(counted(rows, *ROW_NOUNS[name]))
    return ", ".join(parts)


def clear_tables(db: Database, tables: list[str]) -> dict[str, int]:
    """Delete every row of the named tables (names from :data:`CLEARABLE`).

    Returns rows deleted per table. Deleting ``reports`` also removes their
    CSV files. When polls, hours and zones are all cleared, the store id
    dictionary goes too.
    """
    unknown = [t for t in tables if t not in CLEARABLE]
    if unknown:
        raise ValueError(
            f"unknown {'table' if len(unknown) == 1 else 'tables'} {unknown}; choose from {', '.join(CLEARABLE)}"
        )
    deleted: dict[str, int] = {}
    files: list[str] = []
    with db.begin_write() as conn:
        if "reports" in tables:
            files = [p for (p,) in conn.execute(text("SELECT file_path FROM report WHERE file_path IS NOT NULL"))]
        for name in tables:
            deleted[name] = sum(
                max(conn.execute(text(f"DELETE FROM {table}")).rowcount, 0) for table in CLEARABLE[name]
            )
        if {"polls", "business_hours", "time_zones"} <= set(tables):
            conn.execute(text("DELETE FROM store"))
        if set(tables) - {"reports"}:
            bump_data_version(conn)
    for path in files:
        Path(path).unlink(missing_ok=True)
    return deleted


def clear_all(db: Database, *, keep_reports: bool = True) -> dict[str, int]:
    """Delete all data; reports are kept unless ``keep_reports`` is false."""
    tables = ["polls", "business_hours", "time_zones"] + ([] if keep_reports else ["reports"])
    return clear_tables(db, tables)


@dataclass(frozen=True)
class FilteredRows:
    """The rows of one table that the Data pane's store filter shows."""

    table: str
    store_filter: str
    rows: int
    stores: int
    exact: bool
    """The filter is one store's whole id (else: the ids starting with it)."""

    def describe(self) -> str:
        """``164 polls of store 1031…``, ``2 time zones of the 2 stores whose id starts with '10'``."""
        what = counted(self.rows, *ROW_NOUNS[self.table])
        if self.exact:
            return f"{what} of store {self.store_filter}"
        return f"{what} of the {counted(self.stores, 'store')} whose id starts with {self.store_filter!r}"


def describe_filtered(db: Database, table: str, store_filter: str) -> FilteredRows | None:
    """What :func:`clear_filtered` would delete (``None``: the filter does not apply to ``table``)."""
    pager = Pager(db, table, store_filter=store_filter)
    with db.connect() as conn:
        keys = pager.store_keys(conn)
        if keys is None:
            return None
        rows = pager.total(conn)
        exact = conn.execute(text("SELECT 1 FROM store WHERE store_id = :s"), {"s": store_filter.strip()}).first()
    return FilteredRows(table, store_filter.strip(), rows, len(keys), exact is not None)


def clear_filtered(db: Database, table: str, store_filter: str) -> int:
    """Delete the rows of ``table`` that ``store_filter`` shows in the Data pane; returns how many.

    The stores are matched as the pane matches them (:meth:`Pager.store_keys`), in
    the deleting transaction, so what is deleted is what the filter shows now.
    """
    pager = Pager(db, table, store_filter=store_filter)
    if not pager.filtered:
        raise ValueError(f"no store filter applies to {table!r}")
    with db.begin_write() as conn:
        keys = pager.store_keys(conn) or []
        deleted = 0
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join(f":k{i}" for i in range(len(chunk)))
            params = {f"k{i}": key for i, key in enumerate(chunk)}
            for name in CLEARABLE[table]:
                result = conn.execute(text(f"DELETE FROM {name} WHERE store_key IN ({marks})"), params)
                deleted += max(result.rowcount, 0)
        if deleted:
            bump_data_version(conn)
    return deleted
