"""Business hours: local weekly opening rows → disjoint UTC intervals per store.

Why UTC intervals: the contract maps every endpoint from local wall time to
UTC separately (earlier occurrence for repeated times, transition instant for
skipped ones), so "inside business hours" is only exact when tested against
the mapped UTC interval — a local-time test would be wrong around DST changes.

Why offset tables instead of ``tz_localize``: local → UTC is
``f(L) = min{u : wall(u) ≥ L}`` which covers all three cases at once (unique,
ambiguous → earlier occurrence, nonexistent → transition instant). With a
zone's transitions ``T_i`` and offsets ``o_i`` that is
``max(T_i, L − o_i)`` for the first period ``i`` whose wall-clock end
``T_{i+1} + o_i`` exceeds ``L`` — one ``searchsorted`` per zone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from storemon_tui.report.inputs import DEFAULT_ZONE, ReportInput
from storemon_tui.timebase import DAY_US, SECOND_US

END_OF_DAY_US = 86_399 * SECOND_US  # an end at or after 23:59:59 means 24:00:00
_PROBE_STEP_S = 6 * 3600  # no real zone changes offset twice within 6 hours


@dataclass(frozen=True)
class Intervals:
    """Disjoint, non-touching half-open UTC intervals sorted by (store, start)."""

    store: np.ndarray  # int64 store index
    start_us: np.ndarray  # int64
    end_us: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.store)


def normalize_local_spans(start_us: np.ndarray, end_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply the contract's end rules; return ``[start, end)`` relative to the row's local midnight.

    An end at or after 23:59:59 is midnight ending the day; then an end at or
    before the start moves to the next day (``start == end`` is 24 h of clock).
    """
    start = np.asarray(start_us, dtype=np.int64)
    end = np.asarray(end_us, dtype=np.int64)
    end = np.where(end >= END_OF_DAY_US, DAY_US, end)
    end = np.where(end <= start, end + DAY_US, end)
    return start, end


