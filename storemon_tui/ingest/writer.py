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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal

import numpy as np

from storemon_tui.db.database import BUMP_DATA_VERSION_SQL
from storemon_tui.db.poll_sources import FOLD_ROWS, fold_recent_polls, note_newest_in_poll
from storemon_tui.db.sqlite_file import page_cache_of
from storemon_tui.db.summary_sql import LAST_IMPORT_KEY, set_meta_sql
from storemon_tui.errors import Cancelled
from storemon_tui.ingest.polls import PollPacking, SortedPolls
from storemon_tui.ingest.recent import CREATE_STAGE_SQL, STAGE, place_staged_polls, recent_rows
from storemon_tui.ingest.row_sets import StoreRowSets

ProgressCallback = Callable[[int, int], None]
Rows = Sequence[Sequence] | np.ndarray
"""Rows for :meth:`Writer.insert_rows`: tuples, or a 2-D integer array."""
CancelCheck = Callable[[], bool]
FOLD_PAGE_CACHE_KIB = 32 * 1024
"""The page cache while ``poll_recent`` is folded into ``poll`` (``PRAGMA cache_size``, KiB).

The fold inserts in key order, so it dirties each page of ``poll`` it
reaches once and never comes back: a bigger cache only holds those pages
until the commit. An hourly import that folds 495,000 polls into 19 M: peak
RSS 367 MB with the full 256 MiB, 171 MB with this, equally fast
(bench/README.md)."""
WHOLE_STORE_TABLE_SHARE = 2
"""A file's store ids are looked up one by one unless this many times their number
reaches the store table's size; then reading the whole table is cheaper."""
_HOURS_COLUMNS = ("store_key", "day_of_week", "start_us", "end_us")
PollMode = Literal["insert", "upsert"]
"""How :class:`SqliteWriter` writes polls: plain inserts (empty table) or an upsert."""


@dataclass
class PollWrite:
    inserted: int = 0
    changed: int = 0
    written: int = 0
    """Unique polls written (inserted or replacing an existing one)."""
    duplicates: int = 0
    """Rows of the file superseded by a later row with the same key."""
    newest_us: int | None = None
    """The newest poll written (``None`` before the first): what ``poll``'s recorded bound must cover."""

    def add_chunk(self, polls: SortedPolls) -> None:
        self.written += len(polls)
        self.duplicates += polls.duplicates
        if polls.newest_us is not None:
            self.newest_us = polls.newest_us if self.newest_us is None else max(self.newest_us, polls.newest_us)


@dataclass
class ZoneWrite:
    inserted: int = 0
    replaced: int = 0
    """Stores that had a zone already."""
    changed: int = 0
    """Of those, the stores whose zone is now another one."""
    duplicates: int = 0


