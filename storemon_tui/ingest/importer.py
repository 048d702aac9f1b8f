"""Importing one CSV file: read, validate, then write everything or nothing.

This is the library function behind ``storemon --import`` and the app's
import pane. Each file is one database transaction, so a crash, a kill or
Ctrl-C part-way leaves the database exactly as it was.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from storemon_tui.db.database import Database, bump_data_version
from storemon_tui.ingest.kinds import FileKind
from storemon_tui.ingest.polls import sort_last_wins
from storemon_tui.ingest.problems import InvalidRowsError, Problem
from storemon_tui.ingest.reader import RawTable, read_table
from storemon_tui.ingest.rejects import write_rejects
from storemon_tui.ingest.validate import ColumnCheck, Parsed, raw_value, validate
from storemon_tui.ingest.values import explain
from storemon_tui.ingest.writer import CancelCheck, ProgressCallback, writer_for


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
        parts = [f"{self.path}: {self.kind.value}", f"{self.rows_read:,} rows read"]
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
        parts.append(f"{self.rejected:,} rejected" + (f" (see {self.rejects_path})" if self.rejects_path else ""))
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
    started = time.perf_counter()
    clock = _StageClock()
    path = Path(path)
    table = read_table(path)
    clock.lap("read")
    parsed, checks = validate(table)
    bad = _bad_rows(checks, table.n_rows)
    clock.lap("validate")
    rejected: dict[int, list[Problem]] = {}
    if bad.any() or table.structural:
        if not table.exact:
            table = read_table(path, force_exact=True)
            parsed, checks = validate(table)
            bad = _bad_rows(checks, table.n_rows)
        rejected = _problems_by_record(table, checks, bad)
        if not skip_invalid:
            problems = sorted(p for ps in rejected.values() for p in ps)
            raise InvalidRowsError(path, problems, rows=len(rejected))
        parsed = parsed.subset(~bad)
    summary = ImportSummary(
        path=path,
        kind=table.kind,
        rows_read=table.n_rows + len(table.structural),
        rejected=len(rejected),
        ignored_columns=table.match.ignored,
    )
    if progress:
        progress(0, len(parsed))
    with db.begin_write() as conn:
        writer = writer_for(conn, progress=_in_file_rows(progress, len(parsed)), should_cancel=should_cancel)
        keys, summary.stores = _store_keys(writer, parsed)
        _write(writer, parsed, keys, summary)
        writer.check_cancel()
        if summary.changed_data:
            bump_data_version(conn)  # reports computed before this import are now stale
        clock.lap("write")
    clock.lap("commit")
    summary.stages = clock.laps
    if rejected:
        summary.rejects_path = write_rejects(path, table.match.header, rejected)
    summary.seconds = time.perf_counter() - started
    return summary


class _StageClock:
    """Seconds between successive laps, by name."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


def import_files(
    db: Database,
    paths: Iterable[str | Path],
    *,
    skip_invalid: bool = False,
    progress: Callable[[Path, int, int], None] | None = None,
    should_cancel: CancelCheck | None = None,
) -> list[ImportSummary]:
    """Import several files in order, each in its own transaction."""
    summaries = []
    for path in paths:
        file_progress = (lambda done, total, p=Path(path): progress(p, done, total)) if progress else None
        summaries.append(
            import_file(db, path, skip_invalid=skip_invalid, progress=file_progress, should_cancel=should_cancel)
        )
    return summaries


def _in_file_rows(progress: ProgressCallback | None, rows: int) -> ProgressCallback | None:
    """The writer counts de-duplicated rows; report them as a share of the file's rows.

    Otherwise a file with duplicate keys announced ``(0, rows)`` and then
    counted to a smaller total, so a progress bar never reached its end.
    """
    if progress is None:
        return None
    return lambda done, total: progress(rows if done >= total else done * rows // total, rows)


def _bad_rows(checks: list[ColumnCheck], n_rows: int) -> np.ndarray:
    bad = np.zeros(n_rows, dtype=bool)
    for check in checks:
        bad |= check.bad
    return bad


def _problems_by_record(table: RawTable, checks: list[ColumnCheck], bad: np.ndarray) -> dict[int, list[Problem]]:
    """Every problem of every bad row, keyed by data-record number (exact table)."""
    assert table.lines is not None and table.record_numbers is not None
    problems: dict[int, list[Problem]] = defaultdict(list)
    for record, problem in table.structural:
        problems[record].append(problem)
    for check in checks:
        column = table.columns[check.column]
        for row in np.flatnonzero(check.bad).tolist():
            value = raw_value(column, row)
            problems[int(table.record_numbers[row])].append(
                Problem(int(table.lines[row]), check.column, value, explain(check.parse, value))
            )
    return dict(problems)


def _store_keys(writer, parsed: Parsed) -> tuple[np.ndarray, int]:  # type: ignore[no-untyped-def]
    """Map the file's store codes to database store keys (creating new stores).

    Returns the key of every row and the number of distinct stores.
    """
    used = np.flatnonzero(np.bincount(parsed.store_codes, minlength=len(parsed.store_ids)))
    lookup = np.zeros(len(parsed.store_ids), dtype=np.int64)
    lookup[used] = writer.store_keys([parsed.store_ids[c] for c in used.tolist()])
    return lookup[parsed.store_codes], len(used)


def _write(writer, parsed: Parsed, keys: np.ndarray, summary: ImportSummary) -> None:  # type: ignore[no-untyped-def]
    fields = parsed.fields
    if parsed.kind is FileKind.POLLS:
        polls = sort_last_wins(keys, fields["ts_us"], fields["active"])
        summary.duplicates = polls.duplicates
        result = writer.write_polls(polls)
        summary.inserted = result.inserted
        summary.replaced = len(polls) - result.inserted
        summary.changed = result.changed
    elif parsed.kind is FileKind.HOURS:
        summary.replaced = writer.replace_hours(
            keys, fields["day_of_week"], fields["start_us"], fields["end_us"]
        )
        summary.inserted = len(keys)
    else:
        # Last row per store wins: take each store's final occurrence.
        reversed_keys = keys[::-1]
        _, first_from_end = np.unique(reversed_keys, return_index=True)
        take = np.sort(len(keys) - 1 - first_from_end)
        summary.duplicates = int(len(keys) - len(take))
        result = writer.upsert_zones(keys[take], fields["timezone_str"][take])
        summary.inserted, summary.replaced = result.inserted, result.replaced
