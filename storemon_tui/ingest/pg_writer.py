"""PostgreSQL bulk writes: binary ``COPY`` into a staging table, then one merge.

The binary COPY stream is built with a numpy structured array (big-endian
fields laid out exactly as PostgreSQL's binary format wants), so two million
polls become one buffer without a Python loop. The merge into ``poll``
uses the same ``ON CONFLICT`` semantics as SQLite, in primary-key order so
concurrent writers touch rows in the same order.

Writers take a transaction-level advisory lock first: concurrent imports
from several hosts queue up instead of deadlocking on each other's rows,
and the lock is released by commit or rollback, even if the process dies.
There is one lock per schema: imports into different schemas write
different tables and need not wait for each other.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from storemon_tui.db.poll_sources import fold_recent_polls, note_newest_in_poll
from storemon_tui.ingest.polls import SortedPolls
from storemon_tui.ingest.writer import PollWrite, Rows, Writer

IMPORT_LOCK_ID = 7231002

IMPORT_LOCK_KEY = f"{IMPORT_LOCK_ID}, hashtext(current_schema())"
"""The import lock's two-part key in SQL: storemon's id and the schema the tables resolve to."""

LOCK_POLL_S = 0.1
"""How often an import waiting for another host's import tries the lock again."""

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)
_POLL_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("key_len", ">i4"),
        ("key", ">i4"),
        ("ts_len", ">i4"),
        ("ts", ">i8"),
        ("active_len", ">i4"),
        ("active", ">i2"),
    ]
)


def binary_copy_polls(keys: np.ndarray, ts_us: np.ndarray, active: np.ndarray) -> bytes:
    """Polls as a PostgreSQL binary COPY payload (int4, int8, int2 columns)."""
    rows = np.empty(len(keys), dtype=_POLL_ROW)
    rows["fields"] = 3
    rows["key_len"], rows["key"] = 4, keys
    rows["ts_len"], rows["ts"] = 8, ts_us
    rows["active_len"], rows["active"] = 2, active
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


