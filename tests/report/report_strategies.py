"""Hypothesis strategies for engine tests: a few stores around DST changes, with random hours and polls;
a few stores whose history reaches years back (:func:`histories`).

A uniquely named plain module (not a conftest) so test files can import it.
"""

from __future__ import annotations

from hypothesis import strategies as st

from storemon_tui.report import ReportInput
from tests.report.report_db import NOW, YEAR
from tests.report.report_db import ZONES as FLEET_ZONES
from tests.report.report_helpers import us
from tests.report.report_reference import DAY, HOUR, US

ZONES = [
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Europe/London",
    "America/Chicago",
    None,  # no zone row → America/Chicago
]
# DST changes (all on a Sunday) and their zone, so windows and history straddle them.
ANCHORS = [
    (us("2024-03-10T07:00:00Z"), "America/New_York"),  # 02:00 → 03:00
    (us("2024-11-03T06:00:00Z"), "America/New_York"),  # 02:00 → 01:00
    (us("2024-04-06T15:00:00Z"), "Australia/Lord_Howe"),  # 02:00 → 01:30
    (us("2024-10-05T15:30:00Z"), "Australia/Lord_Howe"),  # 02:00 → 02:30
    (us("2024-03-31T01:00:00Z"), "Europe/London"),  # 01:00 → 02:00
    (us("2024-10-27T01:00:00Z"), "Europe/London"),  # 02:00 → 01:00
]
MINUTE = 60 * US
INTERESTING_TIMES = [
    0,
    HOUR,
    90 * MINUTE,
    105 * MINUTE,
    2 * HOUR - US,
    2 * HOUR,
    135 * MINUTE,
    150 * MINUTE,
    3 * HOUR,
    9 * HOUR,
    12 * HOUR,
    17 * HOUR + 30 * MINUTE,
    23 * HOUR,
    86_399 * US,
    DAY - 1,
    DAY - US // 2,
]
time_of_day = st.one_of(
    st.sampled_from(INTERESTING_TIMES),
    st.integers(0, 24 * 4 - 1).map(lambda q: q * 15 * MINUTE),
    st.integers(0, DAY - 1),
)
end_of_day = st.one_of(time_of_day, st.just(DAY))
row = st.tuples(st.one_of(st.just(6), st.integers(0, 6)), time_of_day, end_of_day)  # Sundays: DST days
poll_offset = st.one_of(
    st.integers(-10 * DAY, DAY),  # any microsecond
    st.integers(-10 * 96, 96).map(lambda q: q * 15 * MINUTE),  # aligned with hours and windows
    st.integers(-60 * DAY, -7 * DAY),  # old history: the engine's look-back must widen to reach it
)


@st.composite
def scenario(draw):
    anchor, anchor_zone = draw(st.sampled_from(ANCHORS))
    now = anchor + draw(st.one_of(st.integers(-3 * DAY, 8 * DAY), st.integers(-12, 32).map(lambda q: q * 6 * HOUR)))
    stores = []
    for i in range(draw(st.integers(1, 4))):
        zone = draw(st.one_of(st.just(anchor_zone), st.sampled_from(ZONES)))
        rows = draw(st.one_of(st.just([]), st.lists(row, min_size=1, max_size=5)))
        rows = [(d, s, e) for d, s, e in rows if s < DAY]
        offsets = draw(st.lists(poll_offset, max_size=12, unique=True))
        polls = [(now + o, draw(st.booleans())) for o in offsets]
        stores.append((f"s{i}", zone, rows, polls))
    return now, stores


def build(stores) -> ReportInput:
    return ReportInput.from_records(
        [(sid, t, a) for sid, _z, _r, polls in stores for t, a in polls],
        [(sid, d, s, e) for sid, _z, rows, _p in stores for d, s, e in rows],
        {sid: z for sid, z, _r, _p in stores if z is not None},
        [sid for sid, *_ in stores],
    )


@st.composite
def histories(draw):
    """A few stores with recent polls (up to ``report_db.NOW``) and, before them, history reaching years back."""
    zone = draw(st.sampled_from(FLEET_ZONES))
    stores = []
    for i in range(draw(st.integers(1, 4))):
        rows = draw(
            st.one_of(
                st.just([]),
                st.lists(
                    st.tuples(st.integers(0, 6), st.integers(0, 95), st.integers(0, 96)).map(
                        lambda r: (r[0], r[1] * 15 * MINUTE, r[2] * 15 * MINUTE)
                    ),
                    min_size=1,
                    max_size=4,
                ),
            )
        )
        recent = draw(
            st.lists(
                st.integers(-10 * 96, 0).map(lambda q: q * 15 * MINUTE - 7),
                min_size=int(i == 0),
                max_size=30,
                unique=True,
            )
        )
        old = draw(
            st.lists(
                st.one_of(st.integers(-5 * YEAR, -8 * DAY), st.integers(-60 * DAY, -8 * DAY)),
                max_size=25,
                unique=True,
            )
        )
        polls = sorted((NOW + o, draw(st.booleans())) for o in {*recent, *old})
        stores.append((f"s{i}", zone if i % 2 else draw(st.sampled_from(FLEET_ZONES)), rows, polls))
    return stores
