"""Helpers for the app tests: waiting on the app, reading its widgets, counting rows."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from textual.worker import Worker, WorkerCancelled

from storemon_tui.db import Database

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data"
TIMEOUT = 20.0
SIZE = (80, 24)
"""The smallest terminal the app supports, and the size every app test runs at."""


def async_test(fn):
    """Run an ``async def`` test with asyncio.run (no pytest asyncio plugin needed)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


def count(db: Database, table: str) -> int:
    with db.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() or 0)


async def settle(pilot, timeout: float = TIMEOUT) -> None:
    """Wait until no worker of the app is running, the app has handled what they posted,
    and the focus has landed in the pane shown.

    A worker hands its result to the app as a message, whose handler may start the
    next worker (the summary starts the data pane's first page, an import the
    summary's refresh), so this waits for the workers, lets the app handle its
    messages, and repeats until nothing is left running. Switching panes moves the
    focus after the next refresh (``call_after_refresh``): a key pressed before
    that reaches the app, not the pane (the empty database's start-up switches to
    the Import pane, whose F4 was then lost now and then), so this waits for it too.
    Timers that have not fired yet (the debounced filter and preview) are not waited for.
    """
    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        try:
            await asyncio.wait_for(_all_done(list(app.workers)), max(deadline - time.monotonic(), 0.01))
        except TimeoutError:
            running = ", ".join(worker.description or worker.name for worker in app.workers)
            raise AssertionError(f"workers still running after {timeout:.0f} s: {running}") from None
        await pilot.pause()
        if app.workers:
            continue
        if getattr(app, "summary", True) is not None and focus_settled(app):
            return  # the start-up summary shown (it may switch panes), the focus landed
        if time.monotonic() > deadline:
            raise AssertionError(f"start-up did not settle within {timeout:.0f} s ({where(app)})")
        await pilot.pause(0.02)


def focus_settled(app) -> bool:
    """True when a dialog is up, or when the main screen's focus is inside the pane shown."""
    main = getattr(app, "main_screen", None)
    if main is None or app.screen is not main:
        return True
    focused = main.focused
    if focused is None:
        return False
    active = main.query_one("#panes").active
    return main.query_one(f"#panes #{active}") in focused.ancestors_with_self


async def _all_done(workers: list[Worker]) -> None:
    """Wait for ``workers``. One cancelled meanwhile is done too: the app's workers are exclusive, so
    a newer worker of a group cancels the running one, and ``Worker.wait`` then raises
    ``WorkerCancelled`` (``WorkerManager.wait_for_complete`` lets that through: a flaky set-up)."""
    for worker in workers:
        with contextlib.suppress(WorkerCancelled):
            await worker.wait()


async def wait_for(pilot, condition: Callable[[], object], timeout: float = TIMEOUT, what: str = "condition"):
    """Poll ``condition`` while letting the app run; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} ({where(pilot.app)})")
        await pilot.pause(0.05)
        await asyncio.sleep(0)


def where(app) -> str:
    """Where the app is, for a timeout's message: the screen, the pane shown, the focus."""
    try:
        main = getattr(app, "main_screen", None)
        pane = main.query_one("#panes").active if main is not None else "?"
        return f"screen {type(app.screen).__name__}, pane {pane}, focus {app.focused!r}"
    except Exception as exc:  # the app is shutting down: say so rather than hide the timeout
        return f"app state unreadable: {exc!r}"


async def path_field(pilot):
    """The Import pane's path field, focused: on an empty database start-up puts the focus there;
    if it is elsewhere, it goes there as a user would (1, then /). Start-up's own choice is tested
    by ``test_empty_database_start_up_focuses_the_path_field``."""
    app = pilot.app
    field = app.query_one("#import-path")
    if app.focused is not field:
        if app.query_one("#panes").active != "import":
            await pilot.press("1")
            await wait_for(pilot, lambda: app.query_one("#panes").active == "import", what="the Import pane")
        await wait_for(pilot, lambda: app.focused is not None, what="a focus in the Import pane")
        if app.focused is not field:
            await pilot.press("slash")
    await wait_for(pilot, lambda: app.focused is field, what="path focus")
    return field


def label_text(app, selector: str) -> str:
    from textual.widgets import Label, Static

    widget = app.query_one(selector)
    assert isinstance(widget, (Label, Static))
    return str(widget.render())


def status_line_agrees(app) -> bool:
    """The Status pane's line counts the rows its table shows now.

    The line follows the table by one message (``RowTable.Moved``), and the table grows by a row
    when the progress row goes away after the computation: until then the line may say 1–15
    while 16 rows are on screen.
    """
    shown = app.status_pane.table.shown()
    return label_text(app, "#status-line").startswith(f"rows {shown.top + 1:,}–{shown.bottom:,} of ")


def screen_rows(table) -> list:
    """The rows a RowTable shows right now (None for a row still being read)."""
    shown = table.shown()
    return [table.row_at(i) for i in range(shown.top, shown.bottom)]


def all_rows(source) -> list[tuple[str, ...]]:
    """Every row of a RowSource, read directly (what a table must show, in order)."""
    return list(source.window(0, source.total()).rows)


async def rows_loaded(pilot, table, what: str = "rows on screen") -> list:
    """Wait until the table has counted its rows and every row on screen is read; return them."""
    await wait_for(pilot, lambda: table.total is not None and None not in screen_rows(table), what=what)
    return screen_rows(table)


async def page_down_to_the_end(pilot, table) -> list:
    """Press PgDn from the table's current screen until its last row is on screen; every row seen, in order."""
    seen: list = []
    while True:
        shown = table.shown()
        seen[shown.top :] = await rows_loaded(pilot, table)
        if shown.bottom == table.total:
            return seen
        await pilot.press("pagedown")
        await wait_for(pilot, lambda top=shown.top: table.shown().top > top, what="the next screen")
