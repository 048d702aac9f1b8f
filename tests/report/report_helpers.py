"""Shared helpers for report tests: build inputs from readable ISO strings.

Imported as ``tests.report.report_helpers`` (the tests are a package).
"""

from __future__ import annotations

from datetime import UTC, datetime

from storemon_tui.report import ReportInput, compute_report
from storemon_tui.report.formatting import format_hours, format_minutes

US = 1_000_000
HOUR_TICKS = 2 * 3600 * US


def us(iso: str) -> int:
    """UTC ISO string (``2023-01-23T17:30:00Z`` or with micros) → integer µs."""
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def hm(text: str) -> int:
    """``HH:MM[:SS[.ffffff]]`` → µs since local midnight (24:00:00 allowed)."""
    parts = text.split(":")
    sec, micros = 0, 0
    if len(parts) > 2:
        whole, _, frac = parts[2].partition(".")
        sec, micros = int(whole), int((frac + "000000")[:6])
    return ((int(parts[0]) * 60 + int(parts[1])) * 60 + sec) * US + micros


def make_input(polls=(), hours=(), zones=None, extra=()) -> ReportInput:
    """polls: (store_id, iso, 'active'|'inactive'|bool); hours: (store_id, day, 'HH:MM', 'HH:MM')."""
    return ReportInput.from_records(
        [(s, us(t), a if isinstance(a, bool) else a == "active") for s, t, a in polls],
        [(s, d, hm(a), hm(b)) for s, d, a, b in hours],
        zones or {},
        extra,
    )


def rows(inp: ReportInput, now: str | int) -> dict[str, tuple[str, ...]]:
    """Run the engine and return formatted values per store id."""
    res = compute_report(inp, now if isinstance(now, int) else us(now))
    out = {}
    for i, sid in enumerate(res.store_ids):
        up, down = res.uptime_ticks[i], res.downtime_ticks[i]
        out[sid] = (
            format_minutes(up[:1])[0],
            format_hours(up[1:2])[0],
            format_hours(up[2:])[0],
            format_minutes(down[:1])[0],
            format_hours(down[1:2])[0],
            format_hours(down[2:])[0],
        )
    return out


def ticks(inp: ReportInput, now: str | int) -> dict[str, tuple[list[int], list[int]]]:
    """Run the engine and return exact (uptime, downtime) ticks per store id."""
    res = compute_report(inp, now if isinstance(now, int) else us(now))
    return {sid: (res.uptime_ticks[i].tolist(), res.downtime_ticks[i].tolist()) for i, sid in enumerate(res.store_ids)}
