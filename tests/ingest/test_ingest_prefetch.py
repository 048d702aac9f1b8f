"""prefetch: an iterator run one step ahead in a thread, in order, errors in place, stoppable."""

from __future__ import annotations

import threading
import time

import pytest

from storemon_tui.ingest.prefetch import prefetch


def test_items_come_out_in_order_and_at_most_depth_ahead() -> None:
    produced: list[int] = []

    def numbers():
        for i in range(20):
            produced.append(i)
            yield i

    seen = []
    for item in prefetch(numbers(), depth=1):
        time.sleep(0.01)  # a slow consumer: the producer waits for it
        assert len(produced) <= item + 3  # this item, one in the queue, one being handed over
        seen.append(item)
    assert seen == list(range(20))


def test_an_error_is_raised_where_the_item_would_have_been() -> None:
    def failing():
        yield 1
        yield 2
        raise ValueError("bad third item")

    seen = []
    with pytest.raises(ValueError, match="bad third item"):
        for item in prefetch(failing()):
            seen.append(item)
    assert seen == [1, 2]


def test_closing_early_stops_the_thread_and_closes_the_source() -> None:
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    items = prefetch(endless())
    assert next(items) == 0
    items.close()
    assert closed.wait(5), "the source was never closed"
    deadline = time.monotonic() + 5
    while any(t.name == "storemon-prefetch" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "storemon-prefetch" for t in threading.enumerate())
