"""Keys do what a keyboard user expects: Esc, Enter and Tab in text fields, keys pressed during start-up,
quitting while work runs."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from textual.widgets import Checkbox, Input

from storemon_tui.errors import Cancelled
from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.screens.dialogs import ConfirmScreen, PromptScreen
from tests.tui.tui_helpers import SAMPLE, SIZE, async_test, count, label_text, path_field, wait_for


@pytest.fixture
def slow_summary(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Start-up's data summary waits until the test sets the event (the header says 'counting…')."""
    import storemon_tui.db.maintenance as maintenance

    release = threading.Event()
    real = maintenance.summarize

    def held(db):
        release.wait(20)
        return real(db)

    monkeypatch.setattr(maintenance, "summarize", held)
    return release


@async_test
async def test_a_pane_chosen_during_start_up_stays(sample_db, slow_summary: threading.Event) -> None:
    """'3' pressed while the header says counting… is not undone when start-up finishes (bug 5)."""
    app = StoremonApp(sample_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        assert "counting" in label_text(app, "#db-summary")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "reports", what="reports pane")
        slow_summary.set()
        await wait_for(pilot, lambda: app.summary is not None, what="summary")
        await pilot.pause(0.3)
        assert app.query_one("#panes").active == "reports"
        assert app.focused is not None and app.reports_pane in app.focused.ancestors


@async_test
async def test_table_keys_work_during_start_up(sample_db, slow_summary: threading.Event) -> None:
    """The Status table has the focus from the first frame: PgDn before the summary is not lost."""
    app = StoremonApp(sample_db)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one("#status-table")
        await wait_for(pilot, lambda: app.focused is table, what="table focus before the summary")
        assert app.summary is None
        # One screen: as it is when the key is pressed, or one line taller if the status's progress
        # row went away before the table handled the key (both were seen: 15 and 16 rows at 80x24).
        screen_rows = table.rows_height
        await pilot.press("pagedown")
        slow_summary.set()
        await wait_for(pilot, lambda: app.summary is not None and table.total is not None, what="summary, status")
        await pilot.pause(0.3)
        assert screen_rows > 0 and app.focused is table
        assert table.cursor_row in (screen_rows, screen_rows + 1), (table.cursor_row, screen_rows)
        assert table.cursor_row <= table.rows_height


@async_test
async def test_empty_database_start_up_respects_a_chosen_pane(empty_db, slow_summary: threading.Event) -> None:
    app = StoremonApp(empty_db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        await pilot.press("3")
        slow_summary.set()
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="sample offer")
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        # Declining the offer is an answer about the data, not a choice of pane: stay.
        await pilot.pause(0.3)
        assert app.query_one("#panes").active == "reports"


@async_test
async def test_empty_database_start_up_focuses_the_path_field(empty_db, start_app) -> None:
    """On an empty database typing a path is the thing to do: start-up shows the Import pane with the
    focus in its path field (the other Import tests reach the field through :func:`path_field`)."""
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        assert app.query_one("#panes").active == "import"
        await wait_for(pilot, lambda: app.focused is app.query_one("#import-path"), what="path focus")


