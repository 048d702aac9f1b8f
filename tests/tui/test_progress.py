"""Progress of a report: one source for the bar and the list, live, monotonic, with an ETA (issue 14 bug 6)."""

from __future__ import annotations

import re
import threading
import time

import pytest
from textual.widgets import DataTable, ProgressBar

from storemon_tui.errors import Cancelled
from storemon_tui.tui.app import StoremonApp
from tests.tui.tui_helpers import SIZE, async_test, label_text, wait_for


@pytest.fixture
def stepped_report(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The engine reports 0 %, 10 %, … 90 % of its work, 0.3 s apart, until the event is set."""
    import storemon_tui.report.pipeline as pipeline

    release = threading.Event()
    real = pipeline.run_report

    def stepped(conn, as_of_us, progress=None, should_cancel=None, timings=None, workers=None):
        for step in range(10):
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            if progress is not None:
                progress(step / 10)
            time.sleep(0.3)
        release.wait(20)
        return real(conn, as_of_us, progress=progress, should_cancel=should_cancel, timings=timings, workers=workers)

    monkeypatch.setattr(pipeline, "run_report", stepped)
    return release


def list_percent(app) -> float | None:
    table = app.query_one("#report-list", DataTable)
    status = str(table.get_row_at(0)[3])
    match = re.fullmatch(r"Running (\d+)%", status)
    return float(match.group(1)) if match else None


@async_test
async def test_bar_and_list_show_the_same_live_progress(sample_db, stepped_report: threading.Event) -> None:
    app = StoremonApp(sample_db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "reports", what="reports pane")
        await pilot.press("g")
        bar = app.query_one("#report-bar", ProgressBar)
        await wait_for(pilot, lambda: list_percent(app) is not None, what="the running report in the list")
        seen: list[tuple[float, float]] = []
        deadline = time.monotonic() + 20
        while (bar.percentage or 0) < 0.8 and time.monotonic() < deadline:
            await pilot.pause(0.05)
            listed = list_percent(app)
            if bar.percentage is not None and listed is not None:
                seen.append((round(bar.percentage * 100), listed))
        assert seen and seen[-1][0] >= 80, seen
        # One source: the list says what the bar says, every time.
        assert all(abs(bar_pct - listed) <= 1 for bar_pct, listed in seen), seen
        # Live and monotonic: it moved through several values and never went back.
        values = [bar_pct for bar_pct, _ in seen]
        assert values == sorted(values) and len(set(values)) >= 5, values
        # On screen too, not only in the cell (a column as wide as "Running" cut it to that).
        row_on_screen = app.query_one("#report-list", DataTable).render_line(1).text
        assert re.search(r"Running \d+%", row_on_screen), row_on_screen
        label = label_text(app, "#report-progress-label")
        assert re.search(r"about \d+ s left", label), label
        stepped_report.set()
        await wait_for(pilot, lambda: app.reports_pane.running_id is None, what="report done")
