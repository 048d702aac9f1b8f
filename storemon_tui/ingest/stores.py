"""The store ids of one file: each distinct id gets a small code while the file is read.

Why codes: rows are validated and kept a segment at a time, long before the
database is asked for store keys (that happens inside the write
transaction, once per file). Each *raw* spelling is parsed once per file;
after that Arrow's ``index_in`` finds it without Python.
Two spellings that trim to the same id (``" 12"`` and ``"12"``) share a code.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from storemon_tui.ingest.arrow_arrays import int64_array, to_numpy
from storemon_tui.ingest.values import as_dictionary, parse_store_id, positions_in

INVALID = -1
"""The code of a raw value that is not a valid store id."""

_INDEX_IN_LIMIT = 2_000_000
"""Past this many raw spellings, a Python dict finds them (``index_in`` would rehash them every segment)."""


class StoreIds:
    """Codes for the store ids of one file, and which stores have valid rows."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        """Trimmed store id of each code."""
        self._code_of_id: dict[str, int] = {}
        self._raw_chunks: list[pa.Array] = []
        self._raw: pa.Array = pa.nulls(0, pa.string())
        self._raw_codes = np.zeros(0, dtype=np.int64)
        self._code_of_raw: dict[str, int] | None = None
        self._used = np.zeros(0, dtype=bool)

    def codes(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The code of every row's store id (:data:`INVALID` where it is not a valid id).

        Rows are looked up among the raw spellings seen so far with Arrow's
        ``index_in`` (a hash lookup a row, no Python); only spellings never
        seen before go through :func:`~storemon_tui.ingest.values.parse_store_id`.
        The CSV reader does not dictionary-encode this column: with a large
        fleet that, and unifying the chunks' dictionaries, cost more than this
        (bench/README.md; a numpy hash index was tried too: no faster).
        """
        if self._code_of_raw is not None:
            dictionary = as_dictionary(column)
            values = dictionary.dictionary.to_pylist()
            value_codes = np.array([self._code_of_raw_text(text) for text in values], dtype=np.int64)
            return value_codes[to_numpy(dictionary.indices)] if values else np.zeros(0, dtype=np.int64)
        found = positions_in(column, self._raw)
        unknown = np.flatnonzero(found < 0)
        if len(unknown) == 0:
            return self._raw_codes[found]
        strangers = column.take(int64_array(unknown))
        new_values = pc.unique(strangers)
        if isinstance(new_values, pa.ChunkedArray):
            new_values = new_values.combine_chunks()
        new_codes = np.array([self._code_of_text(text) for text in new_values.to_pylist()], dtype=np.int64)
        found[unknown] = len(self._raw_codes) + positions_in(strangers, new_values)
        self._raw_chunks.append(new_values)
        self._raw = pa.concat_arrays(self._raw_chunks)
        self._raw_codes = np.concatenate((self._raw_codes, new_codes))
        codes = self._raw_codes[found]
        if len(self._raw_codes) > _INDEX_IN_LIMIT:
            self._switch_to_dict()
        return codes

    def mark_used(self, codes: np.ndarray) -> None:
        """Remember that these stores have valid rows (only they are written to the database)."""
        if len(self._used) < len(self.ids):
            self._used = np.concatenate((self._used, np.zeros(len(self.ids) - len(self._used), dtype=bool)))
        self._used[codes] = True

    def used_codes(self) -> np.ndarray:
        return np.flatnonzero(self._used)

    def _switch_to_dict(self) -> None:
        self._code_of_raw = dict(zip(self._raw.to_pylist(), self._raw_codes.tolist(), strict=True))
        self._raw_chunks, self._raw, self._raw_codes = [], pa.nulls(0, pa.string()), np.zeros(0, dtype=np.int64)

    def _code_of_raw_text(self, text: str) -> int:
        assert self._code_of_raw is not None
        code = self._code_of_raw.get(text)
        if code is None:
            code = self._code_of_raw[text] = self._code_of_text(text)
        return code

    def _code_of_text(self, text: str) -> int:
        try:
            store_id = parse_store_id(text)
        except ValueError:
            return INVALID
        code = self._code_of_id.get(store_id)
        if code is None:
            code = self._code_of_id[store_id] = len(self.ids)
            self.ids.append(store_id)
        return code
