"""Keys do what a keyboard user expects: Esc, Enter and Tab in text fields, keys pressed during start-up."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Checkbox, Input
from tui_helpers import SAMPLE, async_test, label_text, wait_for

from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.screens.dialogs import ConfirmScreen

SIZE = (80, 24)


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
    """The data table has the focus from the first frame: PgDn before the summary is not lost."""
    app = StoremonApp(sample_db)
    async with app.run_test(size=SIZE) as pilot:
        table = app.query_one("#data-table")
        await wait_for(pilot, lambda: app.focused is table, what="table focus before the summary")
        assert app.summary is None
        await pilot.press("pagedown")
        slow_summary.set()
        await wait_for(pilot, lambda: app.summary is not None, what="summary")
        await pilot.pause(0.3)
        assert table.cursor_row == table.rows_height and app.focused is table


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
async def test_enter_in_the_path_field_imports_and_leaves_the_field(empty_db, held_import) -> None:
    """After Enter starts an import, focus leaves the field: q or Esc typed next do not land in it (bug 2)."""
    app = StoremonApp(empty_db, offer_sample=False)
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#import-path", Input)
        await wait_for(pilot, lambda: app.focused is field, what="path focus")
        field.value = str(SAMPLE / "timezones.csv")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.import_pane.running, what="import running")
        assert app.focused is app.import_pane
        held_import.set()
        await wait_for(pilot, lambda: "✓" in label_text(app, "#import-result"), what="import done")
        assert field.value == str(SAMPLE / "timezones.csv")


@async_test
async def test_esc_in_a_field_leaves_it_without_cancelling_the_import(empty_db, held_import) -> None:
    """Esc in a text field only leaves the field; Esc outside it cancels the running import (bug 2)."""
    app = StoremonApp(empty_db, offer_sample=False)
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#import-path", Input)
        await wait_for(pilot, lambda: app.focused is field, what="path focus")
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
async def test_tab_without_a_completion_keeps_the_focus(empty_db, tmp_path) -> None:
    """A bare Tab in the path field completes; with nothing to complete it hints and stays (bug 10)."""
    (tmp_path / "polls-january.csv").write_text("store_id,timestamp_utc,status\n")
    app = StoremonApp(empty_db, offer_sample=False)
    async with app.run_test(size=SIZE) as pilot:
        field = app.query_one("#import-path", Input)
        await wait_for(pilot, lambda: app.focused is field, what="path focus")
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
