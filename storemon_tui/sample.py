"""Deterministic synthetic store data shaped like the original Loop dataset.

Why this exists: the real dataset cannot be shipped, yet the importer, the
report and the TUI all need realistic input -- for the committed
``sample_data/``, for tests, and for benchmarks at full scale (14,000 stores,
about two million polls).  "Realistic" here means the awkward parts of the real
export are reproduced on purpose:

* store ids are opaque strings: 19-20 digit numbers (about half larger than
  2**63, so anything that parses them as int64 breaks) and ~10 % UUIDs;
* polls arrive roughly hourly with jitter and gaps, mostly with a microsecond
  fraction (``2023-01-22 12:09:39.388884 UTC``) but ~1 % without one;
* ``inactive`` polls come in outage *episodes* lasting hours (plus rare
  one-poll blips), ~10 % overall, so downtime is not white noise;
* rows are not sorted -- they are shuffled in chunks like a database export;
* business hours include closed days, overnight hours (``18:00:00`` to
  ``02:00:00``), split shifts, all-day ``00:00:00``-``23:59:59`` rows and a few
  odd rows (24-hour ``start == end``, overlapping rows);
* ~10 % of stores have no hours rows (open 24x7) and ~5 % no time zone row
  (which means America/Chicago).

Everything derives from ``numpy`` ``Generator`` streams spawned from ``seed``,
so the same arguments always give byte-identical files (with the same numpy
major version: numpy only promises stream stability within its policy).  The poll table is built with
vectorized numpy and written through pyarrow: there is no per-poll Python loop
(the only Python loops run once per *store*), so 14,000 stores take seconds.

Usage::

    python -m storemon_tui.sample --stores 14000 --out DIR --seed 7 [--days 7]
        [--end 2023-01-25T00:00:00Z]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from storemon_tui.timebase import HOUR_US, SECOND_US

__all__ = ["DEFAULT_END", "SampleFiles", "generate", "main"]

#: Default end of the poll window (exclusive); late January 2023 like the original data.
DEFAULT_END = datetime(2023, 1, 25, tzinfo=UTC)

STATUS_HEADER = "store_id,timestamp_utc,status"
HOURS_HEADER = "store_id,dayOfWeek,start_time_local,end_time_local"
ZONES_HEADER = "store_id,timezone_str"

# Weighted toward the US, as in the original dataset; the few foreign zones
# have unusual offsets or DST rules (Kolkata +05:30, Lord Howe's 30-minute DST).
TIMEZONE_WEIGHTS: dict[str, float] = {
    "America/Chicago": 30.0,
    "America/New_York": 24.0,
    "America/Denver": 7.0,
    "America/Los_Angeles": 14.0,
    "America/Boise": 1.5,
    "America/Phoenix": 3.0,
    "America/Detroit": 2.0,
    "America/Indiana/Indianapolis": 1.5,
    "America/Kentucky/Louisville": 1.0,
    "America/Anchorage": 0.6,
    "Pacific/Honolulu": 0.6,
    "America/Puerto_Rico": 0.4,
    "America/Indiana/Tell_City": 0.2,
    "America/Indiana/Knox": 0.2,
    "America/Indiana/Vincennes": 0.2,
    "America/Indiana/Petersburg": 0.15,
    "America/Indiana/Winamac": 0.15,
    "America/Indiana/Marengo": 0.15,
    "America/Kentucky/Monticello": 0.15,
    "America/North_Dakota/New_Salem": 0.1,
    "America/North_Dakota/Beulah": 0.1,
    "America/North_Dakota/Center": 0.1,
    "America/Menominee": 0.15,
    "America/Juneau": 0.1,
    "America/Sitka": 0.1,
    "America/Toronto": 0.4,
    "America/Mexico_City": 0.3,
    "Asia/Kolkata": 0.4,
    "Europe/London": 0.4,
    "Australia/Lord_Howe": 0.2,
}

_NO_HOURS_FRACTION = 0.10  # stores without business-hours rows (open 24x7)
_NO_ZONE_FRACTION = 0.05  # stores without a time-zone row (America/Chicago)
_UUID_FRACTION = 0.10  # stores whose id is a UUID instead of a long number
_NO_POLL_FRACTION = 0.005  # stores known to hours/zones but never polled
_SPARSE_FRACTION = 0.03  # stores polled only now and then
_NO_FRACTION_TS = 0.01  # polls written without the ".ffffff" part
_BLIP_RATE = 0.008  # isolated one-poll "inactive" glitches
_OUTAGE_RATE_PER_HOUR = 0.024  # mean store-outage starts per hour
_EXPORT_CHUNK = 4096  # rows per shuffled export chunk


@dataclass(frozen=True)
class SampleFiles:
    """Where :func:`generate` wrote the three files and how many data rows each has."""

    store_status: Path
    menu_hours: Path
    timezones: Path
    poll_rows: int
    hours_rows: int
    timezone_rows: int
    stores: int

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        """The files in the order the importer's command line takes them."""
        return (self.store_status, self.menu_hours, self.timezones)

    @property
    def total_rows(self) -> int:
        """Data rows across all three files (headers excluded)."""
        return self.poll_rows + self.hours_rows + self.timezone_rows


