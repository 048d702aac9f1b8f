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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storemon_tui.ingest.arrow_arrays import to_numpy

T = TypeVar("T")

MICROS_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MAX_STORE_ID_BYTES = 255
"""The longest store id, in bytes of UTF-8. Ids are keys: PostgreSQL cannot index
text of a few kilobytes, and no fleet names its stores with essays."""

FUTURE_SLACK_US = 24 * 3600 * 1_000_000
"""A poll may be at most this far ahead of the importing machine's clock (clock skew, zones mixed up)."""


def reject_nul(text: str) -> None:
    """No value may hold a NUL character: PostgreSQL text cannot, and no export means one."""
    if "\x00" in text:
        raise ValueError("contains a NUL character (\\x00)")


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
    Any instant is accepted here (``--as-of`` uses this too); a poll's
    range is checked by :func:`parse_poll_timestamp_us`.
    """
    reject_nul(text)
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


def poll_time_limit_us(now_us: int) -> int:
    """The latest poll time accepted by an import that started at ``now_us``."""
    return now_us + FUTURE_SLACK_US


def check_poll_time(micros: int, now_us: int) -> None:
    """A poll must lie between 1970 and a day after the importing machine's clock.

    Far-future or ancient polls are typos or broken clocks, and one of them
    would stretch every report's time line over centuries.
    """
    if micros < 0:
        raise ValueError("before 1970 (polls must be from 1970-01-01 00:00:00 UTC on)")
    if micros > poll_time_limit_us(now_us):
        raise ValueError("in the future (more than 24 hours after this machine's clock when it was imported)")


def parse_poll_timestamp_us(text: str, *, now_us: int) -> int:
    """A poll's timestamp: :func:`parse_timestamp_us`, then :func:`check_poll_time`."""
    micros = parse_timestamp_us(text)
    check_poll_time(micros, now_us)
    return micros


def clock_us() -> int:
    """This machine's clock, in µs since the epoch (UTC)."""
    return (datetime.now(UTC) - _EPOCH) // timedelta(microseconds=1)


def parse_time_us(text: str, *, is_end: bool) -> int:
    """A local wall-clock time ``HH:MM[:SS[.ffffff]]`` → microseconds since midnight.

    ``24:00:00`` is accepted for end times only and means the midnight ending
    the day. Raises ``ValueError`` with the reason.
    """
    reject_nul(text)
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
    reject_nul(text)
    value = text.strip().lower()
    if value == "active":
        return 1
    if value == "inactive":
        return 0
    raise ValueError("status must be 'active' or 'inactive'")


def parse_day_of_week(text: str) -> int:
    """``0`` (Monday) … ``6`` (Sunday)."""
    reject_nul(text)
    value = text.strip()
    if not re.fullmatch(r"[+]?\d+", value):
        raise ValueError("dayOfWeek must be an integer 0 (Monday) to 6 (Sunday)")
    day = int(value)
    if not 0 <= day <= 6:
        raise ValueError("dayOfWeek must be 0 (Monday) to 6 (Sunday)")
    return day


NOT_A_ZONE = frozenset({"Factory"})
"""In tzdata's list but no place's time: 'Factory' means "the time zone has not been set"."""

_HOST_ZONES = ("localtime", "posixrules", "posix/", "right/")
"""Names a system's zoneinfo directory may hold that mean different things on different hosts
(``right/`` zones even count leap seconds)."""


@cache
def canonical_zones() -> frozenset[str]:
    """The zone names storemon accepts: tzdata's list of zones, without :data:`NOT_A_ZONE`.

    The list is the ``tzdata`` package's ``zones`` file (one small file, the
    same on every host): every zone and every backward-compatible link such
    as ``US/Eastern`` (links are real IANA names and resolve to the same
    rules everywhere). Never the host's own zoneinfo directory, whose
    ``localtime``, ``posixrules``, ``posix/…`` and ``right/…`` depend on
    the machine. (Not ``zoneinfo.available_timezones()`` either: it opens
    hundreds of files, slow while other threads hold the GIL: bench/README.md.)
    """
    text = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip()) - NOT_A_ZONE


