"""Keyboard truthfulness, the report table at 80 columns, the timeline's partial cells, the
debounced store filter and NO_COLOR."""

from __future__ import annotations

import numpy as np
import pytest
from textual.widgets import DataTable, Input
from textual.widgets._footer import FooterKey

from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.report.store_detail import CLOSED, DOWN, NO_DATA, OUTSIDE, SLOTS_PER_DAY, UP
from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.panes.data_pane import DataPane
from storemon_tui.tui.screens.help import HelpScreen
from storemon_tui.tui.screens.store import StoreScreen
from storemon_tui.tui.widgets.row_table import RowTable
from storemon_tui.tui.widgets.timeline import GLYPHS, LEGEND, NAMES, PARTLY, Timeline, cell_states
from tests.tui.tui_helpers import SIZE, async_test, label_text, rows_loaded, screen_rows, wait_for

AS_OF_US = 1_674_670_376_164_735  # the sample's latest poll
UUID = "03087d5a-471e-43c9-8f5b-c27e28da1986"  # a store of the sample with a 36-character id


def footer_keys(app) -> list[str]:
    return [key.key_display for key in app.screen.query(FooterKey)]


async def footer_settled(pilot, expect: str) -> list[str]:
    await wait_for(pilot, lambda: expect in footer_keys(pilot.app), what=f"{expect!r} in the footer")
    await pilot.pause(0.05)
    return footer_keys(pilot.app)


@async_test
async def test_text_field_footer_shows_working_keys_and_esc_leaves(sample_db, start_app) -> None:
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
        # Switching to Import on a non-empty database does not focus the path field.
        await pilot.press("1")
        await wait_for(pilot, lambda: app.focused is app.import_pane, what="import pane focus")
        keys = await footer_settled(pilot, "/")
        assert {"?", "q", "F5"} <= set(keys), keys
        # "/" enters the field; the footer then shows only keys that work while typing.
        await pilot.press("slash")
        field = app.query_one("#import-path", Input)
        assert app.focused is field
        keys = await footer_settled(pilot, "Esc")
        assert {"F1", "Esc", "F5", "F3"} <= set(keys), keys
        assert not {"?", "q", "/", "i", "1"} & set(keys), keys
        await pilot.press("question_mark", "q", "2")
        assert field.value == "?q2" and app.query_one("#panes").active == "import"
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help from F1")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.focused is field, what="back in the field")
        # Esc leaves the field: the one-key bindings work again.
        await pilot.press("escape")
        assert app.focused is app.import_pane
        await pilot.press("2")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "data", what="data pane")
        # Same on the data pane's filter.
        await pilot.press("slash")
        assert app.focused is app.query_one("#data-filter", Input)
        keys = await footer_settled(pilot, "Esc")
        assert not {"t", "/", "j", "c", "?", "q"} & set(keys), keys
        await pilot.press("escape")
        assert app.focused is app.query_one("#data-table")
        await pilot.press("3")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "reports", what="reports pane")
        await pilot.press("slash")
        assert app.focused is app.query_one("#report-filter", Input)
        keys = await footer_settled(pilot, "Esc")
        assert "F5" in keys and not {"g", "e", "s", "/", "?", "q"} & set(keys), keys


@async_test
async def test_data_filter_is_debounced(sample_db, monkeypatch: pytest.MonkeyPatch, start_app) -> None:
    store = "10311121533259807379"
    calls: list[str | None] = []
    real = DataPane.show_table

    def counting(self, name=None):
        calls.append(self.filters[name or self.pager.table])
        real(self, name)

    monkeypatch.setattr(DataPane, "show_table", counting)
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: "rows 1–" in label_text(app, "#data-status"), what="first rows")
        await pilot.press("2")
        await wait_for(pilot, lambda: app.focused is app.query_one("#data-table"), what="table focus")
        calls.clear()  # the first table shown at start-up
        await pilot.press("slash", *store)
        await wait_for(pilot, lambda: store in label_text(app, "#data-status"), what="filtered page")
        assert calls == [store]
        # Enter applies at once (no wait for the delay).
        await pilot.press("backspace", "enter")
        assert calls == [store, store[:-1]]
        assert app.focused is app.query_one("#data-table")


async def open_report(pilot, sort: str | None = None) -> RowTable:
    app = pilot.app
    await wait_for(pilot, lambda: app.summary is not None and app.focused is not None, what="start")
    await pilot.press("3")
    await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="report view")
    table = app.query_one("#report-table", RowTable)
    await rows_loaded(pilot, table)
    return table


