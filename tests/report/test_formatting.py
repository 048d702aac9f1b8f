"""Exact two-decimal formatting (round half to even) and the report CSV."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon_tui.report import REPORT_HEADER, ReportResult, write_report_csv
from storemon_tui.report.formatting import (
    REPORT_COLUMNS,
    TICKS_PER_HOUR,
    TICKS_PER_MINUTE,
    csv_field,
    format_hours,
    format_minutes,
    report_lines,
    round_half_even,
)


def test_header_is_the_contract_header():
    assert REPORT_HEADER == (
        "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
        "downtime_last_hour,downtime_last_day,downtime_last_week"
    )


@pytest.mark.parametrize(
    ("hours", "text"),
    [
        ("0.125", "0.12"),  # exact half, 2 is even → down
        ("0.135", "0.14"),  # exact half, 3 is odd → up
        ("0.145", "0.14"),
        ("1.005", "1.00"),
        ("1.015", "1.02"),
        ("0.124999", "0.12"),
        ("0.125001", "0.13"),
        ("0", "0.00"),
        ("168", "168.00"),
        ("1.7416666", "1.74"),
        ("0.004999", "0.00"),
        ("0.005", "0.00"),  # half → even 0
        ("0.015", "0.02"),
    ],
)
def test_hours_round_half_to_even(hours, text):
    # durations given in hours as exact decimals; ticks = hours × 7.2e9 (exact for these)
    t = Decimal(hours) * TICKS_PER_HOUR
    assert t == int(t)
    assert format_hours(np.array([int(t)]))[0] == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0.00"),
        (30 * 60, "30.00"),
        (60 * 60, "60.00"),
        (7.5, "0.12"),  # 0.125 min → even
        (8.1, "0.14"),  # 0.135 min → up
        (0.3, "0.00"),  # 0.005 min → even 0
        (0.9, "0.02"),  # 0.015 min → even 2
    ],
)
def test_minutes_round_half_to_even(seconds, text):
    ticks = int(Decimal(str(seconds)) * 2_000_000)
    assert format_minutes(np.array([ticks]))[0] == text


def test_half_tick_precision_matters():
    # 0.125 h is 900_000_000 ticks; one tick more must round up
    assert format_hours(np.array([900_000_000, 900_000_001, 899_999_999])).tolist() == ["0.12", "0.13", "0.12"]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2 * 168 * 3600 * 1_000_000), st.sampled_from([TICKS_PER_MINUTE, TICKS_PER_HOUR]))
def test_formatting_matches_decimal(ticks, unit):
    expected = (Decimal(ticks) / Decimal(unit)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    fmt = format_minutes if unit == TICKS_PER_MINUTE else format_hours
    assert fmt(np.array([ticks]))[0] == f"{expected:.2f}"


def test_round_half_even_integers():
    assert round_half_even(np.array([5, 15, 25, 14, 16, 0]), 10).tolist() == [0, 2, 2, 1, 2, 0]


def test_csv_field_quoting():
    assert csv_field("12345678901234567890") == "12345678901234567890"
    assert csv_field("a,b") == '"a,b"'
    assert csv_field('say "hi"') == '"say ""hi"""'
    assert csv_field("line\nbreak") == '"line\nbreak"'
    assert csv_field("cr\rhere") == '"cr\rhere"'


def _result() -> ReportResult:
    h, m = TICKS_PER_HOUR, TICKS_PER_MINUTE
    return ReportResult(
        store_ids=np.array(["0012", "a,b", "12"], dtype=object),
        uptime_ticks=np.array([[0, 6270 * 2_000_000, 6270 * 2_000_000], [60 * m, 24 * h, 168 * h], [0, 0, 0]]),
        downtime_ticks=np.array([[30 * m, 4530 * 2_000_000, 4530 * 2_000_000], [0, 0, 0], [0, 0, 0]]),
        now_us=0,
    )


EXPECTED_CSV = (
    REPORT_HEADER
    + "\n0012,0.00,1.74,1.74,30.00,1.26,1.26"
    + '\n"a,b",60.00,24.00,168.00,0.00,0.00,0.00'
    + "\n12,0.00,0.00,0.00,0.00,0.00,0.00\n"
)


def test_report_lines():
    assert report_lines(_result())[0] == "0012,0.00,1.74,1.74,30.00,1.26,1.26"


def test_write_report_csv_to_path(tmp_path):
    path = tmp_path / "r.csv"
    write_report_csv(_result(), path)
    assert path.read_bytes() == EXPECTED_CSV.encode()
    write_report_csv(_result(), str(path))
    assert path.read_bytes() == EXPECTED_CSV.encode()


def test_write_report_csv_to_file_objects():
    text = io.StringIO()
    write_report_csv(_result(), text)
    assert text.getvalue() == EXPECTED_CSV
    binary = io.BytesIO()
    write_report_csv(_result(), binary)
    assert binary.getvalue() == EXPECTED_CSV.encode()


def test_empty_report_is_header_only(tmp_path):
    empty = ReportResult(np.zeros(0, dtype=object), np.zeros((0, 3), np.int64), np.zeros((0, 3), np.int64), 0)
    out = io.StringIO()
    write_report_csv(empty, out)
    assert out.getvalue() == REPORT_HEADER + "\n"


def _as_frame(result: ReportResult) -> pd.DataFrame:
    """The report as a DataFrame with float columns (minutes for the hour, hours otherwise)."""
    div = np.array([TICKS_PER_MINUTE, TICKS_PER_HOUR, TICKS_PER_HOUR], dtype=np.float64)
    up = result.uptime_ticks / div
    down = result.downtime_ticks / div
    data = {REPORT_COLUMNS[0]: pd.Series(result.store_ids, dtype=object)}
    for k in range(3):
        data[REPORT_COLUMNS[1 + k]] = up[:, k]
    for k in range(3):
        data[REPORT_COLUMNS[4 + k]] = down[:, k]
    return pd.DataFrame(data)


def test_to_frame_float_columns():
    frame = _as_frame(_result())
    assert list(frame.columns) == REPORT_HEADER.split(",")
    assert frame["store_id"].tolist() == ["0012", "a,b", "12"]
    assert frame["uptime_last_day"].tolist()[0] == pytest.approx(6270 / 3600)
    assert frame["downtime_last_hour"].tolist()[0] == 30.0
    assert frame["uptime_last_week"].dtype == np.float64


def test_format_hundredths_outside_the_table():
    from storemon_tui.report.formatting import format_hundredths

    assert format_hundredths(np.array([2**20 + 5, -125, 7])).tolist() == ["10485.81", "-1.25", "0.07"]
    assert format_hundredths(np.array([], dtype=np.int64)).tolist() == []
