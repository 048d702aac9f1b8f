"""The report engine: exact uptime/downtime per store, fully vectorized.

How it works (see the contract in ``shared/spec/uptime.md``). The fleet is
cut into chunks of stores; :func:`compute_chunk` turns one chunk's input
and ``now`` into its rows, in three stages:

1. **Evidence** (:func:`find_evidence`): business hours → disjoint UTC
   intervals (``hours.py``) over the recent range ``[now − 168 h − 24 h,
   now]``; the polls inside them are evidence. Only evidence from the last
   one before the week window onwards can own window time, so a store with
   no evidence in the 24 h before the window looks further back for its
   latest evidence poll (``lookback.py``: from memory, or from the database
   with index seeks), never through its whole history.
2. **Ownership** (:func:`ownership`): consecutive evidence polls of a store
   split time at their midpoint. Midpoints can fall on half microseconds, so
   all measuring is in integer *ticks* of ½ µs — exact, no floats anywhere.
   Each poll owns a segment; clipped to the week window, a cumsum gives
   ``G(t)``, the active time owned in ``[week start, t)``.
3. **Window sums** (:func:`window_sums`): uptime in a window = Σ over
   business intervals of ``G(b) − G(a)`` (endpoints clipped to the window);
   downtime = business time − uptime.

Per-store work is never a Python loop: stores are segments of sorted arrays,
searched with combined ``store × stride + time`` keys (``segments.py``).
Nothing costs more because instants are far apart: intervals are generated
for the recent range and around individual old polls only.

A chunk is independent of every other (its own stores, hours and zones), so
chunks bound the memory of a report and can run anywhere: in a thread while
the next chunk is read (``pipeline.py``), or as tasks of a distributed
engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from storemon_tui.report.hours import Intervals, Ranges, intervals_in
from storemon_tui.report.inputs import Polls, ReportInput
from storemon_tui.report.lookback import MemoryOlder, OlderPolls, latest_evidence_before
from storemon_tui.report.segments import concat_ranges, last_per_store, seg_searchsorted, unique_sorted
from storemon_tui.report.timing import Check, Progress, StageTimer, cancel_check, clamped_progress
from storemon_tui.timebase import DAY_US, TICKS_PER_US, WEEK_US, WINDOWS_US

LOOKBACK_US = DAY_US
"""History read before the week window for every store; older evidence is looked up per store."""
STAGES = ("business_hours", "evidence", "lookback", "ownership", "sums")
CHUNK_STORES = 8192
"""Stores per chunk when the whole input is in memory."""


def read_start(now_us: int) -> int:
    """Start of the recent range every store's polls are read from: the week window and a day before it."""
    return now_us - WEEK_US - LOOKBACK_US


@dataclass(frozen=True)
class ReportResult:
    """Exact durations per reported store, in ticks of ½ µs.

    ``uptime_ticks[:, k]``/``downtime_ticks[:, k]`` for k = 0 (last hour),
    1 (last day), 2 (last week); rows sorted by ``store_ids`` in plain string
    order.
    """

    store_ids: np.ndarray  # object array of str
    uptime_ticks: np.ndarray  # int64 (n, 3)
    downtime_ticks: np.ndarray  # int64 (n, 3)
    now_us: int

    def __len__(self) -> int:
        return len(self.store_ids)

    @classmethod
    def from_chunks(cls, chunks: Sequence[ChunkResult], now_us: int) -> ReportResult:
        """All chunks' rows, sorted by store id."""
        if not chunks:
            chunks = [ChunkResult.empty()]
        ids = np.concatenate([c.store_ids for c in chunks])
        order = np.argsort(ids.astype(str), kind="stable")
        return cls(
            store_ids=np.asarray(ids[order], dtype=object),
            uptime_ticks=np.concatenate([c.uptime_ticks for c in chunks])[order],
            downtime_ticks=np.concatenate([c.downtime_ticks for c in chunks])[order],
            now_us=now_us,
        )


@dataclass(frozen=True)
class ChunkResult:
    """One chunk's report rows (unsorted): every store with a poll at or before now."""

    store_ids: np.ndarray  # object array of str
    uptime_ticks: np.ndarray  # int64 (n, 3)
    downtime_ticks: np.ndarray  # int64 (n, 3)

    @classmethod
    def empty(cls) -> ChunkResult:
        z = np.zeros((0, 3), dtype=np.int64)
        return cls(np.zeros(0, dtype=object), z, z.copy())


