"""Headless export: compute a report (recorded like any other) and write its CSV.

Used by ``storemon --export PATH|-``. The destination is checked *before* the
computation so an unwritable path fails in a second, not after the report.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from storemon_tui.db.database import Database
from storemon_tui.errors import StoremonError
from storemon_tui.report.jobs import ProgressCallback, ReportJobs, ReportStatus


def check_writable(target: str) -> Path | None:
    """The output path (``None`` for stdout), or a one-line error why it cannot be written."""
    if target == "-":
        return None
    path = Path(target).expanduser()
    if path.is_dir():
        raise StoremonError(f"--export {target}: is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise StoremonError(f"--export {target}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise StoremonError(f"--export {target}: permission denied")
    return path


def write_csv_atomically(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    temp = path.with_name(f".{path.name}.storemon-tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise StoremonError(f"cannot write {path}: {exc.strerror or exc}") from None


def export_report(
    db: Database,
    target: str,
    *,
    as_of_us: int | None = None,
    progress: ProgressCallback | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[str, int, float]:
    """Compute a report and write it to ``target`` (a path, or ``-`` for stdout).

    Returns ``(report id, stores, seconds)``.
    """
    path = check_writable(target)
    started = time.perf_counter()
    jobs = ReportJobs(db)
    jobs.mark_interrupted()
    info = jobs.run(as_of_us, progress=progress, timings=timings)
    if info.status is not ReportStatus.COMPLETE:
        raise StoremonError(f"report {info.id} {info.status.value.lower()}: {info.error or ''}".rstrip(": "))
    data = jobs.csv_bytes(info.id)
    if path is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)  # bytes: no newline translation, no dependence on the locale's encoding
        sys.stdout.buffer.flush()
    else:
        write_csv_atomically(data, path)
    return info.id, info.row_count or 0, time.perf_counter() - started
