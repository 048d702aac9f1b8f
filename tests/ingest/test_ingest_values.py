"""Every accepted value format, checked end to end (CSV → SQLite) and at the parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from storemon_tui.ingest import InvalidRowsError, import_file
from storemon_tui.ingest import values as v

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def us(*args: int) -> int:
    """UTC datetime(*args) → µs since the epoch, exactly."""
    delta = datetime(*args, tzinfo=UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


BASE = us(2023, 1, 22, 12, 9, 39)

TIMESTAMPS = [
    ("2023-01-22 12:09:39.388884 UTC", BASE + 388_884),
    ("2023-01-22 12:09:39 UTC", BASE),
    ("2023-01-22 12:09:39", BASE),
    ("2023-01-22 12:09:39.5", BASE + 500_000),
    ("2023-01-22T12:09:39Z", BASE),
    ("2023-01-22T12:09:39.000001Z", BASE + 1),
    ("2023-01-22T12:09:39+00:00", BASE),
    ("2023-01-22T17:39:39+05:30", BASE),
    ("2023-01-22T07:09:39-05:00", BASE),
    ("2023-01-22T07:09:39-0500", BASE),
    ("2023-01-22 12:09:39 utc", BASE),
    ("  2023-01-22 12:09:39 UTC  ", BASE),
    (" 2023-01-22T17:39:39+05:30 ", BASE),
    ("2023-01-22 12:09:39.123456789 UTC", BASE + 123_456),
]


@pytest.mark.parametrize(("text", "expected"), TIMESTAMPS)
def test_parse_timestamp_scalar(text: str, expected: int) -> None:
    assert v.parse_timestamp_us(text) == expected


@pytest.mark.parametrize(("text", "expected"), TIMESTAMPS)
def test_timestamp_column_fast_path_agrees_with_scalar(text: str, expected: int) -> None:
    values, bad = v.timestamps_us(pa.array([text]))
    assert not bad.any()
    assert values.tolist() == [expected]


def test_timestamp_column_in_many_chunks_keeps_row_order_and_falls_back_per_column() -> None:
    """Chunks are converted in parallel; the values must come back in row order,
    and one chunk in another format must send the whole column down the general path."""
    texts = [text for text, _ in TIMESTAMPS]
    expected = [value for _, value in TIMESTAMPS]
    utc_only = [(t, e) for t, e in TIMESTAMPS if t.endswith(" UTC")]
    chunked = pa.chunked_array([pa.array([t]) for t, _ in utc_only * 3])
    values, bad = v.timestamps_us(chunked)
    assert values.tolist() == [e for _, e in utc_only * 3] and not bad.any()

    mixed = pa.chunked_array([pa.array(texts[i : i + 3]) for i in range(0, len(texts), 3)])
    values, bad = v.timestamps_us(mixed)
    assert values.tolist() == expected and not bad.any()

    with_bad = pa.chunked_array([pa.array(["2023-01-22 12:09:39 UTC"]), pa.array(["2023-01-22 25:00:00 UTC"])])
    values, bad = v.timestamps_us(with_bad)
    assert bad.tolist() == [False, True] and values[0] == BASE


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2023-01-22",
        "2023-01-22 12:09",
        "2023-13-22 12:09:39 UTC",
        "2023-02-29 12:00:00 UTC",
        "2023-01-22 25:00:00 UTC",
        "2023-01-22 12:00 UTC",
        "2023-01-22T12:00+05:30",
        "2023-01-22 12+05:30",
        "2023-01-22 12:09:39 CET",
        "2023-01-22T12:09:39+24:00",
        "1674389379",
    ],
)
def test_bad_timestamps_rejected_by_both_paths(text: str) -> None:
    with pytest.raises(ValueError):
        v.parse_timestamp_us(text)
    values, bad = v.timestamps_us(pa.array([text]))
    assert bad.tolist() == [True]


@pytest.mark.parametrize("other", ["s9,2023-01-22 12:00:00 UTC,active", "s9,garbage,active"])
def test_minute_precision_timestamp_refused_whether_or_not_the_file_is_otherwise_clean(db, csv_file, other) -> None:
    """Regression: Arrow's cast accepted '2023-01-22 12:00 UTC' when every other row was fine."""
    path = csv_file("p.csv", f"store_id,timestamp_utc,status\ns1,2023-01-22 12:00 UTC,active\n{other}\n")
    with pytest.raises(InvalidRowsError) as info:
        import_file(db, path)
    assert (2, "timestamp_utc", "2023-01-22 12:00 UTC") in [(p.line, p.column, p.value) for p in info.value.problems]


def test_every_timestamp_form_in_one_file(db, csv_file, dump) -> None:
    """Mixed forms in one column: one store per form, each stored as the same UTC instant."""
    lines = [f"s{i},{text},active" for i, (text, _) in enumerate(TIMESTAMPS) if "," not in text]
    path = csv_file("p.csv", "store_id,timestamp_utc,status\n" + "\n".join(lines) + "\n")
    summary = import_file(db, path)
    assert summary.inserted == len(lines)
    tables = dump(db)
    by_key = {key: sid for key, sid in tables["store"]}
    stored = {by_key[k]: ts for k, ts, _ in tables["polls"]}
    assert stored == {f"s{i}": expected for i, (_, expected) in enumerate(TIMESTAMPS)}


