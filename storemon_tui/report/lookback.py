"""Looking beyond the polls at hand: a store's latest evidence before an instant, or its first after one.

Why: the evidence poll that owns the start of the week window can be
arbitrarily old (a store polled only while closed for a month), and so can
the poll where a store's current run of ups or downs began; but reading all
history for every store would make every report cost what the database
ever held. So a report reads a bounded recent range, and only the stores
that need it look further, through an :class:`OlderPolls` source: the last
(or first) few polls beyond an instant, per store, then 4× more for the
stores still without an answer. A database answers each round with one
index seek per store on ``(store_key, ts_us)``; the rounds end when
evidence is found or a store's history runs out. The cost follows the polls
looked at, never the time between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from storemon_tui.report.hours import evidence_mask
from storemon_tui.report.inputs import Polls, ReportInput
from storemon_tui.report.segments import concat_ranges, first_per_store, last_per_store, seg_searchsorted

FIRST_ROUND_POLLS = 16
"""Polls asked for per store in the first round; each later round asks for 4× more."""


class OlderPolls(Protocol):
    """Where polls beyond the ones at hand come from: a database snapshot, or arrays in memory.

    ``stores`` are sorted and unique; results are sorted by (store, ts).
    """

    def before(self, stores: np.ndarray, upto_us: np.ndarray, limit: int, active: np.ndarray | None = None) -> Polls:
        """Each store's latest ``limit`` polls with ``ts < upto_us[k]`` (and status ``active[k]``, if given)."""
        ...

    def after(self, stores: np.ndarray, after_us: np.ndarray, upto_us: np.ndarray, limit: int) -> Polls:
        """Each store's earliest ``limit`` polls with ``after_us[k] < ts < upto_us[k]``."""
        ...


@dataclass(frozen=True)
class MemoryOlder:
    """:class:`OlderPolls` over polls held in memory (sorted by (store, ts))."""

    polls: Polls

    def before(self, stores: np.ndarray, upto_us: np.ndarray, limit: int, active: np.ndarray | None = None) -> Polls:
        polls = self.polls
        if len(stores) == 0:
            return Polls.empty()
        if active is not None:  # only the polls whose status is the one wanted for their store
            slot = np.minimum(np.searchsorted(stores, polls.store), len(stores) - 1)
            polls = polls.take((stores[slot] == polls.store) & (polls.active == active[slot]))
        first = np.searchsorted(polls.store, stores, side="left")
        stop = seg_searchsorted(polls.store, polls.ts_us, stores, upto_us, side="left")
        return polls.take(concat_ranges(np.maximum(first, stop - limit), stop))

    def after(self, stores: np.ndarray, after_us: np.ndarray, upto_us: np.ndarray, limit: int) -> Polls:
        p = self.polls
        start = seg_searchsorted(p.store, p.ts_us, stores, after_us, side="right")
        stop = seg_searchsorted(p.store, p.ts_us, stores, upto_us, side="left")
        return p.take(concat_ranges(start, np.minimum(stop, start + limit)))


@dataclass(frozen=True)
class ChainedOlder:
    """Polls in memory from ``memory_lo`` on (all of them, for their stores), and ``rest`` before that."""

    memory: Polls
    memory_lo: int
    rest: OlderPolls

    def before(self, stores: np.ndarray, upto_us: np.ndarray, limit: int, active: np.ndarray | None = None) -> Polls:
        near = MemoryOlder(self.memory).before(stores, upto_us, limit, active)
        short = np.bincount(np.searchsorted(stores, near.store), minlength=len(stores)) < limit
        far = self.rest.before(
            stores[short], np.minimum(upto_us[short], self.memory_lo), limit, None if active is None else active[short]
        )
        both = Polls.regrouped([far, near])  # per store, older first
        return both.take(_last_n_per_store(both.store, limit))

    def after(self, stores: np.ndarray, after_us: np.ndarray, upto_us: np.ndarray, limit: int) -> Polls:
        early = after_us < self.memory_lo - 1
        far = self.rest.after(stores[early], after_us[early], np.minimum(upto_us[early], self.memory_lo), limit)
        near = MemoryOlder(self.memory).after(stores, after_us, upto_us, limit)
        both = Polls.regrouped([far, near])  # per store, older first
        return both.take(_first_n_per_store(both.store, limit))


