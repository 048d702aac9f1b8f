"""The report engine's input: plain numpy arrays, no database, no strings per poll.

Why a separate dataclass: the engine must be testable without a database and
fast at scale. Stores are addressed by a dense integer index (the database's
``store_key`` works as-is), so every per-store operation is an array lookup.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_ZONE = "America/Chicago"


@dataclass(frozen=True)
class Polls:
    """Polls sorted by ``(store, ts_us)``, at most one per ``(store, ts_us)``."""

    store: np.ndarray  # int64 store index
    ts_us: np.ndarray  # int64 µs UTC
    active: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.store)

    @classmethod
    def empty(cls) -> Polls:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))

    @classmethod
    def normalized(cls, store: np.ndarray, ts_us: np.ndarray, active: np.ndarray) -> Polls:
        """Sort by ``(store, ts)``; of several records with one key the last one wins, as on import."""
        store = np.asarray(store, dtype=np.int64)
        ts_us = np.asarray(ts_us, dtype=np.int64)
        active = np.asarray(active, dtype=bool)
        if len(store) > 1:
            d_store, d_ts = np.diff(store), np.diff(ts_us)
            if ((d_store < 0) | ((d_store == 0) & (d_ts < 0))).any():
                order = np.lexsort((ts_us, store))  # stable: equal keys keep their input order
                store, ts_us, active = store[order], ts_us[order], active[order]
                d_store, d_ts = np.diff(store), np.diff(ts_us)
            repeated = (d_store == 0) & (d_ts == 0)
            if repeated.any():
                last = np.append(~repeated, True)
                store, ts_us, active = store[last], ts_us[last], active[last]
        return cls(store, ts_us, active)

    @classmethod
    def regrouped(cls, parts: Sequence[Polls]) -> Polls:
        """The polls of several parts, grouped by store; within a store, parts keep their order."""
        if not parts:
            return cls.empty()
        store = np.concatenate([p.store for p in parts])
        order = np.argsort(store, kind="stable")
        return cls(
            store[order],
            np.concatenate([p.ts_us for p in parts])[order],
            np.concatenate([p.active for p in parts])[order],
        )

    def take(self, index: np.ndarray) -> Polls:
        """The polls at ``index`` (sorted positions or a mask), still sorted."""
        if index.dtype == bool and index.all():  # nothing left out: no copy
            return self
        return Polls(self.store[index], self.ts_us[index], self.active[index])

    def shifted(self, by: int) -> Polls:
        """The same polls with store indexes offset by ``by`` (between a chunk's and the fleet's numbering)."""
        return Polls(self.store + by, self.ts_us, self.active)


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

    @functools.cached_property
    def memo(self) -> dict[str, Any]:
        """Values derived from this input, worked out once (e.g. each store's resolved zone)."""
        return {}

    def polls_up_to(self, now_us: int) -> Polls:
        """The polls at or before ``now_us``, normalized (sorted, one per key: the last record wins)."""
        keep = np.asarray(self.poll_ts_us) <= now_us
        return Polls.normalized(
            np.asarray(self.poll_store)[keep], np.asarray(self.poll_ts_us)[keep], np.asarray(self.poll_active)[keep]
        )

    def stores_slice(self, first: int, stop: int) -> ReportInput:
        """The input of stores ``first … stop − 1`` alone, renumbered from 0 (a chunk of the fleet)."""

        def rows(store: np.ndarray) -> np.ndarray:
            store = np.asarray(store, dtype=np.int64)
            return (store >= first) & (store < stop)

        p, h, z = rows(self.poll_store), rows(self.hours_store), rows(self.zone_store)
        return ReportInput(
            store_ids=self.store_ids[first:stop],
            poll_store=np.asarray(self.poll_store, dtype=np.int64)[p] - first,
            poll_ts_us=np.asarray(self.poll_ts_us)[p],
            poll_active=np.asarray(self.poll_active)[p],
            hours_store=np.asarray(self.hours_store, dtype=np.int64)[h] - first,
            hours_day=np.asarray(self.hours_day)[h],
            hours_start_us=np.asarray(self.hours_start_us)[h],
            hours_end_us=np.asarray(self.hours_end_us)[h],
            zone_store=np.asarray(self.zone_store, dtype=np.int64)[z] - first,
            zone_name=np.asarray(self.zone_name)[z],
        )

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
