"""Pilot tests: every operator flow of the app, on a real tmp database."""

from __future__ import annotations

import csv
import re
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input

from storemon_tui.db.browse import Pager
from storemon_tui.errors import Cancelled
from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.tui.screens.dialogs import ClearScreen, ConfirmScreen, PromptScreen
from storemon_tui.tui.screens.help import HelpScreen
from storemon_tui.tui.screens.store import StoreScreen
from storemon_tui.tui.widgets.row_table import RowTable
from tests.tui.tui_helpers import (
    SAMPLE,
    all_rows,
    async_test,
    count,
    label_text,
    page_down_to_the_end,
    path_field,
    rows_loaded,
    wait_for,
)


def data_status(app) -> str:
    return label_text(app, "#data-status")


PANE_KEYS = {"status": "0", "import": "1", "data": "2", "reports": "3"}


async def started(pilot, pane: str = "data") -> None:
    """The app has started (it opens on Status) and pane ``pane`` is shown with the focus."""
    app = pilot.app
    await wait_for(pilot, lambda: app.summary is not None, what="summary")
    if app.query_one("#panes").active != pane:
        await pilot.press(PANE_KEYS[pane])
    if pane == "data":
        await wait_for(pilot, lambda: "rows 1–" in data_status(app), what="first rows")
    await in_pane(pilot, pane)


async def in_pane(pilot, name: str) -> None:
    """Wait until pane ``name`` is shown and holds the focus (keys then reach its bindings)."""
    app = pilot.app
    pane = app.query_one(f"#{name}-pane")
    await wait_for(
        pilot,
        lambda: app.query_one("#panes").active == name and app.focused is not None and pane in app.focused.ancestors,
        what=f"focus in the {name} pane",
    )


def report_rows(app) -> list[str]:
    table = app.query_one("#report-list", DataTable)
    return [str(table.get_row_at(i)[3]) for i in range(table.row_count)]


# -- import ----------------------------------------------------------------------------------


@async_test
async def test_empty_database_offers_sample_and_imports_it(empty_db, start_app) -> None:
    async with start_app(empty_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="sample offer")
        assert "empty" in app.screen.title_text
        await pilot.press("y")
        await wait_for(pilot, lambda: app.summary is not None and app.summary.polls > 0, what="import")
        assert app.query_one("#panes").active == "import"
        result = label_text(app, "#import-result")
        assert result.count("✓") == 3, result
        assert "29,391 rows read" in result
        assert "29,391 polls" in label_text(app, "#db-summary")
    assert count(empty_db, "poll") == 29_391
    assert count(empty_db, "business_hours") == 1_349


@async_test
async def test_empty_database_offer_declined(empty_db, start_app) -> None:
    async with start_app(empty_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="sample offer")
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert app.query_one("#panes").active == "import"
        assert "no polls yet" in label_text(app, "#db-summary")
    assert count(empty_db, "poll") == 0


@async_test
async def test_f6_imports_the_sample_from_an_installed_package(empty_db, start_app, tmp_path, monkeypatch) -> None:
    """No checkout around (a wheel installed in site-packages): F6 finds the sample inside the package."""
    import shutil

    from storemon_tui import paths

    package = tmp_path / "site-packages" / "storemon_tui"
    shutil.copytree(SAMPLE, package / "sample_data")
    monkeypatch.setattr(paths, "PACKAGE_DIR", package)
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        await pilot.press("escape", "f6")
        await wait_for(pilot, lambda: app.summary is not None and app.summary.polls > 0, what="import")
        assert str(package / "sample_data") in app.query_one("#import-path", Input).value
    assert count(empty_db, "poll") == 29_391