@async_test
async def test_report_table_fits_80_columns_with_uuid_ids(sample_db, start_app) -> None:
    info = ReportJobs(sample_db).run(AS_OF_US)
    assert info.status is ReportStatus.COMPLETE
    async with start_app(sample_db) as pilot:
        table = await open_report(pilot)
        assert UUID in [row[0] for row in screen_rows(table)]  # the first store of the sample
        await pilot.pause(0.1)
        assert any(UUID in str(line) for line in [table.render_line(y).text for y in range(3)])  # whole
        assert table.virtual_size.width <= table.scrollable_content_region.width, (
            table.virtual_size,
            table.scrollable_content_region,
        )
        assert table.max_scroll_x == 0
        assert list(table.labels) == [
            "store_id ▲",
            *("up 1h\n(min)", "up 1d\n(h)", "up 1w\n(h)"),
            *("dn 1h\n(min)", "dn 1d\n(h)", "dn 1w\n(h)"),
            "up %\n1w",
        ]
        # Sorting adds an arrow to a header without widening the table.
        table.cursor_column = 4
        await pilot.press("s")
        await wait_for(pilot, lambda: table.labels[4] == "dn 1h\n(min)▼", what="sorted, worst first")
        await pilot.pause(0.1)
        assert table.max_scroll_x == 0
        table.cursor_column = 7
        await pilot.press("s", "s")
        await wait_for(pilot, lambda: table.labels[7] == "up %\n1w▼", what="sorted desc")
        await pilot.pause(0.1)
        assert table.max_scroll_x == 0


def test_cell_states_show_short_outages() -> None:
    slots = np.zeros((1, SLOTS_PER_DAY, 5))
    slots[0, :, OUTSIDE] = 300.0
    slots[0, 0:6, UP] = 300.0  # 00:00-00:30 up
    slots[0, 6:12, UP] = 300.0  # 00:30-01:00: 25 min up, 5 min down
    slots[0, 8, UP], slots[0, 8, DOWN] = 0.0, 300.0
    slots[0, 12:18, DOWN] = 300.0  # 01:00-01:30 down
    slots[0, 18:24, CLOSED] = 300.0  # 01:30-02:00 closed
    slots[0, 24:30, NO_DATA] = 300.0  # 02:00-02:30 open without evidence
    slots[0, 30:36, CLOSED] = 240.0  # 02:30-03:00 mostly closed, 1 min down
    slots[0, 30, CLOSED], slots[0, 30, DOWN] = 240.0, 60.0
    slots[0, 0:36, OUTSIDE] = 0.0
    cells = cell_states(slots, 30)[0, :7].tolist()
    assert cells == [UP, PARTLY, DOWN, CLOSED, NO_DATA, DOWN, OUTSIDE]


@async_test
async def test_no_color_runs_and_timeline_glyphs_stand_alone(sample_db, monkeypatch: pytest.MonkeyPatch) -> None:
    ReportJobs(sample_db).run(AS_OF_US)
    monkeypatch.setenv("NO_COLOR", "1")
    app = StoremonApp(sample_db)  # made here: the test is that the app itself reads NO_COLOR
    assert app.no_color
    async with app.run_test(size=SIZE) as pilot:
        await open_report(pilot)
        worst = app.query_one("#fleet-worst", DataTable)
        await wait_for(pilot, lambda: worst.row_count == 10, what="fleet summary")
        worst.focus()
        # The worst stores have both up and down time: the timeline uses several glyphs.
        worst.move_cursor(row=5)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, StoreScreen) and app.screen.detail is not None, what="drill-down"
        )
        await pilot.pause(0.1)
        lines = app.screen.query_one(Timeline).render().plain.splitlines()
        screen_text = "\n".join(lines)
        legend = lines[-1]
        glyphs = [GLYPHS[state] for state in LEGEND]
        assert len(set(glyphs)) == len(glyphs) and " " not in glyphs
        for state in LEGEND:
            assert f"{GLYPHS[state]} {NAMES[state]}" in legend
        body = "".join(line[10:] for line in lines[1:-1])
        assert {GLYPHS[UP], GLYPHS[CLOSED]} <= set(body), screen_text
        assert {GLYPHS[DOWN], GLYPHS[PARTLY]} & set(body), screen_text
        # Textual's NO_COLOR filter is active (colours are dropped when drawing).
        assert any(type(f).__name__ in ("NoColor", "Monochrome") for f in app._filters)
