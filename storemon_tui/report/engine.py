"""The report engine: exact uptime/downtime per store, fully vectorized.

How it works (see the contract in ``shared/spec/uptime.md``):

1. Business hours → disjoint UTC intervals per store (``hours.py``), covering
   each store's history back to the week window's start.
2. Evidence = polls at or before ``now`` inside those intervals: one
   ``searchsorted`` of (store, ts) keys against (store, start) keys.
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
from storemon_tui.report.hours import business_intervals
from storemon_tui.report.inputs import ReportInput

HOUR_US = 3_600_000_000
WINDOWS_US = (HOUR_US, 24 * HOUR_US, 168 * HOUR_US)  # last hour, day, week
TICKS_PER_US = 2
_KEY_LIMIT = 1 << 62
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
    ``ownership``, ``sums``), summed over chunks.
    """
    now_us = int(now_us)

    def check() -> None:
        if should_cancel is not None and should_cancel():
            raise Cancelled()

    def report(frac: float) -> None:
        if progress is not None:
            progress(min(1.0, max(0.0, frac)))

    stage_times = dict.fromkeys(_STAGES, 0.0)
    report(0.0)
    check()

    p_store, p_ts, p_act = _polls_up_to(inp, now_us)
    n_stores = inp.n_stores
    counts = np.bincount(p_store, minlength=n_stores)
    reported = np.flatnonzero(counts > 0)
    week_start = now_us - WINDOWS_US[2]
    first_ts = np.full(n_stores, week_start, dtype=np.int64)
    heads = np.cumsum(counts) - counts
    first_ts[reported] = p_ts[heads[reported]]
    lo_us = np.minimum(first_ts, week_start)  # history back to the earliest needed instant

    up = np.zeros((n_stores, 3), dtype=np.int64)
    down = np.zeros((n_stores, 3), dtype=np.int64)
    chunks = _store_chunks(reported, lo_us, now_us)
    poll_bounds = np.cumsum(counts)
    for ci, (c0, c1) in enumerate(chunks):
        check()
        a = int(poll_bounds[c0 - 1]) if c0 > 0 else 0
        b = int(poll_bounds[c1 - 1])
        needed = np.zeros(n_stores, dtype=bool)
        needed[c0:c1] = counts[c0:c1] > 0
        _compute_chunk(
            inp,
            now_us,
            needed,
            lo_us,
            p_store[a:b],
            p_ts[a:b],
            p_act[a:b],
            up,
            down,
            stage_times,
            check,
            lambda f, ci=ci: report((ci + f) / len(chunks) * 0.97),
        )

    check()
    order = np.argsort(inp.store_ids[reported].astype(str), kind="stable")
    rows = reported[order]
    result = ReportResult(
        store_ids=np.asarray(inp.store_ids[rows], dtype=object),
        uptime_ticks=up[rows],
        downtime_ticks=down[rows],
        now_us=now_us,
    )
    if timings is not None:
        timings.update(stage_times)
    report(1.0)
    return result


def _polls_up_to(inp: ReportInput, now_us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Polls with ts ≤ now, sorted by (store, ts), one per key (the last one given wins)."""
    store = np.asarray(inp.poll_store, dtype=np.int64)
    ts = np.asarray(inp.poll_ts_us, dtype=np.int64)
    act = np.asarray(inp.poll_active, dtype=bool)
    keep = ts <= now_us
    if not keep.all():
        store, ts, act = store[keep], ts[keep], act[keep]
    if len(store) > 1:
        ds = np.diff(store)
        dt = np.diff(ts)
        if ((ds < 0) | ((ds == 0) & (dt < 0))).any():  # not sorted: stable sort keeps input order on ties
            order = np.lexsort((ts, store))
            store, ts, act = store[order], ts[order], act[order]
            ds = np.diff(store)
            dt = np.diff(ts)
        dup = (ds == 0) & (dt == 0)
        if dup.any():
            last = np.append(~dup, True)
            store, ts, act = store[last], ts[last], act[last]
    return store, ts, act


def _store_chunks(reported: np.ndarray, lo_us: np.ndarray, now_us: int) -> list[tuple[int, int]]:
    """Store-index ranges small enough that ``store × stride + ticks`` fits in int64."""
    if len(reported) == 0:
        return []
    span_ticks = TICKS_PER_US * (now_us + 2 - int(lo_us[reported].min())) + 4
    per_chunk = max(1, _KEY_LIMIT // span_ticks - 1)
    first, last = int(reported[0]), int(reported[-1]) + 1
    return [(c, min(c + per_chunk, last)) for c in range(first, last, per_chunk)]


def _seg_search(
    v_store: np.ndarray, v: np.ndarray, q_store: np.ndarray, q: np.ndarray, base: int, stride: int, side: str
) -> np.ndarray:
    """``searchsorted`` within each store's segment of ``v`` (sorted by (store, v)); returns global indices."""
    s0 = int(v_store[0]) if len(v_store) else 0
    vk = (v_store - s0) * stride + (v - base)
    qk = (q_store - s0) * stride + (q - base)
    return np.searchsorted(vk, qk, side=side)


def _compute_chunk(
    inp: ReportInput,
    now_us: int,
    needed: np.ndarray,
    lo_us: np.ndarray,
    p_store: np.ndarray,
    p_ts: np.ndarray,
    p_act: np.ndarray,
    up: np.ndarray,
    down: np.ndarray,
    stage_times: dict[str, float],
    check: Callable[[], None],
    report: Callable[[float], None],
) -> None:
    """All four stages for the stores in ``needed``; fills ``up``/``down`` rows in place."""
    t0 = time.perf_counter()
    iv = business_intervals(inp, lo_us, now_us + 1, needed, should_cancel=check)
    t1 = time.perf_counter()
    stage_times["business_hours"] += t1 - t0
    report(0.35)
    check()
    if len(iv) == 0 or len(p_store) == 0:
        return

    # Evidence: poll inside the last interval of its store starting at or before it.
    base_us = int(lo_us[needed].min())
    stride_us = now_us + 2 - base_us
    j = _seg_search(iv.store, iv.start_us, p_store, p_ts, base_us, stride_us, "right") - 1
    jc = np.maximum(j, 0)
    ev = (j >= 0) & (iv.store[jc] == p_store) & (p_ts < iv.end_us[jc])
    e_store, e_ts, e_act = p_store[ev], p_ts[ev], p_act[ev]
    t2 = time.perf_counter()
    stage_times["evidence"] += t2 - t1
    report(0.6)
    check()
    if len(e_store) == 0:
        return

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
    cum = np.cumsum(owned) - owned  # exclusive global cumsum
    heads = np.flatnonzero(first_of_store)
    cum -= np.repeat(cum[heads], np.diff(np.append(heads, len(e_store))))

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

    # G(t) = active time owned in [w0, t), for interval endpoints and window starts.
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