def resolve_zone(name: object) -> str:
    """A usable IANA name; missing or unknown zones fall back to America/Chicago.

    An unknown name cannot be honoured, and failing the whole report for one
    store's bad zone would hide every other store's numbers.
    """
    if not isinstance(name, str) or not name.strip():
        return DEFAULT_ZONE
    name = name.strip()
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return DEFAULT_ZONE
    return name


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.lru_cache(maxsize=1024)
def zone_table(name: str, lo_s: int, hi_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Offset changes of ``name`` between UTC seconds ``lo_s`` and ``hi_s``.

    Returns ``(T_us, off_us)``: transition instants (µs, ascending) and the
    offsets, ``off_us[i]`` valid from ``T_us[i-1]`` (``off_us[0]`` before
    ``T_us[0]``). Found by probing zoneinfo on a 6-hour grid and bisecting to
    the second (tz transitions are whole seconds) — zoneinfo exposes no
    transition list, and the probed range is only the report's date range.
    """
    zi = _zone(name)

    def off(t: int) -> int:
        return int(datetime.fromtimestamp(t, zi).utcoffset().total_seconds())  # type: ignore[union-attr]

    grid = list(range(lo_s, hi_s + _PROBE_STEP_S, _PROBE_STEP_S))
    offs = [off(t) for t in grid]
    trans: list[int] = []
    values = [offs[0]]
    for k in range(1, len(grid)):
        a, cur = grid[k - 1], offs[k - 1]
        while cur != offs[k]:
            lo, hi = a, grid[k]  # off(lo) == cur, off(hi) != cur somewhere ahead
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if off(mid) == cur:
                    lo = mid
                else:
                    hi = mid
            cur = off(hi)
            trans.append(hi)
            values.append(cur)
            a = hi
    return np.array(trans, dtype=np.int64) * SECOND_US, np.array(values, dtype=np.int64) * SECOND_US


def map_local_to_utc(t_us: np.ndarray, off_us: np.ndarray, local_us: np.ndarray) -> np.ndarray:
    """``f(L) = min{u : wall(u) ≥ L}`` using one zone's table (see module docstring)."""
    local_us = np.asarray(local_us, dtype=np.int64)
    if len(t_us) == 0:
        return local_us - off_us[0]
    wall_end = np.maximum.accumulate(t_us + off_us[:-1])  # prefix max: exact even if not monotone
    i = np.searchsorted(wall_end, local_us, side="right")
    u = local_us - off_us[i]
    prev_t = t_us[np.maximum(i - 1, 0)]
    return np.where(i > 0, np.maximum(u, prev_t), u)


def local_to_utc(zone_name: str, local_us: np.ndarray) -> np.ndarray:
    """Map local wall times (µs since the local epoch 1970-01-01 00:00) to UTC µs per the contract."""
    local_us = np.asarray(local_us, dtype=np.int64)
    if local_us.size == 0:
        return local_us.copy()
    lo_day = int(local_us.min() // DAY_US) - 2
    hi_day = int(local_us.max() // DAY_US) + 3
    t_us, off_us = zone_table(resolve_zone(zone_name), lo_day * 86_400, hi_day * 86_400)
    return map_local_to_utc(t_us, off_us, local_us)


def store_zone_ids(inp: ReportInput) -> tuple[np.ndarray, list[str]]:
    """Per store index, an index into the returned list of resolved zone names."""
    names: list[str] = [DEFAULT_ZONE]
    lookup: dict[object, int] = {}
    per_store = np.zeros(inp.n_stores, dtype=np.int64)
    if len(inp.zone_store):
        uniq, inverse = np.unique(inp.zone_name.astype(str), return_inverse=True)
        ids = np.empty(len(uniq), dtype=np.int64)
        for k, raw in enumerate(uniq):
            name = resolve_zone(raw)
            if name not in lookup:
                lookup[name] = len(names) if name != DEFAULT_ZONE else 0
                if name != DEFAULT_ZONE:
                    names.append(name)
            ids[k] = lookup[name]
        per_store[np.asarray(inp.zone_store, dtype=np.int64)] = ids[inverse]
    return per_store, names


def business_intervals(
    inp: ReportInput,
    lo_us: np.ndarray,
    hi_us: int,
    needed: np.ndarray,
    check: Callable[[], None] | None = None,
) -> Intervals:
    """Business hours of the ``needed`` stores, clipped to ``[lo_us[store], hi_us)``.

    ``lo_us`` is per store index; ``needed`` a boolean mask per store index.
    Stores without any hours rows are open 24×7, i.e. one interval
    ``[lo, hi)``. ``check`` is called between zones and may raise to cancel.
    The local dates generated are only those that can reach the clipped
    range (a week of data ⇒ about two weeks of dates).
    """
    lo_us = np.asarray(lo_us, dtype=np.int64)
    occ = _local_occurrences(inp, lo_us, hi_us, needed)
    utc_start, utc_end = _occurrences_to_utc(inp, occ, check)
    # Clip to each store's needed range, drop empties, then union per store.
    utc_start = np.maximum(utc_start, lo_us[occ.store])
    utc_end = np.minimum(utc_end, hi_us)
    keep = utc_start < utc_end
    iv = _merge(occ.store[keep], utc_start[keep], utc_end[keep])

    # 24×7 stores: one interval covering the whole needed range.
    has_rows = np.zeros(inp.n_stores, dtype=bool)
    has_rows[np.asarray(inp.hours_store, dtype=np.int64)] = True
    all_day = np.flatnonzero(needed & ~has_rows)
    all_day = all_day[lo_us[all_day] < hi_us]
    store = np.concatenate([iv.store, all_day])
    start = np.concatenate([iv.start_us, lo_us[all_day]])
    end = np.concatenate([iv.end_us, np.full(len(all_day), hi_us, dtype=np.int64)])
    order = np.argsort(store, kind="stable")
    return Intervals(store=store[order], start_us=start[order], end_us=end[order])


@dataclass(frozen=True)
class _Occurrences:
    """One business-hours row on one local date: ``[local_start, local_end)`` in µs since the local epoch."""

    store: np.ndarray
    date: np.ndarray  # local days since 1970-01-01
    local_start: np.ndarray
    local_end: np.ndarray


def _local_occurrences(inp: ReportInput, lo_us: np.ndarray, hi_us: int, needed: np.ndarray) -> _Occurrences:
    """Every row of the needed stores on every local date that can reach ``[lo_us[store], hi_us)``."""
    h_store = np.asarray(inp.hours_store, dtype=np.int64)
    row_ok = needed[h_store] if len(h_store) else np.zeros(0, dtype=bool)
    r_store = h_store[row_ok]
    r_day = np.asarray(inp.hours_day, dtype=np.int64)[row_ok]
    r_start, r_end = normalize_local_spans(np.asarray(inp.hours_start_us)[row_ok], np.asarray(inp.hours_end_us)[row_ok])
    # Local dates: an opening of local date d lies within [d − 14 h, d + 2 days + 12 h] UTC-ish;
    # three days of slack on each side is safely generous.
    d_lo = lo_us[r_store] // DAY_US - 3
    d_hi = hi_us // DAY_US + 2
    first = d_lo + (r_day - (d_lo + 3)) % 7  # epoch day 0 was a Thursday (weekday 3)
    count = np.maximum(0, (d_hi - first) // 7 + 1)
    rep = np.repeat(np.arange(len(r_store)), count)
    k = np.arange(int(count.sum()), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    date = first[rep] + 7 * k
    return _Occurrences(r_store[rep], date, date * DAY_US + r_start[rep], date * DAY_US + r_end[rep])


def _occurrences_to_utc(
    inp: ReportInput, occ: _Occurrences, check: Callable[[], None] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Map each occurrence's endpoints to UTC in its store's zone, one zone at a time."""
    total = len(occ.store)
    utc_start = np.empty(total, dtype=np.int64)
    utc_end = np.empty(total, dtype=np.int64)
    if total == 0:
        return utc_start, utc_end
    zone_of_store, zone_names = store_zone_ids(inp)
    occ_zone = zone_of_store[occ.store]
    lo_s = (int(occ.date.min()) - 3) * 86_400
    hi_s = (int(occ.date.max()) + 5) * 86_400
    order = np.argsort(occ_zone, kind="stable")
    bounds = np.searchsorted(occ_zone[order], np.arange(len(zone_names) + 1))
    for z, name in enumerate(zone_names):
        if check is not None:
            check()
        sel = order[bounds[z] : bounds[z + 1]]
        if len(sel) == 0:
            continue
        t_us, off_us = zone_table(name, lo_s, hi_s)
        utc_start[sel] = map_local_to_utc(t_us, off_us, occ.local_start[sel])
        utc_end[sel] = map_local_to_utc(t_us, off_us, occ.local_end[sel])
    return utc_start, utc_end


def _merge(store: np.ndarray, start: np.ndarray, end: np.ndarray) -> Intervals:
    """Union of intervals per store: sort, segmented running max of ends, split on gaps.

    Sorting and the running max use one int64 key ``store × stride + time``
    (a later store's keys exceed all earlier ones, so one global
    ``maximum.accumulate`` is per store); if that could overflow, ends are
    replaced by their ranks first.
    """
    if len(store) == 0:
        z = np.zeros(0, dtype=np.int64)
        return Intervals(z, z.copy(), z.copy())
    s0 = int(store.min())
    base = int(start.min())
    stride = int(end.max()) - base + 1
    if (int(store.max()) - s0 + 1) * stride < (1 << 62):
        rel = (store - s0) * stride - base
        order = np.argsort(rel + start)
        store, start, end, rel = store[order], start[order], end[order], rel[order]
        run_end = np.maximum.accumulate(rel + end) - rel
    else:
        order = np.lexsort((start, store))
        store, start, end = store[order], start[order], end[order]
        uniq_end, end_rank = np.unique(end, return_inverse=True)
        n = len(uniq_end)
        run_key = np.maximum.accumulate(store * n + end_rank)
        run_end = uniq_end[run_key - store * n]
    new_group = np.ones(len(store), dtype=bool)
    new_group[1:] = (store[1:] != store[:-1]) | (start[1:] > run_end[:-1])
    heads = np.flatnonzero(new_group)
    tails = np.append(heads[1:] - 1, len(store) - 1)
    return Intervals(store=store[heads], start_us=start[heads], end_us=run_end[tails])
