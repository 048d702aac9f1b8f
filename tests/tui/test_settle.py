"""The tests' ``settle`` helper under a superseded worker (the flaky ``WorkerCancelled``).

The app's workers are ``exclusive``: a newer one of the same group (the next
rows of a table, the next summary) cancels the one still running. ``settle``
awaited every worker with ``WorkerManager.wait_for_complete``, whose
``Worker.wait`` raises ``WorkerCancelled`` for a cancelled worker: when the
cancel happened while ``settle`` waited (a loaded machine makes the first
fetch slow enough), the test failed in its set-up, although nothing was wrong.
"""

from __future__ import annotations

import threading

from textual import work
from textual.app import App

from tests.tui.tui_helpers import async_test, settle


class Superseding(App[None]):
    """One worker blocked until released, then a second of its group (exclusive) that replaces it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.results: list[str] = []

    def on_mount(self) -> None:
        self.slow()
        self.set_timer(0.2, self.fast)

    @work(thread=True, exclusive=True, group="rows")
    def slow(self) -> None:
        self.release.wait(30)

    @work(thread=True, exclusive=True, group="rows")
    def fast(self) -> None:
        self.results.append("fast")


@async_test
async def test_settle_waits_past_a_worker_cancelled_by_a_newer_one() -> None:
    app = Superseding()
    try:
        async with app.run_test() as pilot:
            await settle(pilot)  # raised WorkerCancelled when "fast" cancelled "slow"
            assert app.results == ["fast"]
            assert not [w for w in app.workers if w.is_running]
    finally:
        app.release.set()  # the cancelled worker's thread ends (a thread cannot be killed)
