"""The report engine: exact uptime/downtime per store, fully vectorized.

How it works (see the contract in ``shared/spec/uptime.md``), one stage each:

1. **Evidence** (:func:`_find_evidence`): business hours → disjoint UTC
   intervals per store (``hours.py``), covering the week window and enough
   history before it: only evidence from the last poll before the window
   onwards can own window time, so the look-back starts at one day and widens
   (×8) just for stores that still need it. Evidence = polls at or before
   ``now`` inside those intervals: each interval's ends are searched among the
   sorted ``(store, ts)`` poll keys and the polls in between are gathered.
2. **Ownership** (:func:`_ownership`): consecutive evidence polls of a store
   split time at their midpoint. Midpoints can fall on half microseconds, so
   all measuring is in integer *ticks* of ½ µs — exact, no floats anywhere.
   Each poll owns a segment; clipped to the week window, a cumsum gives
   ``G(t)``, the active time owned in ``[week start, t)``.
3. **Window sums** (:func:`_window_sums`): uptime in a window = Σ over business
   intervals of ``G(b) − G(a)`` (endpoints clipped to the window); downtime =
   business time − uptime.

Per-store work is never a Python loop: stores are segments of sorted arrays,
searched with combined ``store × stride + time`` keys. If those keys could
overflow int64 (decades of history × many stores) the stores are processed
in chunks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from storemon_tui.errors import Cancelled
from storemon_tui.report.hours import Intervals, business_intervals
from storemon_tui.report.inputs import ReportInput
from storemon_tui.report.timing import StageTimer
from storemon_tui.timebase import DAY_US, TICKS_PER_US, WEEK_US, WINDOWS_US

_KEY_LIMIT = 1 << 62
_FIRST_LOOKBACK_US = DAY_US  # history read before the week window in the first round
_STAGES = ("business_hours", "evidence", "ownership", "sums")

Check = Callable[[], None]
Progress = Callable[[float], None]


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


def compute_report(
    inp: ReportInput,
    now_us: int,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timings: dict[str, float] | None = None,
) -> ReportResult:
    """Compute the report at ``now_us`` per the contract.

    ``progress`` receives fractions in ``[0, 1]``; ``should_cancel`` is polled
    between stages (each well under 0.5 s at full scale) and a true answer
    raises :class:`~storemon_tui.errors.Cancelled`. ``timings``, if given, is
    filled with seconds per stage (keys ``business_hours``, ``evidence``,
    ``ownership``, ``sums`` — summed over chunks — plus ``prepare`` and
    ``output``).
    """
    now_us = int(now_us)

    def check() -> None:
        if should_cancel is not None and should_cancel():
            raise Cancelled()

    def report(frac: float) -> None:
        if progress is not None:
            progress(min(1.0, max(0.0, frac)))

    timer = StageTimer(_STAGES)
    report(0.0)
    check()
    with timer.stage("prepare"):
        plan = _ChunkPlan.make(inp, now_us)
    reported = np.zeros(inp.n_stores, dtype=bool)
    up = np.zeros((inp.n_stores, 3), dtype=np.int64)
    down = np.zeros((inp.n_stores, 3), dtype=np.int64)
    for ci in range(len(plan)):
        check()
        chunk = _compute_chunk(inp, now_us, plan.polls(ci), timer, check, _share(report, ci, len(plan)))
        reported[chunk.stores] = True
        up[chunk.sums.stores] = chunk.sums.uptime
        down[chunk.sums.stores] = chunk.sums.downtime
    check()
    with timer.stage("output"):
        rows = np.flatnonzero(reported)
        rows = rows[np.argsort(inp.store_ids[rows].astype(str), kind="stable")]
        result = ReportResult(
            store_ids=np.asarray(inp.store_ids[rows], dtype=object),
            uptime_ticks=up[rows],
            downtime_ticks=down[rows],
            now_us=now_us,
        )
    if timings is not None:
        timings.update(timer.seconds)
    report(1.0)
    return result


def _share(report: Progress, index: int, count: int) -> Progress:
    """Progress of chunk ``index`` of ``count`` as its share of the whole (the last 3 % is output)."""
    return lambda fraction: report((index + fraction) / count * 0.97)


# ------------------------------------------------------------------------------------ chunks


@dataclass(frozen=True)
class _ChunkPolls:
    """One chunk's polls, sorted by the combined key, one per (store, ts)."""

    store: np.ndarray
    ts: np.ndarray
    act: np.ndarray
    key: np.ndarray  # (store − s0) × stride + (ts − base), strictly increasing
    s0: int
    base_us: int
    stride_us: int

    @classmethod
    def build(
        cls, store: np.ndarray, ts: np.ndarray, act: np.ndarray, s0: int, base_us: int, stride_us: int
    ) -> _ChunkPolls:
        key = store - s0
        key *= stride_us
        key += ts
        key -= base_us
        d = np.diff(key)
        if not (d > 0).all():
            if (d < 0).any():  # stable: among equal keys the input order survives
                order = np.argsort(key, kind="stable")
                store, ts, act, key = store[order], ts[order], act[order], key[order]
                d = np.diff(key)
            dup = d == 0
            if dup.any():  # the last record of a (store, ts) key wins, as on import
                last = np.append(~dup, True)
                store, ts, act, key = store[last], ts[last], act[last], key[last]
        return cls(store, ts, act, key, s0, base_us, stride_us)