# --------------------------------------------------------------------------- ids


def _numeric_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct 19-20 digit ids drawn from ``[10**18, 2**64)``.

    Uniform over that range, about half exceed 2**63 and half have 20 digits,
    which is exactly what breaks code that stores ids as signed 64-bit ints.
    """
    low = np.uint64(10**18)
    ids: set[int] = set()
    out: list[str] = []
    while len(out) < count:
        raw = rng.integers(low, np.iinfo(np.uint64).max, size=count - len(out), dtype=np.uint64, endpoint=True)
        for value in raw.tolist():
            if value not in ids:
                ids.add(value)
                out.append(str(value))
    return out


def _uuid_ids(rng: np.random.Generator, count: int) -> list[str]:
    """UUID4 strings built from the seeded RNG (``uuid.uuid4`` is not seedable)."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    out = []
    for row in raw:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def _store_ids(rng: np.random.Generator, stores: int) -> list[str]:
    """All store ids, numeric and UUID mixed in random order."""
    n_uuid = int(round(stores * _UUID_FRACTION))
    ids = _numeric_ids(rng, stores - n_uuid) + _uuid_ids(rng, n_uuid)
    order = rng.permutation(stores)
    return [ids[i] for i in order]


# ------------------------------------------------------------------------- polls


def _poll_grid(rng: np.random.Generator, stores: int, window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Candidate poll times: one per store per hour, with a per-store phase and jitter.

    Returns ``(store_index, offset_us)`` with offsets in ``[0, window_us)``,
    already thinned by per-store coverage, sparse stores, never-polled stores
    and a couple of global poller outages -- the gaps a real poller leaves.
    """
    hours = -(-window_us // HOUR_US)
    phase = rng.integers(0, HOUR_US, size=stores)
    store = np.repeat(np.arange(stores, dtype=np.int32), hours)
    slot = np.tile(np.arange(hours, dtype=np.int64), stores)
    jitter = np.clip(rng.normal(0.0, 90.0, size=store.size), -600, 600) * SECOND_US
    offset = phase[store] + slot * HOUR_US + jitter.astype(np.int64)

    coverage = rng.beta(9.0, 1.0, size=stores)
    sparse = rng.random(stores) < _SPARSE_FRACTION
    coverage[sparse] = rng.uniform(0.03, 0.25, size=int(sparse.sum()))
    coverage[rng.random(stores) < _NO_POLL_FRACTION] = 0.0
    keep = (rng.random(store.size) < coverage[store]) & (offset >= 0) & (offset < window_us)

    # Global poller outages: nobody was polled for 1-3 hours, about twice a week.
    n_gaps = rng.poisson(2.0 * window_us / (168 * HOUR_US))
    for _ in range(n_gaps):
        start = rng.integers(0, window_us)
        length = rng.integers(1 * HOUR_US, 3 * HOUR_US)
        keep &= (offset < start) | (offset >= start + length)
    return store[keep], offset[keep]


def _outage_mask(
    rng: np.random.Generator, store: np.ndarray, offset: np.ndarray, stores: int, window_us: int
) -> np.ndarray:
    """True where a poll falls inside a store outage episode (or is a blip).

    Each store gets a gamma-distributed outage rate (most stores are reliable,
    a few are flaky) and lognormal episode lengths with a median of ~2.5 hours,
    so inactive polls come in runs.  Membership is computed for all polls at
    once: episodes are keyed by ``store * span + start`` and sorted, and a
    running maximum of their end keys answers "is this poll inside any earlier
    starting episode of its own store" with one ``searchsorted``.
    """
    pad = 24 * HOUR_US  # episodes may begin before the window and run into it
    span = window_us + 2 * pad
    rate = rng.gamma(0.6, _OUTAGE_RATE_PER_HOUR / 0.6, size=stores)
    counts = rng.poisson(rate * span / HOUR_US)
    ep_store = np.repeat(np.arange(stores, dtype=np.int64), counts)
    n_ep = ep_store.size
    ep_start = rng.integers(-pad, window_us, size=n_ep)
    ep_len = np.clip(rng.lognormal(np.log(2.5), 0.8, size=n_ep), 0.5, 48.0) * HOUR_US

    blips = rng.random(store.size) < _BLIP_RATE
    if n_ep == 0:
        return blips
    start_key = ep_store * span + (ep_start + pad)
    end_key = start_key + ep_len.astype(np.int64)
    order = np.argsort(start_key, kind="stable")
    start_key = start_key[order]
    reach = np.maximum.accumulate(end_key[order])

    poll_key = store.astype(np.int64) * span + (offset + pad)
    idx = np.searchsorted(start_key, poll_key, side="right") - 1
    inside = (idx >= 0) & (poll_key < reach[np.maximum(idx, 0)])
    return inside | blips


def _format_timestamps(rng: np.random.Generator, abs_us: np.ndarray) -> pa.Array:
    """``YYYY-MM-DD HH:MM:SS[.ffffff] UTC`` strings, built as bytes with numpy.

    ``strftime`` and ``datetime_as_string`` cost seconds per million rows; the
    window spans only a handful of dates, so the date part comes from a small
    lookup table and the rest is digit arithmetic on a ``(n, 30)`` byte matrix.
    About 1 % of rows drop the fraction, as in the real export.
    """
    n = abs_us.size
    secs, frac = np.divmod(abs_us, SECOND_US)
    days, sod = np.divmod(secs, 86400)
    first_day = int(days.min()) if n else 0
    n_days = (int(days.max()) - first_day + 1) if n else 0
    table = np.frombuffer(
        "".join(
            (datetime(1970, 1, 1) + timedelta(days=first_day + i)).strftime("%Y-%m-%d") for i in range(n_days)
        ).encode(),
        dtype=np.uint8,
    ).reshape(n_days, 10)

    buf = np.empty((n, 30), dtype=np.uint8)
    buf[:, :10] = table[days - first_day]
    buf[:, 10] = ord(" ")
    hh, rem = np.divmod(sod, 3600)
    mm, ss = np.divmod(rem, 60)
    for col, val in ((11, hh), (14, mm), (17, ss)):
        buf[:, col] = 48 + val // 10
        buf[:, col + 1] = 48 + val % 10
    buf[:, 13] = buf[:, 16] = ord(":")
    buf[:, 19] = ord(".")
    f = frac.copy()
    for col in range(25, 19, -1):
        f, digit = np.divmod(f, 10)
        buf[:, col] = 48 + digit
    buf[:, 26:30] = np.frombuffer(b" UTC", dtype=np.uint8)

    lengths = np.full(n, 30, dtype=np.int32)
    short = rng.random(n) < _NO_FRACTION_TS
    lengths[short] = 23
    keep = np.ones((n, 30), dtype=bool)
    keep[short, 19:26] = False
    data = buf[keep]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _chunk_shuffle(rng: np.random.Generator, offset: np.ndarray) -> np.ndarray:
    """Row order of a real export: roughly insertion (time) order, cut into
    chunks, chunks shuffled and rows shuffled inside each chunk.

    Importers must not rely on the file being sorted by store or by time.
    """
    by_time = np.argsort(offset, kind="stable")
    chunk = np.arange(offset.size) // _EXPORT_CHUNK
    rank = rng.permutation(int(chunk[-1]) + 1 if offset.size else 0)
    key = rank[chunk] + rng.random(offset.size)
    return by_time[np.argsort(key, kind="stable")]


def _write_table(path: Path, header: str, columns: dict[str, pa.Array]) -> None:
    """Write an unquoted CSV with an exact header line.

    pyarrow always quotes header names, so the header is written by hand and
    the body appended without one.  No value contains a comma or a quote.
    """
    table = pa.table(columns)
    with path.open("wb") as fh:
        fh.write((header + "\n").encode())
        pa_csv.write_csv(
            table,
            fh,
            write_options=pa_csv.WriteOptions(include_header=False, quoting_style="none", batch_size=65536),
        )


def _write_polls(rng: np.random.Generator, path: Path, ids: pa.Array, stores: int, days: int, end: datetime) -> int:
    """Generate and write ``store_status.csv``; returns the number of data rows."""
    window_us = days * 24 * HOUR_US
    start_us = int(end.timestamp()) * SECOND_US + end.microsecond - window_us
    store, offset = _poll_grid(rng, stores, window_us)
    offset = offset + rng.integers(0, SECOND_US, size=offset.size)  # sub-second part
    offset = np.minimum(offset, window_us - 1)
    inactive = _outage_mask(rng, store, offset, stores, window_us)

    order = _chunk_shuffle(rng, offset)
    store, offset, inactive = store[order], offset[order], inactive[order]
    timestamps = _format_timestamps(rng, start_us + offset)
    status = pa.array(["active", "inactive"]).take(pa.array(inactive.astype(np.int8)))
    _write_table(
        path,
        STATUS_HEADER,
        {"store_id": ids.take(pa.array(store)), "timestamp_utc": timestamps, "status": status},
    )
    return int(store.size)


# ---------------------------------------------------------------- business hours


def _hms(seconds: int) -> str:
    """Local wall-clock time as ``HH:MM:SS`` (the original export always has seconds)."""
    h, rem = divmod(int(seconds), 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def _t(hhmm: str) -> int:
    """``"HH:MM"`` or ``"HH:MM:SS"`` to seconds after midnight."""
    parts = [int(p) for p in hhmm.split(":")] + [0]
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def _pick(options: Sequence[str], u: float) -> int:
    """Choose from ``options`` with a pre-drawn uniform ``u`` (keeps draws vectorized)."""
    return _t(options[min(int(u * len(options)), len(options) - 1)])


_OPEN = ("06:00", "07:00", "07:30", "08:00", "09:00", "10:00", "10:00", "10:30", "11:00", "11:00")
_CLOSE = ("20:00", "21:00", "21:00", "22:00", "22:00", "22:30", "23:00", "23:30", "23:59:59")
_LATE_OPEN = ("15:00", "16:00", "17:00", "17:00", "18:00", "19:00", "20:00")
_LATE_CLOSE = ("00:00", "00:30", "01:00", "01:00", "02:00", "02:00", "02:30", "03:00", "04:00")
_LUNCH_OPEN = ("10:30", "11:00", "11:00", "11:30")
_LUNCH_CLOSE = ("14:00", "14:30", "15:00")
_DINNER_OPEN = ("16:30", "17:00", "17:00", "17:30")
_DINNER_CLOSE = ("21:00", "21:30", "22:00", "22:00", "23:00")
_ALL_DAY = (0, _t("23:59:59"))

# Cumulative pattern weights over stores that have hours at all.
_PATTERNS = (
    ("regular", 0.44),
    ("weekend", 0.15),
    ("closed_days", 0.10),
    ("overnight", 0.09),
    ("split", 0.08),
    ("all_day", 0.07),
    ("messy", 0.07),
)


def _store_hours(pattern: str, u: np.ndarray) -> list[tuple[int, int, int]]:
    """Rows ``(dayOfWeek, start_s, end_s)`` of one store for a named pattern.

    ``u`` holds 16 pre-drawn uniforms so that the per-store loop makes no RNG
    calls of its own (cheaper, and the stream stays aligned across patterns).
    """
    week = range(7)
    if pattern == "regular":
        o, c = _pick(_OPEN, u[0]), _pick(_CLOSE, u[1])
        return [(d, o, c) for d in week]
    if pattern == "weekend":
        o, c = _pick(_OPEN, u[0]), _pick(_CLOSE, u[1])
        wo, wc = _pick(_OPEN[3:], u[2]), _pick(_CLOSE[2:], u[3])
        return [(d, o, c) if d < 5 else (d, wo, wc) for d in week]
    if pattern == "closed_days":
        o, c = _pick(_OPEN, u[0]), _pick(_CLOSE, u[1])
        closed = {6} if u[2] < 0.5 else ({0} if u[2] < 0.75 else {0, 6})
        if u[3] < 0.2:
            closed.add(min(int(u[4] * 7), 6))
        return [(d, o, c) for d in week if d not in closed]
    if pattern == "overnight":
        o, c = _pick(_LATE_OPEN, u[0]), _pick(_LATE_CLOSE, u[1])
        if u[2] < 0.4:  # late nights only at the weekend, ordinary days otherwise
            day_close = _pick(_CLOSE[:6], u[3])
            return [(d, o, c) if d in (4, 5) else (d, o, day_close) for d in week]
        return [(d, o, c) for d in week]
    if pattern == "split":
        lo, lc = _pick(_LUNCH_OPEN, u[0]), _pick(_LUNCH_CLOSE, u[1])
        do, dc = _pick(_DINNER_OPEN, u[2]), _pick(_DINNER_CLOSE, u[3])
        rows = []
        for d in week:
            if d == 0 and u[4] < 0.3:
                continue  # closed Mondays
            if d >= 5 and u[5] < 0.5:
                rows.append((d, do, dc))  # dinner only at the weekend
            else:
                rows += [(d, lo, lc), (d, do, dc)]
        return rows
    if pattern == "all_day":
        return [(d, *_ALL_DAY) for d in week]
    return _messy_hours(u)


def _messy_hours(u: np.ndarray) -> list[tuple[int, int, int]]:
    """Hand-entered-looking hours: odd minutes and seconds, some day-to-day
    variation, and now and then an overlapping row, a 24-hour ``start == end``
    row or an all-day day -- the corner cases the spec has rules for."""
    base_o = int(u[0] * 6 * 3600) + 5 * 3600  # 05:00 .. 11:00
    base_c = base_o + int((8 + u[1] * 10) * 3600)  # 8 .. 18 h later, may pass midnight
    rows: list[tuple[int, int, int]] = []
    for d in range(7):
        v = u[6 + d]
        if v < 0.08:
            continue  # closed this day
        o = (base_o + int((v - 0.5) * 5400)) % 86400
        c = (base_c + int((u[13] - 0.5) * 3600)) % 86400
        if v > 0.97:
            rows.append((d, o, o))  # start == end: 24 hours from start
        elif v > 0.93:
            rows.append((d, *_ALL_DAY))
        else:
            rows.append((d, o, c))
            if v > 0.86:  # an overlapping second row, e.g. a late-night extension
                rows.append((d, (o + 3600 * 3) % 86400, (c + 3600) % 86400))
    if not rows:
        rows.append((int(u[14] * 7) % 7, base_o, base_c % 86400))
    return rows


def _write_hours(rng: np.random.Generator, path: Path, ids: list[str]) -> int:
    """Generate and write ``menu_hours.csv``; returns the number of data rows."""
    stores = len(ids)
    has_hours = rng.random(stores) >= _NO_HOURS_FRACTION
    which = rng.random(stores)
    uniforms = rng.random((stores, 16))
    names = [name for name, _ in _PATTERNS]
    cum = np.cumsum([w for _, w in _PATTERNS])
    pattern_idx = np.minimum(np.searchsorted(cum / cum[-1], which, side="right"), len(names) - 1)

    out_id: list[str] = []
    out_day: list[int] = []
    out_start: list[str] = []
    out_end: list[str] = []
    for i in np.flatnonzero(has_hours).tolist():
        for day, start, end in _store_hours(names[pattern_idx[i]], uniforms[i]):
            out_id.append(ids[i])
            out_day.append(day)
            out_start.append(_hms(start))
            out_end.append(_hms(end))
    order = rng.permutation(len(out_id))
    _write_table(
        path,
        HOURS_HEADER,
        {
            "store_id": pa.array(out_id).take(order),
            "dayOfWeek": pa.array(out_day, type=pa.int8()).take(order),
            "start_time_local": pa.array(out_start).take(order),
            "end_time_local": pa.array(out_end).take(order),
        },
    )
    return len(out_id)


# ---------------------------------------------------------------------- timezones


def _write_timezones(rng: np.random.Generator, path: Path, ids: list[str]) -> int:
    """Generate and write ``timezones.csv``; returns the number of data rows."""
    stores = len(ids)
    zones = list(TIMEZONE_WEIGHTS)
    weights = np.array([TIMEZONE_WEIGHTS[z] for z in zones])
    zone_idx = rng.choice(len(zones), size=stores, p=weights / weights.sum())
    has_zone = rng.random(stores) >= _NO_ZONE_FRACTION
    rows = rng.permutation(np.flatnonzero(has_zone))
    _write_table(
        path,
        ZONES_HEADER,
        {
            "store_id": pa.array(ids).take(pa.array(rows)),
            "timezone_str": pa.array(zones).take(pa.array(zone_idx[rows])),
        },
    )
    return int(rows.size)


# ------------------------------------------------------------------------ public


def generate(out_dir: Path, stores: int, seed: int, days: int = 7, end: datetime | None = None) -> SampleFiles:
    """Write ``store_status.csv``, ``menu_hours.csv`` and ``timezones.csv`` into ``out_dir``.

    Polls cover ``[end - days, end)``; ``end`` defaults to :data:`DEFAULT_END`
    (a naive ``end`` is taken as UTC).  The same arguments always produce
    byte-identical files.  Hours and zones are drawn from their own child
    seeds, so they do not change when only ``days``/``end`` change.
    """
    if stores < 1:
        raise ValueError("stores must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")
    end = DEFAULT_END if end is None else (end if end.tzinfo else end.replace(tzinfo=UTC))
    end = end.astimezone(UTC)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    ids_rng, polls_rng, hours_rng, zones_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4))
    ids = _store_ids(ids_rng, stores)
    files = (out_dir / "store_status.csv", out_dir / "menu_hours.csv", out_dir / "timezones.csv")
    poll_rows = _write_polls(polls_rng, files[0], pa.array(ids), stores, days, end)
    hours_rows = _write_hours(hours_rng, files[1], ids)
    zone_rows = _write_timezones(zones_rng, files[2], ids)
    return SampleFiles(*files, poll_rows=poll_rows, hours_rows=hours_rows, timezone_rows=zone_rows, stores=stores)


def _parse_end(text: str) -> datetime:
    """Accept ISO 8601 (``2023-01-25T00:00:00Z``) or the export's ``... UTC`` form."""
    text = text.strip()
    if text.endswith(" UTC"):
        text = text[:-4]
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: generate the files and print a one-line summary per file."""
    parser = argparse.ArgumentParser(prog="python -m storemon_tui.sample", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=200, help="number of stores (default 200)")
    parser.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    parser.add_argument("--seed", type=int, default=0, help="RNG seed; same seed gives identical files")
    parser.add_argument("--days", type=int, default=7, help="days of polls before --end (default 7)")
    parser.add_argument(
        "--end",
        type=_parse_end,
        default=DEFAULT_END,
        help="end of the poll window, exclusive (default 2023-01-25T00:00:00Z)",
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    files = generate(args.out, args.stores, args.seed, days=args.days, end=args.end)
    elapsed = time.perf_counter() - t0
    for path, rows in zip(files.paths, (files.poll_rows, files.hours_rows, files.timezone_rows), strict=True):
        print(f"{path}: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
    print(f"{files.stores:,} stores in {elapsed:.2f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
