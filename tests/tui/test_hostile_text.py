"""Untrusted text in the app: shown escaped and literal (never markup, never raw control characters).

A store id ``[/x]`` used to crash the app at start (``MarkupError``), and
``ESC[2J`` or an OSC 52 clipboard write in a CSV reached the terminal raw.
What reaches the terminal is checked on the rendered screen itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from storemon_tui.db import open_database
from storemon_tui.ingest import import_file
from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.screens.dialogs import PromptScreen
from storemon_tui.tui.screens.store import StoreScreen
from storemon_tui.tui.widgets.row_table import RowTable
from tests.tui.tui_helpers import async_test, label_text, rows_loaded, wait_for


@pytest.fixture
def hostile_db(data_dir: Path, hostile_polls: Path):
    db = open_database(str(data_dir / "storemon.sqlite3"))
    import_file(db, hostile_polls)
    yield db
    db.dispose()


def screen_text(app: StoremonApp) -> str:
    """Every character the app would draw on the terminal now."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def notifications(app: StoremonApp) -> str:
    return "\n".join(f"{n.title}\n{n.message}" for n in app._notifications)


@async_test
async def test_hostile_store_ids_are_shown_escaped_in_the_data_pane(
    hostile_db, hostile_shown: dict[str, str], terminal_safe, start_app
) -> None:
    async with start_app(hostile_db, offer_sample=False, size=(120, 24)) as pilot:
        app = pilot.app
        await pilot.press("2")
        table = app.query_one("#data-table", RowTable)
        await wait_for(pilot, lambda: table.total == len(hostile_shown), what="the rows")
        rows = await rows_loaded(pilot, table)
        await pilot.pause()
        assert {row[0] for row in rows} == set(hostile_shown)  # the data, exact
        screen = screen_text(app)
        terminal_safe(screen)
        for shown in hostile_shown.values():
            assert shown in screen
        for text in ("\\x1b[2J", "\\x1b]52;c;cHduZWQ=\\x07", "good\\x0dEVIL", "[/x]", "[red]x", "[@click=app.quit]x"):
            assert text in screen
        # Opening a store with such an id shows it escaped in the title too.
        table.cursor_row = next(i for i, row in enumerate(rows) if row[0] == "\x1b]0;pwned\x07")
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen), what="store screen")
        await wait_for(pilot, lambda: "America/Chicago" in label_text(app.screen, "#store-title"), what="store title")
        assert "Store \\x1b]0;pwned\\x07 · America/Chicago" in label_text(app.screen, "#store-title")
        terminal_safe(screen_text(app))
        assert app.is_running


@async_test
async def test_hostile_store_ids_are_shown_escaped_in_the_status_pane(
    hostile_db, hostile_shown: dict[str, str], terminal_safe, start_app
) -> None:
    async with start_app(hostile_db, offer_sample=False, size=(120, 30)) as pilot:
        app = pilot.app
        table = app.status_pane.table
        await wait_for(pilot, lambda: table.total == len(hostile_shown), what="the status rows")
        await rows_loaded(pilot, table)
        await pilot.pause()
        assert {app.status_pane.view.store_id(i) for i in range(len(hostile_shown))} == set(hostile_shown)
        screen = screen_text(app)
        terminal_safe(screen)
        for shown in hostile_shown.values():
            assert shown in screen
        for text in ("[/x]", "[red]x", "[@click=app.quit]x"):
            assert text in screen  # shown as typed, never as markup


@async_test
async def test_import_preview_problems_and_notifications_are_escaped(
    empty_db, tmp_path: Path, hostile_shown: dict[str, str], terminal_safe, start_app
) -> None:
    header = 'store_id,timestamp_utc,status,"note\x1b]0;t\x07"\n'
    rows = "".join(f'"s{i}",2023-01-22 12:0{i}:00 UTC,"{v}",[b]x\n' for i, v in enumerate(hostile_shown))
    bad = tmp_path / "bad\x1b]0;t\x07.csv"  # no "[": the path field takes it for a glob
    bad.write_text(header + rows, encoding="utf-8", newline="")
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        app.show_pane("import")
        app.import_pane.set_path(str(bad))
        await wait_for(pilot, lambda: "polls" in label_text(app, "#import-files"), what="preview")
        files = label_text(app, "#import-files")
        assert "bad\\x1b]0;t\\x07.csv: polls" in files and "note\\x1b]0;t\\x07" in files
        preview = app.query_one("#import-preview", DataTable)
        assert [str(c.label) for c in preview.columns.values()][-1] == "note\\x1b]0;t\\x07"
        assert [str(preview.get_row_at(i)[2]) for i in range(preview.row_count)] == list(hostile_shown.values())[:5]
        terminal_safe(screen_text(app))
        app.import_pane.action_start_import()
        await wait_for(pilot, lambda: "✗" in label_text(app, "#import-result"), what="problems")
        result = label_text(app, "#import-result")
        for shown in hostile_shown.values():
            assert f"value '{shown}'" in result
        await wait_for(pilot, lambda: "not imported" in notifications(app), what="the notification")
        terminal_safe(screen_text(app))
        assert app.is_running


