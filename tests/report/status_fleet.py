"""A hand-built fleet whose every store's status state is known, for the status board and Status pane tests.

Shared by the core tests (``tests/report``, records in memory) and the app
tests (``tests/tui``, the same stores written as CSV files and imported).

``NOW`` is Monday 2023-01-23 18:00 UTC, the latest poll. Stores without hours
rows are open 24×7; "closed" is open Mondays 09:00–10:00 Chicago (15:00–16:00
UTC). Polls are hourly on the hour. What each store is (the arithmetic):

* ``down-forever``: inactive since its first poll (2 days ago): down, no earlier status.
* ``down-long``: active until 6 h ago, inactive since 5 h ago: down since 5.5 h ago (run 5.50 h).
* ``down-short``: active until 3 h ago, inactive since 2 h ago: down, run 2.50 h.
* ``silent-5h``, ``silent-3h``: active, last poll 5 h / 3 h ago: silent (> 2 h).
* ``worse``: active for 15 days but for 24 polls 6 days ago: last week 144/168 h up = 85.71 %,
  the week before 100.00 %: a fall of 14.29 points (≥ 10): worse.
* ``slightly-worse``: the same with 12 polls: 156/168 = 92.86 %, a fall of 7.14: fine.
* ``fine``: active for 15 days: 100.00 % both weeks.
* ``closed``: evidence today active 15:00, inactive 15:45 UTC (other polls are outside its hours):
  inactive since 15:22:30, but closed now: fine. Week: 22.5 of 60 open minutes up = 37.50 %.

Worst first: the three down stores (no earlier status first, then the longest run), the silent ones
(longest silence first), ``worse``, then the fine ones by last-week uptime (37.50, 92.86, 100.00).
"""

from __future__ import annotations

import csv
from pathlib import Path

from storemon_tui.report import ReportInput

HOUR = 3_600_000_000
DAY = 24 * HOUR
NOW = 1_674_496_800_000_000  # 2023-01-23 18:00:00 UTC, a Monday
WORST_FIRST = (
    "down-forever",
    "down-long",
    "down-short",
    "silent-5h",
    "silent-3h",
    "worse",
    "closed",
    "slightly-worse",
    "fine",
)
STATES = dict(zip(WORST_FIRST, ["DOWN"] * 3 + ["SILENT"] * 2 + ["WORSE"] + ["ok"] * 3, strict=True))
CLOSED_HOURS = (0, "09:00:00", "10:00:00")  # Monday, Chicago


def _hourly(first: int, last: int, active: bool = True) -> list[tuple[int, bool]]:
    return [(t, active) for t in range(first, last + 1, HOUR)]


def _gap(days_ago: int, polls: int) -> list[tuple[int, bool]]:
    """Hourly polls for 15 days until NOW, inactive for ``polls`` polls from ``days_ago`` days ago."""
    start = NOW - days_ago * DAY
    return [(t, not start <= t < start + polls * HOUR) for t in range(NOW - 15 * DAY, NOW + 1, HOUR)]


def fleet_polls() -> dict[str, list[tuple[int, bool]]]:
    """Each store's polls: ``(ts_us, active)``."""
    return {
        "down-forever": _hourly(NOW - 2 * DAY, NOW, active=False),
        "down-long": _hourly(NOW - 3 * DAY, NOW - 6 * HOUR) + _hourly(NOW - 5 * HOUR, NOW, active=False),
        "down-short": _hourly(NOW - 3 * DAY, NOW - 3 * HOUR) + _hourly(NOW - 2 * HOUR, NOW, active=False),
        "silent-5h": _hourly(NOW - 3 * DAY, NOW - 5 * HOUR),
        "silent-3h": _hourly(NOW - 3 * DAY, NOW - 3 * HOUR),
        "worse": _gap(6, 24),
        "slightly-worse": _gap(6, 12),
        "fine": _gap(6, 0),
        "closed": _hourly(NOW - 2 * DAY, NOW) + [(NOW - 2 * HOUR - 15 * 60_000_000, False)],
    }


def fleet_input() -> ReportInput:
    """The fleet in memory (hours in µs since local midnight)."""
    polls = [(store, ts, active) for store, rows in fleet_polls().items() for ts, active in rows]
    return ReportInput.from_records(polls, [("closed", 0, 9 * HOUR, 10 * HOUR)], {}, ())


def write_fleet_csvs(directory: Path) -> list[Path]:
    """The fleet as the three CSV files an import takes (polls, business hours, time zones)."""
    polls, hours, zones = directory / "polls.csv", directory / "hours.csv", directory / "zones.csv"
    with polls.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["store_id", "timestamp_utc", "status"])
        for store, rows in fleet_polls().items():
            writer.writerows((store, _utc(ts), "active" if active else "inactive") for ts, active in rows)
    with hours.open("w", newline="") as handle:
        csv.writer(handle).writerows([["store_id", "dayOfWeek", "start_time_local", "end_time_local"]])
        csv.writer(handle).writerow(["closed", *CLOSED_HOURS])
    zones.write_text("store_id,timezone_str\nclosed,America/Chicago\n")
    return [zones, hours, polls]


def _utc(ts_us: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts_us // 1_000_000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
