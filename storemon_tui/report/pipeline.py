"""A report over a database: chunks of stores, read ahead in threads while earlier chunks compute.

Why chunks: peak memory then follows the size of a chunk, not of the fleet
(a chunk holds about :data:`TARGET_CHUNK_POLLS` polls; its size in stores is
learnt from the chunks read so far). Why threads: reading is most of a
report's time, and it runs in the database's C code (SQLite) or in another
process (PostgreSQL), both without Python's GIL; so up to
:data:`READERS` helper connections read the next chunks, each in the
report's snapshot, while this thread computes (numpy, mostly GIL-free
too). Without a helper connection (SQLite refused it because a writer is
committing) the chunks are read here, one after another.

The chunks themselves know nothing of this: :func:`compute_chunk` is a
pure function of a chunk's input and ``now`` (plus the look-back source),
so a distributed engine could run the same chunks.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, closing
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection

from storemon_tui.report.engine import STAGES, ChunkResult, ReportResult, compute_chunk, read_start
from storemon_tui.report.inputs import ReportInput
from storemon_tui.report.source import DatabaseOlder, ReportSnapshot
from storemon_tui.report.status import StatusResult, status_chunk, status_read_start
from storemon_tui.report.timing import Check, Progress, StageTimer, cancel_check, clamped_progress

TARGET_CHUNK_POLLS = 300_000
"""Polls per chunk: small enough that a chunk's arrays stay a small part of the memory budget
while it computes, large enough that per-chunk overhead does not show (bench/README.md)."""
FIRST_CHUNK_STORES = 1024
"""Stores in the first chunks, before the polls per store are known."""
MAX_CHUNK_STORES = 65_536
READERS = 2
"""Helper connections reading ahead (the machine this was tuned on has two cores)."""
_Part = TypeVar("_Part")


@dataclass(frozen=True)
class Chunk:
    """One chunk of the fleet as read: store keys ``first_key … stop_key − 1``."""

    first_key: int
    stop_key: int
    input: ReportInput
    older: DatabaseOlder


def run_report(
    conn: Connection,
    as_of_us: int | None,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timings: dict[str, float] | None = None,
) -> ReportResult:
    """The report of the database behind ``conn`` (a snapshot connection) as of ``as_of_us`` or the latest poll."""

    def compute(chunk: Chunk, now_us: int, timer: StageTimer, check: Check, progress: Progress) -> ChunkResult:
        return compute_chunk(chunk.input, now_us, older=chunk.older, timer=timer, check=check, progress=progress)

    results, now_us = _over_chunks(conn, as_of_us, read_start, compute, progress, should_cancel, timings)
    return ReportResult.from_chunks(results, now_us)


def run_status(
    conn: Connection,
    as_of_us: int | None,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timings: dict[str, float] | None = None,
) -> StatusResult:
    """The fleet status (``spec/status.md``) of the database behind ``conn`` as of ``as_of_us`` or the latest poll."""

    def compute(chunk: Chunk, now_us: int, timer: StageTimer, check: Check, progress: Progress) -> StatusResult:
        part = status_chunk(chunk.input, now_us, older=chunk.older, timer=timer, check=check)
        progress(1.0)
        return part

    parts, now_us = _over_chunks(conn, as_of_us, status_read_start, compute, progress, should_cancel, timings)
    return StatusResult.from_chunks(parts, now_us)


def _over_chunks(
    conn: Connection,
    as_of_us: int | None,
    read_from: Callable[[int], int],
    compute: Callable[[Chunk, int, StageTimer, Check, Progress], _Part],
    progress: Progress | None,
    should_cancel: Callable[[], bool] | None,
    timings: dict[str, float] | None,
) -> tuple[list[_Part], int]:
    """``compute`` over every chunk of the snapshot (polls read from ``read_from(now)``), and ``now``."""
    check, report = cancel_check(should_cancel), clamped_progress(progress)
    timer = StageTimer(("read", *STAGES))
    report(0.0)
    results: list[_Part] = []
    with ReportSnapshot(conn, as_of_us) as snap, ExitStack() as stack:
        total = snap.max_key + 1
        # Closed here, not by the garbage collector: its helper connections must end before the snapshot.
        chunks = stack.enter_context(closing(read_chunks(snap, read_from(snap.now_us), timer, check)))
        for chunk in chunks:
            share = _key_share(report, chunk.first_key, chunk.stop_key, total)
            results.append(compute(chunk, snap.now_us, timer, check, share))
        now_us = snap.now_us
    check()
    if timings is not None:
        timings.update(timer.seconds)
    report(1.0)
    return results, now_us


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
        pending: deque[tuple[int, int, Future[tuple[ReportInput, DatabaseOlder]]]] = deque()
        first = 0
        while pending or first <= snap.max_key:
            while len(pending) < len(cursors) and first <= snap.max_key:
                stop = min(first + sizes.next(), snap.max_key + 1)
                pending.append((first, stop, pool.submit(_read_with, free, snap, first, stop, lo_us)))
                first = stop
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
    first = 0
    while first <= snap.max_key:
        check()
        stop = min(first + sizes.next(), snap.max_key + 1)
        with timer.stage("read"):
            chunk_input, older = snap.read_chunk(first, stop, lo_us)
        sizes.learn(chunk_input)
        yield Chunk(first, stop, chunk_input, older)
        first = stop


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
        self.stores += chunk.n_stores
        self.polls += len(chunk.poll_store)
