"""The status board: each store's state, worst first, the fleet at a glance, the silent threshold setting.

The fleet of ``tests/report/status_fleet.py`` has one store per case, with the
arithmetic in that module's docstring.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storemon_tui.report.status import compute_status
from storemon_tui.report.status_board import (
    BOARD_COLUMNS,
    DEFAULT_SILENT_MINUTES,
    StatusBoard,
    format_pct,
    save_silent_minutes,
    silent_minutes,
)
from tests.report.status_fleet import NOW, STATES, WORST_FIRST, fleet_input


@pytest.fixture(scope="module")
def board() -> StatusBoard:
    return StatusBoard(compute_status(fleet_input(), NOW))


def test_worst_first_down_then_silent_then_worse_then_the_rest(board: StatusBoard) -> None:
    rows = board.view().window(0, 100).rows
    assert [row[1] for row in rows] == list(WORST_FIRST)
    assert {row[1]: row[0] for row in rows} == STATES


def test_the_rows_say_what_the_spec_says(board: StatusBoard) -> None:
    rows = {row[1]: dict(zip(BOARD_COLUMNS, row, strict=True)) for row in board.view().window(0, 100).rows}
    # down-long: down since 12:30 UTC (midpoint of 12:00 active and 13:00 inactive), 5.5 business hours.
    assert rows["down-long"] == {
        "state": "DOWN",
        "store_id": "down-long",
        "open": "yes",
        "now": "down",
        "for h": "5.50",
        "since UTC": "01-23 12:30",
        "silent": "0.00",
        "week %": "96.73",  # 162.5 of 168 h
        "prev %": "—",  # no poll a week ago
    }
    # No earlier status: since and run are "—"; the closed store is inactive but not down.
    assert (rows["down-forever"]["since UTC"], rows["down-forever"]["for h"]) == ("—", "—")
    assert (rows["closed"]["open"], rows["closed"]["now"], rows["closed"]["for h"]) == ("no", "down", "0.62")
    assert (rows["worse"]["week %"], rows["worse"]["prev %"]) == ("85.71", "100.00")
    assert rows["silent-5h"]["silent"] == "5.00"


def test_the_fleet_at_a_glance(board: StatusBoard) -> None:
    glance = board.glance
    assert (glance.stores, glance.open_now, glance.down_now, glance.silent, glance.worse) == (9, 8, 3, 2, 1)
    # Week, up / business hours over all stores (see status_fleet):
    #   up   0 + 162.5 + 165.5 + 168 + 168 + 144 + 156 + 168 + 0.375 = 1132.375
    #   down 168 + 5.5 + 2.5 + 24 + 12 + 0.625 = 212.625; 1132.375 / 1345 = 84.1914… % → 84.19.
    # The week before: worse, slightly-worse and fine (the stores polled by then), all up: 100.00.
    assert (format_pct(glance.week_pct), format_pct(glance.previous_pct), glance.trend) == ("84.19", "100.00", "↓")


def test_another_silent_threshold_reranks_without_recomputing(board: StatusBoard) -> None:
    # 6 h: neither silent store is silent any more; they are fine at 100 % (ties by store id).
    later = board.with_silent_minutes(6 * 60)
    assert later.columns is board.columns
    order = [row[1] for row in later.view().window(0, 100).rows]
    assert order == [
        *("down-forever", "down-long", "down-short", "worse", "closed", "slightly-worse"),
        *("fine", "silent-3h", "silent-5h"),  # 100.00 % each: by store id
    ]
    assert later.glance.silent == 0 and later.glance.down_now == 3
    # 1 h: the down stores stay down (down comes first); silent-3h and silent-5h are silent.
    assert board.with_silent_minutes(60).glance.silent == 2


def test_the_store_filter_is_the_pagers_rule(board: StatusBoard) -> None:
    assert [r[1] for r in board.view("down").window(0, 9).rows] == ["down-forever", "down-long", "down-short"]
    assert [r[1] for r in board.view("fine").window(0, 9).rows] == ["fine"]  # exact id wins over the prefix
    assert board.view("nothing").total() == 0


def test_fleet_uptime_trend_arrows() -> None:
    from storemon_tui.report.status_board import FleetGlance

    def glance(week, previous):
        return FleetGlance(1, 1, 0, 0, 0, 120, week, previous)

    assert [glance(9000, 8999).trend, glance(8999, 9000).trend, glance(9000, 9000).trend] == ["↑", "↓", "→"]
    assert glance(9000, None).trend == "" and glance(None, 9000).trend == ""


def test_an_empty_status() -> None:
    from storemon_tui.report.status import StatusResult

    board = StatusBoard(StatusResult.empty(NOW))
    assert board.view().total() == 0
    assert (board.glance.stores, board.glance.week_pct, board.glance.trend) == (0, None, "")


def test_the_silent_threshold_lives_in_the_database(db) -> None:
    with db.connect() as conn:
        assert silent_minutes(conn) == DEFAULT_SILENT_MINUTES
    save_silent_minutes(db, 90)
    save_silent_minutes(db, 45)
    with db.connect() as conn:
        assert silent_minutes(conn) == 45
        conn.execute(text("UPDATE meta SET value = 'x' WHERE key = 'status_silent_minutes'"))
        assert silent_minutes(conn) == DEFAULT_SILENT_MINUTES  # not ours: the default, not a crash
    with pytest.raises(ValueError):
        save_silent_minutes(db, 0)


def test_the_worked_example_as_the_status_pane_shows_it() -> None:
    # Store A of spec/status.md (and of the README): inactive but closed now, so not DOWN; polled
    # 1.25 h ago (< 2 h), so not SILENT; no previous week, so not WORSE: "ok". The spec's values,
    # since_utc to the minute without the year (it is now's year), empty ones as "—".
    from tests.report.report_helpers import make_input, us

    inp = make_input(
        polls=[("A", "2023-01-23T13:00:00Z", "inactive"), ("A", "2023-01-23T15:14:00Z", "active")]
        + [("A", "2023-01-23T16:15:00Z", "inactive")],
        hours=[("A", 0, "09:00", "12:00")],
        zones={"A": "America/New_York"},
    )
    board = StatusBoard(compute_status(inp, us("2023-01-23T17:30:00Z")))
    assert board.view().window(0, 1).rows == [("ok", "A", "no", "down", "1.26", "01-23 15:44", "1.25", "58.06", "—")]
