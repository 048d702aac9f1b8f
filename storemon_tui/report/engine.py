"""The report engine: exact uptime/downtime per store, fully vectorized.

How it works (see the contract in ``shared/spec/uptime.md``):

1. Business hours → disjoint UTC intervals per store (``hours.py``), covering
   the week window and enough history before it: only evidence from the last
   poll before the window onwards can own window time, so the look-back
   starts at one day and widens (×8) just for stores that still need it.
2. Evidence = polls at or before ``now`` inside those intervals: each
   interval's ends are searched among the sorted ``(store, ts)`` poll keys and
   the polls in between are gathered.
3. Ownership: consecutive evidence polls of a store split time at their
   midpoint. Midpoints can fall on half microseconds, so all measuring is in
   integer *ticks* of ½ µs (``2 × µs``) — exact, no floats anywhere.
   Each poll owns a segment; clipped to the week window, a segmented cumsum
   gives ``G(t)``, the active time owned in ``[week start, t)``.
4. Sums: uptime in a window = Σ over business intervals of ``G(b) − G(a)``
   (endpoints clipped to the window); downtime = business time − uptime.

Per-store work is never a Python loop: stores are segments of sorted arrays,
searched with combined ``store × stride + time`` keys. If those keys could
overflow int64 (decades of history × many stores) the stores are processed
in chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from storemon_tui.errors import Cancelled
from storemon_tui.report.hours import Intervals, business_intervals
from storemon_tui.report.inputs import ReportInput

HOUR_US = 3_600_000_000
WINDOWS_US = (HOUR_US, 24 * HOUR_US, 168 * HOUR_US)  # last hour, day, week
TICKS_PER_US = 2
_KEY_LIMIT = 1 << 62
_FIRST_LOOKBACK_US = 24 * HOUR_US  # history read before the week window in the first round
_STAGES = ("business_hours", "evidence", "ownership", "sums")


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

    def to_frame(self):  # -> pandas.DataFrame (pandas imported lazily: the engine does not need it)
        """The report as a DataFrame with float columns (minutes for the hour, hours otherwise)."""
        import pandas as pd

        from storemon_tui.report.formatting import REPORT_COLUMNS, TICKS_PER_HOUR, TICKS_PER_MINUTE

        div = np.array([TICKS_PER_MINUTE, TICKS_PER_HOUR, TICKS_PER_HOUR], dtype=np.float64)
        up = self.uptime_ticks / div
        down = self.downtime_ticks / div
        data = {REPORT_COLUMNS[0]: pd.Series(self.store_ids, dtype=object)}
        for k in range(3):
            data[REPORT_COLUMNS[1 + k]] = up[:, k]
        for k in range(3):
            data[REPORT_COLUMNS[4 + k]] = down[:, k]
        return pd.DataFrame(data)


def compute_report(
    inp: ReportInput,
    now_us: int,
    progress: Callable[[float], None] | None = None,
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

    stage_times = dict.fromkeys(_STAGES, 0.0)
    t_start = time.perf_counter()
    report(0.0)
    check()

    n_stores = inp.n_stores
    week_start = now_us - WINDOWS_US[2]
    store, ts, act = _polls_up_to(inp, now_us)
    up = np.zeros((n_stores, 3), dtype=np.int64)
    down = np.zeros((n_stores, 3), dtype=np.int64)
    reported = np.zeros(n_stores, dtype=bool)
    chunks: list[tuple[int, int]] = []
    if len(ts):
        # Keys `store × stride + (ts − base)` must fit in int64 (in ticks, so ×2):
        # split the store range when decades of history meet many stores.
        base_us = min(int(ts.min()), week_start)
        stride_us = now_us + 2 - base_us
        per_chunk = max(1, _KEY_LIMIT // (TICKS_PER_US * stride_us + 4) - 1)
        first, last = int(store[0]), int(store[-1]) + 1
        chunks = [(c, min(c + per_chunk, last)) for c in range(first, last, per_chunk)]
        bounds = np.searchsorted(store, np.array([c for c, _ in chunks] + [last]))
    stage_times["prepare"] = time.perf_counter() - t_start

    for ci, (c0, c1) in enumerate(chunks):
        check()
        a, b = int(bounds[ci]), int(bounds[ci + 1])
        _compute_chunk(
            inp,
            now_us,
            _ChunkPolls.build(store[a:b], ts[a:b], act[a:b], c0, base_us, stride_us),
            reported,
            up,
            down,
            stage_times,
            check,
            lambda f, ci=ci: report((ci + f) / len(chunks) * 0.97),
        )

    check()
    t_out = time.perf_counter()
    rows = np.flatnonzero(reported)
    order = np.argsort(inp.store_ids[rows].astype(str), kind="stable")
    rows = rows[order]
    result = ReportResult(
        store_ids=np.asarray(inp.store_ids[rows], dtype=object),
        uptime_ticks=up[rows],
        downtime_ticks=down[rows],
        now_us=now_us,
    )
    stage_times["output"] = time.perf_counter() - t_out
    if timings is not None:
        timings.update(stage_times)
    report(1.0)
    return result


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


def _seg_search(
    v_store: np.ndarray, v: np.ndarray, q_store: np.ndarray, q: np.ndarray, base: int, stride: int, side: str
) -> np.ndarray:
    """``searchsorted`` within each store's segment of ``v`` (sorted by (store, v)); returns global indices."""
    s0 = int(v_store[0]) if len(v_store) else 0
    vk = (v_store - s0) * stride + (v - base)
    qk = (q_store - s0) * stride + (q - base)
    return np.searchsorted(vk, qk, side=side)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[k], hi[k])`` for all k, without a Python loop."""
    length = hi - lo
    total = int(length.sum())
    starts = np.cumsum(length) - length
    return np.arange(total, dtype=np.int64) + np.repeat(lo - starts, length)


def _evidence(iv: Intervals, polls: _ChunkPolls) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    ev = _ranges(lo_pos, hi_pos)
    return np.repeat(iv.store, hi_pos - lo_pos), polls.ts[ev], polls.act[ev]


def _compute_chunk(
    inp: ReportInput,
    now_us: int,
    polls: _ChunkPolls,
    reported: np.ndarray,
    up: np.ndarray,
    down: np.ndarray,
    stage_times: dict[str, float],
    check: Callable[[], None],
    report: Callable[[float], None],
) -> None:
    """All four stages for one chunk's stores; fills ``reported``, ``up``, ``down`` in place."""
    n_stores = inp.n_stores
    week_start = now_us - WINDOWS_US[2]
    counts = np.bincount(polls.store - polls.s0)
    chunk_stores = np.flatnonzero(counts) + polls.s0
    reported[chunk_stores] = True
    heads = np.cumsum(counts) - counts
    first_ts = np.zeros(n_stores, dtype=np.int64)
    first_ts[chunk_stores] = polls.ts[heads[chunk_stores - polls.s0]]

    # Only the evidence from the last one before the week window onwards matters.
    # Look back a little first; stores whose look-back held polls but no evidence
    # look back 8× further, until evidence before the window or the store's first
    # poll is reached. One week of data ⇒ one round; years of history stay cheap.
    lo_us = np.full(n_stores, week_start, dtype=np.int64)
    pending = chunk_stores
    lookback = _FIRST_LOOKBACK_US
    week_iv: Intervals | None = None
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while len(pending):
        t0 = time.perf_counter()
        lo_us[pending] = np.minimum(np.maximum(first_ts[pending], week_start - lookback), week_start)
        needed = np.zeros(n_stores, dtype=bool)
        needed[pending] = True
        iv = business_intervals(inp, lo_us, now_us + 1, needed, check=check)
        if week_iv is None:
            week_iv = iv  # the first round holds every store and covers the whole week
        t1 = time.perf_counter()
        stage_times["business_hours"] += t1 - t0
        check()
        e_store, e_ts, e_act = _evidence(iv, polls)
        before = np.zeros(n_stores, dtype=bool)
        before[e_store[e_ts < week_start]] = True
        done = before | (lo_us <= first_ts)
        keep = done[e_store]
        found.append((e_store[keep], e_ts[keep], e_act[keep]))
        pending = pending[~done[pending]]
        lookback *= 8
        stage_times["evidence"] += time.perf_counter() - t1
        check()
    report(0.6)
    if len(found) == 1:
        e_store, e_ts, e_act = found[0]
    else:  # each store's evidence comes from exactly one round: regroup by store, keep ts order
        e_store, e_ts, e_act = (np.concatenate(parts) for parts in zip(*found))
        order = np.argsort(e_store, kind="stable")
        e_store, e_ts, e_act = e_store[order], e_ts[order], e_act[order]
    if len(e_store) == 0 or week_iv is None:
        return
    iv = week_iv
    t2 = time.perf_counter()

    # Ownership segments in ticks, clipped to the week window [w0, nt].
    nt = TICKS_PER_US * now_us
    w0 = nt - TICKS_PER_US * WINDOWS_US[2]
    same_next = np.zeros(len(e_store), dtype=bool)
    same_next[:-1] = e_store[1:] == e_store[:-1]
    first_of_store = np.ones(len(e_store), dtype=bool)
    first_of_store[1:] = ~same_next[:-1]
    mid = np.empty(len(e_store), dtype=np.int64)  # midpoint with the next poll, in ticks
    mid[:-1] = e_ts[:-1] + e_ts[1:]
    mid[-1] = nt
    seg_end = np.where(same_next, np.clip(mid, w0, nt), nt)
    seg_start = np.empty_like(seg_end)
    seg_start[1:] = seg_end[:-1]
    seg_start[first_of_store] = w0
    owned = (seg_end - seg_start) * e_act
    # Exclusive cumsum over all stores: G is only ever differenced within one
    # store, where the other stores' totals cancel, so no per-store reset.
    cum = np.cumsum(owned) - owned

    # Business intervals of stores with evidence, in ticks, clipped to the week.
    has_ev = np.zeros(inp.n_stores, dtype=bool)
    has_ev[e_store] = True
    keep_iv = has_ev[iv.store]
    b_store = iv.store[keep_iv]
    ba = np.clip(TICKS_PER_US * iv.start_us[keep_iv], w0, nt)
    bb = np.clip(TICKS_PER_US * iv.end_us[keep_iv], w0, nt)
    nonempty = ba < bb
    b_store, ba, bb = b_store[nonempty], ba[nonempty], bb[nonempty]
    ev_stores = np.flatnonzero(has_ev)
    n_iv, n_ev = len(b_store), len(ev_stores)
    win_start = [nt - TICKS_PER_US * w for w in WINDOWS_US[:2]]

    # G(t) = active time owned in [w0, t) (+ a per-store constant), at interval endpoints and window starts.
    q_store = np.concatenate([b_store, b_store, ev_stores, ev_stores])
    q_t = np.concatenate([ba, bb, np.full(n_ev, win_start[0]), np.full(n_ev, win_start[1])])
    k = _seg_search(e_store, seg_start, q_store, q_t, w0, nt - w0 + 2, "right") - 1
    g = cum[k] + (q_t - seg_start[k]) * e_act[k]
    g_a, g_b = g[:n_iv], g[n_iv : 2 * n_iv]
    g_ws = (g[2 * n_iv : 2 * n_iv + n_ev], g[2 * n_iv + n_ev :])
    t3 = time.perf_counter()
    stage_times["ownership"] += t3 - t2
    report(0.85)
    check()

    # Sums per store over its interval block (cumsum differences: exact int64, empty-safe).
    slot = np.zeros(inp.n_stores, dtype=np.int64)
    slot[ev_stores] = np.arange(n_ev)
    b_slot = slot[b_store]
    bounds = np.searchsorted(b_slot, np.arange(n_ev + 1))

    def per_store(x: np.ndarray) -> np.ndarray:
        c = np.concatenate([[0], np.cumsum(x)])
        return c[bounds[1:]] - c[bounds[:-1]]

    for w in range(3):
        if w < 2:
            ws = win_start[w]
            ga = np.where(ba >= ws, g_a, g_ws[w][b_slot])
            gb = np.where(bb >= ws, g_b, g_ws[w][b_slot])
            busy = np.maximum(bb, ws) - np.maximum(ba, ws)
        else:
            ga, gb, busy = g_a, g_b, bb - ba
        uptime = per_store(gb - ga)
        business = per_store(busy)
        up[ev_stores, w] = uptime
        down[ev_stores, w] = business - uptime
    stage_times["sums"] += time.perf_counter() - t3
    report(1.0)
