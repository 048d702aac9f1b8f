"""From string columns to typed, validated arrays — one function per file kind.

Each validator returns the parsed arrays plus a list of :class:`ColumnCheck`
(one per column: the mask of rows it rejected and the scalar parser that
explains why). The importer decides what to do with bad rows; this module
only knows what "valid" means.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyarrow as pa

from storemon_tui.ingest import values as v
from storemon_tui.ingest.kinds import FileKind
from storemon_tui.ingest.segments import RawTable
from storemon_tui.ingest.stores import INVALID, StoreIds


@dataclass
class ColumnCheck:
    """Rows one column rejected, and how to explain a rejected value."""

    column: str
    bad: np.ndarray
    parse: Callable[[str], object]


@dataclass
class Parsed:
    """Typed rows of one segment; ``store_codes`` are the file's :class:`StoreIds` codes."""

    kind: FileKind
    store_codes: np.ndarray
    fields: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.store_codes)

    def subset(self, keep: np.ndarray) -> Parsed:
        return Parsed(self.kind, self.store_codes[keep], {name: values[keep] for name, values in self.fields.items()})


def validate(table: RawTable, stores: StoreIds, now_us: int) -> tuple[Parsed, list[ColumnCheck]]:
    """Parse and validate every column of ``table`` according to its kind.

    ``now_us`` is the importing machine's clock when the file's import began:
    polls more than a day after it are invalid.
    """
    cols = table.columns
    codes = stores.codes(cols["store_id"])
    checks = [ColumnCheck("store_id", codes == INVALID, v.parse_store_id)]
    parsed = Parsed(table.kind, codes)
    if table.kind is FileKind.POLLS:
        ts, bad_ts = v.poll_timestamps_us(cols["timestamp_utc"], now_us)
        active, bad_status = v.per_distinct(cols["status"], v.parse_status, 0, np.int8)
        parsed.fields = {"ts_us": ts, "active": active}
        checks += [
            ColumnCheck("timestamp_utc", bad_ts, partial(v.parse_poll_timestamp_us, now_us=now_us)),
            ColumnCheck("status", bad_status, v.parse_status),
        ]
    elif table.kind is FileKind.HOURS:
        day, bad_day = v.per_distinct(cols["dayOfWeek"], v.parse_day_of_week, 0, np.int8)
        start_parse = partial(v.parse_time_us, is_end=False)
        end_parse = partial(v.parse_time_us, is_end=True)
        start, bad_start = v.per_distinct(cols["start_time_local"], start_parse, 0, np.int64)
        end, bad_end = v.per_distinct(cols["end_time_local"], end_parse, 0, np.int64)
        parsed.fields = {"day_of_week": day, "start_us": start, "end_us": end}
        checks += [
            ColumnCheck("dayOfWeek", bad_day, v.parse_day_of_week),
            ColumnCheck("start_time_local", bad_start, start_parse),
            ColumnCheck("end_time_local", bad_end, end_parse),
        ]
    else:
        zone, bad_zone = v.per_distinct(cols["timezone_str"], v.parse_zone, "", object)
        parsed.fields = {"timezone_str": zone}
        checks.append(ColumnCheck("timezone_str", bad_zone, v.parse_zone))
    return parsed, checks


def bad_rows(checks: list[ColumnCheck], n_rows: int) -> np.ndarray:
    """Rows any check rejected."""
    bad = np.zeros(n_rows, dtype=bool)
    for check in checks:
        bad |= check.bad
    return bad


def raw_value(column: pa.Array | pa.ChunkedArray, row: int) -> str:
    """The value of one row exactly as read (dictionary-encoded or not)."""
    value = column[row].as_py()
    return "" if value is None else str(value)
