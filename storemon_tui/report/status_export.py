"""Headless status: ``storemon --status PATH|-`` writes the fleet status CSV, alone or with the report.

With ``--export`` too, both come from one snapshot of the database: the
status is computed in the report's own read transaction, right after it, so
the two files describe exactly the same data (an import committing meanwhile
is in neither). Both destinations are checked before anything is computed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection

from storemon_tui.db.database import Database
from storemon_tui.report.export import check_export_target, export_report, write_export
from storemon_tui.report.jobs import ProgressCallback
from storemon_tui.report.pipeline import run_status
from storemon_tui.report.status import StatusResult, status_text


@dataclass(frozen=True)
class Written:
    """What :func:`write_outputs` wrote: the report (if asked for) and the status."""

    report_id: str | None
    report_rows: int
    report_seconds: float
    status_rows: int
    status_seconds: float


def write_outputs(
    db: Database,
    *,
    report_target: str | None,
    status_target: str,
    as_of_us: int | None = None,
    progress: ProgressCallback | None = None,
    timings: dict[str, float] | None = None,
) -> Written:
    """Write the status to ``status_target`` and, if given, the report to ``report_target`` (``-``: stdout)."""
    status_path = check_export_target(status_target, "--status")
    statuses: list[StatusResult] = []
    status_seconds = 0.0

    def compute_status(conn: Connection) -> None:
        nonlocal status_seconds
        started = time.perf_counter()
        statuses.append(run_status(conn, as_of_us, progress=None if report_target else progress, timings=timings))
        status_seconds = time.perf_counter() - started

    report_id, report_rows, report_seconds = None, 0, 0.0
    if report_target is not None:
        report_id, report_rows, report_seconds = export_report(
            db, report_target, as_of_us=as_of_us, progress=progress, timings=timings, alongside=compute_status
        )
        report_seconds -= status_seconds
    else:
        with db.snapshot() as conn:
            compute_status(conn)
    started = time.perf_counter()
    write_export(status_text(statuses[0]).encode("utf-8"), status_path)
    status_seconds += time.perf_counter() - started
    return Written(report_id, report_rows, report_seconds, len(statuses[0]), status_seconds)
