"""Running an iterator one step ahead in a background thread.

Why: reading a CSV segment (Arrow's parser, the byte checks) and validating
the one before it (store ids, timestamps) are mostly C code that releases
the GIL, so on two cores the two overlap; one after the other, half the
machine waited. The thread never runs more than ``depth`` items ahead, so
memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar, cast

T = TypeVar("T")

_POLL_S = 0.05
"""How often a blocked producer checks whether the consumer has gone."""

_DONE = object()


def prefetch(items: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """Yield what ``items`` yields, computing up to ``depth`` items ahead in a thread.

    An exception raised by ``items`` is raised here, in order. A consumer
    that stops early must ``close()`` this generator (or let it be collected):
    the thread then stops after the item it is computing, and ``items`` is
    closed in it.
    """
    handoff: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    # Not a daemon: an exiting interpreter waits for it (at most one item) rather than tearing
    # Arrow's thread pool down under it.
    worker = threading.Thread(target=_produce, args=(items, handoff, stop), name="storemon-prefetch")
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield cast(T, item)  # the producer puts only items of ``items`` (or _DONE, handled above)
    finally:
        stop.set()


def _produce(
    items: Iterator[T], handoff: queue.Queue[tuple[object, BaseException | None]], stop: threading.Event
) -> None:
    try:
        for item in items:
            if not _put(handoff, (item, None), stop):
                return
            del item
        _put(handoff, (_DONE, None), stop)
    except BaseException as exc:  # handed to the consumer, raised there
        _put(handoff, (None, exc), stop)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _put(
    handoff: queue.Queue[tuple[object, BaseException | None]],
    entry: tuple[object, BaseException | None],
    stop: threading.Event,
) -> bool:
    """Hand an entry over, waiting while the consumer is busy; ``False`` once the consumer has gone."""
    while not stop.is_set():
        try:
            handoff.put(entry, timeout=_POLL_S)
            return True
        except queue.Full:
            continue
    return False
