"""One test per rule of shared/spec/status.md, hand-computed (the arithmetic is in the comments).

Each test builds an input in memory and checks the spec's text row; the same
rows through a database are checked in ``test_status_db.py``.
"""

from __future__ import annotations

import pytest

from storemon_tui.report import ReportInput
from storemon_tui.report.status import STATUS_HEADER, compute_status, status_rows, status_text
from tests.report.report_helpers import make_input, us

NY = {"A": "America/New_York"}


def row(inp, now: str) -> dict[str, tuple[str, ...]]:
    return {r[0]: r[1:] for r in status_rows(compute_status(inp, us(now)))}


def test_worked_example_of_the_spec():
    # New York, open Monday 09:00–12:00 (14:00–17:00Z). Evidence: active 10:14 (15:14Z), inactive
    # 11:15 (16:15Z); 08:00 (13:00Z) is before opening. now 12:30 local = 17:30Z, closed since 12:00.
    # since = midpoint of 15:14Z and 16:15Z = 15:44:30Z; run = 15:44:30–17:00Z = 1 h 15 min 30 s = 1.26 h.
    # silent = 17:30 − 16:15 = 1.25 h. Week: up 15:14−14:00… owns 14:00–15:44:30 = 1 h 44 min 30 s
    # of 3 h = 6270 / 10800 = 58.0555… % → 58.06. No poll a week earlier → empty.
    inp = make_input(
        polls=[("A", "2023-01-23T15:14:00Z", "active"), ("A", "2023-01-23T16:15:00Z", "inactive")]
        + [("A", "2023-01-23T13:00:00Z", "inactive")],
        hours=[("A", 0, "09:00", "12:00")],
        zones=NY,
    )
    text = status_text(compute_status(inp, us("2023-01-23T17:30:00Z")))
    assert text.splitlines() == [
        STATUS_HEADER,
        "A,no,inactive,2023-01-23 15:44:30,1.26,2023-01-23 16:15:00,1.25,58.06,",
    ]


def test_overnight_hours():
    # Chicago, open every day 22:00–06:00 (overnight). Polls: inactive Mon 23:00 CST (05:00Z Tue),
    # active Tue 02:00 CST (08:00Z). now Tue 03:00 CST = 09:00Z: open. since = midpoint 06:30Z
    # (00:30 CST); run = 00:30–03:00 CST, all open = 2.50 h. Week: only this night has evidence and
    # it owns every night of the week: 7 nights × 8 h, but the window starts Tue 03:00 a week ago
    # and ends now: nights of the window = 3 h (Tue 03–06) + 6 × 8 h (Tue–Sun nights) + 5 h (Mon
    # 22:00 → Tue 03:00) = 56 h; down: before 00:30 CST today everything is owned by the inactive poll
    # = 56 − 2.5 = 53.5 h down, 2.5 h up → 2.5 / 56 = 4.4642… % → 4.46.
    polls = [("S", "2023-01-24T05:00:00Z", "inactive"), ("S", "2023-01-24T08:00:00Z", "active")]
    inp = make_input(polls=polls, hours=[("S", d, "22:00", "06:00") for d in range(7)])
    assert row(inp, "2023-01-24T09:00:00Z")["S"] == (
        "yes",
        "active",
        "2023-01-24 06:30:00",
        "2.50",
        "2023-01-24 08:00:00",
        "1.00",
        "4.46",
        "",
    )


@pytest.mark.parametrize(
    ("polls", "now", "expected"),
    [
        # Clocks go back on 2024-11-03: open Sunday 01:30 EDT (05:30Z) – 09:00 EST (14:00Z), 8.5 h.
        # inactive 05:45Z, active 13:45Z → since 09:45Z; run 09:45–14:00Z = 4.25 h (closed at 14:30Z).
        # Week: the Sunday before (10-27) opened 05:30–13:00Z, before the window (from 10-27 14:30Z):
        # business 8.5 h, down 05:30–09:45 = 4.25, up 4.25 → 50.00 %.
        (
            [("2024-11-03T05:45:00Z", "inactive"), ("2024-11-03T13:45:00Z", "active")],
            "2024-11-03T14:30:00Z",
            ("no", "active", "2024-11-03 09:45:00", "4.25", "2024-11-03 13:45:00", "0.75", "50.00", ""),
        ),
        # Clocks go forward on 2024-03-10 (02:00 EST → 03:00 EDT): open 01:30 EST (06:30Z) – 09:00 EDT
        # (13:00Z), 6.5 h. inactive 07:30Z, active 12:30Z → since 10:00Z; now 12:45Z, open; run
        # 10:00–12:45 = 2.75 h. Week from 03-03 12:45Z: the Sunday before opened 06:30–14:00Z (EST),
        # 1.25 h of it inside, owned by the first evidence poll (inactive), and 06:30–12:45Z today:
        # 7.5 h in all, up 2.75 → 36.666… % → 36.67.
        (
            [("2024-03-10T07:30:00Z", "inactive"), ("2024-03-10T12:30:00Z", "active")],
            "2024-03-10T12:45:00Z",
            ("yes", "active", "2024-03-10 10:00:00", "2.75", "2024-03-10 12:30:00", "0.25", "36.67", ""),
        ),
    ],
    ids=["fall-back", "spring-forward"],
)
def test_dst_weeks(polls, now, expected):
    inp = make_input(
        polls=[("C", t, a) for t, a in polls], hours=[("C", 6, "01:30", "09:00")], zones={"C": "America/New_York"}
    )
    assert row(inp, now)["C"] == expected