def _rank_in_store(store: np.ndarray) -> np.ndarray:
    """0, 1, 2, … within each store's run of an array grouped by store."""
    index = np.arange(len(store))
    heads = np.searchsorted(store, store, side="left")
    return index - heads


def _first_n_per_store(store: np.ndarray, n: int) -> np.ndarray:
    return np.flatnonzero(_rank_in_store(store) < n)


def _last_n_per_store(store: np.ndarray, n: int) -> np.ndarray:
    counts = np.searchsorted(store, store, side="right") - np.searchsorted(store, store, side="left")
    return np.flatnonzero(_rank_in_store(store) >= counts - n)


@dataclass(frozen=True)
class LookBack:
    """What a look-back found before each store's instant."""

    evidence: Polls
    """At most one per store: its latest evidence poll before the instant (of the status asked for)."""
    polled: np.ndarray
    """Stores with at least one poll before the instant (sorted; of the status asked for)."""
    latest_ts_us: np.ndarray
    """For each of ``polled``, its latest poll before the instant."""


def latest_evidence_before(
    inp: ReportInput,
    older: OlderPolls,
    stores: np.ndarray,
    upto_us: np.ndarray,
    check: Callable[[], None] | None = None,
    active: np.ndarray | None = None,
) -> LookBack:
    """Each store's latest evidence poll strictly before ``upto_us[k]`` (with status ``active[k]``, if given)."""
    pending, limit = np.asarray(stores, dtype=np.int64), FIRST_ROUND_POLLS
    want = active
    got = older.before(pending, np.asarray(upto_us, dtype=np.int64), limit, want)
    tails = last_per_store(got.store)  # the first round holds each store's latest poll before its instant
    polled, latest = got.store[tails], got.ts_us[tails]
    found: list[Polls] = []
    while True:
        evidence = got.take(evidence_mask(inp, got.store, got.ts_us, check))
        found.append(evidence.take(last_per_store(evidence.store)))
        counts = np.bincount(np.searchsorted(pending, got.store), minlength=len(pending))
        more = (counts == limit) & ~np.isin(pending, evidence.store)  # a full batch without evidence
        if not more.any():
            return LookBack(Polls.regrouped(found), polled, latest)
        oldest = got.ts_us[np.searchsorted(got.store, pending[more], side="left")]
        pending, limit = pending[more], limit * 4
        want = None if want is None else want[more]
        if check is not None:
            check()
        got = older.before(pending, oldest, limit, want)


def first_evidence_after(
    inp: ReportInput,
    older: OlderPolls,
    stores: np.ndarray,
    after_us: np.ndarray,
    upto_us: np.ndarray,
    check: Callable[[], None] | None = None,
) -> Polls:
    """Each store's earliest evidence poll with ``after_us[k] < ts < upto_us[k]`` (at most one per store)."""
    pending, limit = np.asarray(stores, dtype=np.int64), FIRST_ROUND_POLLS
    after, upto = np.asarray(after_us, dtype=np.int64), np.asarray(upto_us, dtype=np.int64)
    found: list[Polls] = []
    while len(pending):
        got = older.after(pending, after, upto, limit)
        evidence = got.take(evidence_mask(inp, got.store, got.ts_us, check))
        found.append(evidence.take(first_per_store(evidence.store)))
        counts = np.bincount(np.searchsorted(pending, got.store), minlength=len(pending))
        more = (counts == limit) & ~np.isin(pending, evidence.store)
        newest = got.ts_us[np.searchsorted(got.store, pending[more], side="right") - 1]
        pending, after, upto, limit = pending[more], newest, upto[more], limit * 4
        if check is not None:
            check()
    return Polls.regrouped(found)
