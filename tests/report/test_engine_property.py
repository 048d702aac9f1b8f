"""Property test: the vectorized engine equals the slow reference, tick for tick."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from storemon_tui.report import compute_report
from tests.report.report_reference import store_report
from tests.report.report_strategies import build, scenario


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_engine_matches_reference(case):
    now, stores = case
    result = compute_report(build(stores), now)
    got = {
        sid: (result.uptime_ticks[i].tolist(), result.downtime_ticks[i].tolist())
        for i, sid in enumerate(result.store_ids)
    }
    expected = {}
    for sid, zone, rows, polls in stores:
        ref = store_report(zone, rows, polls, now)
        if ref is None:
            continue
        up, down, busy, has_evidence = ref
        expected[sid] = (up, down)
        if has_evidence:  # the nearest-poll rule fills all business time
            assert [u + d for u, d in zip(up, down, strict=True)] == busy
        else:
            assert up == down == [0, 0, 0]
    assert got == expected
    assert list(result.store_ids) == sorted(expected)