@dataclass(frozen=True)
class _ChunkPlan:
    """The polls at or before now, grouped by store, split into store ranges whose keys fit int64.

    Keys ``store × stride + (ts − base)`` are in µs but are compared with
    tick values (×2) too, so the range of stores per chunk is limited by
    ``_KEY_LIMIT`` over twice the time span; decades of history with many
    stores need several chunks.
    """

    store: np.ndarray
    ts: np.ndarray
    act: np.ndarray
    ranges: list[tuple[int, int]]  # first store of the chunk, and poll index bounds
    bounds: np.ndarray
    base_us: int
    stride_us: int

    @classmethod
    def make(cls, inp: ReportInput, now_us: int) -> _ChunkPlan:
        store, ts, act = _polls_up_to(inp, now_us)
        if len(ts) == 0:
            return cls(store, ts, act, [], np.zeros(1, dtype=np.int64), 0, 1)
        base_us = min(int(ts.min()), now_us - WEEK_US)
        stride_us = now_us + 2 - base_us
        per_chunk = max(1, _KEY_LIMIT // (TICKS_PER_US * stride_us + 4) - 1)
        first, last = int(store[0]), int(store[-1]) + 1
        ranges = [(c, min(c + per_chunk, last)) for c in range(first, last, per_chunk)]
        bounds = np.searchsorted(store, np.array([c for c, _ in ranges] + [last]))
        return cls(store, ts, act, ranges, bounds, base_us, stride_us)

    def __len__(self) -> int:
        return len(self.ranges)

    def polls(self, index: int) -> _ChunkPolls:
        a, b = int(self.bounds[index]), int(self.bounds[index + 1])
        s0 = self.ranges[index][0]
        return _ChunkPolls.build(self.store[a:b], self.ts[a:b], self.act[a:b], s0, self.base_us, self.stride_us)


def _polls_up_to(inp: ReportInput, now_us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polls with ts ≤ now, grouped by store (stable: input order kept within a store)."""
    store = np.asarray(inp.poll_store, dtype=np.int64)
    ts = np.asarray(inp.poll_ts_us, dtype=np.int64)
    act = np.asarray(inp.poll_active, dtype=bool)
    keep = ts <= now_us
    if not keep.all():
        store, ts, act = store[keep], ts[keep], act[keep]
    if len(store) > 1 and (np.diff(store) < 0).any():
        order = np.argsort(store, kind="stable")
        store, ts, act = store[order], ts[order], act[order]
    return store, ts, act


@dataclass(frozen=True)
class _ChunkResult:
    stores: np.ndarray  # stores of the chunk with a poll at or before now: they are reported
    sums: WindowSums


def _compute_chunk(
    inp: ReportInput, now_us: int, polls: _ChunkPolls, timer: StageTimer, check: Check, report: Progress
) -> _ChunkResult:
    """Evidence, ownership and window sums of one chunk's stores."""
    evidence = _find_evidence(inp, now_us, polls, timer, check)
    report(0.6)
    check()
    if len(evidence.store) == 0:
        return _ChunkResult(evidence.stores, WindowSums.empty())
    with timer.stage("ownership"):
        owner = _ownership(evidence, now_us)
    report(0.85)
    check()
    with timer.stage("sums"):
        sums = _window_sums(owner, evidence.intervals, now_us)
    report(1.0)
    return _ChunkResult(evidence.stores, sums)


# ---------------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Evidence:
    """A chunk's evidence polls, sorted by (store, time), and its business intervals.

    Only the evidence that can own time in the week window is kept: for each
    store, its last evidence poll before the window and every one after.
    ``intervals`` cover at least the week window of every store of the chunk.
    """

    stores: np.ndarray  # stores with a poll at or before now
    store: np.ndarray
    ts_us: np.ndarray
    active: np.ndarray
    intervals: Intervals


def _find_evidence(inp: ReportInput, now_us: int, polls: _ChunkPolls, timer: StageTimer, check: Check) -> Evidence:
    """Look back from the week window until each store's window has its owner.

    Look back a little first; stores whose look-back held polls but no
    evidence look back 8× further, until evidence before the window or the
    store's first poll is reached. One week of data ⇒ one round; years of
    history stay cheap.
    """
    week_start = now_us - WEEK_US
    counts = np.bincount(polls.store - polls.s0)
    stores = np.flatnonzero(counts) + polls.s0
    first_ts = np.zeros(inp.n_stores, dtype=np.int64)
    first_ts[stores] = polls.ts[(np.cumsum(counts) - counts)[stores - polls.s0]]
    lo_us = np.full(inp.n_stores, week_start, dtype=np.int64)
    pending, lookback = stores, _FIRST_LOOKBACK_US
    week_iv: Intervals | None = None
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while len(pending):
        lo_us[pending] = np.minimum(np.maximum(first_ts[pending], week_start - lookback), week_start)
        with timer.stage("business_hours"):
            iv = business_intervals(inp, lo_us, now_us + 1, _mask(inp.n_stores, pending), check=check)
        week_iv = iv if week_iv is None else week_iv  # the first round holds every store and covers the week
        check()
        with timer.stage("evidence"):
            e_store, e_ts, e_act = _polls_inside(iv, polls)
            done = _mask(inp.n_stores, e_store[e_ts < week_start]) | (lo_us <= first_ts)
            keep = done[e_store]
            found.append((e_store[keep], e_ts[keep], e_act[keep]))
            pending = pending[~done[pending]]
        lookback *= 8
        check()
    assert week_iv is not None or len(stores) == 0
    empty = Intervals(*(np.zeros(0, dtype=np.int64) for _ in range(3)))
    return Evidence(stores, *_regroup(found), intervals=week_iv if week_iv is not None else empty)


def _mask(n: int, indexes: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[indexes] = True
    return mask


def _regroup(found: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each store's evidence comes from exactly one round: regroup by store, keeping time order."""
    if not found:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0, dtype=bool)
    if len(found) == 1:
        return found[0]
    e_store, e_ts, e_act = (np.concatenate(parts) for parts in zip(*found, strict=True))
    order = np.argsort(e_store, kind="stable")
    return e_store[order], e_ts[order], e_act[order]


def _polls_inside(iv: Intervals, polls: _ChunkPolls) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polls inside the business intervals, as (store, ts, active), sorted by (store, ts).

    Each interval's start and end are located among the sorted poll keys (tens of
    thousands of searches instead of millions); the polls between them are inside,
    and as the intervals are disjoint, so are the ranges.
    """
    iv_base = iv.store - polls.s0
    iv_base *= polls.stride_us
    iv_base -= polls.base_us
    lo_pos = np.searchsorted(polls.key, iv_base + iv.start_us, side="left")
    hi_pos = np.searchsorted(polls.key, iv_base + iv.end_us, side="left")
    inside = _ranges(lo_pos, hi_pos)
    return np.repeat(iv.store, hi_pos - lo_pos), polls.ts[inside], polls.act[inside]


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[k], hi[k])`` for all k, without a Python loop."""
    length = hi - lo
    total = int(length.sum())
    starts = np.cumsum(length) - length
    return np.arange(total, dtype=np.int64) + np.repeat(lo - starts, length)


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
        k = _seg_search(self.store, self.seg_start, q_store, q_t, self.w0, self.now_ticks - self.w0 + 2) - 1
        return self.owned_before[k] + (q_t - self.seg_start[k]) * self.active[k]


def _ownership(evidence: Evidence, now_us: int) -> Ownership:
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


def _seg_search(
    v_store: np.ndarray,
    v: np.ndarray,
    q_store: np.ndarray,
    q: np.ndarray,
    base: int,
    stride: int,
    side: Literal["left", "right"] = "right",
) -> np.ndarray:
    """``searchsorted`` within each store's segment of ``v`` (sorted by (store, v)); returns global indices."""
    s0 = int(v_store[0]) if len(v_store) else 0
    vk = (v_store - s0) * stride + (v - base)
    qk = (q_store - s0) * stride + (q - base)
    return np.searchsorted(vk, qk, side=side)


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


def _window_sums(owner: Ownership, iv: Intervals, now_us: int) -> WindowSums:
    """Per store and window: business time and the active part of it, summed over its intervals.

    Uptime over ``[a, b)`` is ``G(b) − G(a)``; an interval that starts before
    a window's start counts from the window's start. ``G`` is evaluated once
    at every interval end (clipped to the week) and at the hour's and the
    day's start; sums per store are differences of one cumsum (exact int64,
    empty-safe).
    """
    stores = np.unique(owner.store)
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