@async_test
async def test_the_import_preview_shortens_a_long_list_of_ignored_columns(empty_db, tmp_path: Path, start_app) -> None:
    """Regression: 10,000 extra columns were all named in the preview line (as in the CLI's summary)."""
    wide = tmp_path / "wide.csv"
    extra = ",".join(f"extra_{i}" for i in range(10_000))
    wide.write_text(f"store_id,timezone_str,{extra}\ns1,UTC{',x' * 10_000}\n")
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        app.show_pane("import")
        app.import_pane.set_path(str(wide))
        await wait_for(pilot, lambda: "time zones" in label_text(app, "#import-files"), what="preview")
        named = ", ".join(f"'extra_{i}'" for i in range(10))
        assert f"ignoring {named} and 9,990 more columns" in label_text(app, "#import-files")


@async_test
async def test_a_failing_worker_notification_quoting_data_is_escaped(empty_db, terminal_safe, start_app) -> None:
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        app.notify("store '[/x]\x1b]52;c;eA==\x07' failed", title="Store [red]\x1b[2J", severity="error")
        await pilot.pause()
        note = app._notifications.last if hasattr(app._notifications, "last") else list(app._notifications)[-1]
        assert note.message == "store '[/x]\\x1b]52;c;eA==\\x07' failed"
        assert note.title == "Store [red]\\x1b[2J"
        assert not note.markup
        terminal_safe(screen_text(app))
        assert app.is_running


@async_test
async def test_markup_typed_into_generate_as_of_is_an_error_not_a_crash(sample_db, terminal_safe, start_app) -> None:
    async with start_app(sample_db, offer_sample=False) as pilot:
        app = pilot.app
        app.action_generate_as_of()
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen) and app.screen.query(Input), what="prompt")
        app.screen.query_one(Input).value = "[/x]"
        await pilot.press("enter")
        # The dialog stays open and says what is wrong, quoting the text literally.
        assert isinstance(app.screen, PromptScreen)
        await wait_for(pilot, lambda: "'[/x]'" in label_text(app.screen, "#prompt-error"), what="the error")
        await pilot.pause()
        terminal_safe(screen_text(app))
        assert app.is_running


@async_test
async def test_the_apps_export_keeps_line_breaks_inside_ids_byte_for_byte(
    data_dir: Path, tmp_path: Path, start_app
) -> None:
    from storemon_tui.report.jobs import ReportJobs

    polls = tmp_path / "polls.csv"
    polls.write_bytes(b'store_id,timestamp_utc,status\r\n"crlf\r\nid",2023-01-22 12:00:00 UTC,active\r\n')
    db = open_database(str(data_dir / "storemon.sqlite3"))
    try:
        import_file(db, polls)
        info = ReportJobs(db).run()
        target = tmp_path / "export.csv"
        async with start_app(db, offer_sample=False) as pilot:
            app = pilot.app
            app.reports_pane.export(info.id, target)
            await wait_for(pilot, target.exists, what="the export")
        assert b'"crlf\r\nid",' in target.read_bytes()
        assert target.read_bytes() == Path(info.file_path or "").read_bytes()
    finally:
        db.dispose()


def test_the_report_id_column_is_as_wide_as_the_escaped_ids(hostile_db, data_dir: Path) -> None:
    from storemon_tui.report.jobs import ReportJobs
    from storemon_tui.tui.report_view import ReportFrame

    info = ReportJobs(hostile_db).run()
    frame = ReportFrame(info.file_path or "")
    assert frame.id_width == len("\\x1b]52;c;cHduZWQ=\\x07")  # the widest id as shown, not its 18 raw characters
