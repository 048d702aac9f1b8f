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

Why only "the days that matter": the cost must follow the data, never the
span between the oldest and the newest instant (a poll in 1970 next to
2023 data, or a report as of 2123). Intervals are generated per *range*
the caller asks for — the report's window, or one microsecond around an
old poll whose evidence is in question — and zone tables are built per
16-day block of local dates, cached, so scattered dates cost per date.
Instants outside the years ``datetime`` can represent (e.g. the end of
9999, whose openings reach into the year 10000) are looked up 400 years
away: the Gregorian calendar, and with it every zone's rules, repeats
exactly every 400 years (146 097 days, a whole number of weeks).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from storemon_tui.report.inputs import DEFAULT_ZONE, ReportInput
from storemon_tui.report.segments import concat_ranges
from storemon_tui.timebase import DAY_US, SECOND_US

END_OF_DAY_US = 86_399 * SECOND_US  # an end at or after 23:59:59 means 24:00:00
_PROBE_STEP_S = 6 * 3600  # no real zone changes offset twice within 6 hours
_BLOCK_DAYS = 16  # zone tables cover blocks of this many local dates (plus margins)
_CYCLE_S = 146_097 * 86_400  # 400 Gregorian years
_SAFE_LO_S = int(datetime(2, 1, 1, tzinfo=UTC).timestamp())  # datetime's range, a year of margin each side
_SAFE_HI_S = int(datetime(9998, 12, 31, tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class Ranges:
    """Half-open UTC ranges ``[lo, hi)`` in which business hours are wanted.

    Sorted by ``(store, lo)``; the ranges of one store are disjoint.
    """

    store: np.ndarray  # int64 store index
    lo_us: np.ndarray  # int64
    hi_us: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.store)


@dataclass(frozen=True)
class Intervals:
    """Disjoint, non-touching half-open UTC intervals sorted by (store, start).

    ``range`` is the index of the :class:`Ranges` entry each interval lies in
    (intervals are clipped to their range and never merged across ranges).
    """

    store: np.ndarray  # int64 store index
    start_us: np.ndarray  # int64
    end_us: np.ndarray  # int64
    range: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.store)

    @classmethod
    def empty(cls) -> Intervals:
        return cls(*(np.zeros(0, dtype=np.int64) for _ in range(4)))

    def take(self, index: np.ndarray) -> Intervals:
        return Intervals(self.store[index], self.start_us[index], self.end_us[index], self.range[index])


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


