"""The row window behind every table: whatever the viewport does, the rows it shows are the table's.

A list-backed source stands for the database; it records every request, so the
tests also check *how* rows are read: by key from the held rows when the
viewport moves on, by a fresh window only when it jumps.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon_tui.paging import Fetch, Page, RowWindow


class ListSource:
    """``total`` rows ``("r0",), ("r1",) …`` with keys ``(i,)``; ``near`` continues by key."""

    def __init__(self, total: int) -> None:
        self.rows = [(f"r{i}",) for i in range(total)]
        self.calls: list[Fetch] = []

    @property
    def columns(self) -> tuple[str, ...]:
        return ("value",)

    def total(self) -> int:
        return len(self.rows)

    def window(self, start: int, count: int, near: Page | None = None) -> Page:
        self.calls.append(Fetch(start, count, near))
        start = min(max(start, 0), len(self.rows))
        if near is not None and start == near.end:
            assert near.last_key == (start - 1,)  # reading on from the held page's last key
        if near is not None and start + count == near.start:
            assert near.first_key == (near.start,)
        picked = range(start, min(start + count, len(self.rows)))
        return Page(("value",), [self.rows[i] for i in picked], start, len(self.rows), [(i,) for i in picked])


def settle(window: RowWindow, source: ListSource, top: int, height: int) -> int:
    """Fetch until the window wants nothing more for this viewport; return how many fetches it took."""
    fetches = 0
    while (fetch := window.wanted(top, height)) is not None:
        window.add(source.window(fetch.start, fetch.count, fetch.near), top, height)
        fetches += 1
        assert fetches < 10, "the window keeps asking"
    return fetches


def visible(window: RowWindow, top: int, height: int) -> list[tuple[str, ...] | None]:
    total = window.total or 0
    return [window.row(i) for i in range(top, min(top + height, total))]


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(0, 5_000),
    height=st.integers(1, 60),
    moves=st.lists(st.one_of(st.integers(-80, 80), st.sampled_from(["home", "end", "jump"])), max_size=40),
    jump=st.integers(0, 5_000),
)
def test_any_walk_shows_the_tables_rows(total: int, height: int, moves: list, jump: int) -> None:
    source = ListSource(total)
    window = RowWindow(block=200, keep=600)
    top = 0
    settle(window, source, top, height)
    for move in moves:
        last_top = max(total - height, 0)
        if move == "home":
            top = 0
        elif move == "end":
            top = last_top
        elif move == "jump":
            top = min(jump, last_top)
        else:
            top = min(max(top + move, 0), last_top)
        settle(window, source, top, height)
        assert visible(window, top, height) == source.rows[top : top + height]
        assert window.page is not None and len(window.page.rows) <= 600
        assert window.page.keys == [(window.page.start + i,) for i in range(len(window.page.rows))]


def test_paging_down_reads_on_by_key_before_the_viewport_gets_there() -> None:
    """PgDn screen by screen through 10,000 rows: every fetch continues the held rows by key,
    and each is asked for while the viewport still shows held rows (prefetch)."""
    source = ListSource(10_000)
    window = RowWindow(block=200, keep=600)
    height = 16
    settle(window, source, 0, height)
    for top in range(0, 10_000 - height + 1, height):
        # Before fetching anything, the rows on screen are already held.
        assert None not in visible(window, top, height), top
        settle(window, source, top, height)
    assert source.calls[0] == Fetch(0, 200)
    assert all(call.near is not None and call.start == call.near.end for call in source.calls[1:])
    assert sum(call.count for call in source.calls) == 10_000  # every row read once


def test_end_then_up_reads_backwards_by_key() -> None:
    source = ListSource(1_931_815)
    window = RowWindow()
    height = 16
    settle(window, source, 0, height)
    end = 1_931_815 - height
    assert settle(window, source, end, height) == 1
    assert source.calls[-1] == Fetch(1_931_815 - 200, 200)  # a fresh window at the end (no key held)
    assert visible(window, end, height)[-1] == ("r1931814",)
    for top in range(end, end - 1_000, -height):
        settle(window, source, top, height)
        assert visible(window, top, height) == source.rows[top : top + height]
    backwards = [call for call in source.calls[2:]]
    assert backwards and all(call.near is not None and call.start + call.count == call.near.start for call in backwards)


def test_empty_table_wants_nothing_more() -> None:
    source = ListSource(0)
    window = RowWindow()
    assert settle(window, source, 0, 20) == 1
    assert window.total == 0 and visible(window, 0, 20) == []


def test_a_table_that_shrank_ends_where_its_rows_end() -> None:
    """The count said 1,000 rows but only 300 are left: reading on finds nothing, and stops."""
    source = ListSource(300)
    window = RowWindow(block=200, keep=600)
    window.add(Page(("value",), source.rows, 0, 1_000, [(i,) for i in range(300)]), 0, 10)
    assert settle(window, source, 250, 60) == 1
    assert source.calls == [Fetch(300, 200, source.calls[0].near)]
    assert window.total == 300 and visible(window, 250, 60) == source.rows[250:]


def test_keep_must_hold_two_blocks() -> None:
    with pytest.raises(ValueError, match="two blocks"):
        RowWindow(block=200, keep=300)
