"""Retention: delete old polls without changing any later report, and old report records.

:func:`prune_polls` deletes the polls older than ``keep_days`` days before
the latest poll (the *cut-off*), except, for each store, its latest poll and
its latest evidence poll before the cut-off. Why those two: a report's
numbers depend only on the evidence from the last poll before its week
window onwards, and on whether a store has any poll at all. So any report
whose ``now`` is at least 168 h after the cut-off is byte-identical before
and after pruning, as long as business hours and zones are unchanged (the
evidence kept is decided by today's hours). The fleet status's
``since_utc`` can look back only as far as what is kept.

It is one transaction holding the write lock (SQLite) or the import lock
(PostgreSQL): an import cannot slip in between deciding what to keep and
deleting, and a crash or kill leaves the database as it was. The deleted
space is reclaimed afterwards: SQLite rewrites the file (``VACUUM``, itself
atomic), PostgreSQL marks it reusable (plain ``VACUUM``).

:func:`prune_reports` keeps the newest report records (and their CSV
files) and deletes the rest; running reports are never touched.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from storemon_tui.db.database import Database, bump_data_version
from storemon_tui.db.poll_sources import fold_recent_polls
from storemon_tui.db.summary_sql import LATEST_POLL_SQL
from storemon_tui.errors import StoremonError
from storemon_tui.ingest.pg_writer import IMPORT_LOCK_KEY, LOCK_POLL_S
from storemon_tui.report.jobs import ReportJobs
from storemon_tui.report.lookback import latest_evidence_before
from storemon_tui.report.source import ReportSnapshot
from storemon_tui.report.timing import Progress, cancel_check, clamped_progress
from storemon_tui.timebase import DAY_US

PRUNE_CHUNK_STORES = 4096
"""Stores whose polls to keep are decided per round (memory follows this, not the fleet)."""


@dataclass(frozen=True)
class PollsPruned:
    """What :func:`prune_polls` did."""

    cutoff_us: int | None
    """Polls before this instant were considered; ``None`` when the database has no polls."""
    deleted: int
    kept_before_cutoff: int
    """Polls before the cut-off that stay: each store's latest poll and latest evidence poll."""
    bytes_before: int | None
    bytes_after: int | None
    """SQLite: the file's size; PostgreSQL: the poll tables' size (reusable, not returned to the system)."""
    seconds: float