@functools.lru_cache(maxsize=4096)
def zone_table(name: str, lo_s: int, hi_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Offset changes of ``name`` between UTC seconds ``lo_s`` and ``hi_s``.

    Returns ``(T_us, off_us)``: transition instants (µs, ascending) and the
    offsets, ``off_us[i]`` valid from ``T_us[i-1]`` (``off_us[0]`` before
    ``T_us[0]``). Found by probing zoneinfo on a 6-hour grid and bisecting to
    the second (tz transitions are whole seconds) — zoneinfo exposes no
    transition list, and the probed range is only the dates asked for.
    """
    zi = _zone(name)

    def off(t: int) -> int:
        return _offset_s(zi, t)

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


def _offset_s(zi: ZoneInfo, t: int) -> int:
    """UTC offset of ``zi`` at UTC second ``t``, for any year (shifted by 400-year cycles into datetime's range)."""
    if t < _SAFE_LO_S:
        t += ((_SAFE_LO_S - t) // _CYCLE_S + 1) * _CYCLE_S
    elif t > _SAFE_HI_S:
        t -= ((t - _SAFE_HI_S) // _CYCLE_S + 1) * _CYCLE_S
    offset = datetime.fromtimestamp(t, zi).utcoffset()
    assert offset is not None  # a ZoneInfo always has an offset
    return int(offset.total_seconds())


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


def local_to_utc(zone_name: str, local_us: np.ndarray, check: Callable[[], None] | None = None) -> np.ndarray:
    """Map local wall times (µs since the local epoch 1970-01-01 00:00) to UTC µs per the contract.

    The zone's table is built per block of local dates that occur (cached),
    so the cost follows the number of distinct dates, not their span.
    """
    local_us = np.asarray(local_us, dtype=np.int64)
    return _zones_to_utc([resolve_zone(zone_name)], np.zeros(len(local_us), dtype=np.int64), local_us, check)


def _zones_to_utc(
    names: list[str], zone: np.ndarray, local_us: np.ndarray, check: Callable[[], None] | None
) -> np.ndarray:
    """Map local times, each in zone ``names[zone[k]]``, to UTC: one table lookup per (zone, block) present."""
    out = np.empty(len(local_us), dtype=np.int64)
    if len(local_us) == 0:
        return out
    block = local_us // (_BLOCK_DAYS * DAY_US)
    b0 = int(block.min())
    key = zone * (int(block.max()) - b0 + 1) + (block - b0)
    order = np.argsort(key, kind="stable")
    heads = np.flatnonzero(np.append(True, np.diff(key[order]) != 0))
    for first, stop in zip(heads.tolist(), np.append(heads[1:], len(order)).tolist(), strict=True):
        if check is not None:
            check()
        sel = order[first:stop]
        b = int(block[sel[0]])
        lo_s = (b * _BLOCK_DAYS - 3) * 86_400
        hi_s = ((b + 1) * _BLOCK_DAYS + 3) * 86_400
        t_us, off_us = zone_table(names[int(zone[sel[0]])], lo_s, hi_s)
        out[sel] = map_local_to_utc(t_us, off_us, local_us[sel])
    return out


def store_zone_ids(inp: ReportInput) -> tuple[np.ndarray, list[str]]:
    """Per store index, an index into the returned list of resolved zone names (worked out once per input)."""
    cached = inp.memo.get("store_zone_ids")
    if cached is None:
        cached = inp.memo["store_zone_ids"] = _store_zone_ids(inp)
    return cached


def _store_zone_ids(inp: ReportInput) -> tuple[np.ndarray, list[str]]:
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
    The one-range-per-store case of :func:`intervals_in`.
    """
    stores = np.flatnonzero(needed)
    lo = np.asarray(lo_us, dtype=np.int64)[stores]
    return intervals_in(inp, Ranges(stores, lo, np.full(len(stores), hi_us, dtype=np.int64)), check)


def intervals_in(inp: ReportInput, ranges: Ranges, check: Callable[[], None] | None = None) -> Intervals:
    """The business hours of each range's store inside that range.

    Stores without any hours rows are open 24×7, i.e. one interval per
    range. ``check`` is called between zone tables and may raise to cancel.
    The local dates generated are only those that can reach a range (a week
    ⇒ about two weeks of dates; one instant ⇒ a week of dates).
    """
    occ = _local_occurrences(inp, ranges)
    utc_start, utc_end = _occurrences_to_utc(inp, occ, check)
    # Clip to the range, drop empties, then union per range.
    utc_start = np.maximum(utc_start, ranges.lo_us[occ.range])
    utc_end = np.minimum(utc_end, ranges.hi_us[occ.range])
    keep = utc_start < utc_end
    merged = _merge(occ.range[keep], utc_start[keep], utc_end[keep], ranges.lo_us)

    # 24×7 stores: one interval covering the whole range.
    has_rows = np.zeros(inp.n_stores, dtype=bool)
    has_rows[np.asarray(inp.hours_store, dtype=np.int64)] = True
    all_day = np.flatnonzero(~has_rows[ranges.store] & (ranges.lo_us < ranges.hi_us))
    range_index = np.concatenate([merged[0], all_day])
    start = np.concatenate([merged[1], ranges.lo_us[all_day]])
    end = np.concatenate([merged[2], ranges.hi_us[all_day]])
    order = np.argsort(range_index, kind="stable")  # ranges are in (store, lo) order, so this is (store, start)
    range_index = range_index[order]
    return Intervals(ranges.store[range_index], start[order], end[order], range_index)


@dataclass(frozen=True)
class _Occurrences:
    """One business-hours row on one local date: ``[local_start, local_end)`` in µs since the local epoch."""

    range: np.ndarray  # the range it is generated for
    store: np.ndarray
    local_start: np.ndarray
    local_end: np.ndarray


def _local_occurrences(inp: ReportInput, ranges: Ranges) -> _Occurrences:
    """Every row of each range's store on every local date that can reach the range."""
    h_store = np.asarray(inp.hours_store, dtype=np.int64)
    by_store = np.argsort(h_store, kind="stable")
    first_row = np.searchsorted(h_store[by_store], ranges.store, side="left")
    stop_row = np.searchsorted(h_store[by_store], ranges.store, side="right")
    pair_range = np.repeat(np.arange(len(ranges), dtype=np.int64), stop_row - first_row)
    pair_row = by_store[concat_ranges(first_row, stop_row)]
    r_day = np.asarray(inp.hours_day, dtype=np.int64)[pair_row]
    r_start, r_end = normalize_local_spans(
        np.asarray(inp.hours_start_us)[pair_row], np.asarray(inp.hours_end_us)[pair_row]
    )
    # Local dates: an opening of local date d lies within [d − 14 h, d + 2 days + 12 h] UTC-ish;
    # three days of slack on each side is safely generous.
    d_lo = ranges.lo_us[pair_range] // DAY_US - 3
    d_hi = ranges.hi_us[pair_range] // DAY_US + 2
    first = d_lo + (r_day - (d_lo + 3)) % 7  # epoch day 0 was a Thursday (weekday 3)
    count = np.maximum(0, (d_hi - first) // 7 + 1)
    rep = np.repeat(np.arange(len(pair_row)), count)
    date = first[rep] + 7 * (np.arange(len(rep), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count))
    occ_range = pair_range[rep]
    return _Occurrences(occ_range, ranges.store[occ_range], date * DAY_US + r_start[rep], date * DAY_US + r_end[rep])


def _occurrences_to_utc(
    inp: ReportInput, occ: _Occurrences, check: Callable[[], None] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Map each occurrence's endpoints to UTC in its store's zone."""
    zone_of_store, zone_names = store_zone_ids(inp)
    zone = zone_of_store[occ.store]
    n = len(occ.store)
    both = _zones_to_utc(
        zone_names, np.concatenate([zone, zone]), np.concatenate([occ.local_start, occ.local_end]), check
    )
    return both[:n], both[n:]


def evidence_mask(
    inp: ReportInput, store: np.ndarray, ts_us: np.ndarray, check: Callable[[], None] | None = None
) -> np.ndarray:
    """Which polls lie inside their store's business hours (polls sorted by (store, ts), unique).

    Each poll is a range of one microsecond, so only the dates around the
    polls are generated: the cost follows the number of polls, never how
    far apart they are.
    """
    store = np.asarray(store, dtype=np.int64)
    ts_us = np.asarray(ts_us, dtype=np.int64)
    iv = intervals_in(inp, Ranges(store, ts_us, ts_us + 1), check)
    inside = np.zeros(len(store), dtype=bool)
    inside[iv.range] = True
    return inside


def _merge(
    group: np.ndarray, start: np.ndarray, end: np.ndarray, group_lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of intervals per group (range): sort, segmented running max of ends, split on gaps.

    Returns ``(group, start, end)`` sorted by (group, start). Sorting and the
    running max use one int64 key ``group × stride + (time − group_lo)``
    (a later group's keys exceed all earlier ones, so one global
    ``maximum.accumulate`` is per group); if that could overflow, ends are
    replaced by their ranks first.
    """
    if len(group) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), z.copy()
    lo = group_lo[group]
    g0 = int(group.min())
    stride = int((end - lo).max()) + 1
    if (int(group.max()) - g0 + 1) * stride < (1 << 62):
        rel = (group - g0) * stride - lo
        order = np.argsort(rel + start)
        group, start, end, rel = group[order], start[order], end[order], rel[order]
        run_end = np.maximum.accumulate(rel + end) - rel
    else:
        order = np.lexsort((start, group))
        group, start, end = group[order], start[order], end[order]
        uniq_end, end_rank = np.unique(end, return_inverse=True)
        n = len(uniq_end)
        run_key = np.maximum.accumulate(group * n + end_rank)
        run_end = uniq_end[run_key - group * n]
    new_group = np.ones(len(group), dtype=bool)
    new_group[1:] = (group[1:] != group[:-1]) | (start[1:] > run_end[:-1])
    heads = np.flatnonzero(new_group)
    tails = np.append(heads[1:] - 1, len(group) - 1)
    return group[heads], start[heads], run_end[tails]
