"""At 80×24 every pane's footer fits: no key hint is cut off the right edge (issue 14).

The footer shows a pane's own keys, ``?`` help and ``q`` quit; keys every table
has (PgDn/PgUp, Home/End, ``y``) and F6 (the sample, named by the empty
database's header) are in help's "Keys here" instead, as Posting and Harlequin
keep their footers short.
"""

from __future__ import annotations

import re

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from storemon_tui.report.jobs import ReportJobs
from storemon_tui.tui.screens.help import HelpScreen
from storemon_tui.tui.screens.store import StoreScreen
from tests.tui.tui_helpers import async_test, label_text, settle, wait_for


async def footer_keys(pilot) -> list[str]:
    """The footer's hints (``r Refresh``), after checking that they all fit on the line."""
    await settle(pilot)
    await pilot.pause()
    footer = pilot.app.screen.query_one(Footer)
    keys = list(footer.query(FooterKey))
    assert keys, "an empty footer"
    width = sum(key.outer_size.width for key in keys)
    hints = [f"{key.key_display} {key.description}" for key in keys]
    assert width <= footer.size.width == 80, f"{width} cells of hints on 80: {hints}"
    assert footer.max_scroll_x == 0, hints
    return hints


@async_test
async def test_every_pane_footer_fits_80_columns_and_shows_help_and_quit(sample_db, start_app) -> None:
    ReportJobs(sample_db).run()
    async with start_app(sample_db) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: app.focused is app.status_pane.table, what="the Status table")
        status = await footer_keys(pilot)
        for hint in ("/ Filter", "o Store", "h Silent after…", "r Refresh", "? Help", "q Quit"):
            assert hint in status, status
        # PgDn/PgUp, y: in help's keys of the place, not in the footer.
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        here = label_text(app.screen, "#help-here")
        for key in ("PgDn", "PgUp", "Home", "End", "y", "r, F5"):
            assert re.search(rf"^  {re.escape(key)}[ ,]", here, re.MULTILINE), (key, here)
        await pilot.press("escape")
        await pilot.press("2")
        await wait_for(pilot, lambda: app.focused is app.data_pane.table, what="the Data table")
        data = await footer_keys(pilot)
        for hint in ("t Table", "/ Filter", "j Jump", "c Clear", "? Help", "q Quit"):
            assert hint in data, data
        await pilot.press("3")
        await wait_for(pilot, lambda: app.reports_pane.frame is not None, what="report view")
        app.reports_pane.query_one("#report-table").focus()
        reports = await footer_keys(pilot)
        assert "g Generate" in reports and "? Help" in reports and "q Quit" in reports, reports
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen), what="store screen")
        store = await footer_keys(pilot)
        assert "Esc Back" in store and "y Copy id" in store, store
        await pilot.press("escape")
        await pilot.press("1")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "import", what="the Import pane")
        imports = await footer_keys(pilot)
        assert "F5 Import" in imports, imports
        assert "? Help" in imports and "q Quit" in imports, imports
        # In the path field ? and q type themselves: F1 is the help key there, and it shows.
        await pilot.press("slash")
        await wait_for(pilot, lambda: app.focused is app.query_one("#import-path"), what="the path field")
        field = await footer_keys(pilot)
        for hint in ("Esc Leave field", "Tab Complete", "F5 Import", "F1 Help"):
            assert hint in field, field
