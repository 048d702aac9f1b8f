"""A deliberately simple, slow reference for the uptime contract (pure Python).

It shares no code with the engine: business intervals come from iterating
local dates with zoneinfo and finding each endpoint's UTC instant by brute
force (every offset the zone uses nearby is tried; a skipped local time is
found by scanning forward minute by minute and bisecting). Ownership walks
exact pieces between all midpoints and asks which evidence poll is nearest.
All arithmetic is Python ints in ½ µs ticks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

US = 1_000_000
DAY = 86_400 * US
HOUR = 3_600 * US
WINDOWS = (HOUR, 24 * HOUR, 168 * HOUR)


class Zone:
    """Brute-force wall clock of one zone around a time range."""

    def __init__(self, name: str | None, lo_us: int, hi_us: int) -> None:
        self.zi = ZoneInfo(name or "America/Chicago")
        self.offsets = sorted({self.offset(u) for u in range(lo_us - 3 * DAY, hi_us + 3 * DAY, HOUR // 4)})
        self.cache: dict[int, int] = {}

    def offset(self, u_us: int) -> int:
        return int(datetime.fromtimestamp(u_us // US, self.zi).utcoffset().total_seconds()) * US

    def wall(self, u_us: int) -> int:
        return u_us + self.offset(u_us)

    def to_utc(self, local_us: int) -> int:
        """Earlier occurrence if repeated; transition instant if skipped."""
        if local_us in self.cache:
            return self.cache[local_us]
        valid = [local_us - o for o in self.offsets if self.wall(local_us - o) == local_us]
        if valid:
            result = min(valid)
        else:
            u = local_us - max(self.offsets)  # wall(u) < local here
            step = 60 * US
            while self.wall(u) < local_us:
                u += step
            lo, hi = u - step, u  # wall(lo) < local <= wall(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if self.wall(mid) >= local_us:
                    hi = mid
                else:
                    lo = mid
            result = hi
        self.cache[local_us] = result
        return result


def local_epoch_us(d: date) -> int:
    return (d - date(1970, 1, 1)).days * DAY


def business(zone: Zone, rows: list[tuple[int, int, int]], lo_us: int, hi_us: int) -> list[tuple[int, int]] | None:
    """Merged UTC intervals (µs) around [lo, hi); ``None`` means open 24×7."""
    if not rows:
        return None
    out = []
    d = (datetime.fromtimestamp(lo_us // US, UTC) - timedelta(days=4)).date()
    last = (datetime.fromtimestamp(hi_us // US, UTC) + timedelta(days=3)).date()
    while d <= last:
        for day, start, end in rows:
            if d.weekday() != day:
                continue
            e = DAY if end >= 86_399 * US else end
            if e <= start:
                e += DAY
            a = zone.to_utc(local_epoch_us(d) + start)
            b = zone.to_utc(local_epoch_us(d) + e)
            if a < b:
                out.append((a, b))
        d += timedelta(days=1)
    out.sort()
    merged: list[list[int]] = []
    for a, b in out:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def inside(intervals: list[tuple[int, int]] | None, t: int) -> bool:
    return intervals is None or any(a <= t < b for a, b in intervals)


def store_report(
    zone_name: str | None, rows: list[tuple[int, int, int]], polls: list[tuple[int, bool]], now: int
) -> tuple[list[int], list[int], list[int], bool] | None:
    """(uptime, downtime, business) ticks per window and has-evidence, or None if no poll ≤ now."""
    polls = sorted(p for p in polls if p[0] <= now)
    if not polls:
        return None
    lo = min(polls[0][0], now - WINDOWS[2])
    zone = Zone(zone_name, lo, now)
    iv = business(zone, rows, lo, now)
    evidence = [(t, a) for t, a in polls if inside(iv, t)]
    up, down, busy = [], [], []
    for w in WINDOWS:
        ws, we = 2 * (now - w), 2 * now
        pieces = [(ws, we)] if iv is None else [(max(2 * a, ws), min(2 * b, we)) for a, b in iv]
        u = d = total = 0
        for x, y in pieces:
            if x >= y:
                continue
            total += y - x
            if not evidence:
                continue
            cuts = sorted({x, y} | {p + q for (p, _), (q, _) in pairwise(evidence) if x < p + q < y})
            for c0, c1 in pairwise(cuts):
                owner = min(evidence, key=lambda e: abs(4 * e[0] - (c0 + c1)))
                if owner[1]:
                    u += c1 - c0
                else:
                    d += c1 - c0
        up.append(u)
        down.append(d)
        busy.append(total)
    return up, down, busy, bool(evidence)
