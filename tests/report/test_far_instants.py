"""A report costs what its data holds, never the time between its oldest and newest instants.

Databases may hold polls from 1970 or from 2123 (imported before such rows
were refused), and ``--as-of`` can be anything. Each case checks the exact
numbers and, structurally, how many local business-hours occurrences the
engine generated (the work that used to grow with the span), plus a
generous time bound.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pytest

from storemon_tui.report import ReportInput, compute_report
from storemon_tui.report import hours as hours_module
from tests.report.report_db import chunked_report, fill
from tests.report.report_helpers import hm, ticks, us

H = 3600 * 2_000_000  # ticks per hour
NOW = us("2023-01-25T12:00:00Z")
DAY_US = 86_400_000_000


@pytest.fixture
def occurrences(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Local occurrences (one hours row on one local date) generated, per call of the interval builder."""
    counts: list[int] = []
    real = hours_module._local_occurrences

    def counting(*args):
        occ = real(*args)
        counts.append(len(occ.store))
        return occ

    monkeypatch.setattr(hours_module, "_local_occurrences", counting)
    return counts


def fleet(n: int, extra: list[tuple[str, int, bool]] = ()) -> ReportInput:
    """``n`` stores open 09:00–17:00 New York on weekdays, polled hourly over the last 9 days."""
    rng = np.random.default_rng(n)
    polls = [
        (f"s{i:03d}", NOW - k * 3_600_000_000 - int(rng.integers(0, 1_800_000_000)), bool(rng.random() < 0.9))
        for i in range(n)
        for k in range(9 * 24)
    ]
    hours = [(f"s{i:03d}", d, hm("09:00"), hm("17:00")) for i in range(n) for d in range(5)]
    return ReportInput.from_records(polls + list(extra), hours, {f"s{i:03d}": "America/New_York" for i in range(n)})


def test_a_1970_poll_costs_nothing_extra(occurrences):
    plain = fleet(50)
    compute_report(plain, NOW)
    base = sum(occurrences)
    occurrences.clear()
    result = compute_report(fleet(50, [("s007", us("1970-01-05T15:00:00Z"), False)]), NOW)
    assert sum(occurrences) == base  # s007 has evidence before its week: 1970 is never looked at
    assert len(result) == 50


def test_evidence_from_1970_owns_a_week_at_the_cost_of_a_few_polls(occurrences):
    # Open Monday 09:00–10:00 Chicago. Evidence: one inactive poll on Monday 1970-01-05 09:30 CST.
    # Every later poll is on a Tuesday (closed): the 1970 poll owns this week's Monday hour → 1 h down.
    polls = [("X", us("1970-01-05T15:30:00Z"), False)]
    polls += [("X", us(f"2023-01-{d:02d}T16:00:00Z"), True) for d in (3, 10, 17, 24)]  # Tuesdays
    inp = ReportInput.from_records(polls, [("X", 0, hm("09:00"), hm("10:00"))])
    assert ticks(inp, "2023-01-24T18:00:00Z")["X"] == ([0, 0, 0], [0, 0, H])
    # The week window (~15 local dates) plus a week of dates around each of the 3 older polls:
    # about 15 + 3 × 7 Mondays-or-not occurrences of one row — not 53 years of Mondays (~2,770).
    assert sum(occurrences) < 40


def test_a_poll_in_2123_does_not_make_200_stores_slow(occurrences):
    # The same fleet with one more store polled once, 30 days after the data, then in 2123: "now" is
    # that poll, so every other store looks back for its last evidence. The work is the same.
    soon = NOW + 30 * DAY_US
    compute_report(fleet(200, [("future", soon, True)]), soon)
    work_soon = sum(occurrences)
    occurrences.clear()
    started = time.monotonic()
    far = us("2123-06-01T12:00:00Z")  # a Tuesday, 08:00 EDT
    result = compute_report(fleet(200, [("future", far, True)]), far)
    assert time.monotonic() - started < 20  # was 8 s and 1.3 GB; now well under a second
    assert abs(sum(occurrences) - work_soon) <= work_soon // 10
    rows = dict(
        zip(
            result.store_ids,
            zip(result.uptime_ticks.tolist(), result.downtime_ticks.tolist(), strict=True),
            strict=True,
        )
    )
    # The 2123 week of a 2023 store belongs to its last evidence poll, of January 2023: five 8-hour
    # days in New York (Tue 25 May … Mon 31 May, the window starting before Tuesday's opening).
    for sid in ("s000", "s123"):
        up, down = rows[sid]
        assert (up[2], down[2]) in ((40 * H, 0), (0, 40 * H))
    assert rows["future"] == ([H, 24 * H, 168 * H], [0, 0, 0])  # open 24×7, one active poll