@async_test
async def test_import_path_preview_then_import(empty_db, start_app) -> None:
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        field = await path_field(pilot)
        path = str(SAMPLE / "store_status.csv")
        field.value = path
        await wait_for(pilot, lambda: "polls" in label_text(app, "#import-files"), what="preview")
        preview = app.query_one("#import-preview", DataTable)
        assert preview.row_count == 5
        assert [str(c.label) for c in preview.columns.values()] == ["store_id", "timestamp_utc", "status"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✓" in label_text(app, "#import-result"), what="import result")
        assert "29,391 inserted" in label_text(app, "#import-result")
    assert count(empty_db, "poll") == 29_391


@async_test
async def test_import_invalid_rows_lists_problems_and_writes_nothing(empty_db, tmp_path: Path, start_app) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "store_id,timestamp_utc,status\n"
        "1,2023-01-22 12:09:39 UTC,active\n"
        "2,yesterday,active\n"
        "3,2023-01-22 12:09:39 UTC,maybe\n"
    )
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        app.show_pane("import")
        app.import_pane.set_path(str(bad))
        app.import_pane.action_start_import()
        await wait_for(pilot, lambda: "✗" in label_text(app, "#import-result"), what="problems")
        result = label_text(app, "#import-result")
        assert f"{bad}:3: column 'timestamp_utc': value 'yesterday'" in result
        assert f"{bad}:4: column 'status': value 'maybe'" in result
        assert "nothing imported" in result
        # Skip invalid: the valid row goes in.
        await pilot.press("f4")
        app.import_pane.action_start_import()
        await wait_for(pilot, lambda: "✓" in label_text(app, "#import-result"), what="skip-invalid import")
        assert "2 rejected" in label_text(app, "#import-result")
    assert count(empty_db, "poll") == 1