def compute_report(
    inp: ReportInput,
    now_us: int,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timings: dict[str, float] | None = None,
    chunk_stores: int = CHUNK_STORES,
) -> ReportResult:
    """Compute the report at ``now_us`` per the contract, from an input held in memory.

    ``progress`` receives fractions in ``[0, 1]``; ``should_cancel`` is polled
    between stages (each short enough at full scale for a prompt cancel) and a true answer
    raises :class:`~storemon_tui.errors.Cancelled`. ``timings``, if given, is
    filled with seconds per stage (keys of :data:`STAGES`, summed over
    chunks, plus ``output``). The stores are computed ``chunk_stores`` at a
    time; the result does not depend on it.
    """
    now_us = int(now_us)
    check = cancel_check(should_cancel)
    report = clamped_progress(progress)
    timer = StageTimer(STAGES)
    report(0.0)
    check()
    count, chunks = memory_chunks(inp, chunk_stores)
    results = []
    for index, chunk in enumerate(chunks):
        results.append(compute_chunk(chunk, now_us, timer=timer, check=check, progress=_share(report, index, count)))
    check()
    with timer.stage("output"):
        result = ReportResult.from_chunks(results, now_us)
    if timings is not None:
        timings.update(timer.seconds)
    report(1.0)
    return result


def memory_chunks(inp: ReportInput, chunk_stores: int) -> tuple[int, Iterator[ReportInput]]:
    """How many chunks of ``chunk_stores`` stores the input makes, and the chunks, one at a time."""
    size = max(1, chunk_stores)
    starts = range(0, inp.n_stores, size)
    if len(starts) <= 1:
        return 1, iter([inp])
    return len(starts), (inp.stores_slice(first, first + size) for first in starts)


def _share(report: Progress, index: int, count: int) -> Progress:
    """Progress of chunk ``index`` of ``count`` as its share of the whole (the last 3 % is output)."""
    return lambda fraction: report((index + fraction) / count * 0.97)


def compute_chunk(
    chunk: ReportInput,
    now_us: int,
    *,
    older: OlderPolls | None = None,
    timer: StageTimer | None = None,
    check: Check | None = None,
    progress: Progress | None = None,
) -> ChunkResult:
    """The report rows of one chunk of stores, as of ``now_us``.

    A pure function of its arguments: ``chunk`` holds the stores' ids,
    hours, zones and polls. Without ``older`` the polls are all there is
    (history included); with it, ``chunk`` needs only the polls of
    ``[read_start(now), now]`` and ``older`` answers the look-back for the
    stores that need it (e.g. a database snapshot).
    """
    timer = timer if timer is not None else StageTimer(STAGES)
    check = check if check is not None else cancel_check(None)
    report = progress if progress is not None else clamped_progress(None)
    polls = chunk.polls_up_to(now_us)
    if older is None:
        older = MemoryOlder(polls.take(polls.ts_us < read_start(now_us)))
    evidence, sums = report_parts(chunk, polls, now_us, older, timer, check, report)
    return _rows(chunk, evidence.stores, sums)


def report_parts(
    chunk: ReportInput,
    polls: Polls,
    now_us: int,
    older: OlderPolls,
    timer: StageTimer,
    check: Check,
    report: Progress | None = None,
) -> tuple[Evidence, WindowSums]:
    """The three stages for one chunk: its evidence and its window sums at ``now_us``.

    ``polls`` are the chunk's polls at or before now (normalized); only
    those of ``[read_start(now), now]`` are used, the look-back asks
    ``older``.
    """
    report = report if report is not None else clamped_progress(None)
    evidence = find_evidence(chunk, polls.take(polls.ts_us >= read_start(now_us)), older, now_us, timer, check)
    report(0.6)
    check()
    if len(evidence.polls) == 0:
        return evidence, WindowSums.empty()
    with timer.stage("ownership"):
        owner = ownership(evidence.polls, now_us)
    report(0.85)
    check()
    with timer.stage("sums"):
        sums = window_sums(owner, evidence.intervals)
    report(1.0)
    return evidence, sums


def _rows(chunk: ReportInput, stores: np.ndarray, sums: WindowSums) -> ChunkResult:
    """Rows for the reported ``stores`` (sorted); stores without evidence are all zero."""
    uptime = np.zeros((len(stores), 3), dtype=np.int64)
    downtime = np.zeros((len(stores), 3), dtype=np.int64)
    at = np.searchsorted(stores, sums.stores)
    uptime[at] = sums.uptime
    downtime[at] = sums.downtime
    return ChunkResult(np.asarray(chunk.store_ids[stores], dtype=object), uptime, downtime)