def test_the_last_day_of_9999_is_a_valid_now():
    # 9999-12-31 is a Friday. A 24×7 store and a New York store open weekdays 09:00–17:00
    # (EST in December, also in the year 10000 that its last opening reaches into).
    last = us("9999-12-31T23:59:59Z")
    polls = [
        ("all-day", last, True),
        ("ny", us("9999-12-31T15:00:00Z"), True),
        ("ny", us("9999-12-30T15:00:00Z"), False),
    ]
    inp = ReportInput.from_records(
        polls, [("ny", d, hm("09:00"), hm("17:00")) for d in range(5)], {"ny": "America/New_York"}
    )
    got = ticks(inp, last)
    assert got["all-day"] == ([3600 * 2_000_000, 24 * H, 168 * H], [0, 0, 0])
    # Week [12-24 23:59:59Z, 12-31 23:59:59Z): open Mon 27 … Fri 31, 14:00–22:00Z, 40 h.
    # Evidence: Thu 30 10:00 EST (down) and Fri 31 10:00 EST (up); midpoint Thu 22:00 EST = Fri 03:00Z.
    # Down: Mon–Thu = 32 h; up: Fri 8 h. Last day [Fri 00:00Z…): Friday's 8 h, up. Last hour: closed.
    assert got["ny"] == ([0, 8 * H, 8 * H], [0, 0, 32 * H])


def test_a_poll_on_9999_12_20_among_2023_data_is_quick(occurrences):
    started = time.monotonic()
    inp = fleet(100, [("far", us("9999-12-20T08:00:00Z"), True)])
    result = compute_report(inp, us("9999-12-20T08:00:00Z"))
    assert time.monotonic() - started < 20  # was more than 10 minutes
    assert len(result) == 101
    assert sum(occurrences) < 10_000


@pytest.mark.parametrize(
    "as_of",
    [
        "1970-01-01T00:00:00Z",
        "1975-06-01T00:00:00Z",
        "2023-01-25T12:00:00Z",
        "2123-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
)
def test_as_of_can_be_anything(as_of, occurrences):
    inp = fleet(20, [("s001", us("1970-03-02T15:00:00Z"), True)])
    result = compute_report(inp, us(as_of))
    assert sum(occurrences) < 20 * 120
    expected = 20 if us(as_of) >= NOW - 9 * DAY_US else int(us(as_of) >= us("1970-03-02T15:00:00Z"))
    assert len(result) == expected


def test_far_instants_through_the_database(db):
    # The same cases end to end: chunks read from SQLite or PostgreSQL.
    stores = [
        ("a", None, [], [(us("1970-01-05T15:00:00Z"), False), (us("2023-01-20T12:00:00Z"), True)]),
        (
            "b",
            "America/New_York",
            [(d, hm("09:00"), hm("17:00")) for d in range(5)],
            [(us("9999-12-31T15:00:00Z"), True)],
        ),
        ("c", "Asia/Kolkata", [], [(us("2123-06-01T12:00:00Z"), False)]),
    ]
    fill(db, stores)
    lines = chunked_report(db).splitlines()  # now = 9999-12-31 15:00Z
    assert lines[1:] == [
        "a,60.00,24.00,168.00,0.00,0.00,0.00",  # its 2023 poll owns everything after it
        "b,60.00,8.00,40.00,0.00,0.00,0.00",  # Friday 14:00–15:00Z so far; since Thursday 15:00Z 8 h; 5 × 8 h
        "c,0.00,0.00,0.00,60.00,24.00,168.00",
    ]
    assert chunked_report(db, us("2023-01-22T00:00:00Z")).splitlines()[1:] == ["a,60.00,24.00,168.00,0.00,0.00,0.00"]
    assert datetime.fromtimestamp(us("9999-12-31T15:00:00Z") // 1_000_000, UTC).weekday() == 4  # a Friday


def test_a_store_drill_down_with_a_1970_poll_costs_its_polls(db, occurrences):
    # The drill-down tests each poll on its own and draws the week: 53 years of Mondays are never
    # generated. The 1970 Monday poll is the only evidence (every later poll is on a closed
    # Tuesday): it owns this week's Monday hour, drawn and counted down.
    from storemon_tui.report.store_detail import load_store_detail

    polls = [(us("1970-01-05T15:30:00Z"), False)] + [(us(f"2023-01-{d:02d}T16:00:00Z"), True) for d in (3, 10, 17, 24)]
    fill(db, [("X", None, [(0, hm("09:00"), hm("10:00"))], polls)])
    detail = load_store_detail(db, "X")
    assert detail.evidence_polls == 1
    assert detail.row is not None and detail.row == detail.timeline_row
    assert detail.row["downtime_last_week"] == "1.00"
    assert sum(occurrences) < 200
