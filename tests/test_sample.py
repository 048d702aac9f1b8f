"""Tests of the synthetic data generator (``storemon_tui.sample``).

The generator feeds the committed sample data, other tests and the benchmark,
so its promises -- determinism, exact headers, realistic awkward values -- are
checked here directly.  Everything is read with the stdlib ``csv`` module, as
plain strings, so nothing here can silently turn a store id into a number.
"""

from __future__ import annotations

import csv
import re
import uuid
import zoneinfo
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storemon_tui.sample import DEFAULT_END, SampleFiles, generate, main

STORES = 50
DAYS = 7
SEED = 12345

TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})? UTC$")
HMS_RE = re.compile(r"^\d{2}:\d{2}:\d{2}$")


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        return next(reader), list(reader)


def _seconds(hms: str) -> int:
    h, m, s = (int(p) for p in hms.split(":"))
    assert 0 <= h <= 23 and 0 <= m <= 59 and 0 <= s <= 59, hms
    return h * 3600 + m * 60 + s


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleFiles:
    return generate(tmp_path_factory.mktemp("a"), STORES, SEED, days=DAYS)


@pytest.fixture(scope="module")
def polls(sample: SampleFiles) -> list[list[str]]:
    return _rows(sample.store_status)[1]


@pytest.fixture(scope="module")
def hours(sample: SampleFiles) -> list[list[str]]:
    return _rows(sample.menu_hours)[1]


@pytest.fixture(scope="module")
def zones(sample: SampleFiles) -> list[list[str]]:
    return _rows(sample.timezones)[1]


def _all_ids(polls: list[list[str]], hours: list[list[str]], zones: list[list[str]]) -> set[str]:
    return {r[0] for r in polls} | {r[0] for r in hours} | {r[0] for r in zones}


