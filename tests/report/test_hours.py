"""Business hours → UTC: the contract's end rules and DST endpoint rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon_tui.report.hours import (
    DAY_US,
    business_intervals,
    local_to_utc,
    normalize_local_spans,
    resolve_zone,
    zone_table,
)
from tests.report.report_helpers import hm, make_input, us
from tests.report.report_reference import Zone

HOUR_US = 3_600_000_000


def local(iso_naive: str) -> int:
    """Local wall time as µs since the local epoch (same arithmetic as UTC, no zone)."""
    return us(iso_naive + "Z")


@pytest.mark.parametrize(
    ("start", "end", "expected_end"),
    [
        ("09:00", "17:00", "17:00"),
        ("22:00", "02:00", 86_400_000_000 + hm("02:00")),  # overnight → next day
        ("09:00", "09:00", 86_400_000_000 + hm("09:00")),  # start == end → 24 h of clock
        ("00:00", "23:59:59", "24:00:00"),  # at or after 23:59:59 → midnight
        ("00:00", "23:59:59.999999", "24:00:00"),
        ("00:00", "24:00:00", "24:00:00"),
        ("10:00", "23:59:58", "23:59:58"),
        ("00:00", "00:00", "24:00:00"),  # 24 h from midnight
    ],
)
def test_normalize_local_spans(start, end, expected_end):
    s, e = normalize_local_spans(np.array([hm(start)]), np.array([hm(end)]))
    assert s[0] == hm(start)
    assert e[0] == (expected_end if isinstance(expected_end, int) else hm(expected_end))


@pytest.mark.parametrize(
    ("zone", "wall", "utc"),
    [
        # unique times
        ("America/New_York", "2024-01-15T09:00:00", "2024-01-15T14:00:00"),
        ("Asia/Kolkata", "2024-01-15T09:00:00", "2024-01-15T03:30:00"),
        # New York spring forward 2024-03-10 02:00 → 03:00: 02:00–02:59 do not exist → 07:00Z
        ("America/New_York", "2024-03-10T01:59:59", "2024-03-10T06:59:59"),
        ("America/New_York", "2024-03-10T02:00:00", "2024-03-10T07:00:00"),
        ("America/New_York", "2024-03-10T02:30:00", "2024-03-10T07:00:00"),
        ("America/New_York", "2024-03-10T03:00:00", "2024-03-10T07:00:00"),
        # New York fall back 2024-11-03 02:00 → 01:00: 01:00–01:59 twice → earlier (EDT)
        ("America/New_York", "2024-11-03T01:00:00", "2024-11-03T05:00:00"),
        ("America/New_York", "2024-11-03T01:59:59.999999", "2024-11-03T05:59:59.999999"),
        ("America/New_York", "2024-11-03T02:00:00", "2024-11-03T07:00:00"),
        # Lord Howe: 30-minute changes
        ("Australia/Lord_Howe", "2024-10-06T02:15:00", "2024-10-05T15:30:00"),  # skipped → transition
        ("Australia/Lord_Howe", "2024-10-06T02:30:00", "2024-10-05T15:30:00"),
        ("Australia/Lord_Howe", "2024-04-07T01:45:00", "2024-04-06T14:45:00"),  # repeated → earlier (+11)
        ("Australia/Lord_Howe", "2024-04-07T02:00:00", "2024-04-06T15:30:00"),
        # London
        ("Europe/London", "2024-03-31T01:30:00", "2024-03-31T01:00:00"),  # skipped → transition
        ("Europe/London", "2024-10-27T01:30:00", "2024-10-27T00:30:00"),  # repeated → earlier (BST)
    ],
)
def test_local_to_utc_dst_rules(zone, wall, utc):
    assert local_to_utc(zone, np.array([local(wall)]))[0] == us(utc + "Z")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(
        [
            ("America/New_York", "2024-03-10T00:00:00"),
            ("America/New_York", "2024-11-03T00:00:00"),
            ("Australia/Lord_Howe", "2024-04-07T00:00:00"),
            ("Australia/Lord_Howe", "2024-10-06T00:00:00"),
            ("Europe/London", "2024-03-31T00:00:00"),
            ("Europe/London", "2024-10-27T00:00:00"),
            ("Asia/Kolkata", "2024-03-10T00:00:00"),
        ]
    ),
    st.lists(st.integers(-DAY_US, 2 * DAY_US), min_size=1, max_size=20),
)
def test_local_to_utc_matches_brute_force(case, offsets):
    zone_name, day = case
    walls = [local(day) + o for o in offsets]
    zone = Zone(zone_name, min(walls) - DAY_US, max(walls) + DAY_US)
    assert local_to_utc(zone_name, np.array(walls)).tolist() == [zone.to_utc(w) for w in walls]


def test_zone_table_finds_transitions():
    t_us, off_us = zone_table(
        "America/New_York", us("2024-03-01T00:00:00Z") // 10**6, us("2024-11-30T00:00:00Z") // 10**6
    )
    assert t_us.tolist() == [us("2024-03-10T07:00:00Z"), us("2024-11-03T06:00:00Z")]
    assert off_us.tolist() == [-5 * HOUR_US, -4 * HOUR_US, -5 * HOUR_US]
    t_us, off_us = zone_table("Asia/Kolkata", 1_700_000_000, 1_710_000_000)
    assert len(t_us) == 0 and off_us.tolist() == [19_800_000_000]


def test_resolve_zone():
    assert resolve_zone("Asia/Kolkata") == "Asia/Kolkata"
    assert resolve_zone(" Asia/Kolkata ") == "Asia/Kolkata"
    assert resolve_zone(None) == "America/Chicago"
    assert resolve_zone("") == "America/Chicago"
    assert resolve_zone("Not/AZone") == "America/Chicago"
    assert resolve_zone("../../etc/passwd") == "America/Chicago"


def test_business_intervals_union_clip_and_24x7():
    inp = make_input(
        polls=[("A", "2023-01-23T12:00:00Z", True), ("B", "2023-01-23T12:00:00Z", True)],
        hours=[("A", 0, "09:00", "12:00"), ("A", 0, "11:00", "14:00"), ("A", 0, "14:00", "15:00")],
        zones={"A": "America/New_York"},
    )
    lo = np.full(inp.n_stores, us("2023-01-23T00:00:00Z"))
    hi = us("2023-01-24T00:00:00Z")
    iv = business_intervals(inp, lo, hi, np.ones(inp.n_stores, dtype=bool))
    # A: 09:00–12:00 ∪ 11:00–14:00 ∪ 14:00–15:00 (touching) = 09:00–15:00 EST = 14:00–20:00Z
    # B: no rows → open 24×7, clipped to [lo, hi)
    got = list(zip(inp.store_ids[iv.store].tolist(), iv.start_us.tolist(), iv.end_us.tolist(), strict=True))
    assert got == [
        ("A", us("2023-01-23T14:00:00Z"), us("2023-01-23T20:00:00Z")),
        ("B", us("2023-01-23T00:00:00Z"), hi),
    ]


def test_business_intervals_closed_days_and_weekday_alignment():
    # Wednesday only (day 2): 2023-01-25 is a Wednesday; Chicago 09:00–10:00 = 15:00–16:00Z
    inp = make_input(polls=[("A", "2023-01-23T12:00:00Z", True)], hours=[("A", 2, "09:00", "10:00")])
    lo = np.array([us("2023-01-16T00:00:00Z")])
    iv = business_intervals(inp, lo, us("2023-01-30T00:00:00Z"), np.ones(1, dtype=bool))
    assert iv.start_us.tolist() == [us("2023-01-18T15:00:00Z"), us("2023-01-25T15:00:00Z")]
    assert iv.end_us.tolist() == [us("2023-01-18T16:00:00Z"), us("2023-01-25T16:00:00Z")]


def test_business_intervals_zero_length_dropped():
    # 02:15–02:45 on the New York spring-forward Sunday maps to [07:00Z, 07:00Z): dropped
    inp = make_input(
        polls=[("A", "2024-03-10T12:00:00Z", True)], hours=[("A", 6, "02:15", "02:45")], zones={"A": "America/New_York"}
    )
    lo = np.array([us("2024-03-09T00:00:00Z")])
    iv = business_intervals(inp, lo, us("2024-03-11T00:00:00Z"), np.ones(1, dtype=bool))
    assert len(iv) == 0
