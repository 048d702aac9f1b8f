"""Looking back before the polls at hand: each store's latest evidence before an instant.

Why: the evidence poll that owns the start of the week window can be
arbitrarily old (a store polled only while closed for a month), but reading
all history for every store would make every report cost what the database
ever held. So a report reads a bounded recent range, and only the stores
whose window is not yet owned look further back, through an
:class:`OlderPolls` source: the last few polls before an instant, per
store, then 4× more for the stores that still have no evidence. A
database answers each round with one index seek per store on
``(store_key, ts_us)``; the rounds end when evidence is found or a store's
history runs out. The cost follows the polls looked at, never the time
between them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from storemon_tui.report.hours import evidence_mask
from storemon_tui.report.inputs import Polls, ReportInput
from storemon_tui.report.segments import concat_ranges, last_per_store, seg_searchsorted

FIRST_ROUND_POLLS = 16
"""Polls asked for per store in the first round; each later round asks for 4× more."""


class OlderPolls(Protocol):
    """Where older polls come from: a database snapshot, or arrays in memory."""

    def before(self, stores: np.ndarray, upto_us: np.ndarray, limit: int) -> Polls:
        """For each store (sorted, unique), its latest ``limit`` polls with ``ts < upto_us[k]``, sorted."""
        ...


@dataclass(frozen=True)
class MemoryOlder:
    """:class:`OlderPolls` over polls held in memory (sorted by (store, ts))."""

    polls: Polls

    def before(self, stores: np.ndarray, upto_us: np.ndarray, limit: int) -> Polls:
        first = np.searchsorted(self.polls.store, stores, side="left")
        stop = seg_searchsorted(self.polls.store, self.polls.ts_us, stores, upto_us, side="left")
        return self.polls.take(concat_ranges(np.maximum(first, stop - limit), stop))


@dataclass(frozen=True)
class LookBack:
    """What a look-back found before each store's instant."""

    evidence: Polls
    """At most one per store: its latest evidence poll before the instant."""
    polled: np.ndarray
    """Stores with at least one poll before the instant (sorted)."""
    latest_ts_us: np.ndarray
    """For each of ``polled``, its latest poll before the instant."""


def latest_evidence_before(
    inp: ReportInput,
    older: OlderPolls,
    stores: np.ndarray,
    upto_us: np.ndarray,
    check: Callable[[], None] | None = None,
) -> LookBack:
    """Each store's latest evidence poll strictly before ``upto_us[k]`` (``stores`` sorted, unique)."""
    pending, limit = np.asarray(stores, dtype=np.int64), FIRST_ROUND_POLLS
    got = older.before(pending, np.asarray(upto_us, dtype=np.int64), limit)
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
        if check is not None:
            check()
        got = older.before(pending, oldest, limit)
