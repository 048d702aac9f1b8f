"""Everything an import does before it touches the database: read and validate.

Kept apart from the writer and the database, for two reasons:

* a file's problems are known before any transaction opens, so an invalid
  file costs the database nothing;
* preparation is mostly Arrow C++ and numpy work that releases the GIL, so
  :class:`ReadAhead` can run it in background threads while the main thread
  does something else: opens the database, or writes another file, which
  spends most of its time inside SQLite (which releases the GIL too).

A file is read a segment at a time (:mod:`storemon_tui.ingest.segments`);
its valid rows wait in a :class:`~storemon_tui.ingest.spool.BlockSpool`,
its rejected records go straight to the rejects file, and only the first
problems are kept: memory does not grow with the file, valid or not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from storemon_tui.errors import Cancelled, StoremonError
from storemon_tui.ingest.kinds import FileKind, HeaderMatch
from storemon_tui.ingest.prefetch import prefetch
from storemon_tui.ingest.problems import MAX_KEPT, FileError, InvalidRowsError, Problem
from storemon_tui.ingest.reader import BOM, file_kind, file_size, read_head, read_header
from storemon_tui.ingest.rejects import Rejects
from storemon_tui.ingest.segments import Segment, read_segments
from storemon_tui.ingest.spool import BlockSpool

if TYPE_CHECKING:
    from storemon_tui.ingest.stores import StoreIds
    from storemon_tui.ingest.validate import ColumnCheck, Parsed


@dataclass
class PreparedFile:
    """A file read and validated: its valid rows (spooled) and what was rejected."""

    path: Path
    match: HeaderMatch
    spool: BlockSpool
    """The valid rows, in file order (columns by kind; see :func:`_spool_block`)."""
    stores: StoreIds
    rows_read: int
    rejected: int = 0
    rejects: Rejects | None = None
    """The rejects file, written but not yet in place (only with ``skip_invalid``)."""
    zone_names: list[str] = field(default_factory=list)
    """Time-zone files: the zone of spooled code ``i``."""
    stages: dict[str, float] = field(default_factory=dict)
    """Seconds spent reading and validating."""

    @property
    def kind(self) -> FileKind:
        return self.match.kind

    @property
    def seconds(self) -> float:
        return sum(self.stages.values())

    def close(self) -> None:
        """Free the spool and drop an unpublished rejects file."""
        self.spool.close()
        if self.rejects is not None:
            self.rejects.discard()


def prepare_file(
    path: str | Path,
    *,
    skip_invalid: bool = False,
    force_exact: bool = False,
    now_us: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PreparedFile:
    """Read and validate one polls, business-hours or time-zones CSV.

    Raises :class:`~storemon_tui.ingest.problems.FileError` when the file
    cannot be read, and :class:`~storemon_tui.ingest.problems.InvalidRowsError`
    when rows are invalid and ``skip_invalid`` is false. ``now_us`` is the
    clock polls are checked against (default: now); ``force_exact`` reads the
    file with the exact reader throughout (tests check both readers agree).
    ``should_stop`` is asked between segments; when it says so the file is
    dropped with :class:`~storemon_tui.errors.Cancelled`.
    """
    # Imported here: validation needs pyarrow.compute, slow to import; the first read does not wait for it.
    from storemon_tui.ingest.stores import StoreIds
    from storemon_tui.ingest.values import clock_us

    path = Path(path)
    clock = _StageClock()
    head = read_head(path)
    match, offset = read_header(path, head)
    header = head[len(BOM) if head.startswith(BOM) else 0 : offset].decode("utf-8").rstrip("\r\n")
    prepared = PreparedFile(path, match, BlockSpool(), StoreIds(), rows_read=0)
    prepared.rejects = Rejects(path, header) if skip_invalid else None
    # One segment is read ahead while the one before is validated: both are mostly C code, on two cores.
    segments = prefetch(read_segments(path, match, offset, head.count(b"\n", 0, offset) + 1, force_exact=force_exact))
    try:
        log = _read_all(prepared, segments, clock, clock_us() if now_us is None else now_us, should_stop)
        if prepared.rows_read == 0:
            raise FileError(path, "has a header but no data rows")
        if log.total and not skip_invalid:
            raise InvalidRowsError(path, log.kept, rows=log.rows, total=log.total)
        if prepared.rejects is not None:
            prepared.rejects.finish()
            prepared.rejected = prepared.rejects.count
    except OSError as exc:
        prepared.close()
        raise FileError(path, f"cannot be read ({exc.strerror or exc})") from None
    except BaseException:
        prepared.close()
        raise
    finally:
        segments.close()  # stops the read-ahead thread when reading ended early
        _release_arrow_memory()
    prepared.stages = clock.laps
    return prepared


def _release_arrow_memory() -> None:
    """Give the segments' freed Arrow buffers back to the system (bench/README.md): the
    allocator keeps them for reuse otherwise, and the write that follows needs the room."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _read_all(
    prepared: PreparedFile,
    segments: Iterator[Segment],
    clock: _StageClock,
    now_us: int,
    should_stop: Callable[[], bool] | None,
) -> _ProblemLog:
    """Validate every segment; spool its valid rows (all of them only while there is no problem
    or with ``skip_invalid``); log problems and fill the rejects file. Returns the log."""
    from storemon_tui.ingest.validate import bad_rows, validate

    log = _ProblemLog()
    for segment in segments:
        clock.lap("read")
        if should_stop is not None and should_stop():
            raise Cancelled(f"reading {prepared.path} was stopped")
        parsed, checks = validate(segment.table, prepared.stores, now_us)
        bad = bad_rows(checks, segment.table.n_rows)
        prepared.rows_read += segment.table.n_rows + len(segment.malformed)
        if segment.malformed or bad.any():
            _note_problems(segment, checks, bad, log, prepared.rejects)
        if prepared.rejects is not None or not log.total:
            _spool(prepared, parsed.subset(~bad) if bad.any() else parsed)
        clock.lap("validate")
    return log