def test_a_store_with_no_evidence():
    # Open Monday 09:00–10:00 Chicago; polled only on Tuesdays: polls but no evidence. now Tuesday
    # 2023-01-24 16:30Z (10:30 CST): closed. Status none, no since, week sum 0 → empty percentages.
    polls = [("X", f"2023-01-{d:02d}T16:00:00Z", "active") for d in (10, 17, 24)]
    inp = make_input(polls=polls, hours=[("X", 0, "09:00", "10:00")])
    assert row(inp, "2023-01-24T16:30:00Z")["X"] == ("no", "none", "", "", "2023-01-24 16:00:00", "0.50", "", "")


def test_a_store_whose_only_evidence_is_older_than_the_week():
    # Open Monday 09:00–10:00 Chicago. Evidence: active Monday 2022-06-27 09:30 CDT (14:30Z),
    # inactive Monday 2022-07-04 09:30 CDT; every later poll is on a Tuesday (closed).
    # since = midpoint = Thursday 2022-06-30 21:30 CDT = 2022-07-01 02:30:00Z. run = every Monday
    # hour from 2022-07-04 to 2023-01-23: 30 Mondays × 1 h = 30.00 h (a local hour is an hour).
    # Week (from Tue 01-17 18:00Z): Monday 01-23, 1 h, down → 0.00 %; the week before: Monday
    # 01-16, down → 0.00 %. Silent since Tuesday 01-24 16:00Z: 2 h.
    polls = [("X", "2022-06-27T14:30:00Z", "active"), ("X", "2022-07-04T14:30:00Z", "inactive")]
    polls += [("X", f"2023-01-{d:02d}T16:00:00Z", "active") for d in (3, 10, 17, 24)]
    inp = make_input(polls=polls, hours=[("X", 0, "09:00", "10:00")])
    assert row(inp, "2023-01-24T18:00:00Z")["X"] == (
        "no",
        "inactive",
        "2022-07-01 02:30:00",
        "30.00",
        "2023-01-24 16:00:00",
        "2.00",
        "0.00",
        "0.00",
    )


def test_all_evidence_of_one_status_has_no_since():
    # 24×7 (no hours rows), three active polls: up since always → since and run empty.
    # Week: the first poll (a day ago) owns back to the window start: 168 h up → 100.00 %.
    polls = [("U", f"2023-01-2{d}T12:00:00Z", "active") for d in (2, 3, 4)]
    assert row(make_input(polls=polls), "2023-01-24T12:00:00Z")["U"] == (
        "yes",
        "active",
        "",
        "",
        "2023-01-24 12:00:00",
        "0.00",
        "100.00",
        "",
    )


def test_as_of_uses_only_the_polls_up_to_it():
    # 24×7. active 01-10 12:00, inactive 01-20 12:00, active 01-24 12:00.
    # As of 01-21 12:00: status inactive since midpoint 01-15 12:00; run = 6 days = 144.00 h;
    # week [01-14 12:00, 01-21 12:00): up until 01-15 12:00 = 24 h → 24/168 = 14.29 %; the week
    # before [01-07, 01-14): all owned by the active poll of 01-10 → 100.00 %.
    # The store "late" has its first poll after as-of: not listed.
    polls = [("S", "2023-01-10T12:00:00Z", "active"), ("S", "2023-01-20T12:00:00Z", "inactive")]
    polls += [("S", "2023-01-24T12:00:00Z", "active"), ("late", "2023-01-22T00:00:00Z", "active")]
    rows = row(make_input(polls=polls), "2023-01-21T12:00:00Z")
    assert list(rows) == ["S"]
    assert rows["S"] == (
        "yes",
        "inactive",
        "2023-01-15 12:00:00",
        "144.00",
        "2023-01-20 12:00:00",
        "24.00",
        "14.29",
        "100.00",
    )