@pytest.mark.parametrize(
    ("text", "active"), [("active", 1), ("ACTIVE", 1), ("Active", 1), (" inactive ", 0), ("InActive", 0)]
)
def test_status_case_insensitive(db, csv_file, dump, text: str, active: int) -> None:
    import_file(db, csv_file("p.csv", f"store_id,timestamp_utc,status\ns,2023-01-22 12:09:39 UTC,{text}\n"))
    assert dump(db)["polls"] == [(1, BASE, active)]


@pytest.mark.parametrize("text", ["up", "", "activ", "1", "true"])
def test_bad_status(text: str) -> None:
    with pytest.raises(ValueError, match="active"):
        v.parse_status(text)


H = 3_600_000_000
M = 60_000_000
S = 1_000_000


@pytest.mark.parametrize(
    ("text", "is_end", "expected"),
    [
        ("09:00", False, 9 * H),
        ("9:00", False, 9 * H),
        ("09:30:15", False, 9 * H + 30 * M + 15 * S),
        ("09:30:15.5", False, 9 * H + 30 * M + 15 * S + 500_000),
        ("23:59:59.999999", True, 86_400_000_000 - 1),
        ("00:00:00", False, 0),
        ("24:00:00", True, 86_400_000_000),
        ("24:00", True, 86_400_000_000),
        (" 17:00 ", True, 17 * H),
    ],
)
def test_parse_time(text: str, is_end: bool, expected: int) -> None:
    assert v.parse_time_us(text, is_end=is_end) == expected


@pytest.mark.parametrize(
    ("text", "is_end", "reason"),
    [
        ("25:00", True, "hour 25"),
        ("24:00:00", False, "only valid as an end time"),
        ("24:00:01", True, "hour 24"),
        ("09:60", False, "minute 60"),
        ("09:00:60", False, "second 60"),
        ("9", False, "not a time"),
        ("09:00:00.1234567", False, "not a time"),
        ("9am", False, "not a time"),
    ],
)
def test_bad_times(text: str, is_end: bool, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        v.parse_time_us(text, is_end=is_end)


@pytest.mark.parametrize(("text", "day"), [("0", 0), ("6", 6), (" 3 ", 3), ("+2", 2), ("06", 6)])
def test_day_of_week(text: str, day: int) -> None:
    assert v.parse_day_of_week(text) == day


@pytest.mark.parametrize("text", ["7", "-1", "", "Mon", "1.0"])
def test_bad_day_of_week(text: str) -> None:
    with pytest.raises(ValueError, match="dayOfWeek"):
        v.parse_day_of_week(text)


def test_business_hours_values_stored(db, csv_file, dump) -> None:
    path = csv_file(
        "h.csv",
        "store_id,day_of_week,start_time_local,end_time_local\n"
        "s,0,09:00,24:00:00\n"
        "s, 6 , 22:00:00.25 , 02:00 \n"
        "s,3,00:00:00,23:59:59.999999\n",
    )
    summary = import_file(db, path)
    assert (summary.inserted, summary.stores, summary.replaced) == (3, 1, 0)
    rows = sorted((d, s, e) for _, _, d, s, e in dump(db)["business_hours"])
    assert rows == [
        (0, 9 * H, 24 * H),
        (3, 0, 24 * H - 1),
        (6, 22 * H + 250_000, 2 * H),
    ]


@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Kolkata", "UTC", "Europe/Kyiv", " America/New_York "])
def test_known_zones(db, csv_file, dump, zone: str) -> None:
    import_file(db, csv_file("z.csv", f"store_id,timezone_str\ns,{zone}\n"))
    assert dump(db)["store_timezone"] == [(1, zone.strip())]


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "america/chicago", "CST+6", "", "../etc/passwd", "Europe/", "America", "zone.tab"]
)
def test_unknown_zones(zone: str) -> None:
    with pytest.raises(ValueError):
        v.parse_zone(zone)


def test_whitespace_is_not_part_of_any_value(db, csv_file, dump) -> None:
    import_file(db, csv_file("p.csv", "store_id,timestamp_utc,status\n  0012  , 2023-01-22 12:09:39 UTC , active \n"))
    import_file(db, csv_file("z.csv", "store_id,timezone_str\n0012,\tAsia/Tokyo\t\n"))
    tables = dump(db)
    assert tables["store"] == [(1, "0012")]
    assert tables["polls"] == [(1, BASE, 1)]
    assert tables["store_timezone"] == [(1, "Asia/Tokyo")]


def test_whitespace_spellings_of_one_key_are_one_poll(db, csv_file, dump) -> None:
    summary = import_file(
        db,
        csv_file(
            "p.csv",
            "store_id,timestamp_utc,status\n7,2023-01-22 12:09:39 UTC,active\n 7 ,2023-01-22T12:09:39Z,inactive\n",
        ),
    )
    assert summary.duplicates == 1
    assert dump(db)["polls"] == [(1, BASE, 0)]


def test_bad_value_in_whitespace_file_still_reports_raw_value(db, csv_file) -> None:
    path = csv_file("p.csv", "store_id,timestamp_utc,status\n1, 2023-01-22 12:09:39 UTC ,  up \n")
    with pytest.raises(InvalidRowsError) as info:
        import_file(db, path)
    assert [p.format(path) for p in info.value.problems] == [
        f"{path}:2: column 'status': value '  up ': status must be 'active' or 'inactive'"
    ]
