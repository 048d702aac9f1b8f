"""Vectorized helpers for arrays grouped by store (no Python loop over stores).

Why they exist: the engine keeps every store's polls and intervals as one
segment of sorted arrays, so "per store" operations are searches within
segments. A search within segments is one ``searchsorted`` over combined
keys ``store × stride + (t − base)`` — as long as those fit in int64. When
they would not (instants centuries apart, many stores), the times are first
replaced by their ranks, which costs a sort but never depends on how far
apart the instants are.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

_KEY_LIMIT = 1 << 62


def concat_ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[k], hi[k])`` for all k, without a Python loop."""
    length = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0)
    total = int(length.sum())
    starts = np.cumsum(length) - length
    return np.arange(total, dtype=np.int64) + np.repeat(np.asarray(lo, dtype=np.int64) - starts, length)


def seg_searchsorted(
    v_store: np.ndarray,
    v: np.ndarray,
    q_store: np.ndarray,
    q: np.ndarray,
    side: Literal["left", "right"] = "left",
) -> np.ndarray:
    """``searchsorted`` of each ``q`` within its store's segment of ``v``; global indices into ``v``.

    ``v`` must be sorted by ``(v_store, v)``. A query whose store has no
    segment gets the index where that store's segment would be.
    """
    v_store = np.asarray(v_store, dtype=np.int64)
    q_store = np.asarray(q_store, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    q = np.asarray(q, dtype=np.int64)
    if len(v) == 0 or len(q) == 0:
        return np.zeros(len(q), dtype=np.int64)
    s0 = min(int(v_store[0]), int(q_store.min()))
    s_span = max(int(v_store[-1]), int(q_store.max())) - s0 + 1
    base = min(int(v.min()), int(q.min()))
    stride = max(int(v.max()), int(q.max())) - base + 1
    if s_span * stride >= _KEY_LIMIT:  # instants too far apart for combined keys: search their ranks
        _, inverse = np.unique(np.concatenate([v, q]), return_inverse=True)
        v, q = inverse[: len(v)], inverse[len(v) :]
        base, stride = 0, int(inverse.max()) + 1
    vk = (v_store - s0) * stride + (v - base)
    qk = (q_store - s0) * stride + (q - base)
    return np.searchsorted(vk, qk, side=side)


def last_per_store(store: np.ndarray) -> np.ndarray:
    """Indexes of the last element of each store's run in an array grouped by store."""
    if len(store) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.append(store[1:] != store[:-1], True))


def first_per_store(store: np.ndarray) -> np.ndarray:
    """Indexes of the first element of each store's run in an array grouped by store."""
    if len(store) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.append(True, store[1:] != store[:-1]))


def unique_sorted(store: np.ndarray) -> np.ndarray:
    """The distinct values of an array grouped by value (in order): O(n), no sort, no hashing."""
    return store[first_per_store(store)]
