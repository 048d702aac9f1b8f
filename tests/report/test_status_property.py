"""Property test: the vectorized fleet status equals the slow reference, row for row.

Random stores around DST changes (``report_strategies``), with history
reaching weeks back so that ``since`` is often older than both weeks, and
chunks of one store or of all: every column of the spec must match the
deliberately simple reference of ``status_reference``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storemon_tui.report.status import compute_status, status_rows
from tests.report.report_strategies import build, scenario
from tests.report.status_reference import store_status


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.sampled_from([1, 8192]))
def test_status_matches_reference(case, chunk_stores):
    now, stores = case
    got = {r[0]: r[1:] for r in status_rows(compute_status(build(stores), now, chunk_stores=chunk_stores))}
    expected = {}
    for sid, zone, rows, polls in stores:
        ref = store_status(zone, rows, polls, now)
        if ref is not None:
            expected[sid] = ref
    assert got == expected
    assert list(got) == sorted(expected)
