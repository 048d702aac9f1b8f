"""How the app's parts talk (issue 14, "How"): typed messages, not calls into the app.

Panes post :mod:`storemon_tui.tui.messages` to the app and their workers post
messages to their pane; nothing calls ``app.call_from_thread`` or an app
method it has to silence the type checker for.
"""

from __future__ import annotations

import re
from pathlib import Path

from storemon_tui.tui.messages import StoreRequested
from tests.tui.tui_helpers import async_test, wait_for

TUI = Path(__file__).resolve().parents[2] / "storemon_tui" / "tui"


def test_no_worker_calls_into_the_ui_and_no_untyped_app_calls() -> None:
    offenders = []
    for path in sorted(TUI.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "call_from_thread" in line or re.search(r"type:\s*ignore", line):
                offenders.append(f"{path.relative_to(TUI)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


@async_test
async def test_a_store_request_from_anywhere_opens_the_store_screen(sample_db, start_app) -> None:
    from storemon_tui.tui.screens.store import StoreScreen

    async with start_app(sample_db) as pilot:
        app = pilot.app
        app.data_pane.post_message(StoreRequested("10311121533259807379"))
        await wait_for(pilot, lambda: isinstance(app.screen, StoreScreen), what="store screen")
        await wait_for(pilot, lambda: app.screen.detail is not None, what="store detail")
        assert app.screen.detail.store_id == "10311121533259807379"
