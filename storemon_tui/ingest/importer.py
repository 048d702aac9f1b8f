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
from storemon_tui.display import counted
from storemon_tui.ingest.kinds import FileKind
from storemon_tui.ingest.pg_writer import PostgresWriter
from storemon_tui.ingest.poll_runs import sorted_polls
from storemon_tui.ingest.prefetch import prefetch
from storemon_tui.ingest.prepare import PreparedFile, ReadAhead, prepare_file
from storemon_tui.ingest.problems import quoted_columns
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
    """Polls: rows whose key already existed. Hours: old rows removed. Zones: stores that had a zone."""
    changed: int = 0
    """What really changed of what was there: polls whose status, stores whose hours or zone is another now."""
    unchanged: int = 0
    """What was there already exactly so (polls, or stores for hours and zones): a re-import changes nothing."""
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
        if self.kind is FileKind.HOURS:
            return self.stores > self.unchanged  # a new store's hours, or other hours
        return bool(self.inserted or self.changed)

    def describe(self) -> str:
        """One line for a terminal or a notification."""
        parts = [f"{visible(self.path)}: {self.kind.value}", f"{counted(self.rows_read, 'row')} read"]
        if self.kind is FileKind.HOURS:
            new = self.stores - self.changed - self.unchanged
            parts.append(
                f"{counted(self.inserted, 'row')} for {counted(self.stores, 'store')} "
                f"({new:,} new, {self.changed:,} changed, {self.unchanged:,} unchanged)"
            )
        elif self.kind is FileKind.POLLS:
            parts.append(f"{self.inserted:,} inserted")
            parts.append(f"{self.replaced:,} replaced ({self.changed:,} changed status)")
        else:
            parts.append(f"{self.inserted:,} inserted")
            parts.append(f"{self.changed:,} changed, {self.unchanged:,} unchanged")
        if self.duplicates:
            parts.append(f"{counted(self.duplicates, 'duplicate row')} in file (last wins)")
        parts.append(
            f"{self.rejected:,} rejected" + (f" (see {visible(self.rejects_path)})" if self.rejects_path else "")
        )
        if self.ignored_columns:
            noun = "column" if len(self.ignored_columns) == 1 else "columns"
            parts.append(f"ignored {noun}: " + quoted_columns(self.ignored_columns, each=True))
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
    """Write a prepared file in one transaction, its rejects file put in place just before the commit.

    If the rejects file cannot be put in place, nothing is committed; if the
    commit fails, the rejects file is removed again. The prepared file's
    spool is freed either way.
    """
    try:
        return _write_prepared(db, prepared, progress, should_cancel)
    finally:
        prepared.close()


def _write_prepared(
    db: Database, prepared: PreparedFile, progress: ProgressCallback | None, should_cancel: CancelCheck | None
) -> ImportSummary:
    started = time.perf_counter()
    summary = ImportSummary(
        path=prepared.path,
        kind=prepared.kind,
        rows_read=prepared.rows_read,
        rejected=prepared.rejected,
        ignored_columns=prepared.match.ignored,
        stages=dict(prepared.stages),
    )
    total = len(prepared.spool)
    if progress:
        progress(0, total)
    published: Path | None = None
    try:
        with db.bulk_write(should_cancel) as conn:
            writer = writer_for(conn, db.dialect, progress=progress, should_cancel=should_cancel)
            keys_of_code = _store_keys(writer, prepared, summary)
            _write(writer, prepared, keys_of_code, summary)
            writer.check_cancel()
            if summary.changed_data:
                writer.bump_data_version()
            writer.record_import()
            if prepared.rejects is not None:
                published = summary.rejects_path = prepared.rejects.publish()
            written = time.perf_counter()
    except BaseException:
        if published is not None:  # the rows were not committed: neither is their rejects file
            published.unlink(missing_ok=True)
        raise
    committed = time.perf_counter()
    if progress:
        progress(total, total)
    summary.stages["write"] = written - started
    summary.stages["commit"] = committed - written
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


def _store_keys(writer: Writer, prepared: PreparedFile, summary: ImportSummary) -> np.ndarray:
    """Database keys of the file's stores that have valid rows (creating new stores), by store code."""
    used = prepared.stores.used_codes()
    keys_of_code = np.full(len(prepared.stores.ids), -1, dtype=np.int64)
    ids = prepared.stores.ids
    keys_of_code[used] = writer.store_keys([ids[code] for code in used.tolist()])
    summary.stores = len(used)
    return keys_of_code


def _write(writer: Writer, prepared: PreparedFile, keys_of_code: np.ndarray, summary: ImportSummary) -> None:
    spool = prepared.spool
    if prepared.kind is FileKind.POLLS:
        # The next chunk is sorted and merged in a thread while this one goes into the database.
        chunks = prefetch(sorted_polls(spool, keys_of_code))
        try:
            polls = writer.write_polls(chunks, len(spool))
        finally:
            chunks.close()
        summary.inserted = polls.inserted
        summary.replaced = polls.written - polls.inserted
        summary.changed = polls.changed
        summary.unchanged = summary.replaced - polls.changed
        summary.duplicates = polls.duplicates
    elif prepared.kind is FileKind.HOURS:
        blocks = ((keys_of_code[b["store"]], b["day_of_week"], b["start_us"], b["end_us"]) for b in spool.blocks())
        hours = writer.replace_hours(blocks, len(spool))
        summary.replaced, summary.changed, summary.unchanged = hours.deleted, hours.changed, hours.unchanged
        summary.inserted = len(spool)
    else:
        zones = np.array(prepared.zone_names, dtype=object)
        zoned = writer.upsert_zones(((keys_of_code[b["store"]], zones[b["zone"]]) for b in spool.blocks()), len(spool))
        summary.inserted, summary.replaced, summary.duplicates = zoned.inserted, zoned.replaced, zoned.duplicates
        summary.changed, summary.unchanged = zoned.changed, zoned.replaced - zoned.changed