def parse_zone(text: str) -> str:
    """An IANA zone name from :func:`canonical_zones`."""
    reject_nul(text)
    value = text.strip()
    if not value:
        raise ValueError("time zone is empty")
    if value in canonical_zones():
        return value
    if value in NOT_A_ZONE:
        raise ValueError(f"{value!r} is a placeholder, not a time zone (expected an IANA name such as America/Chicago)")
    if value.startswith(_HOST_ZONES):
        raise ValueError(
            "depends on this machine's time zone files, not an IANA zone name (expected e.g. America/Chicago)"
        )
    raise ValueError("unknown time zone (expected an IANA name such as America/Chicago)")


def parse_store_id(text: str) -> str:
    """Store ids are opaque text: trimmed, never converted to a number, at most 255 bytes."""
    reject_nul(text)
    value = text.strip()
    if not value:
        raise ValueError("store_id is empty")
    size = len(value.encode("utf-8"))
    if size > MAX_STORE_ID_BYTES:
        raise ValueError(f"store_id is {size:,} bytes long (at most {MAX_STORE_ID_BYTES} bytes of UTF-8)")
    return value


# -- vectorized column parsers ---------------------------------------------------------


def positions_in(values: pa.Array | pa.ChunkedArray, value_set: pa.Array) -> np.ndarray:
    """Index of each value in ``value_set``, ``-1`` where absent (Arrow's ``index_in``, read without pandas)."""
    found = pc.index_in(values, value_set=value_set)
    chunks = found.chunks if isinstance(found, pa.ChunkedArray) else [found]
    parts = []
    for chunk in chunks:
        positions = to_numpy(chunk).astype(np.int64)
        if chunk.null_count:
            valid = np.unpackbits(
                np.frombuffer(chunk.buffers()[0], dtype=np.uint8), count=len(chunk) + chunk.offset, bitorder="little"
            )[chunk.offset :]
            positions[valid == 0] = -1
        parts.append(positions)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def as_dictionary(arr: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    return arr


def per_distinct(
    arr: pa.Array | pa.ChunkedArray, parse: Callable[[str], T], missing: T, dtype: type | str
) -> tuple[np.ndarray, np.ndarray]:
    """Apply a scalar parser once per distinct value; return (values, bad mask)."""
    dictionary = as_dictionary(arr)
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


_COLON, _DASH = ord(":"), ord("-")
_UTC_SUFFIX = np.frombuffer(b" UTC", dtype=np.uint8)


def _timestamp_shape(chunk: pa.Array) -> tuple[bool, bool]:
    """(every value looks like ``YYYY-MM-DD?HH:MM:SS…``, every value ends in `` UTC``).

    Read straight from the Arrow buffers with numpy. Arrow's cast also accepts
    values without seconds (``2023-01-22 12:00Z``), which the scalar parser
    refuses, so both paths accept the same texts only with this check. (Plain
    numpy, too, because pyarrow compute calls with Python scalar arguments
    import pandas, start-up every headless import would pay.)
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
with a bad value falls back to the scalar parser alone, not the whole column
(bench/README.md)."""


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


def poll_timestamps_us(arr: pa.Array | pa.ChunkedArray, now_us: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`timestamps_us`, with polls outside :func:`check_poll_time`'s range marked bad too."""
    values, bad = timestamps_us(arr)
    bad |= (values < 0) | (values > poll_time_limit_us(now_us))
    return values, bad


def _slice_timestamps_us(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """One slice as (µs values, bad mask)."""
    try:
        full, utc = _timestamp_shape(chunk)
        if not full:
            raise pa.ArrowInvalid("not YYYY-MM-DD HH:MM:SS")
        if utc:
            # The usual export format: cutting the suffix is cheaper than replacing it (bench/README.md).
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

    Measured in bench/README.md.
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
