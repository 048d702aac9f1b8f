"""A report over a database: chunks of stores, computed by worker processes or read ahead in threads.

Why chunks: peak memory then follows the size of a chunk, not of the fleet
(a chunk holds about :data:`TARGET_CHUNK_POLLS` polls; its size in stores is
learnt from the chunks done so far).

A large fleet (:data:`WORKER_MIN_STORES`): :data:`WORKERS` worker process(es)
(``workers.py``) join the report's snapshot, then read *and* compute whole
chunks and send back only their rows; this process hands out store ranges,
computes chunks of its own meanwhile, and puts the rows back in key order. Why processes: at that size the
report is CPU-bound on every core, and in one process the reader threads and
the computing thread take turns holding Python's GIL (bench/README.md).
They start early (:func:`early_workers`) so their imports overlap the
caller's own start; if none can join the snapshot, the chunks are done here.

A smaller fleet, where starting interpreters would cost more than it saves:
up to :data:`READERS` helper connections read the next chunks in threads,
each in the report's snapshot (reading runs in SQLite's C code or in the
PostgreSQL server, without the GIL), while this thread computes. Without a
helper connection (SQLite refused it because a writer is committing) the
chunks are read here, one after another.

The chunks themselves know nothing of this: :func:`compute_chunk` is a pure
function of a chunk's input and ``now`` (plus the look-back source), and
:func:`report_part` / :func:`status_part` are what a worker — or a
distributed engine — runs per chunk (README, "A distributed engine").
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, text

from storemon_tui.report.engine import STAGES, ChunkResult, ReportResult, compute_chunk, read_start
from storemon_tui.report.inputs import ReportInput
from storemon_tui.report.source import Chunk, DatabaseOlder, ReportSnapshot
from storemon_tui.report.status import StatusResult, status_chunk, status_read_start
from storemon_tui.report.timing import Check, Progress, StageTimer, cancel_check, clamped_progress
from storemon_tui.report.workers import Done, Job, WorkerPool, compute_range

TARGET_CHUNK_POLLS = 300_000
"""Polls per chunk: small enough that a chunk's arrays stay a small part of the memory budget
while it computes, large enough that per-chunk overhead does not show (bench/README.md)."""
FIRST_CHUNK_STORES = 1024
"""Stores in the first chunks, before the polls per store are known."""
MAX_CHUNK_STORES = 65_536
READERS = 2
"""Helper connections reading ahead (the machine this was tuned on has two cores)."""
WORKERS = 1
"""Worker processes beside this one for a large fleet (``workers.py``): this process computes
chunks too, so with one worker the two cores of the machine this was tuned on are busy, and only
one new interpreter pays for its imports (bench/README.md)."""
COMPUTE_HERE = True
"""This process computes chunks beside its workers (off: it only hands them out, as tests check)."""
_WORKER_QUEUE = 2
"""Chunks a worker holds: the one it computes and the next, so it never waits for this process."""
WORKER_MIN_STORES = 50_000
"""Fleets this large are computed by worker processes; smaller ones here, where starting the
workers (a new interpreter each, ~0.4 s of imports) would cost more than it saves (bench/README.md)."""
if TYPE_CHECKING:
    from storemon_tui.db.database import Database

_Part = TypeVar("_Part")
ChunkCompute = Callable[[Chunk, int, StageTimer, Check, Progress], _Part]
"""What runs per chunk (:func:`report_part`, :func:`status_part`): ``(chunk, now_us, timer, check, progress)``."""


def run_report(
    conn: Connection,
    as_of_us: int | None,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timings: dict[str, float] | None = None,
    workers: WorkerPool | None = None,
) -> ReportResult:
    """The report of the database behind ``conn`` (a snapshot connection) as of ``as_of_us`` or the latest poll.

    ``workers``: processes started early (:func:`early_workers`), used if the fleet is large; else
    they are started here when it is.
    """
    results, now_us = _over_chunks(conn, as_of_us, read_start, report_part, progress, should_cancel, timings, workers)
    return ReportResult.from_chunks(results, now_us)


def run_status(
    conn: Connection,
    as_of_us: int | None,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timings: dict[str, float] | None = None,
    workers: WorkerPool | None = None,
) -> StatusResult:
    """The fleet status (``spec/status.md``) of the database behind ``conn`` as of ``as_of_us`` or the latest poll."""
    parts, now_us = _over_chunks(
        conn, as_of_us, status_read_start, status_part, progress, should_cancel, timings, workers
    )
    return StatusResult.from_chunks(parts, now_us)


def report_part(chunk: Chunk, now_us: int, timer: StageTimer, check: Check, progress: Progress) -> ChunkResult:
    """A chunk's report rows (module-level: a worker process gets it by name)."""
    return compute_chunk(chunk.input, now_us, older=chunk.older, timer=timer, check=check, progress=progress)