@dataclass
class HoursWrite:
    deleted: int = 0
    """Old rows deleted (every old row of the stores the file names)."""
    changed: int = 0
    """Stores that had hours and have other hours now."""
    unchanged: int = 0
    """Stores that had hours and have exactly the same ones again (a re-import)."""


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

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: Rows, on_conflict: str = "") -> None:
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
        """The integer key of each store id, creating keys for new stores (in id order).

        Looks up only these ids, never the whole store table: an hourly file
        of 10,000 stores costs the same against a fleet of a million.
        """
        if not store_ids:
            return np.zeros(0, dtype=np.int64)
        known = dict(self._known_store_keys(store_ids))
        new = sorted(sid for sid in set(store_ids) if sid not in known)
        if new:
            self.insert_rows("store", ("store_id",), [(sid,) for sid in new], "ON CONFLICT (store_id) DO NOTHING")
            known.update(self._known_store_keys(new))
        return np.array([known[sid] for sid in store_ids], dtype=np.int64)

    def _known_store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        """Keys of those of ``store_ids`` that exist: looked up one by one, or, when they are a
        large share of the fleet (a first import, a full re-import), the whole table read
        once, which is then cheaper (bench/README.md). Either way the cost follows the file."""
        largest = self.fetch_all("SELECT max(store_key) FROM store")[0][0]  # one seek; >= the stores
        if largest is None:
            return []
        if len(store_ids) * WHOLE_STORE_TABLE_SHARE >= largest:
            return self.fetch_all("SELECT store_id, store_key FROM store")
        return self.find_store_keys(store_ids)

    def find_store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        """``(store_id, store_key)`` of those of ``store_ids`` that exist."""
        raise NotImplementedError

    def store_rows(self, table: str, columns: tuple[str, ...], store_keys: list[int]) -> list[tuple]:
        """``(store_key, *columns)`` of every row of ``table`` that belongs to one of ``store_keys``."""
        raise NotImplementedError

    def has_rows(self, table: str) -> bool:
        """Is ``table`` non-empty? (A first import skips its deletes.)"""
        return bool(self.fetch_all(f"SELECT EXISTS (SELECT 1 FROM {table})")[0][0])

    def fetch_all(self, sql: str) -> list[tuple]:
        """Rows of a parameterless query through the raw DB-API cursor.

        The driver's own tuples cost a fraction of SQLAlchemy's result
        machinery (bench/README.md).
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

    def write_polls(self, chunks: Iterable[SortedPolls], total: int) -> PollWrite:
        """Upsert polls: chunks in primary-key order, each de-duplicated (each database's fast path).

        ``total`` is the file's valid rows, for progress.
        """
        raise NotImplementedError

    # -- business hours -----------------------------------------------------------------

    def replace_hours(self, blocks: Iterable[tuple[np.ndarray, ...]], total: int) -> HoursWrite:
        """Replace all hours of every store in the blocks of ``(keys, day, start_us, end_us)``.

        A store's old rows are deleted the first time a block mentions it, so
        its rows from later blocks of the same file are kept. Rows go in
        grouped by store (file order kept within a store), so the
        ``(store_key, day_of_week)`` index grows at its end instead of at
        random places. The old and new rows are fingerprinted per store
        (:mod:`~storemon_tui.ingest.row_sets`) to count the stores whose hours really changed.
        """
        result = HoursWrite()
        had_rows = self.has_rows("business_hours")
        old = StoreRowSets()
        new = StoreRowSets(salt=int(old.salt))
        cleared = np.zeros(0, dtype=np.int64)
        done = 0
        for keys, day, start_us, end_us in blocks:
            if had_rows:
                mentioned = np.setdiff1d(np.unique(keys), cleared, assume_unique=True)
                rows = self.store_rows("business_hours", _HOURS_COLUMNS[1:], mentioned.tolist())
                if rows:
                    table = np.array(rows, dtype=np.int64)
                    old.add(table[:, 0], [table[:, i] for i in range(1, 4)])
                result.deleted += self.delete_store_rows("business_hours", mentioned.tolist())
                cleared = np.union1d(cleared, mentioned)
            new.add(keys, (day, start_us, end_us))
            order = np.argsort(keys, kind="stable")
            rows_in = np.column_stack((keys[order], day[order], start_us[order], end_us[order]))
            self.insert_rows("business_hours", _HOURS_COLUMNS, rows_in)
            done += len(keys)
            self.progress(done, total)
        result.unchanged = sum(old.same(new, key) for key in old.stores())
        result.changed = len(old.counts) - result.unchanged
        return result

    # -- time zones ---------------------------------------------------------------------

    def upsert_zones(self, blocks: Iterable[tuple[np.ndarray, np.ndarray]], total: int) -> ZoneWrite:
        """Set each store's zone from blocks of ``(keys, zones)``: the last row of a store wins."""
        result = ZoneWrite()
        had_rows = self.has_rows("store_timezone")  # a first import looks nothing up
        before: dict[int, str] = {}
        """The zone each store had, for the stores that had one."""
        after: dict[int, str] = {}
        done = 0
        for keys, zones in blocks:
            # Last row per store wins: take each store's final occurrence.
            _, first_from_end = np.unique(keys[::-1], return_index=True)
            take = np.sort(len(keys) - 1 - first_from_end)
            keys_taken = keys[take].tolist()
            zones_taken = zones[take].tolist()
            again = [key for key in keys_taken if key in after]
            result.duplicates += len(keys) - len(take) + len(again)
            fresh = [key for key in keys_taken if key not in after]
            if had_rows:
                before.update(self.store_rows("store_timezone", ("timezone_str",), fresh))
            after.update(zip(keys_taken, zones_taken, strict=True))
            self.insert_rows(
                "store_timezone",
                ("store_key", "timezone_str"),
                list(zip(keys_taken, zones_taken, strict=True)),
                "ON CONFLICT (store_key) DO UPDATE SET timezone_str = excluded.timezone_str",
            )
            done += len(keys)
            self.progress(done, total)
        result.replaced = len(before)
        result.inserted = len(after) - result.replaced
        result.changed = sum(zone != after[key] for key, zone in before.items())
        return result


_CHANGED_TRIGGER = "storemon_poll_status_changed"
_CHANGED_FUNCTION = "storemon_count_status_change"


class SqliteWriter(Writer):
    """SQLite: multi-row ``VALUES`` through the raw cursor for polls."""

    dialect = "sqlite"

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: Rows, on_conflict: str = "") -> None:
        """Multi-row ``VALUES`` through the raw ``sqlite3`` cursor.

        One statement per ~250 rows instead of one per row: several times
        faster than a single-row ``executemany`` (bench/README.md).
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

    def find_store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        """One statement: the ids travel as one JSON array (SQLite's built-in ``json_each``)."""
        return self._fetch(
            "SELECT store_id, store_key FROM store WHERE store_id IN (SELECT value FROM json_each(?))",
            json.dumps(store_ids),
        )

    def store_rows(self, table: str, columns: tuple[str, ...], store_keys: list[int]) -> list[tuple]:
        if not store_keys:
            return []
        names = ", ".join(("store_key", *columns))
        return self._fetch(
            f"SELECT {names} FROM {table} WHERE store_key IN (SELECT value FROM json_each(?))", json.dumps(store_keys)
        )

    def _fetch(self, sql: str, *params: object) -> list[tuple]:
        cursor = self.conn.cursor()
        try:
            return cursor.execute(sql, params).fetchall()
        finally:
            cursor.close()

    rows_per_statement = 500
    """Larger statements measured no faster (bench/README.md); this stays far under SQLite's variable limit."""

    fold_rows = FOLD_ROWS
    """``poll_recent`` is folded into ``poll`` once it holds this many polls (tests set a small one)."""

    def write_polls(self, chunks: Iterable[SortedPolls], total: int) -> PollWrite:
        """Write a file's polls where they cost least, keeping a key out of both poll tables.

        Into an empty database (a first import): plain inserts into ``poll``.
        A file that could bring ``poll_recent`` to :attr:`fold_rows` folds it
        into ``poll`` first, in this same transaction (a kill leaves the
        database as it was), and upserts into ``poll``: a big file gains
        nothing from the detour, and a small one pays the fold it made due.
        Any other file (an hourly one) goes through ``poll_recent``
        (:mod:`~storemon_tui.ingest.recent`), which therefore never holds
        :attr:`fold_rows` polls after an import.
        """
        cursor = self.conn.cursor()
        try:
            recent = recent_rows(cursor)
            if not recent and not self.has_rows("poll"):
                return self._write_into_poll(cursor, chunks, total, "insert")
            if recent + total >= self.fold_rows:
                self._fold(cursor)
                return self._write_into_poll(cursor, chunks, total, "upsert")
            return self._write_through_recent(cursor, chunks, total)
        finally:
            cursor.close()

    def _fold(self, cursor: Any) -> None:
        """Move ``poll_recent`` into ``poll`` (a few seconds, not cancellable inside: checked before and after)
        with a small page cache (:data:`FOLD_PAGE_CACHE_KIB`)."""
        self.check_cancel()
        with page_cache_of(cursor, FOLD_PAGE_CACHE_KIB):
            fold_recent_polls(cursor)
        self.check_cancel()

    def _write_through_recent(self, cursor: Any, chunks: Iterable[SortedPolls], total: int) -> PollWrite:
        """Stage the polls, then place them (:func:`~storemon_tui.ingest.recent.place_staged_polls`).

        The chunks are disjoint (each key's rows were merged before), so the stage takes plain inserts.
        """
        result = PollWrite()
        cursor.execute(CREATE_STAGE_SQL)
        for polls in chunks:
            done = result.written + result.duplicates
            self._insert_polls(cursor, polls, mode="insert", table=STAGE, done=done, total=total)
            result.add_chunk(polls)
        self.check_cancel()
        result.inserted, result.changed = place_staged_polls(cursor)
        return result

    def _write_into_poll(self, cursor: Any, chunks: Iterable[SortedPolls], total: int, mode: PollMode) -> PollWrite:
        """Into an empty ``poll`` plain INSERTs: the chunks are unique and in key order, and this
        transaction holds the write lock. Otherwise one upsert pass, which seeks each poll's key:
        nothing is counted or scanned. Changed statuses are counted by a temporary trigger on this
        connection (see :meth:`_count_status_changes`); inserted polls are the other changes."""
        result = PollWrite()
        changed = self._count_status_changes(cursor) if mode == "upsert" else [0]
        for polls in chunks:
            before, changed_before = self.conn.total_changes, changed[0]
            self._insert_polls(cursor, polls, mode=mode, done=result.written + result.duplicates, total=total)
            updated = changed[0] - changed_before
            result.inserted += self.conn.total_changes - before - updated
            result.changed += updated
            result.add_chunk(polls)
        note_newest_in_poll(cursor, result.newest_us, exact=mode == "insert")
        if mode == "upsert":  # on an error the rollback removes it (temporary DDL is transactional too)
            cursor.execute(f"DROP TRIGGER temp.{_CHANGED_TRIGGER}")
        return result

    def _count_status_changes(self, cursor: Any) -> list[int]:
        """A counter of the polls whose status the upsert changes: ``[n]``, kept up to date.

        SQLite counts inserted and updated rows together; an ``AFTER UPDATE``
        trigger calling a Python function (a ``SELECT``, so itself no change)
        counts the updates alone, at a cost per *changed* poll only (a
        re-import changes few). Temporary: it lives in this connection only.
        """
        counter = [0]

        def changed() -> None:
            counter[0] += 1

        self.conn.create_function(_CHANGED_FUNCTION, 0, changed)
        cursor.execute(
            f"CREATE TEMP TRIGGER IF NOT EXISTS {_CHANGED_TRIGGER} AFTER UPDATE OF active ON main.poll "
            f"BEGIN SELECT {_CHANGED_FUNCTION}(); END"
        )
        return counter

    def _insert_polls(
        self, cursor: Any, polls: SortedPolls, *, mode: PollMode, done: int, total: int, table: str = "poll"
    ) -> None:
        count = len(polls)
        packing = polls.packing if polls.packed is not None else None
        per = self.rows_per_statement
        # The same two statements for every chunk of every file, so each is prepared once: a statement
        # of the leftover rows' own size was prepared anew for each chunk (bench/README.md).
        full_sql, one_sql = (
            self._insert_sql(per, packing is not None, mode, table),
            self._insert_sql(1, packing is not None, mode, table),
        )
        constants = packing.constants() if packing is not None else []
        batch = max(self.batch_rows * 10, per)
        for start in range(0, count, batch):
            self.check_cancel()
            stop = min(start + batch, count)
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
                statements = (params[i * width : (i + per) * width] + constants for i in range(0, whole, per))
                cursor.executemany(full_sql, statements)
            if rows > whole:
                leftover = (params[i * width : (i + 1) * width] + constants for i in range(whole, rows))
                cursor.executemany(one_sql, leftover)
            self.progress(min(done + stop, total), total)

    @staticmethod
    def _insert_sql(rows: int, packed: bool, mode: PollMode, table: str = "poll") -> str:
        """Multi-row insert (``mode`` ``"insert"``) or upsert that changes only differing statuses
        (``"upsert"``); ``packed``: one parameter per row, then the packing's three constants (binding
        Python ints dominates a bulk insert through ``sqlite3``: bench/README.md)."""
        if packed:
            values = ",".join(PollPacking.row_sql(i + 1, rows + 1) for i in range(rows))
        else:
            values = ",".join(["(?,?,?)"] * rows)
        conflict = (
            " ON CONFLICT (store_key, ts_us) DO UPDATE SET active = excluded.active"
            " WHERE poll.active <> excluded.active"
            if mode == "upsert"
            else ""
        )
        return f"INSERT INTO {table} (store_key, ts_us, active) VALUES {values}{conflict}"