def prune_polls(
    db: Database,
    keep_days: float,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> PollsPruned:
    """Delete the polls older than ``keep_days`` days before the latest poll, keeping what reports need.

    ``progress`` gets fractions in ``[0, 1]`` (deciding and deleting take
    0–0.9, reclaiming the space the rest); ``should_cancel`` is checked
    between rounds and cancelling rolls everything back.
    """
    if keep_days < 0:
        raise ValueError("keep_days must not be negative")
    started = time.perf_counter()
    check, report = cancel_check(should_cancel), clamped_progress(progress)
    report(0.0)
    size_before = _size(db)
    with db.begin_write() as conn:
        _take_import_lock(conn, check)
        latest = conn.execute(text(LATEST_POLL_SQL)).scalar()
        if latest is None:
            return PollsPruned(None, 0, 0, size_before, size_before, time.perf_counter() - started)
        cutoff = int(latest) - int(keep_days * DAY_US)
        _fold(conn)
        deleted, kept = _delete_before(conn, cutoff, check, lambda f: report(0.9 * f))
        if deleted:
            bump_data_version(conn)
    if deleted:
        _reclaim(db)
    report(1.0)
    return PollsPruned(cutoff, deleted, kept, size_before, _size(db), time.perf_counter() - started)


def _take_import_lock(conn: Connection, check: Callable[[], None]) -> None:
    """PostgreSQL: wait for imports (they take the same lock), checking for cancel between tries."""
    if conn.dialect.name != "postgresql":
        return  # SQLite: the write transaction already holds the only write lock
    while not conn.exec_driver_sql(f"SELECT pg_try_advisory_xact_lock({IMPORT_LOCK_KEY})").scalar():
        check()
        time.sleep(LOCK_POLL_S)


def _fold(conn: Connection) -> None:
    """Every recent poll into ``poll`` first (db/poll_sources.py), so the pruning has one table to delete from."""
    dbapi = conn.connection.dbapi_connection
    if dbapi is None:  # only after the connection was closed or invalidated
        raise StoremonError("the database connection is closed")
    cursor = dbapi.cursor()
    try:
        fold_recent_polls(cursor)
    finally:
        cursor.close()


def _delete_before(conn: Connection, cutoff: int, check: Callable[[], None], report: Progress) -> tuple[int, int]:
    """Delete, chunk by chunk of stores, every poll before ``cutoff`` but each store's two to keep."""
    snap = ReportSnapshot(conn, cutoff)
    deleted = kept = 0
    try:
        for first in range(0, snap.max_key + 1, PRUNE_CHUNK_STORES):
            check()
            chunk, older = snap.read_chunk(first, first + PRUNE_CHUNK_STORES, cutoff, polls=False)
            stores = np.flatnonzero(older.has_older)
            back = latest_evidence_before(chunk, older, stores, np.full(len(stores), cutoff, dtype=np.int64), check)
            keep_evidence = back.latest_ts_us.copy()  # no evidence: exclude the latest poll twice
            keep_evidence[np.searchsorted(back.polled, back.evidence.store)] = back.evidence.ts_us
            keys = (back.polled + first).tolist()
            deleted += _delete_all_but(snap.cursor, keys, back.latest_ts_us.tolist(), keep_evidence.tolist())
            kept += len(keys) + int(np.count_nonzero(keep_evidence != back.latest_ts_us))
            report(min(1.0, (first + PRUNE_CHUNK_STORES) / (snap.max_key + 1)))
    finally:
        snap.cursor.close()
    return deleted, kept


def _delete_all_but(cursor: Any, keys: list[int], latest: list[int], evidence: list[int]) -> int:
    """Per store, delete its polls before its latest one before the cut-off, except its latest evidence poll.

    One index range per store: ``ts < latest`` and ``ts <> evidence`` (the
    latest poll itself is never below ``latest``). Returns the rows deleted.
    """
    if not keys:
        return 0
    if isinstance(cursor, sqlite3.Cursor):
        sql = "DELETE FROM poll WHERE store_key = ? AND ts_us < ? AND ts_us <> ?"
        cursor.executemany(sql, list(zip(keys, latest, evidence, strict=True)))
    else:
        cursor.execute(
            "DELETE FROM poll p USING unnest(%s::int[], %s::bigint[], %s::bigint[]) AS k(store_key, latest, evidence)"
            " WHERE p.store_key = k.store_key AND p.ts_us < k.latest AND p.ts_us <> k.evidence",
            (keys, latest, evidence),
        )
    return max(cursor.rowcount, 0)


def _reclaim(db: Database) -> None:
    """Give the deleted pages back: SQLite rewrites the file, PostgreSQL makes them reusable."""
    if db.sqlite_path is not None:
        connection = sqlite3.connect(db.sqlite_path, timeout=30, isolation_level=None)
        try:
            connection.execute("VACUUM")
        except sqlite3.OperationalError:
            pass  # another process kept reading for 30 s: the pruning stands, the file keeps its size for now
        finally:
            connection.close()
        return
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM poll, poll_recent")


def _size(db: Database) -> int | None:
    if db.sqlite_path is not None:
        return os.path.getsize(db.sqlite_path) if os.path.exists(db.sqlite_path) else None
    with db.connect() as conn:
        value = conn.exec_driver_sql(
            "SELECT pg_total_relation_size('poll') + pg_total_relation_size('poll_recent')"
        ).scalar()
    return int(value) if value is not None else None


@dataclass(frozen=True)
class ReportsPruned:
    deleted: int
    files: int


def prune_reports(db: Database, keep: int, *, directory: Path | None = None) -> ReportsPruned:
    """Keep the newest ``keep`` report records and their files; delete the other finished ones.

    Running reports are left alone (another process may be computing one).
    Files go after the records are committed, so a failure deletes no file
    whose record survives.
    """
    if keep < 0:
        raise ValueError("keep must not be negative")
    jobs = ReportJobs(db, directory=directory)
    return ReportsPruned(*jobs.delete_all_but_newest(keep))