@pytest.fixture
def held_import(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Imports wait before writing until the test sets the event."""
    from storemon_tui.ingest import importer

    release = threading.Event()
    real = importer.write_prepared

    def held(*args, **kwargs):
        release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "write_prepared", held)
    return release


@async_test
async def test_enter_in_the_path_field_imports_and_leaves_the_field(empty_db, held_import, start_app) -> None:
    """After Enter starts an import, focus leaves the field: q or Esc typed next do not land in it (bug 2)."""
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        field = await path_field(pilot)
        field.value = str(SAMPLE / "timezones.csv")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.import_pane.running, what="import running")
        assert app.focused is app.import_pane
        held_import.set()
        await wait_for(pilot, lambda: "✓" in label_text(app, "#import-result"), what="import done")
        assert field.value == str(SAMPLE / "timezones.csv")


@async_test
async def test_esc_in_a_field_leaves_it_without_cancelling_the_import(empty_db, held_import, start_app) -> None:
    """Esc in a text field only leaves the field; Esc outside it cancels the running import (bug 2)."""
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        field = await path_field(pilot)
        app.import_pane.import_paths([SAMPLE / "timezones.csv"])
        await wait_for(pilot, lambda: app.import_pane.running, what="import running")
        field.focus()
        await pilot.pause(0.05)
        await pilot.press("escape")
        assert app.focused is app.import_pane
        await pilot.pause(0.2)
        assert app.import_pane.running
        # Outside the field, Esc cancels (and the footer says so while the import runs).
        await pilot.press("escape")
        held_import.set()
        await wait_for(pilot, lambda: "cancelled" in label_text(app, "#import-result"), what="cancelled")


@async_test
async def test_tab_without_a_completion_keeps_the_focus(empty_db, tmp_path, start_app) -> None:
    """A bare Tab in the path field completes; with nothing to complete it hints and stays (bug 10)."""
    (tmp_path / "polls-january.csv").write_text("store_id,timestamp_utc,status\n")
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        field = await path_field(pilot)
        await pilot.press("tab")
        assert app.focused is field and field.value == ""
        assert any("Nothing to complete" in str(n.message) for n in app._notifications)
        field.value = str(tmp_path / "pol")
        field.cursor_position = len(field.value)
        await wait_for(pilot, lambda: field._suggestion != "", what="a suggestion")
        await pilot.press("tab")
        assert field.value == str(tmp_path / "polls-january.csv")
        await pilot.press("tab")
        assert app.focused is field
        assert not isinstance(app.focused, Checkbox)
        # So a digit typed next goes into the field, not to the pane switcher.
        await pilot.press("2")
        assert field.value.endswith(".csv2") and app.query_one("#panes").active == "import"


# -- quitting while work runs (bug 3) ----------------------------------------------------------


@pytest.fixture
def slow_report(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Reports compute until cancelled (for up to 20 s); the event says the computation started."""
    import storemon_tui.report.pipeline as pipeline

    running = threading.Event()

    def slow_compute(conn, as_of_us, progress=None, should_cancel=None, timings=None, workers=None):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            running.set()
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            time.sleep(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(pipeline, "run_report", slow_compute)
    return running


@async_test
async def test_quit_during_a_report_asks_and_records_it_cancelled(sample_db, slow_report, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "reports", what="reports pane")
        started = time.monotonic()
        await pilot.press("g")
        await wait_for(pilot, slow_report.is_set, what="report running")
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="quit question")
        assert app.screen.message == "A report is running. Quit and cancel it?"
        assert app.screen.focused is app.screen.query_one("#no")  # the default is No
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.is_running and app.reports_pane.running_id is not None
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="quit question again")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")
        took = time.monotonic() - started
    info = ReportJobs(sample_db).list()[0]
    assert info.status is ReportStatus.CANCELLED
    assert info.seconds is not None and info.seconds < took  # the time it ran, up to the quit


@async_test
async def test_quit_during_an_import_asks_and_writes_nothing(empty_db, held_import, start_app) -> None:
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        app.import_pane.import_paths([SAMPLE / "store_status.csv"])
        await wait_for(pilot, lambda: app.import_pane.running, what="import running")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="quit question")
        assert app.screen.message == "An import is running. Quit and cancel it?"
        await pilot.press("y")
        held_import.set()
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")
    assert count(empty_db, "poll") == 0


@async_test
async def test_quit_with_nothing_running_does_not_ask(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")


@async_test
async def test_reports_pane_opens_on_the_newest_complete_report(sample_db, start_app) -> None:
    jobs = ReportJobs(sample_db)
    complete = jobs.run().id
    report_id = jobs.trigger()  # newer, then cancelled
    jobs.cancel(report_id)
    assert jobs.wait(report_id, timeout=20).status in (ReportStatus.CANCELLED, ReportStatus.COMPLETE)
    with sample_db.begin_write() as conn:  # make sure it is the newest and not complete
        conn.execute(
            text("UPDATE report SET status = 'Cancelled', created_at = :t WHERE id = :id"),
            {"t": datetime(2099, 1, 1), "id": report_id},
        )
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="a report shown")
        assert app.reports_pane.current == complete
        assert app.reports_pane.order[0] == report_id


# -- dialogs keep what was typed (bug 7) -------------------------------------------------------


def dialog_error(app) -> str:
    return label_text(app.screen, "#prompt-error")


@async_test
async def test_export_dialog_stays_open_on_a_bad_path(sample_db, tmp_path, start_app) -> None:
    ReportJobs(sample_db).run()
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="report view")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="export dialog")
        field = app.screen.query_one(Input)
        assert Path(field.value).is_absolute()  # the default path, shown absolute
        field.value = ""
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen) and "Type a file path" in dialog_error(app)
        field.value = str(tmp_path / "no-such-dir" / "report.csv")
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen)
        assert "does not exist" in dialog_error(app) and field.value.endswith("report.csv")
        field.value = str(tmp_path)
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen) and "is a directory" in dialog_error(app)
        # Fixed: the error goes, the export is written.
        field.value = str(tmp_path / "report.csv")
        await pilot.press("enter")
        await wait_for(pilot, (tmp_path / "report.csv").exists, what="the export")


@async_test
async def test_as_of_dialog_stays_open_on_an_unparsable_time(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "reports", what="reports pane")
        await pilot.press("G")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="as-of dialog")
        field = app.screen.query_one(Input)
        await pilot.press(*"yesterday", "enter")
        assert isinstance(app.screen, PromptScreen)
        assert field.value == "yesterday" and "yesterday" in dialog_error(app)
        field.value = "2023-01-25 12:00:00"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PromptScreen), what="dialog closed")
        await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="the report")
        assert app.jobs.get(app.reports_pane.current).as_of_us == 1_674_648_000_000_000
