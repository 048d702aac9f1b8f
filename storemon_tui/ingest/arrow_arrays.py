"""Moving data between numpy, Python and Arrow without ``pa.array`` or ``to_numpy``.

Why: both of those import pandas the first time they run (a large share of a
headless import's start-up: bench/README.md), which a headless import never needs. Building arrays from their
buffers costs nothing extra. No ``pyarrow.compute`` here either, so the
reader can use these before validation has loaded it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def to_numpy(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A null-free fixed-width Arrow array as numpy, without importing pandas.

    ``pyarrow``'s own ``to_numpy`` imports pandas (bench/README.md) the first time it is
    called, which the headless import path would otherwise pay on every run.
    """
    if isinstance(arr, pa.ChunkedArray):
        chunks = [to_numpy(chunk) for chunk in arr.chunks]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=arr.type.to_pandas_dtype())
    dtype = np.dtype(arr.type.to_pandas_dtype())
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


def int64_array(values: np.ndarray) -> pa.Array:
    """A numpy integer array as an Arrow int64 array, without ``pa.array`` (which imports pandas)."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(data), [None, pa.py_buffer(data)])


def string_array(texts: list[str]) -> pa.Array:
    """Python strings as an Arrow string array, without ``pa.array`` (which imports pandas)."""
    encoded = [text.encode("utf-8") for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )
