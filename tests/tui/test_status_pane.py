"""The Status pane: the first screen, worst first, drill-down, filter, refresh on new data, NO_COLOR.

The hand-built fleet of ``tests/report/status_fleet.py`` (one store per state, the
arithmetic in its docstring) is imported from CSV files into a tmp database.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from textual.widgets import ProgressBar

from storemon_tui.db import open_database
from storemon_tui.errors import Cancelled
from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.tui.app import VERSION_POLL_S, StoremonApp
from storemon_tui.tui.panes.status_pane import parse_silent_threshold, threshold_text
from storemon_tui.tui.screens.dialogs import PromptScreen
from storemon_tui.tui.screens.store import StoreScreen
from storemon_tui.tui.widgets.timeline import LABEL_WIDTH, now_marker
from tests.report.status_fleet import HOUR, NOW, STATES, WORST_FIRST, write_fleet_csvs
from tests.tui.tui_helpers import async_test, label_text, rows_loaded, status_line_agrees, wait_for

SIZE = (80, 24)


@pytest.fixture
def fleet_db(data_dir: Path, tmp_path: Path):
    from storemon_tui.ingest import import_file

    db = open_database(str(data_dir / "storemon.sqlite3"))
    inputs = tmp_path / "fleet"
    inputs.mkdir()
    for path in write_fleet_csvs(inputs):
        import_file(db, path)
    yield db
    db.dispose()


async def status_shown(pilot) -> list:
    """Wait for the fleet status, the rows on screen and the focus (on the first frame); return the rows."""
    app = pilot.app
    await wait_for(pilot, lambda: app.status_pane.board is not None, what="fleet status")
    # Start-up may compute twice (once at mount, again when the summary's data version comes): the last one.
    await wait_for(pilot, lambda: not app.status_pane.computing, what="the fleet status computed")
    await wait_for(pilot, lambda: app.focused is not None, what="focus")
    rows = await rows_loaded(pilot, app.status_pane.table, what="status rows")
    await wait_for(pilot, lambda: status_line_agrees(app), what="the status line to count the rows shown")
    return rows


def status_line(app) -> str:
    return label_text(app, "#status-line")


@async_test
async def test_the_app_opens_on_status_with_the_fleet_at_a_glance(sample_db) -> None:
    app = StoremonApp(sample_db)  # started by hand, not by start_app: what start-up shows is the test
    async with app.run_test(size=SIZE) as pilot:
        await status_shown(pilot)
        assert app.query_one("#panes").active == "status"
        assert app.focused is app.status_pane.table
        # The sample at its latest poll (storemon --status on it: 180 open, 20 of them down, 12 silent).
        assert label_text(app, "#glance-open") == "180 of 199 open now"
        assert label_text(app, "#glance-down") == "20 of them down"
        assert label_text(app, "#glance-silent") == "12 silent > 2 h"
        assert label_text(app, "#glance-uptime").startswith("Fleet uptime last week ")
        assert "rows 1–16 of 199 stores · as of 2023-01-25 18:12 UTC" in status_line(app)
        assert app.query_one("#glance-down").has_class("-alert")
        # The other panes keep their keys.
        await pilot.press("3")
        await wait_for(pilot, lambda: app.query_one("#panes").active == "reports", what="reports")
        await pilot.press("0")
        await wait_for(pilot, lambda: app.focused is app.status_pane.table, what="back on status")


@async_test
async def test_worst_first_down_then_silent_then_worse_then_the_rest(fleet_db, start_app) -> None:
    async with start_app(fleet_db) as pilot:
        app = pilot.app
        rows = await status_shown(pilot)
        assert [row[1] for row in rows] == list(WORST_FIRST)
        assert [row[0] for row in rows] == [STATES[store] for store in WORST_FIRST]
        # down-long: down for 5.5 business hours since 12:30 UTC (see status_fleet).
        assert rows[1][2:6] == ("yes", "down", "5.50", "01-23 12:30")
        glance = [label_text(app, f"#glance-{name}") for name in ("open", "down", "silent", "worse", "uptime")]
        assert glance == [
            "8 of 9 open now",
            "3 of them down",
            "2 silent > 2 h",
            "1 worse",
            "Fleet uptime last week 84.19 % ↓ (the week before: 100.00 %)",
        ]


@async_test
async def test_enter_opens_the_store_with_now_and_its_current_run(fleet_db, start_app) -> None:
    async with start_app(fleet_db) as pilot:
        app = pilot.app
        await status_shown(pilot)
        await pilot.press("down", "enter")  # down-long
        await wait_for(
            pilot, lambda: isinstance(app.screen, StoreScreen) and app.screen.detail is not None, what="drill-down"
        )
        screen = app.screen
        assert screen.store_id == "down-long" and screen.as_of_us == NOW
        # 24×7, Chicago (the default zone): 12:30 UTC is 06:30 CST, the same day as now (12:00 CST).
        assert label_text(screen, "#store-now") == "Open now · down for 5.5 business hours since 06:30 (12:30 UTC)"
        # Under the last day (30-minute cells at 80 columns): the run from cell 13 (06:30) to now, cell 24.
        timeline = screen.query_one("#store-timeline").render().plain.splitlines()
        assert timeline[-2] == " " * LABEL_WIDTH + " " * 13 + "╰" + "─" * 10 + "▲ now 12:00"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.focused is app.status_pane.table, what="back on the status table")


@async_test
async def test_y_copies_the_selected_store_id_from_the_status_table(fleet_db, start_app) -> None:
    """As in the Data and Reports tables: the whole id, also when a narrow terminal cuts it on screen."""
    async with start_app(fleet_db) as pilot:
        app = pilot.app
        await status_shown(pilot)
        await pilot.press("down", "y")  # the second row: down-long
        assert app.clipboard == "down-long"
        await pilot.press("slash", *"silent", "enter")
        await wait_for(pilot, lambda: app.status_pane.table.total == 2, what="filtered rows")
        await pilot.press("home", "y")
        assert app.clipboard == "silent-5h"  # the longest silence first


@async_test
async def test_the_status_filter_is_its_own(fleet_db, start_app) -> None:
    async with start_app(fleet_db) as pilot:
        app = pilot.app
        await status_shown(pilot)
        await pilot.press("slash", *"down", "enter")
        table = app.status_pane.table
        await wait_for(pilot, lambda: table.total == 3, what="filtered rows")
        assert [row[1] for row in await rows_loaded(pilot, table)] == ["down-forever", "down-long", "down-short"]
        assert "rows 1–3 of 3 · store_id 'down'" in status_line(app)
        assert app.focused is table
        # The Data pane's filter is another one: untouched.
        assert app.data_pane.filters["polls"] == ""
        await pilot.press("slash", "ctrl+u", *"zzz", "escape")
        await wait_for(pilot, lambda: table.total == 0, what="no rows")
        assert "no stores match 'zzz'" in status_line(app)
        assert app.focused is table


@async_test
async def test_an_import_by_another_process_refreshes_status_header_and_reports(
    fleet_db, tmp_path: Path, start_app
) -> None:
    assert ReportJobs(fleet_db).run(NOW).status is ReportStatus.COMPLETE
    extra = tmp_path / "later.csv"
    # An hour later "fine" goes inactive: it is open (24×7), so it is down now, and the latest poll moves on.
    extra.write_text("store_id,timestamp_utc,status\nfine,2023-01-23 19:00:00,inactive\n")
    async with start_app(fleet_db) as pilot:
        app = pilot.app
        await status_shown(pilot)
        version = app.status_pane.board.version
        assert not app.reports_pane.has_class("-stale")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "storemon_tui", "--db", fleet_db.sqlite_path, "--import", str(extra)
        )
        assert await process.wait() == 0
        imported = time.monotonic()
        # Noticed within the poll interval and a bit (a loaded test machine): the requirement is 2 s.
        await wait_for(pilot, lambda: app._seen_version != version, timeout=2.0 + VERSION_POLL_S / 2, what="noticed")
        assert time.monotonic() - imported < 2.5
        await wait_for(pilot, lambda: app.status_pane.board.version != version, what="status recomputed")
        rows = await rows_loaded(pilot, app.status_pane.table)
        assert [row[1] for row in rows[:4]] == ["down-forever", "down-long", "down-short", "fine"]
        assert rows[3][0] == "DOWN" and "as of 2023-01-23 19:00 UTC" in status_line(app)
        await wait_for(
            pilot, lambda: "data up to 2023-01-23 19:00 UTC" in label_text(app, "#db-summary"), what="header"
        )
        await wait_for(pilot, lambda: app.reports_pane.has_class("-stale"), what="stale reports")
        assert "The data changed after the newest report" in label_text(app, "#report-stale")
        assert app.status_pane.board.now_us == NOW + HOUR


@async_test
async def test_states_are_words_as_well_as_colours(fleet_db, monkeypatch: pytest.MonkeyPatch, start_app) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with start_app(fleet_db) as pilot:
        app = pilot.app
        assert app.no_color
        await status_shown(pilot)
        table = app.status_pane.table
        drawn = [table.render_line(y).text for y in range(1, len(WORST_FIRST) + 1)]
        assert [line.split()[:2] for line in drawn] == [[STATES[store], store] for store in WORST_FIRST]
        # Textual's NO_COLOR filter is active: the colours of the states are dropped when drawing, their words stay.
        assert any(type(f).__name__ in ("NoColor", "Monochrome") for f in app._filters)
        colours = {
            name: table.get_component_rich_style(f"statustable--{name}").color for name in ("down", "silent", "worse")
        }
        assert None not in colours.values() and len(set(colours.values())) == 3


@async_test
async def test_the_silent_threshold_is_set_with_h_and_kept_in_the_database(fleet_db, start_app) -> None:
    async with start_app(fleet_db) as pilot:
        app = pilot.app
        await status_shown(pilot)
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="dialog")
        await pilot.press("ctrl+u", *"six", "enter")
        assert isinstance(app.screen, PromptScreen)  # stays open with the problem under the field
        await pilot.press("ctrl+u", *"4.5", "enter")
        await wait_for(pilot, lambda: label_text(app, "#glance-silent") == "1 silent > 4.5 h", what="new threshold")
        rows = await rows_loaded(pilot, app.status_pane.table)
        assert [row[1] for row in rows[3:5]] == ["silent-5h", "worse"]
        await app.workers.wait_for_complete()
    async with start_app(fleet_db) as pilot:
        await status_shown(pilot)
        assert label_text(pilot.app, "#glance-silent") == "1 silent > 4.5 h"


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("2", 120), ("1.5", 90), ("90 min", 90), ("45m", 45), (" 3 h ", 180), ("0", None), ("x", None), ("31 days", None)],
)
def test_parse_silent_threshold(text: str, minutes: int | None) -> None:
    parsed = parse_silent_threshold(text)
    assert parsed == minutes if minutes is not None else isinstance(parsed, str)


def test_threshold_text() -> None:
    assert [threshold_text(m) for m in (120, 90, 45, 270, 61)] == ["2 h", "1.5 h", "45 min", "4.5 h", "61 min"]


def test_now_marker_draws_the_run_back_to_its_start() -> None:
    days = [date(2023, 1, 24), date(2023, 1, 25)]
    now = datetime(2023, 1, 25, 13, 12)
    # 30-minute cells: now is in cell 26 (13:00–13:30), the run began in cell 21 (10:30–11:00).
    assert now_marker(days, now, datetime(2023, 1, 25, 10, 44), 30, 70) == " " * 21 + "╰────▲ now 13:12"
    # Begun the day before: drawn from the start of the row.
    assert now_marker(days, now, datetime(2023, 1, 24, 20, 0), 30, 70) == "◀" + "─" * 25 + "▲ now 13:12"
    # No run (every evidence poll the same); now late in the day: the words go left of ▲.
    late = datetime(2023, 1, 25, 23, 50)
    assert now_marker(days, late, None, 30, 48) == " " * 37 + "now 23:50 ▲"
    # Midnight: now ends the last day's row.
    assert now_marker(days, datetime(2023, 1, 26, 0, 0), None, 60, 30).endswith("▲")
    assert len(now_marker(days, datetime(2023, 1, 26, 0, 0), None, 60, 30)) == 24


@pytest.fixture
def stepped_status(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """The fleet status reports 0 %, 10 %, … 90 %, 0.2 s apart, then waits for the event (or a cancel)."""
    import storemon_tui.report.pipeline as pipeline

    release = threading.Event()
    real = pipeline.run_status

    def stepped(conn, as_of_us, *, progress=None, should_cancel=None, timings=None, workers=None):
        for step in range(10):
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            if progress is not None:
                progress(step / 10)
            time.sleep(0.2)
        while not release.wait(0.05):
            if should_cancel is not None and should_cancel():
                raise Cancelled()
        return real(conn, as_of_us, progress=progress, should_cancel=should_cancel, timings=timings, workers=workers)

    monkeypatch.setattr(pipeline, "run_status", stepped)
    return release


@async_test
async def test_the_status_shows_its_progress_and_esc_cancels_it(fleet_db, stepped_status: threading.Event) -> None:
    app = StoremonApp(fleet_db)  # by hand: start_app would wait for the held computation
    async with app.run_test(size=SIZE) as pilot:
        pane = app.status_pane
        bar = app.query_one("#status-bar", ProgressBar)
        await wait_for(pilot, lambda: (bar.percentage or 0) >= 0.3, what="progress")
        assert pane.computing and pane.has_class("-running")
        assert re.match(r"Computing the fleet status · \d+%", label_text(app, "#status-progress-label"))
        await wait_for(pilot, lambda: app.focused is pane.table, what="focus")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not pane.computing, what="cancelled")
        assert status_line(app) == "Cancelled · r computes the fleet status again"
        assert pane.board is None and not pane.has_class("-running")
        stepped_status.set()
        await pilot.press("r")
        await status_shown(pilot)
        assert [row[1] for row in await rows_loaded(pilot, pane.table)] == list(WORST_FIRST)
