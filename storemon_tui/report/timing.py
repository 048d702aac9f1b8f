"""Plumbing of long computations: seconds per stage, progress, cancel.

Why separate: the engine's stages must read as the maths they do; wrapping a
stage in ``with timer.stage("evidence"):`` keeps the clock out of it. The
totals feed ``STOREMON_TIMING=1`` and the benchmark's breakdown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from storemon_tui.errors import Cancelled

Check = Callable[[], None]
"""Raises :class:`~storemon_tui.errors.Cancelled` when the user asked to stop."""
Progress = Callable[[float], None]
"""Receives the fraction done, in ``[0, 1]``."""


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


def ignore_progress(fraction: float) -> None:
    """A :data:`Progress` for work whose progress is counted elsewhere (e.g. a chunk at a time)."""


def cancel_check(should_cancel: Callable[[], bool] | None) -> Check:
    """A :data:`Check` that raises :class:`Cancelled` once ``should_cancel()`` is true."""

    def check() -> None:
        if should_cancel is not None and should_cancel():
            raise Cancelled()

    return check


def clamped_progress(progress: Progress | None) -> Progress:
    """A :data:`Progress` that passes fractions clamped to ``[0, 1]`` on to ``progress`` (if any)."""

    def report(fraction: float) -> None:
        if progress is not None:
            progress(min(1.0, max(0.0, fraction)))

    return report
