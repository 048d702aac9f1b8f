"""The little things keyboard users expect (issue 14, "Friction to remove"), one test each."""

from __future__ import annotations

from storemon_tui.tui.messages import StoreRequested
from storemon_tui.tui.screens.store import StoreScreen
from tests.tui.tui_helpers import async_test, label_text, wait_for


@async_test
async def test_y_copies_the_selected_store_id(sample_db, start_app) -> None:
    from storemon_tui.report.jobs import ReportJobs

    ReportJobs(sample_db).run()
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await pilot.press("2")  # the app opens on Status
        await wait_for(pilot, lambda: app.focused is app.data_pane.table, what="the Data pane")
        # Data pane: the store of the polls row under the cursor.
        await wait_for(pilot, lambda: app.data_pane.table.cursor_data is not None, what="first row")
        store = app.data_pane.table.cursor_data[0]
        await pilot.press("y")
        assert app.clipboard == store
        # Reports pane: the store of the report row.
        await pilot.press("3")
        await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="report view")
        app.reports_pane.query_one("#report-table").focus()
        await wait_for(pilot, lambda: app.reports_pane.selected_row() is not None, what="report row")
        await pilot.press("down", "y")
        second = app.reports_pane.selected_row()
        assert second is not None and app.clipboard == second["store_id"] != store
        # The store screen: its store.
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen), what="store screen")
        app.copy_to_clipboard("")
        await pilot.press("y")
        assert app.clipboard == second["store_id"]


@async_test
async def test_the_header_says_how_old_the_data_is(sample_db, start_app, monkeypatch) -> None:
    from datetime import UTC, datetime

    from storemon_tui.tui.app import StoremonApp

    # The sample's latest poll is 2023-01-25 18:12:56 UTC; today's clock makes it years old: a warning.
    async with start_app(sample_db) as pilot:
        summary = pilot.app.query_one("#db-summary")
        text = label_text(pilot.app, "#db-summary")
        assert "29,391 polls · data up to 2023-01-25 18:12 UTC · " in text
        assert text.endswith(" y old") and "now" not in text
        assert summary.has_class("-stale")
    # 17 minutes after the latest poll (18:30 - 18:12:56 = 17 min 4 s): fresh, no warning.
    now = datetime(2023, 1, 25, 18, 30, tzinfo=UTC).timestamp()
    monkeypatch.setattr(StoremonApp, "clock", staticmethod(lambda: now))
    async with start_app(sample_db) as pilot:
        assert label_text(pilot.app, "#db-summary").endswith("data up to 2023-01-25 18:12 UTC · 17 min old")
        assert not pilot.app.query_one("#db-summary").has_class("-stale")
    # Two days later: stale again ("2 d old").
    monkeypatch.setattr(StoremonApp, "clock", staticmethod(lambda: now + 2 * 86400))
    async with start_app(sample_db) as pilot:
        assert label_text(pilot.app, "#db-summary").endswith("· 2 d old")
        assert pilot.app.query_one("#db-summary").has_class("-stale")


@async_test
async def test_store_screen_times_say_year_and_utc_or_local(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        app.data_pane.post_message(StoreRequested("10311121533259807379"))
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen) and app.screen.detail is not None)
        screen = app.screen
        # The as-of instant is UTC (the latest poll, 2023-01-25 18:12:56 UTC) ...
        assert label_text(screen, "#store-totals").splitlines()[:2] == ["as of 2023-01-25", "18:12:56 UTC"]
        # ... the polls and the timeline are local (New York), in 2023.
        polls = screen.query_one("#store-polls")
        assert [str(c.label) for c in polls.columns.values()] == ["2023 local", "status"]
        assert polls.get_row_at(0)[0] == "01-25 13:01"  # 18:01 UTC is 13:01 in New York (UTC-5)
        assert str(screen.query_one("#store-timeline").render()).startswith("2023 local 00")


