"""Clearing data and summarising what the database holds.

Clearing is one transaction and bumps the data version, so reports computed
before it are flagged as stale. Report CSV files are deleted together with
their records (after the commit, so a failed clear deletes no file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from storemon_tui.db.database import Database, bump_data_version, get_data_version
from storemon_tui.db.summary_sql import LATEST_POLL_SQL, STORES_WITH_POLLS_SQL
from storemon_tui.display import counted

ROW_NOUNS = {
    "polls": ("poll", "polls"),
    "business_hours": ("business hours row", "business hours rows"),
    "time_zones": ("time zone", "time zones"),
    "reports": ("report", "reports"),
}
"""How a count of each clearable table's rows reads (``1 poll``, ``193 time zones``)."""
CLEARABLE = {
    "polls": "poll",
    "business_hours": "business_hours",
    "time_zones": "store_timezone",
    "reports": "report",
}


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


def stores_with_polls(conn: Connection) -> int:
    """How many stores have at least one poll (one seek per store, no scan)."""
    return int(conn.execute(text(STORES_WITH_POLLS_SQL)).scalar() or 0)


def summarize(db: Database) -> DataSummary:
    """Counts for the header: cheap enough to run on every start and after every import."""
    with db.connect() as conn:
        polls = _count(conn, "poll")
        return DataSummary(
            stores=stores_with_polls(conn) if polls else 0,
            polls=polls,
            latest_poll_us=latest_poll_us(conn) if polls else None,
            hours_rows=_count(conn, "business_hours"),
            zones=_count(conn, "store_timezone"),
            reports=_count(conn, "report"),
            data_version=get_data_version(conn),
        )


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def describe_clear(db: Database, tables: list[str]) -> str:
    """What a clear of ``tables`` would delete, for a confirmation dialog."""
    with db.connect() as conn:
        parts = []
        for name in tables:
            rows = _count(conn, CLEARABLE[name])
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
        raise ValueError(f"unknown table(s) {unknown}; choose from {', '.join(CLEARABLE)}")
    deleted: dict[str, int] = {}
    files: list[str] = []
    with db.begin_write() as conn:
        if "reports" in tables:
            files = [p for (p,) in conn.execute(text("SELECT file_path FROM report WHERE file_path IS NOT NULL"))]
        for name in tables:
            result = conn.execute(text(f"DELETE FROM {CLEARABLE[name]}"))
            deleted[name] = max(result.rowcount, 0)
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
