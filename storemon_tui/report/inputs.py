"""The report engine's input: plain numpy arrays, no database, no strings per poll.

Why a separate dataclass: the engine must be testable without a database and
fast at scale. Stores are addressed by a dense integer index (the database's
``store_key`` works as-is), so every per-store operation is an array lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

DEFAULT_ZONE = "America/Chicago"


@dataclass(frozen=True)
class ReportInput:
    """Everything the report needs, as arrays.

    * ``store_ids`` — object array of ``str``; ``store_ids[i]`` is the opaque id
      of store index ``i`` (gaps may hold ``""``; only stores with polls are
      reported).
    * ``poll_store``/``poll_ts_us``/``poll_active`` — one entry per poll, sorted
      by ``(store, ts)``; ``ts`` is integer microseconds UTC.
    * ``hours_*`` — business-hours rows: store index, weekday (0 = Monday),
      start/end in microseconds since local midnight (``24:00:00`` is
      ``86_400_000_000``). Stores with no rows are open 24×7.
    * ``zone_store``/``zone_name`` — IANA zone per store; stores without a row
      use ``America/Chicago``.
    """

    store_ids: np.ndarray
    poll_store: np.ndarray
    poll_ts_us: np.ndarray
    poll_active: np.ndarray
    hours_store: np.ndarray
    hours_day: np.ndarray
    hours_start_us: np.ndarray
    hours_end_us: np.ndarray
    zone_store: np.ndarray
    zone_name: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.poll_store)
        if len(self.poll_ts_us) != n or len(self.poll_active) != n:
            raise ValueError("poll arrays must have equal length")
        h = len(self.hours_store)
        if not (len(self.hours_day) == len(self.hours_start_us) == len(self.hours_end_us) == h):
            raise ValueError("business-hours arrays must have equal length")
        if len(self.zone_name) != len(self.zone_store):
            raise ValueError("zone arrays must have equal length")

    @property
    def n_stores(self) -> int:
        return len(self.store_ids)

    @classmethod
    def from_records(
        cls,
        polls: Iterable[tuple[str, int, bool]],
        hours: Iterable[tuple[str, int, int, int]] = (),
        zones: Mapping[str, str] | None = None,
        extra_store_ids: Iterable[str] = (),
    ) -> ReportInput:
        """Build an input from Python records keyed by store id.

        For tests and small callers: ``polls`` are ``(store_id, ts_us, active)``
        (any order; equal keys keep the last record, as the import does),
        ``hours`` are ``(store_id, day_of_week, start_us, end_us)``.
        """
        polls = list(polls)
        hours = list(hours)
        zones = dict(zones or {})
        ids: dict[str, int] = {}
        for sid in [p[0] for p in polls] + [h[0] for h in hours] + list(zones) + list(extra_store_ids):
            ids.setdefault(sid, len(ids))
        latest: dict[tuple[int, int], bool] = {}
        for sid, ts, active in polls:
            latest[(ids[sid], int(ts))] = bool(active)
        keys = sorted(latest)
        store_ids = np.empty(len(ids), dtype=object)
        for sid, idx in ids.items():
            store_ids[idx] = sid
        return cls(
            store_ids=store_ids,
            poll_store=np.array([k[0] for k in keys], dtype=np.int64),
            poll_ts_us=np.array([k[1] for k in keys], dtype=np.int64),
            poll_active=np.array([latest[k] for k in keys], dtype=bool),
            hours_store=np.array([ids[h[0]] for h in hours], dtype=np.int64),
            hours_day=np.array([h[1] for h in hours], dtype=np.int64),
            hours_start_us=np.array([h[2] for h in hours], dtype=np.int64),
            hours_end_us=np.array([h[3] for h in hours], dtype=np.int64),
            zone_store=np.array([ids[s] for s in zones], dtype=np.int64),
            zone_name=np.array(list(zones.values()), dtype=object),
        )