def status_part(chunk: Chunk, now_us: int, timer: StageTimer, check: Check, progress: Progress) -> StatusResult:
    """A chunk's fleet status rows (module-level: a worker process gets it by name)."""
    part = status_chunk(chunk.input, now_us, older=chunk.older, timer=timer, check=check)
    progress(1.0)
    return part


def _over_chunks(
    conn: Connection,
    as_of_us: int | None,
    read_from: Callable[[int], int],
    compute: ChunkCompute[_Part],
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
    timings: dict[str, float] | None,
    workers: WorkerPool | None = None,
) -> tuple[list[_Part], int]:
    """``compute`` over every chunk of the snapshot (polls read from ``read_from(now)``), and ``now``."""
    check, report = cancel_check(should_cancel), clamped_progress(progress)
    timer = StageTimer(("read", *STAGES))
    report(0.0)
    with ReportSnapshot(conn, as_of_us) as snap:
        lo_us = read_from(snap.now_us)
        results = _in_workers(snap, lo_us, compute, timer, check, report, workers)
        if results is None:
            results = _in_process(snap, lo_us, compute, timer, check, report)
        now_us = snap.now_us
    check()
    if timings is not None:
        timings.update(timer.seconds)
    report(1.0)
    return results, now_us


def _in_process(
    snap: ReportSnapshot,
    lo_us: int,
    compute: ChunkCompute[_Part],
    timer: StageTimer,
    check: Check,
    report: Progress,
) -> list[_Part]:
    """Every chunk computed here, read ahead by helper threads when the database allows."""
    total = snap.max_key + 1
    results: list[_Part] = []
    # Closed here, not by the garbage collector: its helper connections must end before the snapshot.
    with closing(read_chunks(snap, lo_us, timer, check)) as chunks:
        for chunk in chunks:
            share = _key_share(report, chunk.first_key, chunk.stop_key, total)
            results.append(compute(chunk, snap.now_us, timer, check, share))
    return results


def _in_workers(
    snap: ReportSnapshot,
    lo_us: int,
    compute: ChunkCompute[_Part],
    timer: StageTimer,
    check: Check,
    report: Progress,
    started: WorkerPool | None = None,
) -> list[_Part] | None:
    """Every chunk, computed here and by worker processes (``workers.py``); ``None`` where they do not pay.

    This process computes chunks too, one at a time (it has nothing else to
    do, and its imports are done), from the first chunk on, while the
    workers start; each worker keeps :data:`_WORKER_QUEUE` chunks in hand so
    it never waits for this one. A worker that cannot join the snapshot
    takes no chunk. The workers end before the snapshot does.
    """
    total = snap.max_key + 1
    if not _workers_pay(total):
        return None
    # Started early or now; single use: closed here either way.
    with started if started is not None else WorkerPool(WORKERS) as pool:
        spec = snap.join_spec()
        if spec is None or not pool.offer(Job(spec, lo_us, compute)):
            return None
        sizes = _ChunkSizes()
        ranges = _ranges(snap.max_key, sizes)
        parts: dict[int, _Part] = {}
        done = 0

        def record(first: int, stop: int, part: _Part) -> None:
            nonlocal done
            parts[first] = part
            done += stop - first
            report(done / total * 0.97)

        def take(answers: list[tuple[int, int, Done]]) -> None:
            for first, stop, answer in answers:
                sizes.learn_counts(answer.stores, answer.polls)
                _add_seconds(timer, answer.seconds)
                record(first, stop, answer.part)

        while True:
            take(pool.collect(0.0))
            pool.hand_out(lambda: next(ranges, None), _WORKER_QUEUE)
            check()
            here = next(ranges, None) if COMPUTE_HERE or not pool.joined and not pool.waiting else None
            if here is not None:
                part, chunk_input = compute_range(snap, here, lo_us, compute, timer, check)
                sizes.learn(chunk_input)
                record(*here, part)
            elif pool.waiting:
                take(pool.collect(0.1))
            else:
                break
    return [parts[first] for first in sorted(parts)]


def _add_seconds(timer: StageTimer, seconds: dict[str, float]) -> None:
    """A worker's seconds per stage, added to this process's (the totals are then CPU-like, not wall)."""
    for stage, value in seconds.items():
        timer.seconds[stage] = timer.seconds.get(stage, 0.0) + value


