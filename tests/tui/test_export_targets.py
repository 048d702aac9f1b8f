"""The app's export writes where a path leads, like ``--export`` (issue 11 item 1)."""

from __future__ import annotations

import os
from pathlib import Path

from textual.widgets import Input

from storemon_tui.report.jobs import ReportJobs
from storemon_tui.tui.app import StoremonApp
from storemon_tui.tui.messages import ReportRequested
from storemon_tui.tui.screens.dialogs import ConfirmScreen, PromptScreen
from tests.tui.tui_helpers import async_test, wait_for

SIZE = (80, 24)


async def type_export_path(pilot, app: StoremonApp, report_id: str, path: Path) -> None:
    """Show the report, open the export dialog (e), type ``path`` and press Enter."""
    await wait_for(pilot, lambda: app.summary is not None)
    app.post_message(ReportRequested(report_id))
    await wait_for(pilot, lambda: app.reports_pane.current == report_id and app.reports_pane.frame is not None)
    app.reports_pane.action_export()
    await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen) and app.screen.query(Input), what="prompt")
    app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")


@async_test
async def test_the_apps_export_through_a_symlink_keeps_the_link(sample_db, tmp_path: Path, start_app) -> None:
    info = ReportJobs(sample_db).run()
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to("real.csv")
    async with start_app(sample_db, offer_sample=False) as pilot:
        app = pilot.app
        await type_export_path(pilot, app, info.id, link)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="overwrite confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: real.read_text() != "old\n", what="the export")
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert real.read_bytes() == Path(info.file_path or "").read_bytes()


@async_test
async def test_the_apps_export_to_a_fifo_asks_nothing_and_feeds_the_reader(
    sample_db, tmp_path: Path, start_app
) -> None:
    import threading

    info = ReportJobs(sample_db).run()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    async with start_app(sample_db, offer_sample=False) as pilot:
        app = pilot.app
        await type_export_path(pilot, app, info.id, fifo)  # nothing to overwrite: no confirmation
        await wait_for(pilot, lambda: bool(received), what="the reader's data")
    assert received[0] == Path(info.file_path or "").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["pipe"]
