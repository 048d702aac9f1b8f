"""How far a background job is: one tracker per job, read by its worker, shown by bar and list alike.

The computation calls :meth:`ProgressTracker.update` from its own thread
whenever it likes (stages, chunks); the worker that watches the job reads
:meth:`ProgressTracker.snapshot` on a fixed beat and posts it as one message,
so every widget showing the job's progress shows the same number, at least
every :data:`BEAT` seconds, never going back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

BEAT = 0.2
"""Seconds between progress messages (the issue asks for at most 0.25 s)."""
ETA_AFTER_FRACTION = 0.15
ETA_AFTER_SECONDS = 1.0
"""Below these, a rate is mostly start-up cost: no ETA yet."""


@dataclass(frozen=True)
class ProgressSnapshot:
    fraction: float
    """0 … 1, never lower than an earlier snapshot's."""
    elapsed: float
    """Seconds since the job started."""

    @property
    def percent(self) -> int:
        return int(self.fraction * 100)

    @property
    def seconds_left(self) -> float | None:
        """At the rate so far; None until that rate means something."""
        if self.fraction < ETA_AFTER_FRACTION or self.elapsed < ETA_AFTER_SECONDS or self.fraction >= 1:
            return None
        return self.elapsed * (1 - self.fraction) / self.fraction

    def eta_text(self) -> str:
        left = self.seconds_left
        if left is None:
            return ""
        if left < 90:
            return f"about {max(round(left), 1)} s left"
        return f"about {round(left / 60)} min left"


class ProgressTracker:
    """The latest fraction reported by a job's thread; thread-safe and monotonic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fraction = 0.0
        self._started = time.monotonic()

    def update(self, fraction: float) -> None:
        with self._lock:
            self._fraction = max(self._fraction, min(max(fraction, 0.0), 1.0))

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            return ProgressSnapshot(self._fraction, time.monotonic() - self._started)
