"""Everything an import does before it touches the database: read and validate.

Kept apart from the writer, and free of SQLAlchemy, for two reasons:

* a file's problems are known before any transaction opens, so an invalid
  file costs the database nothing;
* preparation is mostly Arrow C++ and numpy work that releases the GIL, so
  :class:`ReadAhead` can run it in a background thread while the main thread
  does something else: imports SQLAlchemy and opens the database (~0.5 s of
  a headless run), or writes the previous file, which spends most of its
  time inside SQLite (which releases the GIL too).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from storemon_tui.ingest.kinds import FileKind, HeaderMatch
from storemon_tui.ingest.problems import InvalidRowsError, Problem
from storemon_tui.ingest.reader import RawTable, read_table
from storemon_tui.ingest.validate import ColumnCheck, Parsed, raw_value, validate
from storemon_tui.ingest.values import explain


@dataclass
class PreparedFile:
    """A file read and validated: the rows to write and the rows rejected."""

    path: Path
    match: HeaderMatch
    parsed: Parsed
    """The valid rows (all rows unless some were rejected)."""
    rows_read: int
    rejected: dict[int, list[Problem]] = field(default_factory=dict)
    """Problems of each rejected row, by data-record number (only with ``skip_invalid``)."""
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds spent reading and validating."""

    @property
    def kind(self) -> FileKind:
        return self.match.kind

    @property
    def seconds(self) -> float:
        return sum(self.stages.values())


def prepare_file(path: str | Path, *, skip_invalid: bool = False) -> PreparedFile:
    """Read and validate one polls, business-hours or time-zones CSV.

    Raises :class:`~storemon_tui.ingest.problems.FileError` when the file
    cannot be read, and :class:`~storemon_tui.ingest.problems.InvalidRowsError`
    when rows are invalid and ``skip_invalid`` is false.
    """
    path = Path(path)
    clock = _StageClock()
    table = read_table(path)
    clock.lap("read")
    parsed, checks = validate(table)
    bad = _bad_rows(checks, table.n_rows)
    clock.lap("validate")
    rejected: dict[int, list[Problem]] = {}
    if bad.any() or table.structural:
        if not table.exact:
            # Arrow knows no line numbers: re-read the file exactly to name them.
            table = read_table(path, force_exact=True)
            parsed, checks = validate(table)
            bad = _bad_rows(checks, table.n_rows)
        rejected = _problems_by_record(table, checks, bad)
        if not skip_invalid:
            problems = sorted(p for ps in rejected.values() for p in ps)
            raise InvalidRowsError(path, problems, rows=len(rejected))
        parsed = parsed.subset(~bad)
        clock.lap("validate")
    return PreparedFile(
        path=path,
        match=table.match,
        parsed=parsed,
        rows_read=table.n_rows + len(table.structural),
        rejected=rejected,
        stages=clock.laps,
    )


class ReadAhead:
    """Prepares files in order, one file ahead of the consumer, in a background thread.

    Iterating yields ``(path, future)`` pairs in the given order; each future
    is already done (its ``result()`` is the :class:`PreparedFile` or raises
    what :func:`prepare_file` raised). The next file's preparation starts as
    each file is handed out, so at most two prepared files are in memory.

    The threads are daemons: an interrupted import exits at once instead of
    waiting for a read nobody needs any more.
    """

    def __init__(self, paths: Iterable[str | Path], *, skip_invalid: bool = False) -> None:
        self.paths = [Path(p) for p in paths]
        self.skip_invalid = skip_invalid
        self._first = self._start(0)

    def _start(self, index: int) -> Future[PreparedFile] | None:
        if index >= len(self.paths):
            return None
        future: Future[PreparedFile] = Future()
        path = self.paths[index]

        def run() -> None:
            try:
                future.set_result(prepare_file(path, skip_invalid=self.skip_invalid))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
                future.set_exception(exc)

        threading.Thread(target=run, name=f"storemon-prepare-{path.name}", daemon=True).start()
        return future

    def __iter__(self) -> Iterator[tuple[Path, Future[PreparedFile]]]:
        future = self._first
        for index, path in enumerate(self.paths):
            assert future is not None
            wait([future])
            following = self._start(index + 1)
            yield path, future
            future = following


class _StageClock:
    """Seconds between successive laps, by name."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


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
