"""Writing validated rows into the database, inside the caller's transaction.

:class:`Writer` holds what both databases share (the store-key dictionary,
the hours and zones semantics, cancellation) on top of three bulk
primitives each database implements its fastest way: :class:`SqliteWriter`
with multi-row ``INSERT … VALUES`` through the raw DB-API cursor (rows arrive
sorted by primary key), the PostgreSQL writer with ``COPY``.

Writers work on the bare DB-API connection (``sqlite3`` or ``psycopg``)
of a :meth:`~storemon_tui.db.database.Database.bulk_write` transaction, so
an import into SQLite never loads SQLAlchemy. Every method checks
``should_cancel`` between batches and raises
:class:`~storemon_tui.errors.Cancelled`; the transaction then rolls back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from storemon_tui.db.database import BUMP_DATA_VERSION_SQL
from storemon_tui.db.summary_sql import LAST_IMPORT_KEY, set_meta_sql
from storemon_tui.errors import Cancelled
from storemon_tui.ingest.polls import PollPacking, SortedPolls

ProgressCallback = Callable[[int, int], None]
Rows = Sequence[Sequence] | np.ndarray
"""Rows for :meth:`Writer.insert_rows`: tuples, or a 2-D integer array."""
CancelCheck = Callable[[], bool]


@dataclass
class PollWrite:
    inserted: int
    changed: int


@dataclass
class ZoneWrite:
    inserted: int
    replaced: int


def _never() -> bool:
    return False


class Writer:
    """Portable bulk writes on one open transaction."""

    batch_rows = 10_000
    dialect: str
    """``"sqlite"`` or ``"postgresql"``: set by each database's writer."""

    def __init__(
        self,
        conn: Any,
        *,
        progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> None:
        self.conn = conn
        """The driver's DB-API connection, inside the caller's transaction."""
        self.progress = progress or (lambda done, total: None)
        self.should_cancel = should_cancel or _never

    def check_cancel(self) -> None:
        if self.should_cancel():
            raise Cancelled("import cancelled; nothing from this file was written")

    def insert_rows(
        self, table: str, columns: tuple[str, ...], rows: Rows, on_conflict: str = "", *, progress: bool = False
    ) -> None:
        """Insert many rows, checking for cancellation between batches.

        The one bulk primitive behind stores, hours and zones; each database's
        writer implements it with its fastest path. ``rows`` is a list of
        tuples or, for all-integer rows, a 2-D int64 array (one row per row),
        which spares building a Python tuple per row.
        """
        raise NotImplementedError

    def delete_store_rows(self, table: str, store_keys: list[int]) -> int:
        """Delete every row of ``table`` belonging to the given stores; return how many."""
        raise NotImplementedError

    # -- stores ---------------------------------------------------------------------

    def store_keys(self, store_ids: list[str]) -> np.ndarray:
        """The integer key of each store id, creating keys for new stores."""
        if not store_ids:
            return np.zeros(0, dtype=np.int64)
        existing = self._all_store_keys()
        new = [sid for sid in store_ids if sid not in existing]
        if new:
            self.insert_rows("store", ("store_id",), [(sid,) for sid in new], "ON CONFLICT (store_id) DO NOTHING")
            existing = self._all_store_keys()
        return np.array([existing[sid] for sid in store_ids], dtype=np.int64)

    def _all_store_keys(self) -> dict[str, int]:
        return dict(self.fetch_all("SELECT store_id, store_key FROM store"))

    def has_rows(self, table: str) -> bool:
        """Is ``table`` non-empty? (A first import skips its deletes.)"""
        return bool(self.fetch_all(f"SELECT EXISTS (SELECT 1 FROM {table})")[0][0])

    def fetch_all(self, sql: str) -> list[tuple]:
        """Rows of a parameterless query through the raw DB-API cursor.

        Tens of thousands of store rows as the driver's own tuples cost
        ~5 ms a read; through SQLAlchemy's result machinery, ~25 ms.
        """
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
            return cursor.fetchall()
        finally:
            cursor.close()

    def bump_data_version(self) -> None:
        """Mark every report computed before this transaction as stale."""
        cursor = self.conn.cursor()
        try:
            cursor.execute(BUMP_DATA_VERSION_SQL[self.dialect])
        finally:
            cursor.close()

    def record_import(self) -> None:
        """Note when this import committed: ``storemon --check`` reports the seconds since."""
        cursor = self.conn.cursor()
        try:
            cursor.execute(set_meta_sql(LAST_IMPORT_KEY, time.time_ns() // 1000))
        finally:
            cursor.close()

    # -- polls ----------------------------------------------------------------------

    def count_polls(self) -> int:
        return int(self.fetch_all("SELECT count(*) FROM poll")[0][0])

    def write_polls(self, polls: SortedPolls) -> PollWrite:
        """Upsert polls (already de-duplicated and sorted by key): each database's fast path."""
        raise NotImplementedError

    # -- business hours -----------------------------------------------------------------

    def replace_hours(self, keys: np.ndarray, day: np.ndarray, start_us: np.ndarray, end_us: np.ndarray) -> int:
        """Replace all hours of every store in ``keys``; return rows deleted.

        Rows go in grouped by store (file order kept within a store), so the
        ``(store_key, day_of_week)`` index grows at its end instead of at
        random places.
        """
        deleted = (
            self.delete_store_rows("business_hours", np.unique(keys).tolist()) if self.has_rows("business_hours") else 0
        )
        order = np.argsort(keys, kind="stable")
        rows = np.column_stack((keys[order], day[order], start_us[order], end_us[order]))
        self.insert_rows("business_hours", ("store_key", "day_of_week", "start_us", "end_us"), rows, progress=True)
        return deleted

    # -- time zones ---------------------------------------------------------------------

    def upsert_zones(self, keys: np.ndarray, zones: np.ndarray) -> ZoneWrite:
        """Set each store's zone (one row per store, already de-duplicated)."""
        existing = {key for (key,) in self.fetch_all("SELECT store_key FROM store_timezone")}
        replaced = sum(1 for key in keys.tolist() if key in existing)
        rows = list(zip(keys.tolist(), zones.tolist(), strict=True))
        self.insert_rows(
            "store_timezone",
            ("store_key", "timezone_str"),
            rows,
            "ON CONFLICT (store_key) DO UPDATE SET timezone_str = excluded.timezone_str",
            progress=True,
        )
        total = len(rows)
        return ZoneWrite(inserted=total - replaced, replaced=replaced)


class SqliteWriter(Writer):
    """SQLite: multi-row ``VALUES`` through the raw cursor for polls."""

    dialect = "sqlite"

    def insert_rows(
        self, table: str, columns: tuple[str, ...], rows: Rows, on_conflict: str = "", *, progress: bool = False
    ) -> None:
        """Multi-row ``VALUES`` through the raw ``sqlite3`` cursor.

        One statement per ~250 rows instead of one per row: 91 000 hours rows
        took 0.28 s through a single-row ``executemany``, ~0.05 s like this.
        The row count keeps each statement under 999 parameters, the limit of
        older SQLite builds.
        """
        if len(rows) == 0:
            return
        cursor = self.conn.cursor()
        width = len(columns)
        per = max(1, 999 // width)
        row_sql = "(" + ",".join("?" * width) + ")"

        def statement(n: int) -> str:
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {','.join([row_sql] * n)} {on_conflict}"

        full = statement(per)
        for first in range(0, len(rows), self.batch_rows):
            self.check_cancel()
            batch = rows[first : first + self.batch_rows]
            params = batch.ravel().tolist() if isinstance(batch, np.ndarray) else list(chain.from_iterable(batch))
            whole = len(batch) - len(batch) % per
            if whole:
                cursor.executemany(full, (params[i * width : (i + per) * width] for i in range(0, whole, per)))
            if whole < len(batch):
                cursor.execute(statement(len(batch) - whole), params[whole * width :])
            if progress:
                self.progress(first + len(batch), len(rows))
        cursor.close()

    def delete_store_rows(self, table: str, store_keys: list[int]) -> int:
        """One statement: the keys travel as one JSON array (SQLite's built-in ``json_each``)."""
        self.check_cancel()
        cursor = self.conn.cursor()
        cursor.execute(
            f"DELETE FROM {table} WHERE store_key IN (SELECT value FROM json_each(?))", (json.dumps(store_keys),)
        )
        deleted = max(cursor.rowcount, 0)
        cursor.close()
        return deleted

    rows_per_statement = 500
    """Measured: larger statements are no faster, and stay far under SQLite's variable limit."""

    def write_polls(self, polls: SortedPolls) -> PollWrite:
        cursor = self.conn.cursor()
        # Into an empty table (a first import) plain INSERTs suffice: the rows are
        # unique and this transaction holds the write lock. No counting needed either.
        fresh = not self.has_rows("poll")
        before = 0 if fresh else self.count_polls()
        changes_before = cursor.execute("SELECT total_changes()").fetchone()[0]
        total = len(polls)
        packing = polls.packing
        per = self.rows_per_statement
        full_sql = self._insert_sql(per, packing, upsert=not fresh)  # ~1 ms to build: once, not per chunk
        chunk = max(self.batch_rows * 10, per)
        for start in range(0, total, chunk):
            self.check_cancel()
            stop = min(start + chunk, total)
            if polls.packed is not None:
                params, width = polls.packed[start:stop].tolist(), 1
            else:
                block = np.empty((stop - start, 3), dtype=np.int64)
                block[:, 0] = polls.keys[start:stop]
                block[:, 1] = polls.ts_us[start:stop]
                block[:, 2] = polls.active[start:stop]
                params, width = block.ravel().tolist(), 3
            rows = stop - start
            whole = rows - rows % per
            if whole:
                cursor.executemany(full_sql, (params[i * width : (i + per) * width] for i in range(0, whole, per)))
            if rows > whole:
                cursor.execute(self._insert_sql(rows - whole, packing, upsert=not fresh), params[whole * width :])
            self.progress(stop, total)
        changes = cursor.execute("SELECT total_changes()").fetchone()[0] - changes_before
        cursor.close()
        if fresh:
            return PollWrite(inserted=total, changed=0)
        inserted = self.count_polls() - before
        return PollWrite(inserted=inserted, changed=changes - inserted)

    @staticmethod
    def _insert_sql(rows: int, packing: PollPacking | None, *, upsert: bool) -> str:
        """Multi-row insert or upsert; with a packing, one parameter per row (binding
        Python ints dominates a bulk insert through ``sqlite3``: ~25 % faster)."""
        if packing is None:
            values = ",".join(["(?,?,?)"] * rows)
        else:
            values = ",".join(packing.row_sql(i + 1) for i in range(rows))
        conflict = (
            " ON CONFLICT (store_key, ts_us) DO UPDATE SET active = excluded.active"
            " WHERE poll.active <> excluded.active"
            if upsert
            else ""
        )
        return f"INSERT INTO poll (store_key, ts_us, active) VALUES {values}{conflict}"
