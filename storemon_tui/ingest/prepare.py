"""Everything an import does before it touches the database: read and validate.

Kept apart from the writer and the database, for two reasons:

* a file's problems are known before any transaction opens, so an invalid
  file costs the database nothing;
* preparation is mostly Arrow C++ and numpy work that releases the GIL, so
  :class:`ReadAhead` can run it in background threads while the main thread
  does something else: opens the database, or writes another file, which
  spends most of its time inside SQLite (which releases the GIL too).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from storemon_tui.errors import Cancelled
from storemon_tui.ingest.kinds import FileKind, HeaderMatch
from storemon_tui.ingest.problems import InvalidRowsError, Problem
from storemon_tui.ingest.reader import RawTable, file_kind, file_size, read_table, with_line_numbers

if TYPE_CHECKING:
    from storemon_tui.ingest.validate import ColumnCheck, Parsed


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
    one_line_records: bool = False
    """Every record is one line (the rejects file can then fetch rows by line)."""
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
    # Imported here, not at the top: validation needs pyarrow.compute (~0.1 s to
    # import), reading does not, so the first read starts that much sooner.
    from storemon_tui.ingest.validate import validate

    parsed, checks = validate(table)
    bad = _bad_rows(checks, table.n_rows)
    clock.lap("validate")
    rejected: dict[int, list[Problem]] = {}
    one_line_records = False
    if bad.any() or table.structural:
        if not table.exact:
            # Arrow knows no line numbers: count lines, or if in doubt re-read the file exactly.
            numbered = with_line_numbers(table)
            if numbered is not None:
                table, one_line_records = numbered, True
            else:
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
        one_line_records=one_line_records,
        stages=clock.laps,
    )


READ_AHEAD_BYTES = 192 * 2**20
"""CSV bytes :class:`ReadAhead` reads at once. Reading a file peaks at ~2.5 bytes
of memory per byte of CSV, so the three files of a full week (~125 MB) are read
together and two such weeks of polls one after the other."""

READ_AHEAD_FILES = 3
"""Files :class:`ReadAhead` reads at once: one drop of zones, hours and polls.
More threads only compete for two cores (2,000 small hourly files read ~2x
slower 80 at a time than one at a time)."""

WRITE_ORDER = {None: 0, FileKind.ZONES: 1, FileKind.HOURS: 2, FileKind.POLLS: 3}
"""Files that cannot be read report first; then zones, hours, polls (big files last)."""

_POLL_SECONDS = 0.05
"""How often a wait for a file checks ``should_cancel``."""


@dataclass
class _Task:
    """One file's preparation in a background thread."""

    path: Path
    size: int
    future: Future[PreparedFile] | None = None


