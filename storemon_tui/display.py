"""How instants, times of day and weekdays are written for people: one home for every screen.

The data pages, the report list, the store screen, the summary bar and the CLI
all show the same values, so they share these helpers and a timestamp reads the
same everywhere. Core module: no Textual, no database (the app and the core
both use it).
"""

from __future__ import annotations

from datetime import UTC, datetime

from storemon_tui.timebase import SECOND_US

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Weekday names by ``dayOfWeek`` (0 = Monday), as the input files number them."""


def format_ts_us(ts_us: int | None) -> str:
    """``2023-01-22 12:09:39.388884 UTC`` (fraction only when non-zero); ``""`` for None."""
    if ts_us is None:
        return ""
    seconds, micros = divmod(int(ts_us), SECOND_US)
    moment = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{moment}.{micros:06d} UTC" if micros else f"{moment} UTC"


def fit_cells(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` terminal cells, ending in ``…`` when cut (escape it first: see safe_text)."""
    from rich.cells import cell_len, set_cell_size

    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(cells - 1, 0)) + "…" if cells > 0 else ""


def format_time_of_day(us: int) -> str:
    """Microseconds since local midnight → ``HH:MM:SS[.ffffff]`` (``24:00:00`` kept)."""
    seconds, micros = divmod(int(us), SECOND_US)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{clock}.{micros:06d}" if micros else clock


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 file``, ``3 files``, ``1,234 rows``: a count with its noun agreeing (never ``file(s)``)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def format_age(seconds: float) -> str:
    """How old something is, in the largest whole unit: ``45 s``, ``17 min``, ``5 h``, ``3 d``, ``3 y``."""
    seconds = max(seconds, 0.0)
    for unit, size in (("y", 365.25 * 86400), ("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"
