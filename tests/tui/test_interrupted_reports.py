"""A report left Running by a process that was killed is shown interrupted from the first drawing on.

Before: the report list was read while start-up was still marking such
reports, so a restarted app showed it ``Running`` until refreshed.
"""

from __future__ import annotations

import socket

import pytest

from storemon_tui.report.jobs import ReportInfo, ReportStatus
from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.panes.reports_pane import ReportsPane
from tests.tui.tui_helpers import async_test, wait_for


@async_test
async def test_a_killed_report_is_never_drawn_running(
    sample_db, monkeypatch: pytest.MonkeyPatch, leave_running, gone_pid
) -> None:
    report_id = leave_running(sample_db, f"{socket.gethostname()}:{gone_pid()}")
    drawn: list[ReportStatus] = []
    listed = ReportsPane.ListLoaded.__init__

    def recording(self, reports: list[ReportInfo], select: str | None) -> None:
        """Every list the pane draws reaches it in a ListLoaded message (its handler is bound by @on)."""
        drawn.extend(r.status for r in reports if r.id == report_id)
        listed(self, reports, select)

    monkeypatch.setattr(ReportsPane.ListLoaded, "__init__", recording)
    app = StoremonApp(sample_db, offer_sample=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(drawn), what="the report list")
        app.reports_pane.load_list()  # and later lists too
        await wait_for(pilot, lambda: len(drawn) >= 2, what="the list again")
    assert set(drawn) == {ReportStatus.FAILED}
