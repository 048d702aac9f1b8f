"""Units of time used everywhere: integer microseconds, ½-µs ticks, and the report's windows.

Why one leaf module: instants are integer microseconds since the Unix epoch
(UTC) in the database, the importer, the engine and the app, and the report
measures durations in *ticks* of ½ µs because midpoints between two polls
can fall on half microseconds. Every module that needs one of these numbers
imports it from here, so a unit is written down exactly once. No imports:
anything may depend on this module.
"""

from __future__ import annotations

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
WEEK_US = 7 * DAY_US

WINDOWS_US = (HOUR_US, DAY_US, WEEK_US)
"""The report's windows, in this order: last hour, last day, last week (``[now − w, now)``)."""

TICKS_PER_US = 2
"""A tick is ½ µs: the midpoint of two integer-µs polls is a whole number of ticks."""
TICKS_PER_MINUTE = TICKS_PER_US * MINUTE_US
TICKS_PER_HOUR = TICKS_PER_US * HOUR_US