@async_test
async def test_the_skip_invalid_checkbox_shows_its_off_state(empty_db, start_app, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # the states differ in shape, not only in colour
    async with start_app(empty_db, offer_sample=False) as pilot:
        box = pilot.app.query_one("#import-skip")
        assert str(box.render()).startswith("▐ ▌")
        await pilot.press("f4")
        await wait_for(pilot, lambda: box.value, what="checked")
        assert str(box.render()).startswith("▐✓▌")


@async_test
async def test_report_headers_carry_units_a_week_uptime_column_and_sort_worst_first(sample_db, start_app) -> None:
    from storemon_tui.report.formatting import REPORT_COLUMNS
    from storemon_tui.report.jobs import ReportJobs
    from tests.tui.tui_helpers import rows_loaded

    info = ReportJobs(sample_db).run()
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await pilot.press("3")
        await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="report view")
        table = app.query_one("#report-table")
        rows = await rows_loaded(pilot, table)
        assert table.labels[1:4] == ("up 1h\n(min)", "up 1d\n(h)", "up 1w\n(h)")
        assert table.labels[7] == "up %\n1w" and table.header_height == 2
        # The week's uptime %: up / (up + down) of the week, rounded down to 0.1; empty without business hours.
        # Store 10311121533259807379: 19.97 h up, 32.53 h down: 1997 / 52.5 = 38.038… -> 38.0.
        one = app.reports_pane.frame.view(filter="10311121533259807379").window(0, 1).rows[0]
        assert (one[3], one[6], one[7]) == ("19.97", "32.53", "38.0")
        for row in rows:
            up, down, pct = float(row[3]), float(row[6]), row[7]
            if up + down == 0:
                assert pct == ""
            elif down == 0:
                assert pct == "100"
            else:
                assert float(pct) <= 100 * up / (up + down) < float(pct) + 0.1, row
        # Sorting a downtime column starts with the most downtime; an uptime column with the least.
        table.cursor_column = 6
        await pilot.press("s")
        await wait_for(pilot, lambda: app.reports_pane.view.sort_column == "downtime_last_week")
        down = [float(row[6]) for row in await rows_loaded(pilot, table)]
        assert down == sorted(down, reverse=True) and down[0] > down[-1]
        table.cursor_column = 7
        await pilot.press("s")
        await wait_for(pilot, lambda: app.reports_pane.view.sort_column == "uptime_pct_last_week")
        pct = [row[7] for row in await rows_loaded(pilot, table)]
        assert float(pct[0]) == min(float(p) for p in pct if p)  # the worst store first
        worst = app.reports_pane.query_one("#fleet-worst").get_row_at(0)
        assert app.reports_pane.selected_row()["store_id"] == str(worst[1])  # as the fleet summary's worst
        # The report row handed to the store screen is the report's own (no uptime % in it).
        assert tuple(app.reports_pane.selected_row()) == REPORT_COLUMNS
        assert info.row_count == len(app.reports_pane.view.frame.text)


@async_test
async def test_the_footer_shows_the_keys_of_the_open_dialog(sample_db, start_app) -> None:
    from textual.widgets._footer import FooterKey

    from storemon_tui.tui.screens.dialogs import ClearScreen, PromptScreen

    def footer_keys(app) -> list[str]:
        return [key.description for key in app.screen.query(FooterKey)]

    async with start_app(sample_db) as pilot:
        app = pilot.app
        await pilot.press("2")  # the app opens on Status
        await wait_for(pilot, lambda: app.focused is app.data_pane.table, what="the Data pane")
        assert "Table" in footer_keys(app)  # the Data pane's
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ClearScreen), what="clear dialog")
        await wait_for(pilot, lambda: footer_keys(app), what="dialog footer")
        # Only the choices offered (no filter: no "Filtered rows"; polls: no "Keep N reports").
        assert footer_keys(app) == ["Whole table", "Keep N days", "Cancel"]
        await pilot.press("n", "j")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="jump prompt")
        await wait_for(pilot, lambda: footer_keys(app), what="prompt footer")
        assert footer_keys(app)[0] == "Cancel" and "Table" not in footer_keys(app)


@async_test
async def test_clear_with_a_filter_offers_just_the_filtered_stores_rows(sample_db, start_app) -> None:
    from storemon_tui.db.browse import Pager
    from storemon_tui.tui.screens.dialogs import ClearScreen
    from tests.tui.tui_helpers import count

    store = "10311121533259807379"
    polls = Pager(sample_db, "polls", store_filter=store).total()
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await pilot.press("2")  # the app opens on Status
        await wait_for(pilot, lambda: app.focused is app.data_pane.table, what="the Data pane")
        await pilot.press("slash", *store, "enter")
        await wait_for(pilot, lambda: f"store_id '{store}' · rows 1–" in label_text(app, "#data-status"))
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ClearScreen), what="clear dialog")
        assert app.screen.options["store"] == f"Delete the {polls} polls of store {store}"
        assert app.screen.options["all"] == "Delete all 29,391 polls"
        await pilot.press("s")
        await wait_for(pilot, lambda: count(sample_db, "poll") == 29_391 - polls, what="the store's polls deleted")
        assert Pager(sample_db, "polls", store_filter=store).total() == 0
        await wait_for(pilot, lambda: label_text(app, "#data-status") == f"Polls · no rows match '{store}'")
        assert count(sample_db, "business_hours") == 1_349  # the store's hours stay