# ---------------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Evidence:
    """A chunk's evidence polls that can own time in the week window, and its business intervals.

    ``polls`` holds, per store, its latest evidence before the recent range
    (if its window needs it) and every evidence poll of the recent range.
    ``intervals`` cover at least the week window of every store with
    evidence (and the recent range of every store polled in it).
    ``stores`` are those with a poll at or before now, ``last_poll_us`` the
    latest such poll of each.
    """

    stores: np.ndarray
    last_poll_us: np.ndarray
    polls: Polls
    intervals: Intervals


def find_evidence(
    chunk: ReportInput, recent: Polls, older: OlderPolls, now_us: int, timer: StageTimer, check: Check
) -> Evidence:
    """Evidence in the recent range, then the latest evidence before it for stores whose window needs it."""
    week_start, lo = now_us - WEEK_US, read_start(now_us)
    recent_stores = unique_sorted(recent.store)
    with timer.stage("business_hours"):
        iv = intervals_in(chunk, _same_range(recent_stores, lo, now_us + 1), check)
    check()
    with timer.stage("evidence"):
        inside = polls_inside(iv, recent)
        owned = unique_sorted(inside.store[inside.ts_us < week_start])
        pending = np.setdiff1d(np.arange(chunk.n_stores, dtype=np.int64), owned, assume_unique=True)
    with timer.stage("lookback"):
        back = latest_evidence_before(chunk, older, pending, np.full(len(pending), lo, dtype=np.int64), check)
    newcomers = np.setdiff1d(back.evidence.store, recent_stores, assume_unique=True)
    if len(newcomers):  # old evidence of stores without recent polls: their week needs intervals too
        with timer.stage("business_hours"):
            iv = _concat_by_store(iv, intervals_in(chunk, _same_range(newcomers, week_start, now_us + 1), check))
    latest = recent.take(last_per_store(recent.store))
    stores = np.union1d(recent_stores, back.polled)
    last_poll = np.zeros(len(stores), dtype=np.int64)
    last_poll[np.searchsorted(stores, back.polled)] = back.latest_ts_us
    last_poll[np.searchsorted(stores, latest.store)] = latest.ts_us  # recent polls are later
    return Evidence(stores, last_poll, Polls.regrouped([back.evidence, inside]), iv)  # older evidence first


def _same_range(stores: np.ndarray, lo_us: int, hi_us: int) -> Ranges:
    n = len(stores)
    return Ranges(stores, np.full(n, lo_us, dtype=np.int64), np.full(n, hi_us, dtype=np.int64))


def polls_inside(iv: Intervals, polls: Polls) -> Polls:
    """The polls inside the intervals (both sorted by store, then time).

    Each interval's start and end are located among the sorted polls (tens of
    thousands of searches instead of millions); the polls between them are
    inside, and as the intervals are disjoint, so are the ranges.
    """
    n = len(iv)
    pos = seg_searchsorted(
        polls.store, polls.ts_us, np.concatenate([iv.store, iv.store]), np.concatenate([iv.start_us, iv.end_us])
    )
    return polls.take(concat_ranges(pos[:n], pos[n:]))


def _concat_by_store(a: Intervals, b: Intervals) -> Intervals:
    """Intervals of two disjoint store sets, regrouped by store."""
    both = Intervals(*(np.concatenate([x, y]) for x, y in zip(_fields(a), _fields(b), strict=True)))
    return both.take(np.argsort(both.store, kind="stable"))


def _fields(iv: Intervals) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return iv.store, iv.start_us, iv.end_us, iv.range


# --------------------------------------------------------------------------------- ownership


@dataclass(frozen=True)
class Ownership:
    """Who owns each instant of the week window ``[w0, now]`` (ticks), as segments per evidence poll.

    Evidence poll ``j`` owns ``[seg_start[j], seg_start[j + 1])`` (its store's
    last poll: up to now); ``owned_before[j]`` is the active time owned before
    ``seg_start[j]`` — an exclusive cumsum over *all* stores, which is fine
    because it is only ever differenced within one store, where the other
    stores' totals cancel.
    """

    store: np.ndarray
    seg_start: np.ndarray
    active: np.ndarray
    owned_before: np.ndarray
    w0: int
    now_ticks: int

    def active_time(self, q_store: np.ndarray, q_t: np.ndarray) -> np.ndarray:
        """``G(t)`` for each query (store, tick in the week window): active time owned before ``t``.

        Plus a per-store constant, so only differences within one store mean anything.
        """
        k = seg_searchsorted(self.store, self.seg_start, q_store, q_t, side="right") - 1
        return self.owned_before[k] + (q_t - self.seg_start[k]) * self.active[k]


