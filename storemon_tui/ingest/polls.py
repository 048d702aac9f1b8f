"""Polls in primary-key order, de-duplicated, ready for a bulk write.

A poll is identified by ``(store, timestamp)`` and the row read last wins.
Sorting two million polls is the costliest step after the database write,
so when a file's keys and times fit, each poll is packed into one int64
(:class:`PollPacking`) and the *values* are sorted — several times faster
than an argsort plus gathers (bench/README.md) — and the SQLite writer binds those same integers
directly. Files with duplicate keys (rare) take the argsort path, which can
tell rows apart by their position in the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PollPacking:
    """``key << (span_bits + 1) | (ts − base) << 1 | active`` in one int64.

    Fits a file spanning up to ~12 days with up to 4 M stores; larger spans
    fall back to separate arrays. Order of packed values = primary-key order.
    """

    base: int
    span_bits: int

    @classmethod
    def fit(cls, keys: np.ndarray, ts_us: np.ndarray) -> PollPacking | None:
        if len(keys) == 0 or int(keys.min()) < 0:
            return None
        base = int(ts_us.min())
        span_bits = max(int(ts_us.max()) - base, 1).bit_length()
        if max(int(keys.max()), 1).bit_length() + span_bits + 1 > 62:
            return None
        return cls(base, span_bits)

    def pack(self, keys: np.ndarray, ts_us: np.ndarray, active: np.ndarray) -> np.ndarray:
        shift = self.span_bits + 1
        return (keys.astype(np.int64) << shift) | ((ts_us - self.base) << 1) | active.astype(np.int64)

    def unpack(self, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mask = (1 << self.span_bits) - 1
        return packed >> (self.span_bits + 1), ((packed >> 1) & mask) + self.base, (packed & 1).astype(np.int8)

    def constants(self) -> list[int]:
        """The parameters :meth:`row_sql` reads at ``?c``, ``?c+1``, ``?c+2``: shift, mask and base."""
        return [self.span_bits + 1, (1 << self.span_bits) - 1, self.base]

    @staticmethod
    def row_sql(n: int, c: int) -> str:
        """SQL unpacking parameter ``?n`` into ``(store_key, ts_us, active)``, the :meth:`constants` at ``?c…``.

        The constants are parameters, not literals, so one statement serves every packing: a file's
        chunks each have their own, and preparing a 500-row statement costs more than binding it (bench/README.md).
        """
        return f"(?{n}>>?{c},((?{n}>>1)&?{c + 1})+?{c + 2},?{n}&1)"


class SortedPolls:
    """Unique polls in ``(store_key, ts_us)`` order.

    Held either as three arrays or, when they fit, as packed int64 values;
    the other form is derived only if a writer asks for it (SQLite binds the
    packed values directly and never needs the arrays).
    """

    def __init__(
        self,
        arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        duplicates: int,
        packing: PollPacking | None = None,
        packed: np.ndarray | None = None,
        newest_us: int | None = None,
    ) -> None:
        if arrays is None and (packing is None or packed is None):
            raise ValueError("need the arrays or the packed values")
        self._arrays = arrays
        self.duplicates = duplicates
        """Rows dropped because a later row of the file had the same key."""
        self.packing = packing
        self.packed = packed
        """The polls packed with ``packing`` (when it fits)."""
        self.newest_us = newest_us
        """The newest poll's time (``None`` when there is none), known without unpacking."""

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._arrays is None:
            assert self.packing is not None and self.packed is not None  # __init__ refuses anything else
            self._arrays = self.packing.unpack(self.packed)
        return self._arrays

    @property
    def keys(self) -> np.ndarray:
        return self.arrays[0]

    @property
    def ts_us(self) -> np.ndarray:
        return self.arrays[1]

    @property
    def active(self) -> np.ndarray:
        return self.arrays[2]

    def __len__(self) -> int:
        return len(self.packed) if self.packed is not None else len(self.arrays[0])


def sort_last_wins(keys: np.ndarray, ts_us: np.ndarray, active: np.ndarray) -> SortedPolls:
    """Sort polls by key and keep, for each key, the row read last."""
    if len(keys) == 0:
        return SortedPolls((keys, ts_us, active), 0)
    newest = int(ts_us.max())  # a dropped duplicate has the time of the row that wins over it
    packing = PollPacking.fit(keys, ts_us)
    if packing is not None:
        packed = np.sort(packing.pack(keys, ts_us, active))
        identity = packed >> 1
        if not (identity[1:] == identity[:-1]).any():
            return SortedPolls(None, duplicates=0, packing=packing, packed=packed, newest_us=newest)
        # Duplicates: sort positions by identity, then keep the highest position per identity.
        identity = packing.pack(keys, ts_us, np.zeros_like(active)) >> 1
        order = np.argsort(identity)
        identity = identity[order]
        starts = np.flatnonzero(np.r_[True, identity[1:] != identity[:-1]])
        winners = np.maximum.reduceat(order, starts)
    else:
        order = np.lexsort((ts_us, keys))  # stable: equal keys keep file order
        ordered_keys, ordered_ts = keys[order], ts_us[order]
        last = np.r_[(ordered_keys[1:] != ordered_keys[:-1]) | (ordered_ts[1:] != ordered_ts[:-1]), True]
        winners = order[last]
    keys, ts_us, active = keys[winners], ts_us[winners], active[winners]
    kept_packed = packing.pack(keys, ts_us, active) if packing is not None else None
    return SortedPolls((keys, ts_us, active), len(order) - len(winners), packing, kept_packed, newest)