@pytest.fixture
def in_write(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Imports run the real write, held in its write loop until cancelled; the event says it got there."""
    from storemon_tui.ingest import importer

    real = importer.write_prepared
    reached = threading.Event()

    def held_write(db, prepared, **kw):
        progress, should_cancel = kw.pop("progress"), kw["should_cancel"]

        def held(done: int, total: int) -> None:
            progress(done, total)
            reached.set()
            deadline = time.monotonic() + 20
            while not should_cancel() and time.monotonic() < deadline:
                time.sleep(0.01)

        return real(db, prepared, progress=held, **kw)

    monkeypatch.setattr(importer, "write_prepared", held_write)
    return reached


@async_test
async def test_cancel_import_writes_nothing(empty_db, in_write: threading.Event, start_app) -> None:
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        app.show_pane("import")
        app.import_pane.import_paths([SAMPLE / "store_status.csv"])
        await wait_for(pilot, in_write.is_set, what="import writing")
        assert app.import_pane.running
        await pilot.press("escape")
        await wait_for(pilot, lambda: "cancelled" in label_text(app, "#import-result"), what="cancel")
        assert "nothing from this file was written" in label_text(app, "#import-result")
    assert count(empty_db, "poll") == 0
    assert count(empty_db, "store") == 0


@async_test
async def test_cancel_skips_the_files_not_written_yet(empty_db, in_write: threading.Event, start_app) -> None:
    """Esc during the first of three files: it rolls back, the other two are listed and never written."""
    files = sorted(SAMPLE.glob("*.csv"))
    async with start_app(empty_db, offer_sample=False) as pilot:
        app = pilot.app
        app.show_pane("import")
        app.import_pane.import_paths(files)
        await wait_for(pilot, in_write.is_set, what="first file writing")
        await pilot.press("escape")
        await wait_for(pilot, lambda: "cancelled" in label_text(app, "#import-result"), what="cancel")
        result = label_text(app, "#import-result")
    # Zones go first; hours and polls were never written.
    assert f"✗ {SAMPLE / 'timezones.csv'}: cancelled; nothing from this file was written" in result
    assert f"– {SAMPLE / 'menu_hours.csv'}: not imported (cancelled)" in result
    assert f"– {SAMPLE / 'store_status.csv'}: not imported (cancelled)" in result
    assert count(empty_db, "store") == 0 and count(empty_db, "poll") == 0


# -- data ----------------------------------------------------------------------------------------


@async_test
async def test_tables_scroll_like_one_continuous_table(sample_db, start_app) -> None:
    """Down moves one row, PgDn one screen, End/Home the ends of the whole table (issue 14, bug 1)."""
    whole = all_rows(Pager(sample_db, "polls"))
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        table = app.query_one("#data-table", RowTable)
        height = table.rows_height
        assert 10 <= height <= 20
        assert await rows_loaded(pilot, table) == whole[:height]
        assert f"rows 1–{height} of 29,391" in data_status(app)
        # PgDn: the next screen, not the next 200-row database page.
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: f"rows {height + 1}–{2 * height} of 29,391" in data_status(app))
        assert await rows_loaded(pilot, table) == whole[height : 2 * height]
        assert table.cursor_row == height
        await pilot.press("pageup")
        await wait_for(pilot, lambda: f"rows 1–{height} of 29,391" in data_status(app))
        assert table.cursor_row == 0
        # Down from the last row on screen scrolls one row, and on past the first block of rows.
        for _ in range(250):
            await pilot.press("down")
        assert table.cursor_row == 250 and table.cursor_data == whole[250]
        assert f"rows {251 - height + 1}–251 of 29,391" in data_status(app)
        assert await rows_loaded(pilot, table) == whole[251 - height : 251]
        # End and Home: the last and first rows of the whole table.
        await pilot.press("end")
        await wait_for(pilot, lambda: f"rows {29_391 - height + 1:,}–29,391 of 29,391" in data_status(app))
        assert await rows_loaded(pilot, table) == whole[-height:]
        assert table.cursor_data == whole[-1]
        await pilot.press("up")
        assert table.cursor_data == whole[-2]
        await pilot.press("home")
        await wait_for(pilot, lambda: f"rows 1–{height} of 29,391" in data_status(app))
        assert await rows_loaded(pilot, table) == whole[:height] and table.cursor_row == 0
        # Jump to a row (OFFSET), then read on from there by key.
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        await pilot.press(*"20000", "enter")
        await wait_for(pilot, lambda: "rows 20,000–" in data_status(app), what="jump")
        assert await rows_loaded(pilot, table) == whole[19_999 : 19_999 + height]
        assert table.cursor_data == whole[19_999]
        # Other tables.
        await pilot.press("t")
        await wait_for(pilot, lambda: "Business hours" in data_status(app) and "of 1,349" in data_status(app))


@async_test
async def test_page_down_walks_every_row(sample_db, start_app) -> None:
    """PgDn from the first screen to the last shows every row of the table once, in order."""
    whole = all_rows(Pager(sample_db, "business_hours"))
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: "Business hours · rows 1–" in data_status(app), what="business hours")
        table = app.query_one("#data-table", RowTable)
        assert await page_down_to_the_end(pilot, table) == whole
        # On the last screen, PgDn moves the cursor to the last row.
        await pilot.press("pagedown")
        assert table.cursor_data == whole[-1]


@async_test
async def test_filter_by_store(sample_db, start_app) -> None:
    store = "10311121533259807379"
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*store)
        expected = Pager(sample_db, "polls", store_filter=store).total()
        await wait_for(pilot, lambda: f"of {expected:,}" in data_status(app), what="filtered count")
        assert 0 < expected < 29_391
        table = app.query_one("#data-table", RowTable)
        assert {row[0] for row in await rows_loaded(pilot, table)} == {store}
        await pilot.press("escape")
        assert app.focused is table


@async_test
async def test_each_table_has_its_own_filter(sample_db, start_app) -> None:
    """The polls filter does not leak into the other tables, and the status says what is shown (bug 9)."""
    store = "10311121533259807379"
    ReportJobs(sample_db).run()
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        field = app.query_one("#data-filter", Input)
        await pilot.press("slash", *store, "enter")
        polls = Pager(sample_db, "polls", store_filter=store).total()
        await wait_for(pilot, lambda: f"Polls · store_id '{store}' · rows 1–" in data_status(app))
        assert data_status(app).endswith(f"of {polls:,}")
        # Business hours: unfiltered, its own (empty) filter in the field.
        await pilot.press("t")
        await wait_for(pilot, lambda: data_status(app).startswith("Business hours · rows 1–"), what="hours")
        assert data_status(app).endswith("of 1,349") and field.value == ""
        # Reports have no store column: no filter, and the status says none.
        await pilot.press("t", "t")
        await wait_for(pilot, lambda: data_status(app).startswith("Reports · rows 1–1 of 1"), what="reports")
        assert field.disabled and field.value == ""
        # Back on polls, its filter is there again and applied.
        await pilot.press("t")
        await wait_for(pilot, lambda: data_status(app).startswith(f"Polls · store_id '{store}' · rows 1–"))
        assert field.value == store and data_status(app).endswith(f"of {polls:,}")
        table = app.query_one("#data-table", RowTable)
        assert {row[0] for row in await rows_loaded(pilot, table)} == {store}
        # A filter that matches nothing says so.
        await pilot.press("slash", *"ff0d", "enter")
        await wait_for(pilot, lambda: data_status(app) == "Polls · no rows match 'ff0d'")


@async_test
async def test_clear_with_cancel_then_confirm(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ClearScreen), what="clear dialog")
        assert "holds 29,391 polls." in app.screen.message
        assert list(app.screen.options) == ["all", "prune"]  # no filter: no "just the filtered rows"
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ClearScreen))
        assert count(sample_db, "poll") == 29_391
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ClearScreen), what="clear dialog")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.summary is not None and app.summary.polls == 0, what="cleared")
        assert count(sample_db, "poll") == 0
        assert count(sample_db, "business_hours") == 1_349
        await wait_for(pilot, lambda: data_status(app) == "Polls · no rows")
        # Everything, including reports.
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm all")
        assert "1,349 business hours rows" in app.screen.message
        await pilot.press("y")
        await wait_for(pilot, lambda: count(sample_db, "business_hours") == 0, what="cleared all")


# -- reports ---------------------------------------------------------------------------------------


async def generate(pilot) -> str:
    app = pilot.app
    await pilot.press("3")
    await in_pane(pilot, "reports")
    before = len(app.reports_pane.order)
    await pilot.press("g")
    await wait_for(
        pilot,
        lambda: (
            len(app.reports_pane.order) > before
            and app.reports_pane.running_id is None
            and app.reports_pane.frame is not None
        ),
        what="report complete and shown",
    )
    return app.reports_pane.current


@async_test
async def test_generate_report_until_complete(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        report_id = await generate(pilot)
        info = app.jobs.get(report_id)
        assert info.status is ReportStatus.COMPLETE
        assert report_rows(app)[0] == "Complete"
        table = app.query_one("#report-table", RowTable)
        rows = await rows_loaded(pilot, table)
        assert [row[0] for row in rows] == sorted(row[0] for row in rows)
        await wait_for(pilot, lambda: f"of {info.row_count:,} stores" in label_text(app, "#report-status"))
        assert "Stores" in label_text(app, "#fleet-stats")
        assert app.query_one("#fleet-worst", DataTable).row_count == 10
        # Sort by the week uptime column, descending on the second press.
        table.cursor_column = 3
        await pilot.press("s")
        await wait_for(pilot, lambda: app.reports_pane.view.sort_column == "uptime_last_week")
        assert table.labels[3] == "up 1w\n(h)▲"  # the least uptime first
        values = [float(row[3]) for row in all_rows(app.reports_pane.view)]
        assert values == sorted(values) and len(values) == info.row_count
        await pilot.press("s")
        await wait_for(pilot, lambda: table.labels[3] == "up 1w\n(h)▼")
        # PgDn walks the report screen by screen (Enter on the list focuses the report's table).
        await pilot.press("enter")
        assert app.focused is table
        whole = all_rows(app.reports_pane.view)
        assert await page_down_to_the_end(pilot, table) == whole
        await pilot.press("home")
        # Filter by store id.
        store = whole[0][0]
        await pilot.press("slash", *store, "enter")
        await wait_for(pilot, lambda: table.total == 1 and table.row_at(0)[0] == store, what="filtered report")
        await wait_for(pilot, lambda: "rows 1–1 of 1 store" in label_text(app, "#report-status"))


@async_test
async def test_cancel_running_report_and_page_meanwhile(sample_db, monkeypatch: pytest.MonkeyPatch, start_app) -> None:
    import storemon_tui.report.pipeline as pipeline

    running = threading.Event()

    def slow_compute(conn, as_of_us, progress=None, should_cancel=None, timings=None, workers=None):
        deadline = time.monotonic() + 20
        step = 0
        while time.monotonic() < deadline:
            running.set()
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            step += 1
            if progress is not None:
                progress(min(0.9, step / 500))
            time.sleep(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(pipeline, "run_report", slow_compute)
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        await pilot.press("3")
        await in_pane(pilot, "reports")
        await pilot.press("g")
        await wait_for(pilot, running.is_set, what="report running")
        await wait_for(pilot, lambda: app.reports_pane.has_class("-running"))
        # The app stays responsive: page the data pane while the report runs.
        await pilot.press("2")
        await in_pane(pilot, "data")
        await pilot.press("end")
        await wait_for(pilot, lambda: "–29,391 of 29,391" in data_status(app), what="paging during report")
        assert app.reports_pane.running_id is not None
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.reports_pane.running_id is None, what="cancelled")
        await pilot.press("3")
        await wait_for(pilot, lambda: report_rows(app)[:1] == ["Cancelled"], what="list shows Cancelled")
        assert "cancelled" in label_text(app, "#report-status")
    assert ReportJobs(sample_db).list()[0].status is ReportStatus.CANCELLED


@async_test
async def test_failed_report_shows_its_error(sample_db, monkeypatch: pytest.MonkeyPatch, start_app) -> None:
    import storemon_tui.report.pipeline as pipeline

    def broken(*args, **kwargs):
        raise ValueError("disk on fire")

    monkeypatch.setattr(pipeline, "run_report", broken)
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        await pilot.press("3")
        await in_pane(pilot, "reports")
        await pilot.press("g")
        await wait_for(pilot, lambda: report_rows(app)[:1] == ["Failed"], what="failed report")
        await wait_for(pilot, lambda: "disk on fire" in label_text(app, "#report-status"))


@async_test
async def test_export_matches_cli_byte_for_byte(sample_db, tmp_path: Path, start_app) -> None:
    from storemon_tui.cli import main

    target = tmp_path / "from-app.csv"
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        report_id = await generate(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="export prompt")
        field = app.screen.query_one(Input)
        assert field.value == str(Path.cwd() / f"storemon-report-{report_id[:8]}.csv")
        field.value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists, what="export file")
        # Exporting again asks before overwriting; "n" leaves the file alone.
        target.write_text("sentinel")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="overwrite confirm")
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert target.read_text() == "sentinel"
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: target.read_text() != "sentinel", what="overwrite")
    cli_out = tmp_path / "from-cli.csv"
    url = sample_db.url
    assert main(["--db", url, "--export", str(cli_out)]) == 0
    assert target.read_bytes() == cli_out.read_bytes()


@async_test
async def test_drilldown_totals_equal_report_row(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        report_id = await generate(pilot)
        info = app.jobs.get(report_id)
        with open(info.file_path, newline="") as handle:
            rows = {r["store_id"]: r for r in csv.DictReader(handle)}
        table = app.query_one("#report-table", RowTable)
        table.focus()
        # A store with some downtime in the week, so the timeline has both colours.
        await rows_loaded(pilot, table)
        target = next(i for i in range(table.shown().bottom) if float(table.row_at(i)[6]) > 0)
        table.cursor_row, table.cursor_column = target, 0
        store = table.row_at(target)[0]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen), what="store screen")
        screen = app.screen
        await wait_for(pilot, lambda: screen.detail is not None, what="store detail")
        detail = screen.detail
        assert detail.row == rows[store]
        assert detail.timeline_row == rows[store]
        assert detail.now_us == info.as_of_us
        assert "matches report row" in label_text(screen, "#store-totals")
        assert len(detail.days) in (7, 8)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, StoreScreen))
        # By store id from the data pane (Enter on a polls row).
        await pilot.press("2")
        await in_pane(pilot, "data")
        polls = app.query_one("#data-table", RowTable)
        await wait_for(
            pilot,
            lambda: app.focused is polls and polls.cursor_data is not None,
            what="the polls table focused, with rows",
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen), what="store from data pane")
        await wait_for(pilot, lambda: app.screen.detail is not None)
        store = app.screen.detail.store_id
        assert app.screen.detail.row == rows[store]


@async_test
async def test_help_screen_lists_bindings_and_uptime(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        text = app.screen.query_one("#help-text").source + label_text(app.screen, "#help-keys")
        for needle in ("nearest evidence poll", r"g, F5 +Generate", r"PgDn, \] +Next screen", "Clear all", "Esc"):
            assert re.search(needle, text), needle
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))


@async_test
async def test_command_palette_generates_a_report(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await started(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"generate report")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "reports", what="reports pane")
        await wait_for(pilot, lambda: report_rows(app)[:1] == ["Complete"], what="report from palette")
