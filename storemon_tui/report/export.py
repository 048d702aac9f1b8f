"""Headless export: compute a report (recorded like any other) and write its CSV.

Used by ``storemon --export PATH|-``. The destination is checked *before* the
computation so an unwritable path fails in a second, not after the report.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import IO

from sqlalchemy import Connection

from storemon_tui.atomic_write import check_writable, write_atomically
from storemon_tui.db.database import Database
from storemon_tui.errors import StoremonError
from storemon_tui.report.jobs import ProgressCallback, ReportJobs, ReportStatus
from storemon_tui.safe_text import visible_lines


def check_export_target(target: str, flag: str = "--export") -> str | None:
    """The output path (``None`` for stdout), or a one-line error, naming ``flag``, why it cannot be written."""
    if target == "-":
        return None
    path = os.path.expanduser(target)
    try:
        check_writable(path)
    except StoremonError as exc:
        raise StoremonError(f"{flag} {exc}") from None
    return path


def write_export(data: bytes, path: str | os.PathLike[str] | None) -> None:
    """Write a report's CSV to ``path`` (``None``: stdout), byte for byte; see :mod:`storemon_tui.atomic_write`.

    A terminal is the one exception: there the CSV is shown like any other
    text storemon prints, control characters in ids escaped (``safe_text``).
    """
    if path is None:
        sys.stdout.flush()
        _write_bytes(sys.stdout.buffer, data)
        return
    with write_atomically(path) as handle:
        _write_bytes(handle, data)


def _write_bytes(handle: IO[bytes], data: bytes) -> None:
    if handle.isatty():
        data = visible_lines(data.decode("utf-8")).encode("utf-8")
    handle.write(data)  # bytes: no newline translation, no dependence on the locale's encoding
    handle.flush()


def export_report(
    db: Database,
    target: str,
    *,
    as_of_us: int | None = None,
    progress: ProgressCallback | None = None,
    timings: dict[str, float] | None = None,
    alongside: Callable[[Connection], None] | None = None,
) -> tuple[str, int, float]:
    """Compute a report and write it to ``target`` (a path, or ``-`` for stdout).

    ``alongside(conn)`` runs in the report's own snapshot (see
    :meth:`ReportJobs.run`). Returns ``(report id, stores, seconds)``.
    """
    path = check_export_target(target)
    started = time.perf_counter()
    jobs = ReportJobs(db)
    jobs.mark_interrupted()
    info = jobs.run(as_of_us, progress=progress, timings=timings, alongside=alongside)
    if info.status is not ReportStatus.COMPLETE:
        raise StoremonError(f"report {info.id} {info.status.value.lower()}: {info.error or ''}".rstrip(": "))
    write_export(jobs.csv_bytes(info.id), path)
    return info.id, info.row_count or 0, time.perf_counter() - started