class ReadAhead:
    """Prepares files in background threads; hands them out in the order they are written.

    Order: time zones, then business hours, then polls; files of one kind
    in the order given, so a later polls file's rows win over an earlier
    one's. The three kinds write different tables, so the order between
    kinds changes nothing in the data, but it lets the small zones and
    hours files be written while a large polls file is still being parsed
    instead of after it (~0.25 s of a fresh import at full scale). The
    order is fixed rather than "whichever is ready first" so the same
    command always writes the same way (store keys, summary lines).
    Files whose header cannot be read come first: they write nothing.

    Memory and threads: files start preparing in that order while at most
    ``max_files`` files totalling at most ``budget_bytes`` of CSV are being
    prepared or wait to be written (always at least one). A file counts
    until the consumer asks for the next one, i.e. until it has been written.

    Iterating (once) yields a :class:`PendingFile` per file, once it is
    prepared; its :meth:`~PendingFile.take` returns the :class:`PreparedFile`
    or raises what :func:`prepare_file` raised. While waiting, iteration
    checks ``should_cancel`` and raises :class:`~storemon_tui.errors.Cancelled`.
    :meth:`close` (also on leaving a ``with`` block) starts nothing more;
    reads already running finish in their threads and are dropped.
    """

    def __init__(
        self,
        paths: Iterable[str | Path],
        *,
        skip_invalid: bool = False,
        should_cancel: Callable[[], bool] | None = None,
        budget_bytes: int = READ_AHEAD_BYTES,
        max_files: int = READ_AHEAD_FILES,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        self.skip_invalid = skip_invalid
        self.should_cancel = should_cancel or (lambda: False)
        self.budget_bytes = budget_bytes
        self.max_files = max(max_files, 1)
        kinds = [file_kind(path) for path in self.paths]
        order = sorted(range(len(self.paths)), key=lambda i: (WRITE_ORDER[kinds[i]], i))
        self._tasks = [_Task(self.paths[i], file_size(self.paths[i])) for i in order]
        self.write_order = [task.path for task in self._tasks]
        """The paths in the order they are handed out."""
        self._next_to_start = 0
        self._in_flight_bytes = 0
        self._in_flight_files = 0
        self._iterated = False
        self._start_within_budget()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Start no more files and drop every file not handed out yet."""
        self._next_to_start = len(self._tasks)
        for task in self._tasks:
            task.future = None

    def _start_within_budget(self) -> None:
        tasks = self._tasks
        while self._next_to_start < len(tasks) and (
            self._in_flight_files == 0
            or (
                self._in_flight_files < self.max_files
                and self._in_flight_bytes + tasks[self._next_to_start].size <= self.budget_bytes
            )
        ):
            task = tasks[self._next_to_start]
            self._next_to_start += 1
            self._in_flight_bytes += task.size
            self._in_flight_files += 1
            task.future = self._prepare_in_background(task.path)

    def _prepare_in_background(self, path: Path) -> Future[PreparedFile]:
        """``prepare_file`` in a (non-daemon) thread: an exiting interpreter waits for it
        rather than tearing Arrow's thread pool down under it."""
        future: Future[PreparedFile] = Future()
        threading.Thread(
            target=_prepare_into, args=(future, path, self.skip_invalid), name=f"storemon-prepare-{path.name}"
        ).start()
        return future

    def __iter__(self) -> Iterator[PendingFile]:
        if self._iterated:
            raise RuntimeError("a ReadAhead hands its files out once")
        self._iterated = True
        for task in self._tasks:
            future = task.future
            if future is None:  # closed
                return
            while not wait([future], timeout=_POLL_SECONDS).done:
                if self.should_cancel():
                    self.close()
                    raise Cancelled(f"import cancelled before {task.path} was written")
            pending, task.future = PendingFile(task.path, future), None  # its only reference
            del future
            yield pending
            self._in_flight_bytes -= task.size  # written (or failed): its memory is free
            self._in_flight_files -= 1
            self._start_within_budget()


def _prepare_into(future: Future[PreparedFile], path: Path, skip_invalid: bool) -> None:
    try:
        future.set_result(prepare_file(path, skip_invalid=skip_invalid))
    except BaseException as exc:  # handed to the consumer, raised there
        future.set_exception(exc)
        # The error's traceback keeps this frame alive; without this ``del`` the
        # frame would refer to the future, which refers to the error: a cycle
        # that kept a failed file's arrays until the next garbage collection.
        del future


class PendingFile:
    """A file :class:`ReadAhead` has finished preparing: :meth:`take` it once, then write it."""

    def __init__(self, path: Path, future: Future[PreparedFile]) -> None:
        self.path = path
        self._future: Future[PreparedFile] | None = future

    def take(self) -> PreparedFile:
        """The prepared file, or the error that stopped it (raised here).

        Hands over the only reference: once the caller has written the file
        and dropped it (or handled its error), its arrays are freed, even
        while this object lives on (e.g. as a loop variable while the next
        file is being prepared).
        """
        future, self._future = self._future, None
        if future is None:
            raise RuntimeError(f"{self.path} was already taken")
        try:
            return future.result()
        finally:
            del future  # not kept alive by this frame in the error's traceback


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
    from storemon_tui.ingest.validate import raw_value
    from storemon_tui.ingest.values import explain

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
