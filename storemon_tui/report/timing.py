"""Seconds per stage of a computation, recorded by a context manager.

Why separate: the engine's stages must read as the maths they do; wrapping a
stage in ``with timer.stage("evidence"):`` keeps the clock out of it. The
totals feed ``STOREMON_TIMING=1`` and the benchmark's breakdown.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates wall seconds per named stage (a stage run several times adds up)."""

    def __init__(self, stages: Iterable[str] = ()) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(stages, 0.0)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