@contextmanager
def early_workers(db: Database) -> Iterator[WorkerPool | None]:
    """Worker processes started now, before the report's snapshot is opened, if the fleet is large enough.

    A new interpreter takes ~0.7 s to import numpy and the engine; started
    here, that overlaps the caller's own work (recording the report, opening
    the snapshot). Pass the pool to :func:`run_report` or :func:`run_status`.
    """
    with db.connect() as conn:
        stores = int(conn.execute(text("SELECT max(store_key) FROM store")).scalar() or 0) + 1
    if not _workers_pay(stores):
        yield None
        return
    with WorkerPool(WORKERS) as pool:
        yield pool


def _workers_pay(stores: int) -> bool:
    """Whether a fleet of ``stores`` store keys is computed in worker processes (:data:`WORKER_MIN_STORES`)."""
    return stores >= WORKER_MIN_STORES and WORKERS >= 1


def _ranges(max_key: int, sizes: _ChunkSizes) -> Iterator[tuple[int, int]]:
    """Store-key ranges covering ``0 … max_key``, each sized by what ``sizes`` has learnt when it is drawn."""
    first = 0
    while first <= max_key:
        stop = min(first + sizes.next(), max_key + 1)
        yield first, stop
        first = stop


def _key_share(report: Progress, first: int, stop: int, total: int) -> Progress:
    """A chunk's progress as its share of the store keys (the last 3 % is output)."""
    return lambda fraction: report((first + fraction * (stop - first)) / total * 0.97)


def read_chunks(
    snap: ReportSnapshot, lo_us: int | None, timer: StageTimer, check: Check
) -> Generator[Chunk, None, None]:
    """The snapshot's chunks in key order, each with its polls of ``[lo_us, now]``, read ahead when possible."""
    with ExitStack() as stack:
        cursors = [c for c in (stack.enter_context(snap.helper()) for _ in range(READERS)) if c is not None]
        if not cursors:
            yield from _read_here(snap, lo_us, timer, check)
            return
        free: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for cursor in cursors:
            free.put(cursor)
        pool = ThreadPoolExecutor(max_workers=len(cursors), thread_name_prefix="report-read")
        stack.callback(pool.shutdown, wait=True, cancel_futures=True)  # before the helpers close
        sizes = _ChunkSizes()
        ranges = _ranges(snap.max_key, sizes)
        pending: deque[tuple[int, int, Future[tuple[ReportInput, DatabaseOlder]]]] = deque()
        while True:
            while len(pending) < len(cursors) and (keys := next(ranges, None)) is not None:
                pending.append((*keys, pool.submit(_read_with, free, snap, *keys, lo_us)))
            if not pending:
                return
            a, b, future = pending.popleft()
            check()
            with timer.stage("read"):
                chunk_input, older = future.result()
            sizes.learn(chunk_input)
            yield Chunk(a, b, chunk_input, older)


def _read_with(
    free: queue.SimpleQueue[Any], snap: ReportSnapshot, first: int, stop: int, lo_us: int | None
) -> tuple[ReportInput, DatabaseOlder]:
    cursor = free.get()
    try:
        return snap.read_chunk(first, stop, lo_us, cursor)
    finally:
        free.put(cursor)


def _read_here(snap: ReportSnapshot, lo_us: int | None, timer: StageTimer, check: Check) -> Iterator[Chunk]:
    sizes = _ChunkSizes()
    for first, stop in _ranges(snap.max_key, sizes):
        check()
        with timer.stage("read"):
            chunk_input, older = snap.read_chunk(first, stop, lo_us)
        sizes.learn(chunk_input)
        yield Chunk(first, stop, chunk_input, older)


class _ChunkSizes:
    """Stores per chunk, from the polls per store seen so far."""

    def __init__(self) -> None:
        self.stores = 0
        self.polls = 0

    def next(self) -> int:
        if self.polls == 0:
            return FIRST_CHUNK_STORES if self.stores == 0 else MAX_CHUNK_STORES
        per_store = self.polls / self.stores
        return max(1, min(MAX_CHUNK_STORES, int(TARGET_CHUNK_POLLS / per_store)))

    def learn(self, chunk: ReportInput) -> None:
        self.learn_counts(chunk.n_stores, len(chunk.poll_store))

    def learn_counts(self, stores: int, polls: int) -> None:
        self.stores += stores
        self.polls += polls
