"""Did a store's rows change? A fingerprint per store of its rows as a multiset, for the hours import.

A business-hours file replaces all hours of each store it names: the old
rows are deleted and the file's inserted, so a re-import of the same file
"replaces" every row and changes nothing. To say how many stores' hours
really changed (and not mark reports stale for nothing), the old rows and
the new ones are fingerprinted per store, order-free: the row count and the
sum (mod 2**64) of a 64-bit hash of each row. The hash is salted with a
random number per import, so no file can be crafted to collide with the
rows it replaces; by chance two different sets agree once in 2**64. Memory
follows the stores, never the rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np

_MASK = (1 << 64) - 1
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: every input bit reaches every output bit (uint64 arithmetic wraps)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


class StoreRowSets:
    """Per store key: how many rows and the sum of their salted hashes."""

    def __init__(self, salt: int | None = None) -> None:
        self.salt = np.uint64(secrets.randbits(64) if salt is None else salt)
        self.counts: dict[int, int] = {}
        self.sums: dict[int, int] = {}

    def add(self, keys: np.ndarray, columns: Sequence[np.ndarray]) -> None:
        """Add rows: ``keys[i]``'s row is ``(columns[0][i], columns[1][i], …)``, integers."""
        if len(keys) == 0:
            return
        hashes = np.full(len(keys), self.salt, dtype=np.uint64)
        for column in columns:
            hashes = _mix(hashes ^ np.asarray(column).astype(np.int64).view(np.uint64))
        stores, inverse = np.unique(np.asarray(keys), return_inverse=True)
        sums = np.zeros(len(stores), dtype=np.uint64)
        np.add.at(sums, inverse, hashes)
        counts = np.bincount(inverse, minlength=len(stores))
        for key, count, total in zip(stores.tolist(), counts.tolist(), sums.tolist(), strict=True):
            self.counts[key] = self.counts.get(key, 0) + count
            self.sums[key] = (self.sums.get(key, 0) + total) & _MASK

    def same(self, other: StoreRowSets, key: int) -> bool:
        """Does ``key`` have the same rows in both (as a multiset)?"""
        return self.counts.get(key, 0) == other.counts.get(key, 0) and self.sums.get(key, 0) == other.sums.get(key, 0)

    def stores(self) -> list[int]:
        return list(self.counts)