def test_previous_week_has_its_own_polls_up_to_rule():
    # 24×7. inactive 01-16 00:00, active 01-17 00:00:01 and 01-20 00:00; now 01-24 00:00. The
    # previous week's report (now' = 01-17 00:00) knows only the inactive poll: 0.00 %. Had it
    # seen the poll one second after now', that one would own from the midpoint 01-16 12:00:00.5
    # on: 12 h of 168 = 7.14 %.
    polls = [("S", "2023-01-16T00:00:00Z", "inactive"), ("S", "2023-01-17T00:00:01Z", "active")]
    polls += [("S", "2023-01-20T00:00:00Z", "active")]
    assert row(make_input(polls=polls), "2023-01-24T00:00:00Z")["S"][-1] == "0.00"


def test_silent_hours_count_polls_outside_business_hours_too():
    # Open Monday only; the latest poll (Tuesday) is not evidence but is the last poll: silent 0.25 h.
    polls = [("X", "2023-01-23T16:00:00Z", "active"), ("X", "2023-01-24T16:00:00Z", "inactive")]
    r = row(make_input(polls=polls, hours=[("X", 0, "09:00", "17:00")]), "2023-01-24T16:15:00Z")["X"]
    assert r[1] == "active" and r[4:6] == ("2023-01-24 16:00:00", "0.25")


@pytest.mark.parametrize(("now", "open_now"), [("2023-01-23T15:00:00Z", "yes"), ("2023-01-23T23:00:00Z", "no")])
def test_open_now_is_half_open(now, open_now):
    # Chicago, open Monday 09:00–17:00 CST = 15:00–23:00Z: open at the start, closed at the end.
    inp = make_input(polls=[("X", "2023-01-23T14:00:00Z", "active")], hours=[("X", 0, "09:00", "17:00")])
    assert row(inp, now)["X"][0] == open_now


def test_percentages_round_half_to_even():
    # 24×7. inactive at now − 1512 s, active at now: the midpoint is now − 756 s, so the active poll
    # owns the last 756 s. up / week = 756 / 604 800 = 0.125 % exactly → 0.12 (half to even).
    now = us("2023-01-24T00:00:00Z")
    polls = [("S", now - 1_512_000_000, False), ("S", now, True)]
    result = compute_status(ReportInput.from_records(polls), now)
    assert status_rows(result)[0][7] == "0.12"
    assert result.uptime_pct_hundredths().tolist() == [12]


def test_store_ids_are_sorted_and_quoted_like_the_report():
    polls = [(sid, "2023-01-20T00:00:00Z", "active") for sid in ("b", "a,1", "0012", "12")]
    text = status_text(compute_status(make_input(polls=polls), us("2023-01-21T00:00:00Z")))
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["0012", "12", '"a', "b"]


@pytest.mark.parametrize("chunk_stores", [0, 1, 2])
def test_the_status_does_not_depend_on_the_chunk_size(chunk_stores):
    # Three stores, one chunk or several: the same rows (0 counts as chunks of one store; it
    # used to make empty chunks and drop every store).
    inp = make_input(
        polls=[(s, f"2023-01-23T{h}:00:00Z", st) for s in "ABC" for h, st in (("15", "active"), ("16", "inactive"))],
        hours=[("A", 0, "09:00", "12:00")],
        zones=NY,
    )
    now = us("2023-01-23T17:30:00Z")
    whole = status_text(compute_status(inp, now))
    assert len(whole.splitlines()) == 4
    assert status_text(compute_status(inp, now, chunk_stores=chunk_stores)) == whole


def test_an_empty_input_has_an_empty_status():
    assert status_text(compute_status(ReportInput.from_records([]), us("2023-01-23T17:30:00Z"))) == STATUS_HEADER + "\n"


def test_instants_are_truncated_to_the_second_even_on_half_microseconds():
    # 24×7. inactive 10:00:00.000001Z, active 10:00:01.999998Z: since = their midpoint
    # 10:00:00.9999995 → written 10:00:00 (truncated, not rounded to 10:00:01); the last poll
    # 10:00:01.999998 → 10:00:01. now 11:30Z: run = 1 h 29 min 59.0000005 s = 1.4997… h → 1.50;
    # silent = 1 h 29 min 58.000002 s = 1.4994… h → 1.50; week: the active poll owns since → now,
    # 5399.0000005 s of 604 800 s = 0.8926… % → 0.89. No poll a week earlier → empty.
    polls = [("S", "2023-01-24T10:00:00.000001Z", "inactive"), ("S", "2023-01-24T10:00:01.999998Z", "active")]
    assert row(make_input(polls=polls), "2023-01-24T11:30:00Z")["S"] == (
        "yes",
        "active",
        "2023-01-24 10:00:00",
        "1.50",
        "2023-01-24 10:00:01",
        "1.50",
        "0.89",
        "",
    )