def _spool(prepared: PreparedFile, parsed: Parsed) -> None:
    """Keep a segment's valid rows: store codes plus the kind's fields, as numbers."""
    if not len(parsed):
        return
    prepared.stores.mark_used(parsed.store_codes)
    block = {"store": parsed.store_codes.astype(np.int32)}
    if prepared.kind is FileKind.ZONES:
        names = prepared.zone_names
        index = {name: i for i, name in enumerate(names)}
        zones = parsed.fields["timezone_str"].tolist()
        for zone in set(zones) - index.keys():
            index[zone] = len(names)
            names.append(zone)
        block["zone"] = np.array([index[zone] for zone in zones], dtype=np.int16)
    else:
        block.update(parsed.fields)
    try:
        prepared.spool.append(block)
    except OSError as exc:  # the temporary file: disk full, TMPDIR unwritable
        raise StoremonError(
            f"{prepared.path}: cannot hold the valid rows while importing ({exc.strerror or exc}); "
            "set TMPDIR to a directory with more free space"
        ) from None


class _ProblemLog:
    """The first :data:`MAX_KEPT` problems of a file, and how many there are in all."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.total = 0
        self.rows = 0

    @property
    def full(self) -> bool:
        return len(self.kept) >= MAX_KEPT

    def add(self, problems: list[Problem]) -> None:
        self.rows += 1
        self.total += len(problems)
        self.kept.extend(problems[: MAX_KEPT - len(self.kept)])


def _note_problems(
    segment: Segment, checks: list[ColumnCheck], bad: np.ndarray, log: _ProblemLog, rejects: Rejects | None
) -> None:
    """Log a segment's problems and copy its bad records to the rejects file, in line order."""
    from storemon_tui.ingest.validate import raw_value
    from storemon_tui.ingest.values import explain

    rows = np.flatnonzero(bad)
    if rejects is None and log.full:  # nothing more to show: count them
        log.rows += len(rows) + len(segment.malformed)
        log.total += sum(int(np.count_nonzero(check.bad)) for check in checks) + len(segment.malformed)
        return
    lines, spans = segment.locate(rows)
    records: list[tuple[int, int, int, list[Problem], int]] = [
        (m.problem.line, m.start, m.end, [m.problem], m.missing_fields) for m in segment.malformed
    ]
    reasons: dict[tuple[str, str], str] = {}
    for row, line, (start, end) in zip(rows.tolist(), lines.tolist(), spans.tolist(), strict=True):
        problems = []
        for check in checks:
            if check.bad[row]:
                value = raw_value(segment.table.columns[check.column], row)
                key = (check.column, value)
                if key not in reasons:
                    reasons[key] = explain(check.parse, value)
                problems.append(Problem(line, check.column, value, reasons[key]))
        records.append((line, start, end, problems, 0))
    records.sort(key=lambda record: (record[0], record[1]))
    for _line, start, end, problems, missing in records:
        log.add(sorted(problems))
        if rejects is not None:
            rejects.add(start, end, problems, missing)


READ_AHEAD_BYTES = 192 * 2**20
"""Budget of :class:`ReadAhead`: files being prepared at once, each counted as its
size but at most :data:`STREAMED_FILE_BYTES` (a file is read a segment at a time,
and its valid rows spill to disk, so a big file costs about that much memory)."""

STREAMED_FILE_BYTES = 96 * 2**20
"""What a file larger than this costs while it is prepared: a segment being
parsed (~4 bytes of memory per byte of CSV) plus the spool's memory part."""

READ_AHEAD_FILES = 3
"""Files :class:`ReadAhead` reads at once: one drop of zones, hours and polls.
More threads only compete for two cores (many small hourly files read slower
many at a time than one at a time: bench/README.md)."""

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
    instead of after it (bench/README.md). The
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
        self._tasks = [_Task(self.paths[i], min(file_size(self.paths[i]), STREAMED_FILE_BYTES)) for i in order]
        self.write_order = [task.path for task in self._tasks]
        """The paths in the order they are handed out."""
        self._next_to_start = 0
        self._in_flight_bytes = 0
        self._in_flight_files = 0
        self._iterated = False
        self._stop = threading.Event()
        self._start_within_budget()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Start no more files, stop those being prepared, drop every file not handed out yet."""
        self._next_to_start = len(self._tasks)
        self._stop.set()
        for task in self._tasks:
            if task.future is not None:
                task.future.add_done_callback(_discard)
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
            target=_prepare_into,
            args=(future, path, self.skip_invalid, self._stop.is_set),
            name=f"storemon-prepare-{path.name}",
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


def _prepare_into(
    future: Future[PreparedFile], path: Path, skip_invalid: bool, should_stop: Callable[[], bool]
) -> None:
    try:
        future.set_result(prepare_file(path, skip_invalid=skip_invalid, should_stop=should_stop))
    except BaseException as exc:  # handed to the consumer, raised there
        future.set_exception(exc)
        # The error's traceback keeps this frame alive; without this ``del`` the
        # frame would refer to the future, which refers to the error: a cycle
        # that kept a failed file's arrays until the next garbage collection.
        del future


def _discard(future: Future[PreparedFile]) -> None:
    """A prepared file nobody will write: free its spool, remove its unpublished rejects file."""
    if not future.cancelled() and future.exception() is None:
        future.result().close()


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
