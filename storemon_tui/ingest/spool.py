"""A file's valid rows between reading and writing: in memory while small, else on disk.

Why: an import validates the whole file before it opens a transaction (an
invalid file costs the database nothing), so the valid rows must wait
somewhere. Up to :data:`MEMORY_BYTES` they wait in memory; past that every
block goes to an unnamed temporary file (``$TMPDIR``; the system removes it
when the process ends, however it ends), so memory does not grow with the file.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

MEMORY_BYTES = 64 * 2**20
"""Spooled bytes kept in memory before everything goes to the temporary file."""

Block = dict[str, np.ndarray]
"""Equal-length columns."""


@dataclass(frozen=True)
class _Stored:
    """Where one block's columns are in the temporary file."""

    rows: int
    columns: tuple[tuple[str, np.dtype, int], ...]
    """(name, dtype, offset) of each column."""


class BlockSpool:
    """Blocks of columns in the order appended; read back in that order, as often as needed."""

    def __init__(self, memory_bytes: int | None = None) -> None:
        self.memory_bytes = MEMORY_BYTES if memory_bytes is None else memory_bytes
        self.rows = 0
        self._blocks: list[Block | _Stored] = []
        self._in_memory = 0
        self._file: io.BufferedRandom | None = None

    def __len__(self) -> int:
        return self.rows

    @property
    def spilled(self) -> bool:
        return self._file is not None

    def append(self, block: Block) -> None:
        rows = len(next(iter(block.values())))
        if rows == 0:
            return
        self.rows += rows
        self._blocks.append({name: np.ascontiguousarray(values) for name, values in block.items()})
        self._in_memory += sum(values.nbytes for values in block.values())
        if self._in_memory > self.memory_bytes:
            self._spill()

    def blocks(self) -> Iterator[Block]:
        for index in range(len(self._blocks)):
            yield self.block(index)

    def block(self, index: int) -> Block:
        stored = self._blocks[index]
        if isinstance(stored, dict):
            return stored
        assert self._file is not None
        return {name: read_array(self._file, offset, dtype, stored.rows) for name, dtype, offset in stored.columns}

    def block_rows(self) -> list[int]:
        """Rows of each block, in order."""
        return [len(next(iter(b.values()))) if isinstance(b, dict) else b.rows for b in self._blocks]

    def close(self) -> None:
        self._blocks = []
        self._in_memory = 0
        if self._file is not None:
            self._file.close()
            self._file = None

    def _spill(self) -> None:
        if self._file is None:
            self._file = temporary_file("storemon-import-")
        handle = self._file
        handle.seek(0, 2)
        for index, block in enumerate(self._blocks):
            if not isinstance(block, dict):
                continue
            columns = tuple((name, values.dtype, write_array(handle, values)) for name, values in block.items())
            self._blocks[index] = _Stored(len(next(iter(block.values()))), columns)
        handle.flush()
        self._in_memory = 0


def temporary_file(prefix: str) -> io.BufferedRandom:
    """An unnamed temporary file in ``$TMPDIR`` (gone when closed or when the process ends)."""
    return tempfile.TemporaryFile(prefix=prefix)


def write_array(handle: io.BufferedRandom, values: np.ndarray) -> int:
    """Append ``values``' bytes to ``handle``; return the offset they start at."""
    handle.seek(0, 2)
    offset = handle.tell()
    handle.write(np.ascontiguousarray(values).data.cast("B"))
    return offset


def read_array(handle: io.BufferedRandom, offset: int, dtype: np.dtype, count: int) -> np.ndarray:
    """``count`` values of ``dtype`` written at ``offset`` by :func:`write_array`."""
    values = np.empty(count, dtype=dtype)
    handle.seek(offset)
    if handle.readinto(values.data.cast("B")) != values.nbytes:
        raise OSError("an import's temporary file is shorter than what was written to it")
    return values
