"""Importing one CSV file: read, validate, then write everything or nothing.

This is the library function behind ``storemon --import`` and the app's
import pane. Each file is one database transaction, so a crash, a kill or
Ctrl-C part-way leaves the database exactly as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from storemon_tui.db.database import Database
from storemon_tui.ingest.kinds import FileKind
from storemon_tui.ingest.pg_writer import PostgresWriter
from storemon_tui.ingest.polls import sort_last_wins
from storemon_tui.ingest.prepare import PreparedFile, ReadAhead, prepare_file
from storemon_tui.ingest.rejects import write_rejects
from storemon_tui.ingest.validate import Parsed
from storemon_tui.ingest.writer import CancelCheck, ProgressCallback, SqliteWriter, Writer
from storemon_tui.safe_text import visible


@dataclass
class ImportSummary:
    """What one file did to the database."""

    path: Path
    kind: FileKind
    rows_read: int
    inserted: int = 0
    replaced: int = 0
    """Polls: rows whose key already existed. Hours: old rows removed. Zones: stores re-zoned."""
    changed: int = 0
    """Polls only: replaced rows whose status actually changed."""
    duplicates: int = 0
    """Rows superseded by a later row with the same key in the same file."""
    rejected: int = 0
    rejects_path: Path | None = None
    stores: int = 0
    ignored_columns: tuple[str, ...] = ()
    seconds: float = 0.0
    """Reading, validating and writing this file (reading may have overlapped other files' writes)."""
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds per stage (read, validate, write, commit), for the benchmark."""

    @property
    def changed_data(self) -> bool:
        """Did the import change anything a report depends on?

        Re-importing an hourly file that is already in the database changes
        nothing, so it must not mark every existing report as stale.
        """
        if self.kind is FileKind.POLLS:
            return bool(self.inserted or self.changed)
        return bool(self.inserted or self.replaced)

    def describe(self) -> str:
        """One line for a terminal or a notification."""
        parts = [f"{visible(self.path)}: {self.kind.value}", f"{self.rows_read:,} rows read"]
        if self.kind is FileKind.HOURS:
            parts.append(f"{self.inserted:,} rows inserted for {self.stores:,} stores")
            parts.append(f"{self.replaced:,} old rows replaced")
        elif self.kind is FileKind.POLLS:
            parts.append(f"{self.inserted:,} inserted")
            parts.append(f"{self.replaced:,} replaced ({self.changed:,} changed status)")
        else:
            parts.append(f"{self.inserted:,} inserted")
            parts.append(f"{self.replaced:,} replaced")
        if self.duplicates:
            parts.append(f"{self.duplicates:,} duplicate rows in file (last wins)")
        parts.append(
            f"{self.rejected:,} rejected" + (f" (see {visible(self.rejects_path)})" if self.rejects_path else "")
        )
        if self.ignored_columns:
            parts.append("ignored column(s): " + ", ".join(repr(c) for c in self.ignored_columns))
        parts.append(f"{self.seconds:.2f} s")
        return ", ".join(parts)


def import_file(
    db: Database,
    path: str | Path,
    *,
    skip_invalid: bool = False,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> ImportSummary:
    """Import one polls, business-hours or time-zones CSV (kind from its header).

    Raises :class:`~storemon_tui.ingest.problems.FileError` when the file cannot
    be read, :class:`~storemon_tui.ingest.problems.InvalidRowsError` when rows
    are invalid and ``skip_invalid`` is false, and
    :class:`~storemon_tui.errors.Cancelled` when ``should_cancel`` says so. In
    every one of those cases nothing was written.
    """
    prepared = prepare_file(path, skip_invalid=skip_invalid)
    return write_prepared(db, prepared, progress=progress, should_cancel=should_cancel)


def write_prepared(
    db: Database,
    prepared: PreparedFile,
    *,
    progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> ImportSummary:
    """Write a prepared file in one transaction; then write its rejects file, if any."""
    started = time.perf_counter()
    parsed = prepared.parsed
    summary = ImportSummary(
        path=prepared.path,
        kind=prepared.kind,
        rows_read=prepared.rows_read,
        rejected=len(prepared.rejected),
        ignored_columns=prepared.match.ignored,
        stages=dict(prepared.stages),
    )
    if progress:
        progress(0, len(parsed))
    with db.bulk_write(should_cancel) as conn:
        writer = writer_for(
            conn, db.dialect, progress=_in_file_rows(progress, len(parsed)), should_cancel=should_cancel
        )
        keys, summary.stores = _store_keys(writer, parsed)
        _write(writer, parsed, keys, summary)
        writer.check_cancel()
        if summary.changed_data:
            writer.bump_data_version()
        writer.record_import()
        written = time.perf_counter()
    committed = time.perf_counter()
    summary.stages["write"] = written - started
    summary.stages["commit"] = committed - written
    if prepared.rejected:
        summary.rejects_path = write_rejects(
            prepared.path, prepared.match.header, prepared.rejected, one_line_records=prepared.one_line_records
        )
    summary.seconds = prepared.seconds + time.perf_counter() - started
    return summary


def import_files(
    db: Database,
    paths: Iterable[str | Path] | ReadAhead,
    *,
    skip_invalid: bool = False,
    progress: Callable[[Path, int, int], None] | None = None,
    should_cancel: CancelCheck | None = None,
) -> list[ImportSummary]:
    """Import several files, each in its own transaction; raise the first error.

    Files are read ahead in background threads and written in
    :class:`~storemon_tui.ingest.prepare.ReadAhead`'s order: time zones,
    hours, polls, each kind in the order given. Files written before an
    error stay written; the summaries come in the order written. Pass a
    ``ReadAhead`` to have started reading before the database was opened.
    """
    read_ahead = paths if isinstance(paths, ReadAhead) else ReadAhead(paths, skip_invalid=skip_invalid)
    with read_ahead:
        summaries = []
        for pending in read_ahead:
            file_progress = (lambda done, total, p=pending.path: progress(p, done, total)) if progress else None
            summaries.append(write_prepared(db, pending.take(), progress=file_progress, should_cancel=should_cancel))
        return summaries


def writer_for(conn: Any, dialect: str, **kwargs: Any) -> Writer:
    """The fastest writer for a DB-API connection to a ``dialect`` database."""
    if dialect == "sqlite":
        return SqliteWriter(conn, **kwargs)
    if dialect == "postgresql":
        return PostgresWriter(conn, **kwargs)
    raise ValueError(f"no bulk writer for {dialect}")  # open_database admits only the two


def _in_file_rows(progress: ProgressCallback | None, rows: int) -> ProgressCallback | None:
    """The writer counts de-duplicated rows; report them as a share of the file's rows.

    Otherwise a file with duplicate keys announced ``(0, rows)`` and then
    counted to a smaller total, so a progress bar never reached its end.
    """
    if progress is None:
        return None
    return lambda done, total: progress(rows if done >= total else done * rows // total, rows)


def _store_keys(writer: Writer, parsed: Parsed) -> tuple[np.ndarray, int]:
    """Map the file's store codes to database store keys (creating new stores).

    Returns the key of every row and the number of distinct stores.
    """
    used = np.flatnonzero(np.bincount(parsed.store_codes, minlength=len(parsed.store_ids)))
    lookup = np.zeros(len(parsed.store_ids), dtype=np.int64)
    lookup[used] = writer.store_keys([parsed.store_ids[c] for c in used.tolist()])
    return lookup[parsed.store_codes], len(used)


def _write(writer: Writer, parsed: Parsed, keys: np.ndarray, summary: ImportSummary) -> None:
    fields = parsed.fields
    if parsed.kind is FileKind.POLLS:
        polls = sort_last_wins(keys, fields["ts_us"], fields["active"])
        summary.duplicates = polls.duplicates
        poll_write = writer.write_polls(polls)
        summary.inserted = poll_write.inserted
        summary.replaced = len(polls) - poll_write.inserted
        summary.changed = poll_write.changed
    elif parsed.kind is FileKind.HOURS:
        summary.replaced = writer.replace_hours(keys, fields["day_of_week"], fields["start_us"], fields["end_us"])
        summary.inserted = len(keys)
    else:
        # Last row per store wins: take each store's final occurrence.
        reversed_keys = keys[::-1]
        _, first_from_end = np.unique(reversed_keys, return_index=True)
        take = np.sort(len(keys) - 1 - first_from_end)
        summary.duplicates = int(len(keys) - len(take))
        zone_write = writer.upsert_zones(keys[take], fields["timezone_str"][take])
        summary.inserted, summary.replaced = zone_write.inserted, zone_write.replaced
