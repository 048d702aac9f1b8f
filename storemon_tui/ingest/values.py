"""Parsing and validating the values of each column, vectorized.

Every column parser takes a pyarrow array of strings (plain or
dictionary-encoded) and returns ``(values, bad)``: a numpy array of parsed
values and a boolean mask of rows that failed. :func:`explain` turns one bad
raw value into the reason shown to the user; it runs only for bad rows, so
the happy path never leaves vectorized code.

Columns with few distinct values (store ids, status, weekday, times, zone
names) are parsed once per *distinct* value and gathered back, which is both
fast and lets the scalar parser be plain, readable Python.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")

MICROS_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# -- scalar parsers: the single definition of what each value may look like ------------

_TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"\s*(?:(Z|UTC)|([+-])(\d{2})(?::?(\d{2}))?)?$",
    re.IGNORECASE,
)
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$")


def parse_timestamp_us(text: str) -> int:
    """A UTC timestamp in any accepted form → microseconds since the epoch.

    Accepts ``2023-01-22 12:09:39.388884 UTC``, ``2023-01-24 09:07:26``,
    ``2023-01-24T09:07:26Z`` and ISO 8601 offsets (``+00:00``, ``-0500``).
    Fractions beyond microseconds are truncated. Raises ``ValueError``.
    """
    m = _TIMESTAMP_RE.match(text.strip())
    if m is None:
        raise ValueError("not a timestamp (expected e.g. 2023-01-22 12:09:39.388884 UTC or ISO 8601)")
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"not a valid date/time ({exc})") from None
    fraction = (m.group(7) or "").ljust(6, "0")[:6]
    micros = (moment - _EPOCH) // timedelta(microseconds=1) + int(fraction or 0)
    if m.group(9):
        sign = 1 if m.group(9) == "+" else -1
        off_h, off_m = int(m.group(10)), int(m.group(11) or 0)
        if off_h > 23 or off_m > 59:
            raise ValueError("not a valid UTC offset")
        micros -= sign * (off_h * 3600 + off_m * 60) * 1_000_000
    return micros


def parse_time_us(text: str, *, is_end: bool) -> int:
    """A local wall-clock time ``HH:MM[:SS[.ffffff]]`` → microseconds since midnight.

    ``24:00:00`` is accepted for end times only and means the midnight ending
    the day. Raises ``ValueError`` with the reason.
    """
    m = _TIME_RE.match(text.strip())
    if m is None:
        raise ValueError("not a time (expected HH:MM[:SS[.ffffff]])")
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    micros = int((m.group(4) or "").ljust(6, "0") or 0)
    if hour == 24 and minute == 0 and second == 0 and micros == 0:
        if not is_end:
            raise ValueError("24:00:00 is only valid as an end time")
        return MICROS_PER_DAY
    if hour > 23:
        raise ValueError(f"hour {hour} is out of range (00-23, or 24:00:00 as an end time)")
    if minute > 59:
        raise ValueError(f"minute {minute} is out of range (00-59)")
    if second > 59:
        raise ValueError(f"second {second} is out of range (00-59)")
    return ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros


def parse_status(text: str) -> int:
    """``active`` → 1, ``inactive`` → 0, case-insensitive."""
    value = text.strip().lower()
    if value == "active":
        return 1
    if value == "inactive":
        return 0
    raise ValueError("status must be 'active' or 'inactive'")


def parse_day_of_week(text: str) -> int:
    """``0`` (Monday) … ``6`` (Sunday)."""
    value = text.strip()
    if not re.fullmatch(r"[+]?\d+", value):
        raise ValueError("dayOfWeek must be an integer 0 (Monday) to 6 (Sunday)")
    day = int(value)
    if not 0 <= day <= 6:
        raise ValueError("dayOfWeek must be 0 (Monday) to 6 (Sunday)")
    return day


@cache
def _known_zones() -> frozenset[str]:
    """The zone names the ``tzdata`` package lists: one small file.

    Only a fast path in front of ``ZoneInfo`` itself. Not
    ``zoneinfo.available_timezones()``: that opens ~600 files, and while
    other threads hold the GIL (an import reads its files in parallel) it
    measured up to 1 s instead of 0.03 s.
    """
    try:
        text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return frozenset()
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def parse_zone(text: str) -> str:
    """An IANA zone name known to ``zoneinfo`` (via ``tzdata``)."""
    value = text.strip()
    if not value:
        raise ValueError("time zone is empty")
    if value not in _known_zones():
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: e.g. a directory
            raise ValueError("unknown time zone (expected an IANA name such as America/Chicago)") from None
    return value


def parse_store_id(text: str) -> str:
    """Store ids are opaque text: trimmed, never converted to a number."""
    value = text.strip()
    if not value:
        raise ValueError("store_id is empty")
    return value


# -- vectorized column parsers ---------------------------------------------------------


def to_numpy(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A null-free fixed-width Arrow array as numpy, without importing pandas.

    ``pyarrow``'s own ``to_numpy`` imports pandas (~0.4 s) the first time it is
    called, which the headless import path would otherwise pay on every run.
    """
    if isinstance(arr, pa.ChunkedArray):
        chunks = [to_numpy(chunk) for chunk in arr.chunks]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=arr.type.to_pandas_dtype())
    dtype = np.dtype(arr.type.to_pandas_dtype())
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def _as_dictionary(arr: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    return arr


def per_distinct(
    arr: pa.Array | pa.ChunkedArray, parse: Callable[[str], T], missing: T, dtype: type | str
) -> tuple[np.ndarray, np.ndarray]:
    """Apply a scalar parser once per distinct value; return (values, bad mask)."""
    dictionary = _as_dictionary(arr)
    parsed, bad = parse_each(dictionary.dictionary.to_pylist(), parse, missing, dtype)
    codes = to_numpy(dictionary.indices)
    return parsed[codes], bad[codes]


def parse_each(
    texts: list[str], parse: Callable[[str], T], missing: T, dtype: type | str
) -> tuple[np.ndarray, np.ndarray]:
    """A scalar parser over a list of texts: (values, bad mask); ``missing`` where bad."""
    values = np.empty(len(texts), dtype=dtype)
    bad = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        try:
            values[i] = parse(text)
        except ValueError:
            values[i] = missing
            bad[i] = True
    return values, bad


def store_id_codes(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Store ids as (codes into ``uniques``, trimmed distinct ids, bad mask).

    Two raw spellings that trim to the same id (``" 12"`` and ``"12"``) share
    one code, so they are one store.
    """
    dictionary = _as_dictionary(arr)
    trimmed = [text.strip() for text in dictionary.dictionary.to_pylist()]
    uniques = sorted(set(trimmed))
    position = {sid: i for i, sid in enumerate(uniques)}
    remap = np.array([position[t] for t in trimmed], dtype=np.int64)
    codes = remap[to_numpy(dictionary.indices)]
    bad_code = position.get("")
    bad = codes == bad_code if bad_code is not None else np.zeros(len(codes), dtype=bool)
    return codes, uniques, bad


_COLON, _DASH = ord(":"), ord("-")
_UTC_SUFFIX = np.frombuffer(b" UTC", dtype=np.uint8)


def _timestamp_shape(chunk: pa.Array) -> tuple[bool, bool]:
    """(every value looks like ``YYYY-MM-DD?HH:MM:SS…``, every value ends in `` UTC``).

    Read straight from the Arrow buffers with numpy. Arrow's cast also accepts
    values without seconds (``2023-01-22 12:00Z``), which the scalar parser
    refuses, so both paths accept the same texts only with this check. (Plain
    numpy, too, because pyarrow compute calls with Python scalar arguments
    import pandas, ~0.4 s of start-up for every headless import.)
    """
    n = len(chunk)
    if n == 0:
        return True, True
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32, count=n + 1, offset=chunk.offset * 4)
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    if int((ends - starts).min()) < 19:
        return False, False
    full = bool(
        (data[starts + 4] == _DASH).all()
        and (data[starts + 7] == _DASH).all()
        and (data[starts + 13] == _COLON).all()
        and (data[starts + 16] == _COLON).all()
    )
    utc = all(bool((data[ends - 4 + i] == _UTC_SUFFIX[i]).all()) for i in range(4))
    return full, utc


SLICE_ROWS = 65_536
"""Timestamps are converted in slices of this many rows, on all cores; a slice
with a bad value falls back to the scalar parser alone (~0.3 s, not the whole
column's ~10 s for two million rows)."""


def timestamps_us(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Parse the timestamp column: Arrow's C parser first, Python only where it fails.

    Slice by slice (:data:`SLICE_ROWS`), on all cores: the usual export format
    (`` UTC`` suffix) is cut and cast; other common forms (``Z``, offsets,
    naive) are normalised to ISO 8601 with a zone and cast. Values that do not
    look like a full date and time (at least ``YYYY-MM-DD HH:MM:SS``) send their
    slice to the scalar parser, so both paths accept exactly the same texts.
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    slices = [chunk.slice(start, SLICE_ROWS) for chunk in chunks for start in range(0, len(chunk), SLICE_ROWS)]
    parts = _map_chunks(_slice_timestamps_us, slices)
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    return np.concatenate([values for values, _ in parts]), np.concatenate([bad for _, bad in parts])


def _slice_timestamps_us(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """One slice as (µs values, bad mask)."""
    try:
        full, utc = _timestamp_shape(chunk)
        if not full:
            raise pa.ArrowInvalid("not YYYY-MM-DD HH:MM:SS")
        if utc:
            # The usual export format: cutting the suffix is 4x cheaper than replacing it.
            cast = pc.utf8_slice_codeunits(chunk, 0, -4).cast(pa.timestamp("us"))
        else:
            zoned = pc.replace_substring(chunk, " UTC", "Z")
            try:
                cast = zoned.cast(pa.timestamp("us", tz="UTC"))
            except pa.ArrowInvalid:
                # Naive values are UTC by contract: give them a zone and retry.
                has_zone = pc.match_substring_regex(zoned, r"(Z|[+-]\d\d(:?\d\d)?)$")
                zoned = pc.if_else(has_zone, zoned, pc.binary_join_element_wise(zoned, "Z", ""))
                cast = zoned.cast(pa.timestamp("us", tz="UTC"))
        return to_numpy(cast.cast(pa.int64())), np.zeros(len(chunk), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return parse_each(chunk.to_pylist(), parse_timestamp_us, 0, np.int64)


def _usable_cpus() -> int:
    """CPUs this process may run on (affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _map_chunks(function: Callable[[pa.Array], T], chunks: list[pa.Array]) -> list[T]:
    """``function`` over Arrow chunks on all cores (Arrow kernels and numpy release the GIL).

    Two million timestamps: 0.11 s on two cores instead of 0.2–0.4 s on one.
    """
    workers = min(len(chunks), _usable_cpus())
    if workers <= 1:
        return [function(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="storemon-parse") as pool:
        return list(pool.map(function, chunks))


def explain(parse: Callable[[str], object], value: str) -> str:
    """The reason ``parse`` rejects ``value`` (runs only for bad rows)."""
    try:
        parse(value)
    except ValueError as exc:
        return str(exc)
    return "invalid value"
