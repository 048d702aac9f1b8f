"""A failing background job becomes a notification; the app never dies with a traceback."""

from __future__ import annotations

import pytest

import storemon_tui.db.browse as browse
from storemon_tui.errors import DatabaseError
from storemon_tui.tui.widgets.row_table import RowTable
from tests.tui.tui_helpers import async_test, rows_loaded, wait_for


@async_test
async def test_a_failing_page_query_is_a_notification_not_a_crash(
    sample_db, monkeypatch: pytest.MonkeyPatch, start_app
) -> None:
    async with start_app(sample_db, offer_sample=False) as pilot:
        app = pilot.app
        app.show_pane("data")
        table = app.query_one("#data-table", RowTable)
        await rows_loaded(pilot, table, what="first rows")

        def locked(self, start, count, near=None):  # stands in for Pager.window
            raise DatabaseError("database storemon.sqlite3: database is locked")

        monkeypatch.setattr(browse.Pager, "window", locked)
        table.go_to(20_000)  # what `j` runs: rows that are not held yet
        await wait_for(
            pilot,
            lambda: any("database is locked" in str(n.message) for n in app._notifications),
            what="the error notification",
        )
        assert app.is_running and table.row_at(20_000) is None
        monkeypatch.undo()
        table.action_move(1)  # and the table still works afterwards: the next move reads again
        assert (await rows_loaded(pilot, table, what="rows after the error"))[0] is not None
