"""A deliberately simple, slow reference for the fleet status contract (``spec/status.md``), pure Python.

It shares no code with the engine: business intervals, evidence and the
week's uptime come from ``report_reference`` (brute-force zones, a walk over
every piece of time), and the status rules are read off the list of
evidence polls one by one. All arithmetic is in Python ints (ticks of ½ µs)
and exact fractions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

from tests.report.report_reference import DAY, WINDOWS, Zone, business, inside, store_report

US = 1_000_000


def store_status(
    zone_name: str | None, rows: list[tuple[int, int, int]], polls: list[tuple[int, bool]], now: int
) -> tuple[str, ...] | None:
    """The store's status row as text (without its id), or None when it has no poll at or before now."""
    polls = sorted(p for p in polls if p[0] <= now)
    if not polls:
        return None
    lo = min(polls[0][0], now - 2 * WINDOWS[2]) - DAY
    iv = business(Zone(zone_name, lo, now + DAY), rows, lo, now + DAY)
    evidence = [(t, a) for t, a in polls if inside(iv, t)]
    status = "none" if not evidence else ("active" if evidence[-1][1] else "inactive")
    since = run = ""
    for (t0, a0), (t1, _a1) in reversed(list(zip(evidence, evidence[1:], strict=False))):
        if a0 != evidence[-1][1]:  # the last evidence poll whose status differs, and the one after it
            since_ticks = t0 + t1
            since = when(since_ticks // 2)
            run = hundredths(business_ticks(iv, since_ticks, 2 * now), 7_200_000_000)
            break
    last = polls[-1][0]
    return (
        "yes" if inside(iv, now) else "no",
        status,
        since,
        run,
        when(last),
        hundredths(2 * (now - last), 7_200_000_000),
        pct(store_report(zone_name, rows, polls, now)),
        pct(store_report(zone_name, rows, polls, now - WINDOWS[2])),
    )


def business_ticks(iv: list[tuple[int, int]] | None, lo_ticks: int, hi_ticks: int) -> int:
    if iv is None:
        return hi_ticks - lo_ticks
    return sum(max(0, min(2 * b, hi_ticks) - max(2 * a, lo_ticks)) for a, b in iv)


def pct(report: tuple[list[int], list[int], list[int], bool] | None) -> str:
    if report is None:
        return ""
    up, down = report[0][2], report[1][2]
    if up + down == 0:
        return ""
    return hundredths(100 * up, up + down)


def hundredths(num: int, den: int) -> str:
    """``num / den`` with two decimals, exactly, rounding half to even (Python's round of a Fraction)."""
    value = round(Fraction(num, den) * 100)
    return f"{value // 100}.{value % 100:02d}"


def when(us: int) -> str:
    return datetime.fromtimestamp(us // US, UTC).strftime("%Y-%m-%d %H:%M:%S")