def ownership(evidence: Polls, now_us: int) -> Ownership:
    """Each evidence poll's segment of the week window: from the midpoint with the previous one to the next."""
    e_store, e_ts, e_act = evidence.store, evidence.ts_us, evidence.active
    now_ticks = TICKS_PER_US * now_us
    w0 = now_ticks - TICKS_PER_US * WEEK_US
    same_next = np.zeros(len(e_store), dtype=bool)
    same_next[:-1] = e_store[1:] == e_store[:-1]
    first_of_store = np.ones(len(e_store), dtype=bool)
    first_of_store[1:] = ~same_next[:-1]
    midpoint = np.empty(len(e_store), dtype=np.int64)  # with the next poll, in ticks
    midpoint[:-1] = e_ts[:-1] + e_ts[1:]
    midpoint[-1] = now_ticks
    seg_end = np.where(same_next, np.clip(midpoint, w0, now_ticks), now_ticks)
    seg_start = np.empty_like(seg_end)
    seg_start[1:] = seg_end[:-1]
    seg_start[first_of_store] = w0
    owned = (seg_end - seg_start) * e_act
    return Ownership(e_store, seg_start, e_act, np.cumsum(owned) - owned, w0, now_ticks)


# ------------------------------------------------------------------------------- window sums


@dataclass(frozen=True)
class WindowSums:
    """Uptime and downtime ticks per store with evidence; columns: last hour, day, week."""

    stores: np.ndarray
    uptime: np.ndarray  # int64 (n, 3)
    downtime: np.ndarray  # int64 (n, 3)

    @classmethod
    def empty(cls) -> WindowSums:
        return cls(np.zeros(0, dtype=np.int64), np.zeros((0, 3), dtype=np.int64), np.zeros((0, 3), dtype=np.int64))


def window_sums(owner: Ownership, iv: Intervals) -> WindowSums:
    """Per store and window: business time and the active part of it, summed over its intervals.

    Uptime over ``[a, b)`` is ``G(b) − G(a)``; an interval that starts before
    a window's start counts from the window's start. ``G`` is evaluated once
    at every interval end (clipped to the week) and at the hour's and the
    day's start; sums per store are differences of one cumsum (exact int64,
    empty-safe).
    """
    stores = unique_sorted(owner.store)
    i_store, i_start, i_end = _week_intervals_of(iv, stores, owner.w0, owner.now_ticks)
    slot = np.searchsorted(stores, i_store)
    first = np.searchsorted(i_store, stores, side="left")
    last = np.searchsorted(i_store, stores, side="right")

    def per_store(x: np.ndarray) -> np.ndarray:
        c = np.concatenate([[0], np.cumsum(x)])
        return c[last] - c[first]

    n, m = len(i_store), len(stores)
    window_starts = [owner.now_ticks - TICKS_PER_US * w for w in WINDOWS_US[:2]]
    g = owner.active_time(
        np.concatenate([i_store, i_store, stores, stores]),
        np.concatenate([i_start, i_end, np.full(m, window_starts[0]), np.full(m, window_starts[1])]),
    )
    g_start, g_end, g_window_start = g[:n], g[n : 2 * n], (g[2 * n : 2 * n + m], g[2 * n + m :])
    uptime = np.zeros((m, 3), dtype=np.int64)
    business = np.zeros((m, 3), dtype=np.int64)
    for w in range(3):
        if w < 2:  # hour and day: intervals cut at the window's start
            ws = window_starts[w]
            g_a = np.where(i_start >= ws, g_start, g_window_start[w][slot])
            g_b = np.where(i_end >= ws, g_end, g_window_start[w][slot])
            open_time = np.maximum(i_end, ws) - np.maximum(i_start, ws)
        else:
            g_a, g_b, open_time = g_start, g_end, i_end - i_start
        uptime[:, w] = per_store(g_b - g_a)
        business[:, w] = per_store(open_time)
    return WindowSums(stores, uptime, business - uptime)


def _week_intervals_of(
    iv: Intervals, stores: np.ndarray, w0: int, now_ticks: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The business intervals of ``stores`` (sorted), in ticks, clipped to the week window, empties dropped."""
    pos = np.minimum(np.searchsorted(stores, iv.store), max(len(stores) - 1, 0))
    keep = stores[pos] == iv.store if len(stores) else np.zeros(len(iv), dtype=bool)
    start = np.clip(TICKS_PER_US * iv.start_us[keep], w0, now_ticks)
    end = np.clip(TICKS_PER_US * iv.end_us[keep], w0, now_ticks)
    nonempty = start < end
    return iv.store[keep][nonempty], start[nonempty], end[nonempty]
