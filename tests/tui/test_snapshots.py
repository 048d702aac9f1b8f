"""Snapshots of each pane, the drill-down and the dialogs at 80x24 (pytest-textual-snapshot).

Deterministic: the bundled sample in a tmp database, a report pinned to the
sample's latest poll, and the ``stable_screen`` fixture pinning what changes
from run to run (paths, the clock, report ids); the app itself has no test mode.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.screens.dialogs import ConfirmScreen
from storemon_tui.tui.screens.help import HelpScreen
from storemon_tui.tui.screens.store import StoreScreen
from tests.tui.tui_helpers import SIZE, label_text, settle, status_line_agrees, wait_for

pytestmark = pytest.mark.usefixtures("stable_screen")
AS_OF_US = 1_674_670_376_164_735  # 2023-01-25 18:12:56.164735 UTC, the sample's latest poll


def no_blink(app) -> None:
    for field in app.screen.query(Input):
        field.cursor_blink = False


async def still(pilot, pause: float = 0.1) -> None:
    """Let the app come to rest before the screenshot: no worker running (the once-a-second data
    version check, a late page), the focus landed, no cursor blinking, one more refresh."""
    await settle(pilot)
    no_blink(pilot.app)
    await pilot.pause(pause)


async def ready(pilot) -> None:
    """The Data pane, ready (the app opens on Status)."""
    app = pilot.app
    await wait_for(pilot, lambda: app.summary is not None, what="summary")
    await pilot.press("2")
    await wait_for(pilot, lambda: "rows 1–" in label_text(app, "#data-status"), what="first rows")
    await wait_for(pilot, lambda: app.focused is not None, what="focus")
    await still(pilot)


def with_report(db) -> str:
    info = ReportJobs(db).run(AS_OF_US)
    assert info.status is ReportStatus.COMPLETE
    return info.id


async def show_report(pilot) -> None:
    app = pilot.app
    await ready(pilot)
    await pilot.press("3")
    await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="report view")
    await wait_for(pilot, lambda: app.query_one("#fleet-worst").row_count == 10, what="fleet summary")
    await still(pilot)


async def status_ready(pilot) -> None:
    """The Status pane as the app opens on it: the fleet status computed, its rows on screen."""
    app = pilot.app
    await wait_for(pilot, lambda: app.status_pane.board is not None, what="fleet status")
    table = app.status_pane.table
    await wait_for(pilot, lambda: table.total is not None and table.row_at(table.shown().bottom - 1), what="rows")
    await wait_for(pilot, lambda: app.focused is table, what="focus")
    await wait_for(pilot, lambda: not app.status_pane.computing, what="the last start-up computation")
    await still(pilot)
    await wait_for(pilot, lambda: status_line_agrees(app), what="the status line to count the rows shown")
    await pilot.pause()


def test_status_pane(sample_db, snap_compare) -> None:
    app = StoremonApp(sample_db)
    assert snap_compare(app, terminal_size=SIZE, run_before=status_ready)


def test_status_drilldown_marks_now_and_the_current_run(sample_db, snap_compare) -> None:
    app = StoremonApp(sample_db)

    async def run_before(pilot) -> None:
        await status_ready(pilot)
        await pilot.press("enter")  # the store down longest
        await wait_for(
            pilot, lambda: isinstance(app.screen, StoreScreen) and app.screen.detail is not None, what="drill-down"
        )
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_data_pane(sample_db, snap_compare) -> None:
    app = StoremonApp(sample_db)
    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_import_pane_preview(empty_db, snap_compare) -> None:
    app = StoremonApp(empty_db, offer_sample=False)

    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: app.summary is not None)
        field = app.query_one("#import-path", Input)
        await wait_for(pilot, lambda: app.focused is field)
        field.value = "sample_data/"
        await wait_for(pilot, lambda: "time zones" in label_text(app, "#import-files"), what="preview")
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_empty_database_offer(empty_db, snap_compare) -> None:
    app = StoremonApp(empty_db)

    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="offer")
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_reports_pane(sample_db, snap_compare) -> None:
    with_report(sample_db)
    app = StoremonApp(sample_db)
    assert snap_compare(app, terminal_size=SIZE, run_before=show_report)


def test_store_drilldown(sample_db, snap_compare) -> None:
    with_report(sample_db)
    app = StoremonApp(sample_db)

    async def run_before(pilot) -> None:
        await show_report(pilot)
        worst = app.query_one("#fleet-worst")
        worst.focus()
        worst.move_cursor(row=0)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, StoreScreen) and app.screen.detail is not None, what="drill-down"
        )
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_clear_confirmation(sample_db, snap_compare) -> None:
    app = StoremonApp(sample_db)

    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(sample_db, snap_compare) -> None:
    app = StoremonApp(sample_db)

    async def run_before(pilot) -> None:
        await ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await still(pilot, 0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
