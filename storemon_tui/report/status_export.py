"""Headless status: ``storemon --status PATH|-`` writes the fleet status CSV, alone or with the report.

With ``--export`` too, both come from one snapshot of the database: the
status is computed in the report's own read transaction, right after it, so
the two files describe exactly the same data (an import committing meanwhile
is in neither). Both destinations are checked before anything is computed.
The watcher uses the same path after each batch, with or without a status
file (``--alert-cmd`` needs the status, not the file).

A status of now (no ``--as-of``) also leaves its count of stores open and
down in ``meta``, with when it was computed and from which data version:
``storemon --check`` must answer in half a second, and computing the status
of two million polls takes seconds, so the check reports that recorded
figure and its age instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection

from storemon_tui.db.database import Database, get_data_version
from storemon_tui.db.summary_sql import STATUS_AT_KEY, STATUS_DATA_VERSION_KEY, STATUS_DOWN_KEY, set_meta_sql
from storemon_tui.report.export import check_export_target, export_report, write_export
from storemon_tui.report.jobs import ProgressCallback, check_polls_before
from storemon_tui.report.pipeline import early_workers, run_status
from storemon_tui.report.status import StatusResult, status_text
from storemon_tui.report.workers import WorkerPool


@dataclass(frozen=True)
class Written:
    """What :func:`write_outputs` wrote: the report (if asked for) and the status (computed, written if asked for)."""

    report_id: str | None
    report_rows: int
    report_seconds: float
    status: StatusResult
    status_seconds: float

    @property
    def status_rows(self) -> int:
        return len(self.status)


def write_outputs(
    db: Database,
    *,
    report_target: str | None,
    status_target: str | None,
    as_of_us: int | None = None,
    progress: ProgressCallback | None = None,
    timings: dict[str, float] | None = None,
) -> Written:
    """Compute the status and write it to ``status_target`` (``None``: no file) and, if given, the report
    to ``report_target`` (``-``: stdout); a status of now is recorded for the health check."""
    status_path = check_export_target(status_target, "--status") if status_target is not None else None
    statuses: list[tuple[StatusResult, int]] = []
    status_seconds = 0.0

    def compute_status(conn: Connection, workers: WorkerPool | None = None) -> None:
        nonlocal status_seconds
        started = time.perf_counter()
        shown = None if report_target else progress
        status = run_status(conn, as_of_us, progress=shown, timings=timings, workers=workers)
        statuses.append((status, get_data_version(conn)))
        status_seconds = time.perf_counter() - started

    report_id, report_rows, report_seconds = None, 0, 0.0
    if report_target is not None:
        report_id, report_rows, report_seconds = export_report(
            db, report_target, as_of_us=as_of_us, progress=progress, timings=timings, alongside=compute_status
        )
        report_seconds -= status_seconds
    else:
        with early_workers(db) as workers, db.snapshot() as conn:
            if as_of_us is not None:  # as --export does (there, when the report is recorded): exit 1, not an empty CSV
                check_polls_before(conn, as_of_us)
            compute_status(conn, workers)
    status, data_version = statuses[0]
    started = time.perf_counter()
    if status_target is not None:
        write_export(status_text(status).encode("utf-8"), status_path)
    if as_of_us is None:
        record_status(db, status.down_now(), data_version)
    status_seconds += time.perf_counter() - started
    return Written(report_id, report_rows, report_seconds, status, status_seconds)


def record_status(db: Database, down_now: int, data_version: int) -> None:
    """Leave the count of stores open and down in ``meta`` for ``storemon --check``, stamped now.

    A transaction of its own, after the snapshot the status was read in has
    ended (on SQLite a write cannot commit while a read is open). It does
    not touch the data version: the data did not change.
    """
    values = {
        STATUS_DOWN_KEY: down_now,
        STATUS_AT_KEY: time.time_ns() // 1000,
        STATUS_DATA_VERSION_KEY: data_version,
    }
    with db.begin_write() as conn:
        for key, value in values.items():
            conn.exec_driver_sql(set_meta_sql(key, value))
