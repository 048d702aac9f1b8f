"""A failing background job becomes a notification; the app never dies with a traceback."""

from __future__ import annotations

import pytest
from tui_helpers import async_test, wait_for

import storemon_tui.db.browse as browse
from storemon_tui.errors import DatabaseError
from storemon_tui.tui.app import StoremonApp

SIZE = (80, 24)


@async_test
async def test_a_failing_page_query_is_a_notification_not_a_crash(sample_db, monkeypatch: pytest.MonkeyPatch) -> None:
    app = StoremonApp(sample_db, offer_sample=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.summary is not None)
        app.show_pane("data")
        await wait_for(pilot, lambda: app.data_pane.page is not None, what="first page")

        def locked(self, page):  # stands in for Pager.next
            raise DatabaseError("database storemon.sqlite3: database is locked")

        monkeypatch.setattr(browse.Pager, "next", locked)
        app.data_pane.load("next")  # what PgDn runs (not the key: focus may still be moving)
        await wait_for(
            pilot,
            lambda: any("database is locked" in str(n.message) for n in app._notifications),
            what="the error notification",
        )
        assert app.is_running
        monkeypatch.undo()
        app.data_pane.load("next")  # and the pane still works afterwards
        await wait_for(pilot, lambda: app.data_pane.page.number == 2, what="page 2")
