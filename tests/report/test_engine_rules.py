"""One test per rule and per worked example of shared/spec/uptime.md.

Durations are checked exactly in ticks (½ µs); the arithmetic is in comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from storemon_tui.errors import Cancelled
from storemon_tui.report import ReportInput, compute_report
from tests.report.report_helpers import hm, make_input, rows, ticks, us

S = 2_000_000  # ticks per second
MIN = 60 * S
H = 3600 * S
WEEK = 168 * H
ZERO = ["0.00"] * 6


# ---------------------------------------------------------------- worked examples


def test_worked_example_store_a():
    # New York, Monday 09:00–12:00. Monday 2023-01-23 is EST (UTC−5).
    inp = make_input(
        polls=[
            ("A", "2023-01-23T15:14:00Z", "active"),  # 10:14 local
            ("A", "2023-01-23T16:15:00Z", "inactive"),  # 11:15 local
            ("A", "2023-01-23T13:00:00Z", "inactive"),  # 08:00 local: closed, not evidence
        ],
        hours=[("A", 0, "09:00", "12:00")],
        zones={"A": "America/New_York"},
    )
    now = "2023-01-23T17:30:00Z"  # 12:30 local
    # midpoint 10:44:30; active owns 09:00–10:44:30 = 6270 s, inactive 10:44:30–12:00 = 4530 s
    # last hour [11:30, 12:30): open 11:30–12:00 = 30 min, all inactive
    up, down = ticks(inp, now)["A"]
    assert up == [0, 6270 * S, 6270 * S]
    assert down == [30 * MIN, 4530 * S, 4530 * S]
    # 6270/3600 = 1.7416… → 1.74 h; 4530/3600 = 1.2583… → 1.26 h
    assert rows(inp, now)["A"] == ("0.00", "1.74", "1.74", "30.00", "1.26", "1.26")


def test_worked_example_store_b_no_hours_no_zone():
    # no hours rows → 24×7; the single active poll 3 days before now owns all time
    inp = make_input(polls=[("B", "2023-01-20T17:30:00Z", "active")])
    now = "2023-01-23T17:30:00Z"
    assert ticks(inp, now)["B"] == ([H, 24 * H, WEEK], [0, 0, 0])
    assert rows(inp, now)["B"] == ("60.00", "24.00", "168.00", "0.00", "0.00", "0.00")


@pytest.mark.parametrize(
    ("day_poll", "now", "hours"),
    [
        # 2024-03-10 clocks go 02:00 → 03:00: 01:30 EST = 06:30Z, 09:00 EDT = 13:00Z → 6.5 h
        ("2024-03-10T08:00:00Z", "2024-03-10T20:00:00Z", 6.5),
        # 2024-11-03 clocks go 02:00 → 01:00: earlier 01:30 is EDT = 05:30Z, 09:00 EST = 14:00Z → 8.5 h
        ("2024-11-03T08:00:00Z", "2024-11-03T20:00:00Z", 8.5),
    ],
)
def test_worked_example_store_c_dst(day_poll, now, hours):
    inp = make_input(
        polls=[("C", day_poll, "active")], hours=[("C", 6, "01:30", "09:00")], zones={"C": "America/New_York"}
    )
    up, down = ticks(inp, now)["C"]
    assert up == [0, int(hours * H), int(hours * H)]
    assert down == [0, 0, 0]


# ---------------------------------------------------------------- now and windows


def test_polls_after_now_are_ignored():
    # 24×7; active poll a day before now, inactive poll after now must not count
    inp = make_input(polls=[("X", "2023-01-22T12:00:00Z", "active"), ("X", "2023-01-23T12:30:00Z", "inactive")])
    assert ticks(inp, "2023-01-23T12:00:00Z")["X"] == ([H, 24 * H, WEEK], [0, 0, 0])


def test_poll_exactly_at_now_is_evidence():
    # inactive poll at now: midpoint with the active poll 2 h earlier is now − 1 h
    inp = make_input(polls=[("X", "2023-01-23T10:00:00Z", "active"), ("X", "2023-01-23T12:00:00Z", "inactive")])
    assert ticks(inp, "2023-01-23T12:00:00Z")["X"] == ([0, 23 * H, 167 * H], [H, H, H])


def test_windows_are_half_open_and_absolute():
    # open Monday 09:00–10:00 Chicago (15:00–16:00Z on 2023-01-23); now = 17:00Z:
    # the last hour [16:00Z, 17:00Z) touches the closing instant only → 0
    inp = make_input(polls=[("X", "2023-01-23T15:30:00Z", "active")], hours=[("X", 0, "09:00", "10:00")])
    assert ticks(inp, "2023-01-23T17:00:00Z")["X"] == ([0, H, H], [0, 0, 0])
    # now = 15:30Z: the hour window holds 30 min of opening (15:00–15:30Z); the week
    # [Jan 16 15:30Z, now) also holds the end of the previous Monday's opening (15:30–16:00Z)
    assert ticks(inp, "2023-01-23T15:30:00Z")["X"] == ([30 * MIN, 30 * MIN, H], [0, 0, 0])


def test_week_window_excludes_business_hours_older_than_168h():
    # 24×7 store with an active poll 10 days ago: the week is exactly 168 h
    inp = make_input(polls=[("X", "2023-01-13T00:00:00Z", "active")])
    assert ticks(inp, "2023-01-23T00:00:00Z")["X"][0] == [H, 24 * H, WEEK]


# ---------------------------------------------------------------- zones


def test_missing_zone_is_chicago():
    # 09:00–10:00 Monday, Chicago CST (UTC−6) = 15:00–16:00Z; now 15:45Z → 45 min today,
    # plus 15:45–16:00Z of the previous Monday inside the week window → 60 min
    inp = make_input(polls=[("X", "2023-01-23T15:30:00Z", "active")], hours=[("X", 0, "09:00", "10:00")])
    assert ticks(inp, "2023-01-23T15:45:00Z")["X"][0] == [45 * MIN, 45 * MIN, H]


def test_unknown_zone_falls_back_to_chicago():
    inp = make_input(
        polls=[("X", "2023-01-23T15:30:00Z", "active")], hours=[("X", 0, "09:00", "10:00")], zones={"X": "Mars/Base"}
    )
    assert ticks(inp, "2023-01-23T15:45:00Z")["X"][0] == [45 * MIN, 45 * MIN, H]


def test_asia_kolkata_half_hour_offset():
    # Kolkata UTC+05:30: Monday 09:00–17:00 = 03:30–11:30Z; poll inside at 04:00Z
    inp = make_input(
        polls=[("K", "2023-01-23T04:00:00Z", "active"), ("K", "2023-01-23T03:15:00Z", "inactive")],  # 08:45: closed
        hours=[("K", 0, "09:00", "17:00")],
        zones={"K": "Asia/Kolkata"},
    )
    # now 11:00Z: open 03:30–11:00Z = 7.5 h, all active; the week [Jan 16 11:00Z, now)
    # adds 11:00–11:30Z of the previous Monday → 8 h
    assert ticks(inp, "2023-01-23T11:00:00Z")["K"] == ([H, 7 * H + 30 * MIN, 8 * H], [0, 0, 0])


# ---------------------------------------------------------------- DST


def _one_store(hours, zone, poll_iso, now_iso, active=True):
    inp = make_input(polls=[("D", poll_iso, active)], hours=hours, zones={"D": zone})
    return ticks(inp, now_iso)["D"]


def test_new_york_spring_forward_hours_spanning_the_gap():
    # Sunday 01:00–03:00 on 2024-03-10: 01:00 EST = 06:00Z, 03:00 EDT = 07:00Z → 1 h (not 2)
    up, _ = _one_store([("D", 6, "01:00", "03:00")], "America/New_York", "2024-03-10T06:30:00Z", "2024-03-10T12:00:00Z")
    assert up[1] == H


def test_new_york_nonexistent_start_maps_to_transition_instant():
    # Sunday 02:30–04:00: 02:30 does not exist → 07:00Z (the 03:00 EDT instant); 04:00 EDT = 08:00Z → 1 h
    up, _ = _one_store([("D", 6, "02:30", "04:00")], "America/New_York", "2024-03-10T07:30:00Z", "2024-03-10T12:00:00Z")
    assert up[1] == H
    # 02:15–02:45: both ends map to 07:00Z → zero length, dropped → no business, no evidence
    up, down = _one_store(
        [("D", 6, "02:15", "02:45")], "America/New_York", "2024-03-10T07:00:00Z", "2024-03-10T12:00:00Z"
    )
    assert up == down == [0, 0, 0]


def test_new_york_fall_back_hours_spanning_the_repeat():
    # Sunday 01:00–03:00 on 2024-11-03: 01:00 EDT = 05:00Z, 03:00 EST = 08:00Z → 3 h
    up, _ = _one_store([("D", 6, "01:00", "03:00")], "America/New_York", "2024-11-03T06:00:00Z", "2024-11-03T12:00:00Z")
    assert up[1] == 3 * H


def test_new_york_ambiguous_times_use_earlier_occurrence():
    # Sunday 01:30–01:45: earlier occurrence (EDT) = 05:30–05:45Z → 15 min
    hours = [("D", 6, "01:30", "01:45")]
    up, _ = _one_store(hours, "America/New_York", "2024-11-03T05:40:00Z", "2024-11-03T12:00:00Z")
    assert up[1] == 15 * MIN
    # a poll at 06:35Z (01:35 EST, the second occurrence) is outside business hours → no evidence
    up, down = _one_store(hours, "America/New_York", "2024-11-03T06:35:00Z", "2024-11-03T12:00:00Z")
    assert up == down == [0, 0, 0]


def test_lord_howe_half_hour_dst_start():
    # 2024-10-06 02:00 (+10:30) → 02:30 (+11). Sunday 01:00–03:00:
    # 01:00 +10:30 = Oct 5 14:30Z; 03:00 +11 = Oct 5 16:00Z → 1.5 h
    up, _ = _one_store(
        [("D", 6, "01:00", "03:00")], "Australia/Lord_Howe", "2024-10-05T15:00:00Z", "2024-10-05T20:00:00Z"
    )
    assert up[1] == 90 * MIN
    # 02:15 does not exist → 15:30Z (the transition); 02:15–03:00 = 15:30–16:00Z → 30 min
    up, _ = _one_store(
        [("D", 6, "02:15", "03:00")], "Australia/Lord_Howe", "2024-10-05T15:45:00Z", "2024-10-05T20:00:00Z"
    )
    assert up[1] == 30 * MIN


def test_lord_howe_half_hour_dst_end():
    # 2024-04-07 02:00 (+11) → 01:30 (+10:30). Sunday 01:00–03:00:
    # 01:00 +11 = Apr 6 14:00Z; 03:00 +10:30 = Apr 6 16:30Z → 2.5 h
    up, _ = _one_store(
        [("D", 6, "01:00", "03:00")], "Australia/Lord_Howe", "2024-04-06T15:00:00Z", "2024-04-06T20:00:00Z"
    )
    assert up[1] == 150 * MIN
    # 01:45–02:00: 01:45 is repeated → earlier (+11) = 14:45Z; 02:00 +10:30 = 15:30Z → 45 min
    up, _ = _one_store(
        [("D", 6, "01:45", "02:00")], "Australia/Lord_Howe", "2024-04-06T15:00:00Z", "2024-04-06T20:00:00Z"
    )
    assert up[1] == 45 * MIN


# ---------------------------------------------------------------- business-hours rows


def test_closed_weekday_and_polls_outside_hours_ignored():
    # open Monday 09:00–17:00 Chicago only; Tuesday's inactive poll is not evidence
    inp = make_input(
        polls=[("X", "2023-01-23T16:00:00Z", "active"), ("X", "2023-01-24T16:00:00Z", "inactive")],
        hours=[("X", 0, "09:00", "17:00")],
    )
    # now = Tuesday 23:00Z: last day [Mon 23:00Z, Tue 23:00Z) holds no opening (Mon closes 23:00Z)
    assert ticks(inp, "2023-01-24T23:00:00Z")["X"] == ([0, 0, 8 * H], [0, 0, 0])


def test_overnight_hours_end_next_day():
    # Monday 22:00–02:00 Chicago = Tue 04:00Z – Tue 08:00Z → 4 h
    inp = make_input(polls=[("X", "2023-01-24T05:00:00Z", "active")], hours=[("X", 0, "22:00", "02:00")])
    assert ticks(inp, "2023-01-24T12:00:00Z")["X"][0] == [0, 4 * H, 4 * H]


def test_start_equal_end_is_24_hours_from_start():
    # Monday 09:00–09:00 Chicago = Mon 15:00Z – Tue 15:00Z
    inp = make_input(polls=[("X", "2023-01-23T16:00:00Z", "active")], hours=[("X", 0, "09:00", "09:00")])
    assert ticks(inp, "2023-01-25T00:00:00Z")["X"][0] == [0, 15 * H, 24 * H]


@pytest.mark.parametrize("end", ["23:59:59", "23:59:59.999999", "24:00:00"])
def test_end_at_or_after_235959_is_midnight(end):
    # Monday 00:00–end Chicago = Mon 06:00Z – Tue 06:00Z: exactly 24 h
    inp = make_input(polls=[("X", "2023-01-23T12:00:00Z", "active")], hours=[("X", 0, "00:00", end)])
    assert ticks(inp, "2023-01-24T12:00:00Z")["X"][0] == [0, 18 * H, 24 * H]


def test_end_just_before_235959_is_not_rounded():
    # 00:00–23:59:58 is 1 s short of the 23:59:59 rule
    inp = make_input(polls=[("X", "2023-01-23T12:00:00Z", "active")], hours=[("X", 0, "00:00", "23:59:58")])
    assert ticks(inp, "2023-01-24T12:00:00Z")["X"][0][2] == 24 * H - 2 * S


def test_overlapping_rows_count_once():
    # 09:00–12:00 ∪ 11:00–14:00 = 09:00–14:00 = 5 h (not 6)
    inp = make_input(
        polls=[("X", "2023-01-23T16:00:00Z", "active")], hours=[("X", 0, "09:00", "12:00"), ("X", 0, "11:00", "14:00")]
    )
    assert ticks(inp, "2023-01-24T00:00:00Z")["X"][0] == [0, 5 * H, 5 * H]


def test_split_shift_gap_is_closed():
    # 09:00–11:00 and 13:00–15:00 Chicago; active at 10:00, inactive at 14:00 (20:00Z).
    # The midpoint 12:00 falls in the gap, so each shift belongs wholly to one poll.
    inp = make_input(
        polls=[("X", "2023-01-23T16:00:00Z", "active"), ("X", "2023-01-23T20:00:00Z", "inactive")],
        hours=[("X", 0, "09:00", "11:00"), ("X", 0, "13:00", "15:00")],
    )
    assert ticks(inp, "2023-01-24T00:00:00Z")["X"] == ([0, 2 * H, 2 * H], [0, 2 * H, 2 * H])


def test_overnight_row_overlapping_next_day_row():
    # Monday 20:00–02:00 and Tuesday 01:00–03:00 (Chicago) merge: Mon 20:00 – Tue 03:00 = 7 h
    inp = make_input(
        polls=[("X", "2023-01-24T03:00:00Z", "active")], hours=[("X", 0, "20:00", "02:00"), ("X", 1, "01:00", "03:00")]
    )
    assert ticks(inp, "2023-01-24T12:00:00Z")["X"][0][1] == 7 * H


# ---------------------------------------------------------------- evidence and ownership


def test_first_and_last_poll_own_everything_before_and_after():
    # 24×7; inactive at −100 h, active at −50 h: midpoint −75 h → 93 h down before it
    now = us("2023-01-23T00:00:00Z")
    inp = ReportInput.from_records([("X", now - 100 * 3600_000_000, False), ("X", now - 50 * 3600_000_000, True)])
    assert ticks(inp, now)["X"] == ([H, 24 * H, 75 * H], [0, 0, 93 * H])


def test_store_with_polls_but_no_evidence_is_all_zero():
    inp = make_input(polls=[("X", "2023-01-24T16:00:00Z", "active")], hours=[("X", 0, "09:00", "17:00")])  # Tuesday
    assert rows(inp, "2023-01-24T18:00:00Z")["X"] == tuple(ZERO)


def test_as_of_before_a_stores_first_poll_omits_that_store():
    inp = make_input(polls=[("early", "2023-01-20T00:00:00Z", "active"), ("late", "2023-01-22T00:00:00Z", "active")])
    assert set(rows(inp, "2023-01-21T00:00:00Z")) == {"early"}


def test_store_only_in_hours_or_zone_file_is_not_reported():
    inp = make_input(
        polls=[("P", "2023-01-20T00:00:00Z", "active")],
        hours=[("H", 0, "09:00", "17:00")],
        zones={"Z": "Asia/Kolkata"},
    )
    assert set(rows(inp, "2023-01-21T00:00:00Z")) == {"P"}


def test_duplicate_polls_last_record_wins():
    # Raw arrays with a repeated (store, ts): the later entry (inactive) wins, as on import
    t = us("2023-01-20T00:00:00Z")
    inp = ReportInput(
        store_ids=np.array(["X"], dtype=object),
        poll_store=np.array([0, 0], dtype=np.int64),
        poll_ts_us=np.array([t, t], dtype=np.int64),
        poll_active=np.array([True, False]),
        hours_store=np.zeros(0, dtype=np.int64),
        hours_day=np.zeros(0, dtype=np.int64),
        hours_start_us=np.zeros(0, dtype=np.int64),
        hours_end_us=np.zeros(0, dtype=np.int64),
        zone_store=np.zeros(0, dtype=np.int64),
        zone_name=np.zeros(0, dtype=object),
    )
    assert ticks(inp, t + 86_400_000_000)["X"] == ([0, 0, 0], [H, 24 * H, WEEK])


def test_unsorted_polls_are_accepted():
    t = us("2023-01-20T00:00:00Z")
    kwargs = dict(
        store_ids=np.array(["a", "b"], dtype=object),
        hours_store=np.zeros(0, dtype=np.int64),
        hours_day=np.zeros(0, dtype=np.int64),
        hours_start_us=np.zeros(0, dtype=np.int64),
        hours_end_us=np.zeros(0, dtype=np.int64),
        zone_store=np.zeros(0, dtype=np.int64),
        zone_name=np.zeros(0, dtype=object),
    )
    hour = 3_600_000_000
    sorted_inp = ReportInput(
        poll_store=np.array([0, 0, 1]),
        poll_ts_us=np.array([t, t + hour, t]),
        poll_active=np.array([1, 0, 1], bool),
        **kwargs,
    )
    shuffled = ReportInput(
        poll_store=np.array([1, 0, 0]),
        poll_ts_us=np.array([t, t + hour, t]),
        poll_active=np.array([1, 0, 1], bool),
        **kwargs,
    )
    now = t + 2 * hour
    assert ticks(shuffled, now) == ticks(sorted_inp, now)


def test_half_microsecond_midpoints_are_exact():
    # 24×7; active at T, inactive at T + 3 µs = now: the midpoint T + 1.5 µs is 3 ticks before now
    t = us("2023-01-20T00:00:00Z")
    inp = ReportInput.from_records([("X", t, True), ("X", t + 3, False)])
    up, down = ticks(inp, t + 3)["X"]
    assert down == [3, 3, 3]
    assert up == [H - 3, 24 * H - 3, WEEK - 3]


def test_rounding_half_to_even_end_to_end():
    # 24×7; inactive owns the last 7 min 30 s of the day window = 0.125 h → "0.12";
    # polls at now − 15 min (active) and now (inactive): midpoint now − 7.5 min
    now = us("2023-01-20T00:00:00Z")
    inp = ReportInput.from_records([("X", now - 15 * 60_000_000, True), ("X", now, False)])
    assert rows(inp, now)["X"] == ("52.50", "23.88", "167.88", "7.50", "0.12", "0.12")


def test_report_rows_sorted_by_plain_string_order():
    ids = ["b", "B", "10", "9", "0012", "12", "a-uuid"]
    inp = make_input(polls=[(s, "2023-01-20T00:00:00Z", "active") for s in ids])
    assert list(compute_report(inp, us("2023-01-21T00:00:00Z")).store_ids) == sorted(ids)


# ---------------------------------------------------------------- scale paths, progress, cancel


def _random_input(seed: int, n: int = 40) -> tuple[ReportInput, int]:
    rng = np.random.default_rng(seed)
    now = us("2024-11-05T00:00:00Z")
    polls = [
        (f"s{s}", int(now - rng.integers(0, 12 * 86_400_000_000)), bool(rng.random() < 0.7))
        for s in range(n)
        for _ in range(int(rng.integers(1, 30)))
    ]
    hours = [
        (
            f"s{s}",
            int(rng.integers(0, 7)),
            int(rng.integers(0, 96)) * 900_000_000,
            int(rng.integers(0, 97)) * 900_000_000,
        )
        for s in range(n)
        if s % 5
        for _ in range(int(rng.integers(1, 9)))
    ]
    zones = {
        f"s{s}": ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London"][s % 4]
        for s in range(n)
        if s % 3
    }
    return ReportInput.from_records(polls, hours, zones), now


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("chunk_stores", [0, 1, 7])
def test_chunked_and_unchunked_computation_agree_exactly(seed, chunk_stores):
    # 0 is taken as chunks of one store (it used to make empty chunks and report no store at all).
    inp, now = _random_input(seed)
    whole = compute_report(inp, now)
    chunked = compute_report(inp, now, chunk_stores=chunk_stores)
    assert list(chunked.store_ids) == list(whole.store_ids)
    assert (chunked.uptime_ticks == whole.uptime_ticks).all()
    assert (chunked.downtime_ticks == whole.downtime_ticks).all()


@pytest.mark.parametrize("seed", [1, 2])
def test_rank_keys_give_identical_results(monkeypatch, seed):
    # As if decades of history met many stores: every segmented search falls back to ranks.
    from storemon_tui.report import segments

    inp, now = _random_input(seed)
    whole = compute_report(inp, now)
    monkeypatch.setattr(segments, "_KEY_LIMIT", 1 << 8)
    ranked = compute_report(inp, now)
    assert list(ranked.store_ids) == list(whole.store_ids)
    assert (ranked.uptime_ticks == whole.uptime_ticks).all()
    assert (ranked.downtime_ticks == whole.downtime_ticks).all()


def test_progress_reaches_one_and_is_monotone():
    inp, now = _random_input(4)
    seen: list[float] = []
    compute_report(inp, now, progress=seen.append)
    assert len(seen) >= 4
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0


def test_cancel_raises_cancelled():
    inp, now = _random_input(5)
    calls = {"n": 0}

    def cancel_on_third() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    with pytest.raises(Cancelled):
        compute_report(inp, now, should_cancel=cancel_on_third)


def test_timings_breakdown():
    inp, now = _random_input(6)
    timings: dict[str, float] = {}
    compute_report(inp, now, timings=timings)
    assert {"business_hours", "evidence", "ownership", "sums"} <= set(timings)
    assert all(v >= 0 for v in timings.values())


def test_empty_input_reports_nothing():
    inp = ReportInput.from_records([])
    assert len(compute_report(inp, us("2023-01-20T00:00:00Z"))) == 0


def test_hm_helper_sanity():
    assert hm("24:00:00") == 86_400_000_000 and hm("23:59:59.999999") == 86_399_999_999


def test_old_evidence_far_before_the_week_still_owns_it(monkeypatch):
    # Open Monday 09:00–10:00 Chicago. The only evidence is an inactive poll on Monday
    # 2022-07-04 (~200 days back); every later poll is on a Tuesday (closed). The old poll
    # is the nearest evidence to this week's Monday opening → 1 h down in the week.
    from storemon_tui.report.lookback import MemoryOlder

    polls = [("X", "2022-07-04T14:30:00Z", "inactive")]
    polls += [("X", f"2023-01-{d:02d}T16:00:00Z", "active") for d in (3, 10, 17, 24)]  # Tuesdays
    inp = make_input(polls=polls, hours=[("X", 0, "09:00", "10:00")])
    now = "2023-01-24T18:00:00Z"
    asked = []
    real = MemoryOlder.before
    monkeypatch.setattr(MemoryOlder, "before", lambda self, *a: asked.append(len(real(self, *a))) or real(self, *a))
    assert ticks(inp, now)["X"] == ([0, 0, 0], [0, 0, H])
    # The recent range (from 2023-01-16T18:00Z) holds only closed Tuesdays: one look-back
    # round reads the three older polls and finds the July evidence among them.
    assert asked == [3]
