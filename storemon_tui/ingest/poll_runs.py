"""A file's polls in primary-key order, last row per key winning, whatever the file's size.

The database is fastest fed in key order (a fresh table grows at its end,
an existing one is walked once), and "the last row read wins" needs every
row of a key side by side. A file of up to :data:`RUN_ROWS` polls is sorted
in memory in one go (:func:`~storemon_tui.ingest.polls.sort_last_wins`).
A larger one is an external sort: runs of :data:`RUN_ROWS` rows are sorted
one at a time into a temporary file, then merged a window at a time, a
later run winning over an earlier one for the same key. Memory stays at
about one run whatever the file's size.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np

from storemon_tui.ingest.polls import SortedPolls, sort_last_wins
from storemon_tui.ingest.spool import BlockSpool, read_array, temporary_file, write_array

RUN_ROWS = 5_000_000
"""Polls sorted in memory at once (~13 bytes each while spooled, ~40 while sorting)."""

MERGE_ROWS = 1_000_000
"""Rows the merge holds from all runs together (~17 bytes each, plus the step's sort)."""

_FIELDS = (("keys", np.dtype(np.int64)), ("ts_us", np.dtype(np.int64)), ("active", np.dtype(np.int8)))


def sorted_polls(
    spool: BlockSpool, keys_of_code: np.ndarray, run_rows: int | None = None, merge_rows: int | None = None
) -> Iterator[SortedPolls]:
    """The spooled polls (``store``, ``ts_us``, ``active`` blocks) as store keys, in chunks in key order.

    ``keys_of_code`` maps the spool's store codes to database keys. Each
    chunk's ``duplicates`` counts the rows it dropped for a later row of the
    same key, across runs too. ``run_rows`` and ``merge_rows`` default to
    :data:`RUN_ROWS` and :data:`MERGE_ROWS`.
    """
    run_rows = RUN_ROWS if run_rows is None else run_rows
    merge_rows = MERGE_ROWS if merge_rows is None else merge_rows
    runs = _runs(spool.block_rows(), run_rows)
    if len(runs) <= 1:
        yield _sorted_run(spool, runs[0] if runs else [], keys_of_code)
        return
    with temporary_file("storemon-sort-") as handle:
        readers = []
        duplicates = 0
        for blocks in runs:
            run = _sorted_run(spool, blocks, keys_of_code)
            duplicates += run.duplicates
            readers.append(_RunReader.store(handle, run, window=max(merge_rows // len(runs), 1)))
            del run
        first = True
        for chunk in _merge(readers):
            if first:  # the runs' own duplicates, counted once
                chunk.duplicates += duplicates
                first = False
            yield chunk


def _runs(block_rows: list[int], run_rows: int) -> list[list[int]]:
    """Consecutive block indices grouped into runs of at most ``run_rows`` rows (a bigger block is a run)."""
    runs: list[list[int]] = []
    rows = run_rows
    for index, count in enumerate(block_rows):
        if rows + count > run_rows:
            runs.append([])
            rows = 0
        runs[-1].append(index)
        rows += count
    return runs


def _sorted_run(spool: BlockSpool, blocks: list[int], keys_of_code: np.ndarray) -> SortedPolls:
    parts = [spool.block(index) for index in blocks]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return sort_last_wins(empty, empty, np.zeros(0, dtype=np.int8))
    codes = np.concatenate([part["store"] for part in parts])
    ts_us = np.concatenate([part["ts_us"] for part in parts])
    active = np.concatenate([part["active"] for part in parts])
    del parts
    return sort_last_wins(keys_of_code[codes], ts_us, active)


class _RunReader:
    """One sorted run in the temporary file, read a window at a time."""

    def __init__(self, handle: io.BufferedRandom, offsets: dict[str, int], rows: int, window: int) -> None:
        self.handle = handle
        self.offsets = offsets
        self.rows = rows
        self.window = window
        self.pos = 0
        self.keys = self.ts_us = np.zeros(0, dtype=np.int64)
        self.active = np.zeros(0, dtype=np.int8)

    @classmethod
    def store(cls, handle: io.BufferedRandom, run: SortedPolls, window: int) -> _RunReader:
        offsets = {name: write_array(handle, getattr(run, name).astype(dtype, copy=False)) for name, dtype in _FIELDS}
        return cls(handle, offsets, len(run), window)

    @property
    def more_after_buffer(self) -> bool:
        return self.pos < self.rows

    def fill(self) -> None:
        """Read the next window once the current one is used up."""
        if len(self.keys) or self.pos >= self.rows:
            return
        count = min(self.window, self.rows - self.pos)
        self.keys, self.ts_us, self.active = (
            read_array(self.handle, self.offsets[name] + self.pos * dtype.itemsize, dtype, count)
            for name, dtype in _FIELDS
        )
        self.pos += count

    def take(self, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        taken = self.keys[:count], self.ts_us[:count], self.active[:count]
        self.keys, self.ts_us, self.active = self.keys[count:], self.ts_us[count:], self.active[count:]
        return taken


def _merge(readers: list[_RunReader]) -> Iterator[SortedPolls]:
    """K-way merge of sorted runs, a window at a time.

    Each step takes, from every run's window, the rows up to the smallest
    "last key in window" among runs with more rows on disk: every row up to
    that key is then in memory, so the step's rows are sorted and
    de-duplicated on their own (runs in file order: the later run wins).
    """
    while True:
        for reader in readers:
            reader.fill()
        live = [reader for reader in readers if len(reader.keys)]
        if not live:
            return
        bounded = [reader for reader in live if reader.more_after_buffer]
        cutoff = min(((int(r.keys[-1]), int(r.ts_us[-1])) for r in bounded), default=None)
        pieces = [reader.take(_rows_up_to(reader, cutoff)) for reader in live]
        keys = np.concatenate([piece[0] for piece in pieces])
        ts_us = np.concatenate([piece[1] for piece in pieces])
        active = np.concatenate([piece[2] for piece in pieces])
        if len(keys):
            yield sort_last_wins(keys, ts_us, active)


def _rows_up_to(reader: _RunReader, cutoff: tuple[int, int] | None) -> int:
    """How many rows of the reader's window are at or before ``(key, ts)`` (all when ``None``)."""
    if cutoff is None:
        return len(reader.keys)
    key, ts = cutoff
    low = int(np.searchsorted(reader.keys, key, side="left"))
    high = int(np.searchsorted(reader.keys, key, side="right"))
    return low + int(np.searchsorted(reader.ts_us[low:high], ts, side="right"))