class PostgresWriter(Writer):
    """COPY-based poll loading; hours and zones use the portable SQL."""

    copy_chunk_rows = 200_000
    dialect = "postgresql"

    def __init__(self, conn: Any, **kwargs: Any) -> None:
        super().__init__(conn, **kwargs)
        self._take_import_lock()

    def _take_import_lock(self) -> None:
        """Wait for other hosts' imports to finish, checking for cancellation while waiting.

        A plain ``pg_advisory_xact_lock`` waits inside the server, where
        neither a cancel button nor the first Ctrl-C can reach it; polling
        the non-blocking form can be stopped between tries.
        """
        with self.conn.cursor() as cursor:
            while True:
                cursor.execute(f"SELECT pg_try_advisory_xact_lock({IMPORT_LOCK_KEY})")
                if cursor.fetchone()[0]:
                    return
                self.check_cancel()
                time.sleep(LOCK_POLL_S)

    def delete_store_rows(self, table: str, store_keys: list[int]) -> int:
        """One statement with the keys as an array parameter."""
        self.check_cancel()
        with self.conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE store_key = ANY(%s)", (store_keys,))
            return max(cursor.rowcount, 0)

    def find_store_keys(self, store_ids: list[str]) -> list[tuple[str, int]]:
        """One statement with the ids as an array parameter."""
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT store_id, store_key FROM store WHERE store_id = ANY(%s)", (store_ids,))
            return cursor.fetchall()

    def store_rows(self, table: str, columns: tuple[str, ...], store_keys: list[int]) -> list[tuple]:
        if not store_keys:
            return []
        names = ", ".join(("store_key", *columns))
        with self.conn.cursor() as cursor:
            cursor.execute(f"SELECT {names} FROM {table} WHERE store_key = ANY(%s)", (store_keys,))
            return cursor.fetchall()

    def insert_rows(self, table: str, columns: tuple[str, ...], rows: Rows, on_conflict: str = "") -> None:
        """COPY into a staging table shaped like the target, then one ``INSERT … SELECT``.

        psycopg's executemany costs tens of times more a row than COPY (bench/README.md).
        """
        names = ", ".join(columns)
        stage = f"stage_{table}"
        with self.conn.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {stage}")
            cursor.execute(f"CREATE TEMP TABLE {stage} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA")
            with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                for first in range(0, len(rows), self.batch_rows):
                    self.check_cancel()
                    batch = rows[first : first + self.batch_rows]
                    for row in batch.tolist() if isinstance(batch, np.ndarray) else batch:
                        copy.write_row(row)
            self.check_cancel()
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} {on_conflict}")
            cursor.execute(f"DROP TABLE {stage}")

    def write_polls(self, chunks: Iterable[SortedPolls], total: int) -> PollWrite:
        """Load polls: straight COPY into an empty table, else COPY into a stage and merge once.

        ``INSERT … ON CONFLICT`` measured slower (bench/README.md) than an ``UPDATE … FROM``
        of changed rows plus an anti-join ``INSERT`` of new ones; the two
        statements are safe together because every writer holds the import lock.
        The chunks arrive unique and in key order, so the stage is too.

        PostgreSQL writes everything into ``poll`` (its cost profile is not
        SQLite's), but keeps the rule that a key is never in both poll tables:
        whatever ``poll_recent`` holds (a database written by the SQLite
        code is impossible here, but nothing else forbids it) is folded into
        ``poll`` first, in this same transaction.
        """
        result = PollWrite()
        with self.conn.cursor() as cursor:
            fold_recent_polls(cursor)
            self.check_cancel()
            if not self.has_rows("poll"):
                # An empty table: COPY without the primary key and build it once at the end
                # (sorted input; bench/README.md has the figures). The
                # constraint keeps its name, and DDL is transactional: a rollback restores it.
                cursor.execute("ALTER TABLE poll DROP CONSTRAINT poll_pkey")
                self._copy_chunks(cursor, "poll", chunks, result, total)
                self.check_cancel()
                cursor.execute("ALTER TABLE poll ADD CONSTRAINT poll_pkey PRIMARY KEY (store_key, ts_us)")
                # Statistics now, not whenever autovacuum gets to it: without them the next
                # hourly import's UPDATE hash-joined all of poll (bench/README.md).
                cursor.execute("ANALYZE poll")
                note_newest_in_poll(cursor, result.newest_us, exact=True)
                result.inserted = result.written
                return result
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS poll_stage "
                "(store_key integer NOT NULL, ts_us bigint NOT NULL, active smallint NOT NULL) ON COMMIT DROP"
            )
            cursor.execute("TRUNCATE poll_stage")
            self._copy_chunks(cursor, "poll_stage", chunks, result, total)
            cursor.execute("ANALYZE poll_stage")
            self.check_cancel()
            cursor.execute(
                "UPDATE poll SET active = s.active FROM poll_stage s "
                "WHERE poll.store_key = s.store_key AND poll.ts_us = s.ts_us AND poll.active <> s.active"
            )
            result.changed = max(cursor.rowcount, 0)
            self.check_cancel()
            cursor.execute(
                "INSERT INTO poll (store_key, ts_us, active) SELECT s.store_key, s.ts_us, s.active FROM poll_stage s "
                "WHERE NOT EXISTS (SELECT 1 FROM poll p WHERE p.store_key = s.store_key AND p.ts_us = s.ts_us) "
                "ORDER BY s.store_key, s.ts_us"
            )
            result.inserted = max(cursor.rowcount, 0)
            cursor.execute("DROP TABLE poll_stage")
            note_newest_in_poll(cursor, result.newest_us, exact=False)
        return result

    def _copy_chunks(
        self, cursor: Any, table: str, chunks: Iterable[SortedPolls], result: PollWrite, total: int
    ) -> None:
        """Binary COPY of every chunk, in slices, checking for cancellation between them."""
        with cursor.copy(f"COPY {table} (store_key, ts_us, active) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_COPY_HEADER)
            for polls in chunks:
                keys, ts_us, active = polls.keys, polls.ts_us, polls.active
                for start in range(0, len(keys), self.copy_chunk_rows):
                    self.check_cancel()
                    stop = min(start + self.copy_chunk_rows, len(keys))
                    payload = binary_copy_polls(keys[start:stop], ts_us[start:stop], active[start:stop])
                    copy.write(payload[len(_COPY_HEADER) : -len(_COPY_TRAILER)])
                    self.progress(min(result.written + result.duplicates + stop, total) * 3 // 4, total)
                result.add_chunk(polls)
            copy.write(_COPY_TRAILER)