def test_same_seed_is_byte_identical(sample: SampleFiles, tmp_path: Path) -> None:
    again = generate(tmp_path, STORES, SEED, days=DAYS)
    for a, b in zip(sample.paths, again.paths, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert again == SampleFiles(*again.paths, sample.poll_rows, sample.hours_rows, sample.timezone_rows, STORES)


def test_different_seed_differs(sample: SampleFiles, tmp_path: Path) -> None:
    other = generate(tmp_path, STORES, SEED + 1, days=DAYS)
    for a, b in zip(sample.paths, other.paths, strict=True):
        assert a.read_bytes() != b.read_bytes(), a.name


def test_headers_are_exact(sample: SampleFiles) -> None:
    first_lines = [p.read_bytes().split(b"\n", 1)[0] for p in sample.paths]
    assert first_lines == [
        b"store_id,timestamp_utc,status",
        b"store_id,dayOfWeek,start_time_local,end_time_local",
        b"store_id,timezone_str",
    ]
    for path in sample.paths:
        data = path.read_bytes()
        assert b'"' not in data and b"\r" not in data and data.endswith(b"\n")


def test_row_counts_match_files_and_scale(sample: SampleFiles, polls, hours, zones) -> None:
    assert (len(polls), len(hours), len(zones)) == (sample.poll_rows, sample.hours_rows, sample.timezone_rows)
    nominal = STORES * DAYS * 24
    assert 0.8 * nominal <= len(polls) <= 1.2 * nominal
    assert all(len(r) == 3 for r in polls) and all(len(r) == 4 for r in hours) and all(len(r) == 2 for r in zones)


def test_poll_timestamps_and_status(polls) -> None:
    assert all(TS_RE.match(r[1]) for r in polls)
    assert any("." not in r[1] for r in polls), "some rows lack the fraction"
    assert sum("." in r[1] for r in polls) > 0.9 * len(polls)
    end = DEFAULT_END.replace(tzinfo=None)
    stamps = [datetime.fromisoformat(r[1][:-4]) for r in polls]
    assert all((end - t).total_seconds() <= DAYS * 86400 and t < end for t in stamps)
    assert stamps != sorted(stamps), "rows must not be sorted by time"
    assert [r[0] for r in polls] != sorted(r[0] for r in polls), "rows must not be sorted by store"

    statuses = Counter(r[2] for r in polls)
    assert set(statuses) == {"active", "inactive"}
    assert 0.03 < statuses["inactive"] / len(polls) < 0.25


def test_outages_are_episodes_not_coin_flips(polls) -> None:
    by_store: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for sid, ts, status in polls:
        by_store[sid].append((ts, status))
    longest = 0
    for rows in by_store.values():
        run = 0
        for _, status in sorted(rows):
            run = run + 1 if status == "inactive" else 0
            longest = max(longest, run)
    assert longest >= 4, "expected multi-hour outages"


def test_store_ids_are_mixed_opaque_strings(polls, hours, zones) -> None:
    ids = _all_ids(polls, hours, zones)
    assert len(ids) == STORES
    numeric = {i for i in ids if i.isdigit()}
    uuids = ids - numeric
    for u in uuids:
        assert str(uuid.UUID(u)) == u and uuid.UUID(u).version == 4
    assert uuids, "some UUID ids"
    assert all(len(i) in (19, 20) and not i.startswith("0") for i in numeric)
    assert any(int(i) > 2**63 for i in numeric), "ids beyond int64"
    assert {len(i) for i in numeric} == {19, 20}


def test_every_zone_is_valid(zones) -> None:
    names = {r[1] for r in zones}
    for name in names:
        zoneinfo.ZoneInfo(name)
    assert "America/Chicago" in names
    assert len({r[0] for r in zones}) == len(zones), "one zone row per store"


def test_business_hours_shape(hours) -> None:
    per_day: Counter[tuple[str, str]] = Counter()
    overnight = all_day = 0
    for sid, day, start, end in hours:
        assert day in {str(d) for d in range(7)}
        assert HMS_RE.match(start) and HMS_RE.match(end)
        s, e = _seconds(start), _seconds(end)
        overnight += e < s
        all_day += (start, end) == ("00:00:00", "23:59:59")
        per_day[(sid, day)] += 1
    assert overnight > 0, "overnight rows"
    assert all_day > 0, "00:00:00-23:59:59 rows"
    assert max(per_day.values()) >= 2, "split shifts (two rows on one day)"


def test_some_stores_lack_hours_and_zones(polls, hours, zones) -> None:
    ids = _all_ids(polls, hours, zones)
    with_hours = {r[0] for r in hours}
    with_zone = {r[0] for r in zones}
    assert ids - with_hours, "stores open 24x7 (no hours rows)"
    assert ids - with_zone, "stores defaulting to America/Chicago"
    assert len(with_hours) >= 0.7 * len(ids) and len(with_zone) >= 0.8 * len(ids)
    days_open = Counter(r[0] for r in {(r[0], r[1]) for r in hours})
    assert min(days_open.values()) < 7, "some stores are closed on some days"


def test_large_scale_features(tmp_path: Path) -> None:
    """With more stores every rare feature shows up, still in well under a second."""
    files = generate(tmp_path, 2000, 3, days=1, end=datetime(2024, 3, 10, 12, tzinfo=UTC))
    _, polls = _rows(files.store_status)
    assert 2000 * 24 * 0.8 <= len(polls) <= 2000 * 24 * 1.2
    assert all(r[1].startswith(("2024-03-09", "2024-03-10")) for r in polls)
    _, hours = _rows(files.menu_hours)
    assert any(r[2] == r[3] for r in hours), "start == end rows (24 hours)"


def test_cli_writes_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--stores", "5", "--out", str(tmp_path), "--seed", "1", "--days", "1", "--end", "2023-01-25T00:00:00Z"])
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["menu_hours.csv", "store_status.csv", "timezones.csv"]
    assert "store_status.csv" in capsys.readouterr().out
    direct = generate(tmp_path / "lib", 5, 1, days=1)
    assert (tmp_path / "store_status.csv").read_bytes() == direct.store_status.read_bytes()
