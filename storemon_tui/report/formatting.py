"""Exact report formatting: integer ticks → two-decimal strings, and the CSV.

Why integers all the way: the contract rounds half to even at the second
decimal (``0.125`` → ``0.12``). A float division would turn exact halves
into near-halves and round them either way, so values are rounded with an
integer ``divmod`` of ticks (½ µs) by the tick count of one hundredth of the
unit.
"""

from __future__ import annotations

import functools
import io
import os
from typing import IO, TYPE_CHECKING

import numpy as np

from storemon_tui.timebase import TICKS_PER_HOUR, TICKS_PER_MINUTE

if TYPE_CHECKING:
    from storemon_tui.report.engine import ReportResult

REPORT_HEADER = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week"
)
REPORT_COLUMNS = tuple(REPORT_HEADER.split(","))


def round_half_even(num: np.ndarray, den: int) -> np.ndarray:
    """``num / den`` rounded half to even, exactly, for int64 ``num`` ≥ 0 (or negative)."""
    q, r = np.divmod(np.asarray(num, dtype=np.int64), den)  # floor division: 0 ≤ r < den
    twice = 2 * r
    return q + ((twice > den) | ((twice == den) & (q % 2 == 1)))


def format_hundredths(hundredths: np.ndarray) -> np.ndarray:
    """Integer hundredths → object array of strings with exactly two decimals (``1234`` → ``"12.34"``).

    Report values are bounded (a week is 16 800 hundredths of an hour), so the
    strings come from a cached table by one gather; anything outside falls back
    to numpy string arithmetic.
    """
    h = np.asarray(hundredths, dtype=np.int64)
    if h.size == 0:
        return np.zeros(0, dtype=object)
    if h.min() >= 0 and h.max() < _TABLE_LIMIT:
        return _hundredths_table(max(_TABLE_MIN, 1 << int(h.max()).bit_length()))[h]
    neg = h < 0
    a = np.abs(h)
    whole = (a // 100).astype(str)
    frac = np.strings.zfill((a % 100).astype(str), 2)
    out = np.strings.add(np.strings.add(whole, "."), frac)
    if neg.any():
        out = np.where(neg, np.strings.add("-", out), out)
    return out.astype(object)


_TABLE_MIN = 1 << 15  # covers 168.00 h = 16 800 hundredths
_TABLE_LIMIT = 1 << 20


@functools.lru_cache(maxsize=4)
def _hundredths_table(size: int) -> np.ndarray:
    return np.array([f"{i // 100}.{i % 100:02d}" for i in range(size)], dtype=object)


def format_ticks(ticks: np.ndarray, unit_ticks: int) -> np.ndarray:
    """Durations in ticks → two-decimal strings in the unit (minutes or hours)."""
    return format_hundredths(round_half_even(ticks, unit_ticks // 100))


def format_minutes(ticks: np.ndarray) -> np.ndarray:
    return format_ticks(ticks, TICKS_PER_MINUTE)


def format_hours(ticks: np.ndarray) -> np.ndarray:
    return format_ticks(ticks, TICKS_PER_HOUR)


def csv_field(value: str) -> str:
    """A CSV field, quoted only when it contains a comma, quote or line break."""
    if any(c in value for c in _SPECIAL):
        return '"' + value.replace('"', '""') + '"'
    return value


_SPECIAL = ',"\n\r'


def report_lines(result: ReportResult) -> list[str]:
    """Data lines of the report CSV (no header, no line endings)."""
    if len(result) == 0:
        return []
    ids = [str(s) for s in result.store_ids]
    joined = "".join(ids)
    if any(c in joined for c in _SPECIAL):  # rare: quote only then, id by id
        ids = [csv_field(s) for s in ids]
    cols = [ids]
    for ticks in (result.uptime_ticks, result.downtime_ticks):
        cols.append(format_minutes(ticks[:, 0]).tolist())
        cols.append(format_hours(ticks[:, 1]).tolist())
        cols.append(format_hours(ticks[:, 2]).tolist())
    return [",".join(row) for row in zip(*cols, strict=True)]


def report_text(result: ReportResult) -> str:
    """The whole CSV document, header included, ``\\n`` line endings."""
    return "\n".join([REPORT_HEADER, *report_lines(result)]) + "\n"


def write_report_csv(result: ReportResult, fileobj_or_path: str | os.PathLike[str] | IO) -> None:
    """Write header and rows with ``\\n`` line endings to a path or an open (text or binary) file."""
    text = report_text(result)
    if isinstance(fileobj_or_path, (str, os.PathLike)):
        with open(fileobj_or_path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        return
    if isinstance(fileobj_or_path, (io.RawIOBase, io.BufferedIOBase)) or "b" in getattr(fileobj_or_path, "mode", ""):
        fileobj_or_path.write(text.encode("utf-8"))
    else:
        fileobj_or_path.write(text)
