"""A report left Running by a process that was killed is shown interrupted from the first drawing on.

Before: the report list was read while start-up was still marking such
reports, so a restarted app showed it ``Running`` until refreshed.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
from datetime import UTC, datetime

import pytest
from tui_helpers import async_test, wait_for

from storemon_tui.db import get_data_version
from storemon_tui.db.models import Report
from storemon_tui.report.jobs import ReportInfo, ReportStatus
from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.panes.reports_pane import ReportsPane


def left_running_by_a_dead_process(db) -> str:
    proc = subprocess.Popen(["true"])
    proc.wait()  # exited and reaped: its pid names no process
    report_id = secrets.token_hex(16)
    with db.begin_write() as conn:
        conn.execute(
            Report.__table__.insert().values(
                id=report_id,
                created_at=datetime.now(UTC),
                started_at=datetime.now(UTC),
                as_of_us=1,
                status="Running",
                progress=42.0,
                data_version=get_data_version(conn),
                owner=f"{socket.gethostname()}:{proc.pid}",
            )
        )
    return report_id


@async_test
async def test_a_killed_report_is_never_drawn_running(sample_db, monkeypatch: pytest.MonkeyPatch) -> None:
    report_id = left_running_by_a_dead_process(sample_db)
    drawn: list[ReportStatus] = []
    show_list = ReportsPane.show_list

    def recording(self, reports: list[ReportInfo], select: str | None = None) -> None:
        drawn.extend(r.status for r in reports if r.id == report_id)
        show_list(self, reports, select)

    monkeypatch.setattr(ReportsPane, "show_list", recording)
    app = StoremonApp(sample_db, offer_sample=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(drawn), what="the report list")
        app.reports_pane.load_list()  # and later lists too
        await wait_for(pilot, lambda: len(drawn) >= 2, what="the list again")
    assert set(drawn) == {ReportStatus.FAILED}