@async_test
async def test_clear_offers_retention_keep_days_and_keep_reports(sample_db, start_app, data_dir) -> None:
    from storemon_tui.report.jobs import ReportJobs
    from storemon_tui.report.retention import prune_polls
    from storemon_tui.tui.screens.dialogs import ClearScreen, PromptScreen
    from tests.tui.tui_helpers import count

    jobs = ReportJobs(sample_db)
    older, newest = jobs.run(), jobs.run()
    # What --prune --keep-days 2 deletes, measured on a copy of the same database.
    import shutil

    from storemon_tui.db import open_database

    shutil.copy(data_dir / "storemon.sqlite3", data_dir / "copy.sqlite3")
    copy = open_database(str(data_dir / "copy.sqlite3"))
    expected = prune_polls(copy, 2).deleted
    copy.dispose()
    assert expected > 0
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await pilot.press("2")  # the app opens on Status
        await wait_for(pilot, lambda: app.focused is app.data_pane.table, what="the Data pane")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ClearScreen), what="clear dialog")
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="keep days")
        await pilot.press("backspace", "backspace", "2", "enter")
        await wait_for(pilot, lambda: count(sample_db, "poll") == 29_391 - expected, what="pruned polls")
        # The reports table: keep the newest N reports.
        await pilot.press("t", "t", "t")
        await wait_for(pilot, lambda: label_text(app, "#data-status").startswith("Reports · rows"), what="reports")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ClearScreen), what="clear dialog")
        assert list(app.screen.options) == ["all", "keep_reports"]
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="keep reports")
        await pilot.press("backspace", "backspace", "backspace", "1", "enter")
        await wait_for(pilot, lambda: [r.id for r in jobs.list()] == [newest.id], what="older report deleted")
        assert not (jobs.directory / f"{older.id}.csv").exists()


@async_test
async def test_export_says_what_it_writes_all_or_the_filtered_stores(sample_db, start_app, tmp_path) -> None:
    from pathlib import Path

    from textual.widgets import Input

    from storemon_tui.report.jobs import ReportJobs
    from storemon_tui.tui.screens.dialogs import ExportScreen, PromptScreen

    info = ReportJobs(sample_db).run()
    whole = ReportJobs(sample_db).csv_bytes(info.id).decode().splitlines()
    expected = [whole[0], *(line for line in whole[1:] if line.startswith("10"))]
    assert 1 < len(expected) - 1 < info.row_count

    async def prompt(pilot) -> Input:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), what="path prompt")
        return pilot.app.screen.query_one(Input)

    async with start_app(sample_db) as pilot:
        app = pilot.app
        await pilot.press("3")
        await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="report view")
        # No filter: straight to the path, shown absolute, the title says "all stores".
        await pilot.press("e")
        field = await prompt(pilot)
        assert Path(field.value).is_absolute() and field.value == str(Path.cwd() / f"storemon-report-{info.id[:8]}.csv")
        assert app.screen.title_text.endswith(": all stores")
        await pilot.press("escape")
        # With a filter: all, or just the stores shown.
        await pilot.press("slash", "1", "0", "enter")
        await wait_for(pilot, lambda: app.reports_pane.view.filter == "10", what="filtered")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen), what="export scope")
        shown = f"the {len(expected) - 1} stores the filter '10' shows"
        assert app.screen.options == {"filtered": f"Just {shown}", "all": f"All {info.row_count} stores"}
        await pilot.press("f")
        field = await prompt(pilot)
        assert field.value.endswith("-filtered.csv") and Path(field.value).is_absolute()
        target = tmp_path / "some.csv"
        field.value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.exists(), what="export written")
        assert target.read_text().splitlines() == expected  # the report's own lines, in its order


@async_test
async def test_the_palette_shows_keys_hides_duplicates_and_finds_stores_by_prefix(sample_db, start_app) -> None:
    from textual.command import CommandList, CommandPalette

    async with start_app(sample_db) as pilot:
        app = pilot.app
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Quit" not in titles and "Keys" not in titles  # ours: the quit that asks, and the help
        assert "Theme" in titles

        def hits() -> list[str]:
            found = app.screen.query(CommandList)
            if not found:
                return []
            options = found.first()
            return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"generate report")
        await wait_for(pilot, lambda: any("Reports: generate report" in hit for hit in hits()), what="hit")
        generate = next(hit for hit in hits() if "Reports: generate report" in hit)
        assert generate.splitlines()[0].endswith("  g"), generate  # its key
        # The first characters of a store id: the stores they start; Enter opens the first.
        await pilot.press(*["backspace"] * len("generate report"), *"1031")
        await wait_for(pilot, lambda: any("Store 10311121533259807379" in hit for hit in hits()), what="store hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen), what="store screen")
        assert app.screen.store_id == "10311121533259807379"
