"""Reading a report's input from the database: chunks of stores, a bounded range of time.

What is read (the report must cost what it needs, not what the database
ever held): for each chunk of store keys, the stores' ids, business hours,
zones and their polls of ``[now − 168 h − 24 h, now]``; then, only for the
stores whose week window is not yet owned by evidence from that range,
their latest polls before it, found by one index seek per store on
``(store_key, ts_us)`` (:class:`DatabaseOlder`, driven by
``lookback.py``).

Why the queries look unusual: the cost of reading two million polls is
almost entirely Python building one tuple per row. So each store's polls
travel as one value: on SQLite a ``group_concat`` of
``(ts_us − now) × 2 + active`` parsed by numpy in one C call, on PostgreSQL
a ``string_agg`` of big-endian ``int8send`` bytes cut by ``np.frombuffer``.
On SQLite a whole chunk's polls are even one value (one row, so one step
without the GIL for all its stores: reader threads no longer wait for the
GIL store by store while the other threads hold it).
Neither database promises the order inside an aggregate, so the order is
checked (and restored if ever needed).

All reads of one report see one snapshot: the caller's transaction
(``Database.snapshot()``), and helper connections that read chunks ahead
in other threads join that snapshot (:meth:`ReportSnapshot.helper`).
"""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection

from storemon_tui.db.poll_sources import POLL_TABLES
from storemon_tui.db.summary_sql import LATEST_POLL_SQL
from storemon_tui.errors import NoPollsError, StoremonError
from storemon_tui.report.inputs import Polls, ReportInput

_HOURS_COLUMNS = ("store_key", "day_of_week", "start_us", "end_us")
_MIN_INT64 = -(1 << 63)
_NO_LOWER_BOUND = -(1 << 62)  # before any instant a database holds (year −146 000)


@dataclass(frozen=True)
class SnapshotJoin:
    """What another process needs to read in a report's snapshot (:meth:`ReportSnapshot.join_spec`).

    Plain values only: it crosses a pipe to a worker process (``workers.py``).
    """

    dialect: str
    now_us: int
    max_key: int
    has_recent: bool
    sqlite_path: str | None = None
    postgres: tuple[list[Any], dict[str, Any], str] | None = None
    """psycopg's connect arguments and the exported snapshot's id."""


class ReportSnapshot:
    """One consistent view of the database for one computation, read chunk by chunk.

    Create it inside ``Database.snapshot()`` (or any connection: on SQLite a
    connection without an open transaction gets a read transaction of its
    own, ended by :meth:`close`). ``now_us`` is ``as_of_us`` if given, else
    the latest poll. Raises :class:`StoremonError` when the database has no
    polls at all.
    """

    def __init__(self, conn: Connection, as_of_us: int | None) -> None:
        dbapi = conn.connection.dbapi_connection
        if dbapi is None:  # only after the connection was closed or invalidated
            raise StoremonError("the database connection is closed")
        self.conn: Connection | None = conn
        self.dialect = conn.dialect.name
        self._owns_connection = False
        self._dbapi = dbapi
        self._own_transaction = self.dialect == "sqlite" and not cast(sqlite3.Connection, dbapi).in_transaction
        self.cursor: Any = dbapi.cursor()
        if self._own_transaction:
            self.cursor.execute("BEGIN")
        try:
            self.max_key = int(_scalar(self.cursor, "SELECT max(store_key) FROM store") or 0)
            latest = _scalar(self.cursor, LATEST_POLL_SQL)
            if latest is None:
                raise NoPollsError()
            self.has_recent = bool(_scalar(self.cursor, "SELECT EXISTS (SELECT 1 FROM poll_recent)"))
        except BaseException:
            self.close()
            raise
        self.now_us = int(as_of_us) if as_of_us is not None else int(latest)

    def close(self) -> None:
        self.cursor.close()
        if self._own_transaction:
            self._dbapi.rollback()  # read-only: just ends the snapshot
            self._own_transaction = False
        if self._owns_connection:
            self._dbapi.close()
            self._owns_connection = False

    def __enter__(self) -> ReportSnapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def join_spec(self) -> SnapshotJoin | None:
        """How another process joins this snapshot, or ``None`` if none can (an in-memory database).

        PostgreSQL: the snapshot is exported now and stays importable while
        this transaction lasts. SQLite: the other process's read must start
        while this connection holds its shared lock (see :meth:`helper`).
        """
        if self.dialect == "sqlite":
            path = _sqlite_path(self)
            return None if path is None else self._spec(sqlite_path=path)
        snapshot_id = _export_postgres_snapshot(self)
        if snapshot_id is None:
            return None
        args, kwargs = _postgres_connect_args(self)
        # Plain connection parameters only: SQLAlchemy's adapters ("context") cannot cross a pipe,
        # and the chunk queries return only integers, bytes and text, which psycopg reads by itself.
        plain = {k: v for k, v in kwargs.items() if isinstance(v, str | int | float | bool) or v is None}
        return self._spec(postgres=(args, plain, snapshot_id))

    def _spec(self, **where: Any) -> SnapshotJoin:
        return SnapshotJoin(self.dialect, self.now_us, self.max_key, self.has_recent, **where)

    @classmethod
    def joined(cls, spec: SnapshotJoin) -> ReportSnapshot | None:
        """The snapshot ``spec`` describes, from a connection of this process; ``None`` if SQLite refuses it."""
        if spec.dialect == "sqlite":
            opened = _open_sqlite_reader(spec.sqlite_path or "")
        elif spec.postgres is not None:
            args, kwargs, snapshot_id = spec.postgres
            opened = _join_postgres((args, kwargs), snapshot_id)
        else:
            opened = None
        if opened is None:
            return None
        snap = cls.__new__(cls)
        snap.conn = None
        snap.dialect = spec.dialect
        snap._dbapi, snap.cursor = opened
        snap._own_transaction = True
        snap._owns_connection = True
        snap.max_key, snap.now_us, snap.has_recent = spec.max_key, spec.now_us, spec.has_recent
        return snap

    def read_chunk(
        self, first_key: int, stop_key: int, lo_us: int | None, cursor: Any = None, *, polls: bool = True
    ) -> tuple[ReportInput, DatabaseOlder]:
        """Stores ``first_key … stop_key − 1`` renumbered from 0, with their polls of ``[lo_us, now]``.

        Also returns the chunk's look-back source, which already knows the
        stores that have no poll before ``lo_us`` (most of them, when the
        data is young): it never asks the database about those.
        ``lo_us=None`` reads all polls at or before now; ``polls=False``
        none (ids, hours, zones and the look-back only). ``cursor`` may be a
        helper's (:meth:`helper`), to read in another thread.
        """
        cur = cursor if cursor is not None else self.cursor
        keys = (first_key, stop_key)
        lo = lo_us if lo_us is not None else _MIN_INT64
        read_polls = _sqlite_polls if self.dialect == "sqlite" else _postgres_polls
        hi = self.now_us if polls or lo == _MIN_INT64 else lo - 1
        ids, found, has_older = read_polls(cur, keys, lo, hi)
        if self.has_recent:
            found, has_older = _with_recent_polls(cur, self.dialect, keys, (lo, hi), found, has_older)
        if self.dialect == "sqlite":
            hours, zones = _sqlite_hours(cur, keys), _sqlite_keyed_texts(cur, "store_timezone", "timezone_str", keys)
        else:
            hours = _generic_hours(cur, keys, self.dialect)
            cur.execute(
                "SELECT store_key, timezone_str FROM store_timezone WHERE store_key >= %s AND store_key < %s", keys
            )
            zones = cur.fetchall()
        chunk = _chunk_input(first_key, stop_key, ids, found, hours, zones)
        older = np.zeros(chunk.n_stores, dtype=bool)
        older[np.asarray([int(k) - first_key for k in has_older], dtype=np.int64)] = True
        return chunk, DatabaseOlder(self, first_key, older)

    @contextmanager
    def helper(self) -> Iterator[Any]:
        """A cursor on a second connection that sees this snapshot, or ``None`` if none can be had.

        SQLite: a read-only connection whose read starts while this one
        holds its shared lock, so no writer can commit in between (rollback
        journal). It must not *wait* for that lock: a committing writer
        holds SQLite's pending lock (no new readers) while it waits for ours
        to go, so waiting would deadlock both for the busy timeout; it asks
        once, and if refused there is no helper. PostgreSQL: a connection
        that imports this transaction's exported snapshot.
        """
        if self.conn is None:  # a joined snapshot (another process's): no helpers of its own
            opened = None
        else:
            opened = _open_sqlite_helper(self) if self.dialect == "sqlite" else _open_postgres_helper(self)
        if opened is None:
            yield None
            return
        connection, cursor = opened
        try:
            yield cursor
        finally:
            cursor.close()
            connection.close()


class DatabaseOlder:
    """:class:`~storemon_tui.report.lookback.OlderPolls` from the database, for one chunk's stores.

    ``has_older[i]`` says whether store ``i`` has any poll before the
    chunk's recent range; only those are looked up.
    """

    def __init__(self, snapshot: ReportSnapshot, first_key: int, has_older: np.ndarray) -> None:
        self.snapshot = snapshot
        self.first_key = first_key
        self.has_older = has_older

    def before(self, stores: np.ndarray, upto_us: np.ndarray, limit: int, active: np.ndarray | None = None) -> Polls:
        want = np.full(len(stores), -1, dtype=np.int64) if active is None else active.astype(np.int64)
        return self._query("before", stores, [np.full(len(stores), _NO_LOWER_BOUND), upto_us, want], limit)

    def after(self, stores: np.ndarray, after_us: np.ndarray, upto_us: np.ndarray, limit: int) -> Polls:
        return self._query("after", stores, [after_us, upto_us, np.full(len(stores), -1)], limit)

    def _query(self, direction: str, stores: np.ndarray, bounds: list[np.ndarray], limit: int) -> Polls:
        """Polls with ``after < ts < upto`` (and ``active = want`` unless ``want`` is −1), nearest first/last."""
        known = self.has_older[stores]  # the others have no poll before the chunk's range at all
        stores = stores[known]
        if len(stores) == 0:
            return Polls.empty()
        columns = [[int(k) + self.first_key for k in stores], *([int(v) for v in b[known]] for b in bounds)]
        snap = self.snapshot
        order = "DESC" if direction == "before" else "ASC"
        if snap.dialect == "sqlite":
            rows = snap.cursor.execute(
                _SQLITE_BEYOND.format(order=order), (json.dumps(list(zip(*columns, strict=True))), int(limit))
            ).fetchall()
            store, packed = _parse_text_rows(rows)
        else:
            names = ("keys", "afters", "uptos", "wants")
            snap.cursor.execute(
                _POSTGRES_BEYOND.format(order=order), {**dict(zip(names, columns, strict=True)), "n": int(limit)}
            )
            store, packed = _parse_binary_rows(snap.cursor.fetchall())
        return Polls.normalized(store - self.first_key, packed >> 1, (packed & 1).astype(bool))


def _nearest(limit: str) -> str:
    """A store's nearest polls in ``(lo_ts, hi_ts)`` of either poll table, of one status if ``want`` ≥ 0.

    Each table gives its own nearest ``limit`` (one index seek each), and the
    union's nearest ``limit`` of those are the store's. ``{{order}}`` is left
    for the caller's direction.
    """
    arms = [
        f"SELECT * FROM (SELECT ts_us, active FROM {table} p WHERE p.store_key = k.store_key AND p.ts_us > k.lo_ts"
        f" AND p.ts_us < k.hi_ts AND (k.want < 0 OR p.active = k.want) ORDER BY p.ts_us {{order}} LIMIT {limit})"
        f" AS {table}_near"
        for table in POLL_TABLES
    ]
    return f"SELECT ts_us, active FROM ({' UNION ALL '.join(arms)}) AS near ORDER BY ts_us {{order}} LIMIT {limit}"


# Each store's nearest polls within (after, upto), of one status if want ≥ 0: one index seek per store and table.
_SQLITE_BEYOND = (
    f"SELECT k.store_key, (SELECT group_concat(ts_us * 2 + active) FROM ({_nearest('?2')}))"
    " FROM (SELECT json_extract(value, '$[0]') AS store_key, json_extract(value, '$[1]') AS lo_ts,"
    " json_extract(value, '$[2]') AS hi_ts, json_extract(value, '$[3]') AS want FROM json_each(?1)) k"
)
_POSTGRES_BEYOND = (
    "SELECT k.store_key, x.packed FROM unnest(%(keys)s::bigint[], %(afters)s::bigint[], %(uptos)s::bigint[],"
    " %(wants)s::bigint[]) AS k(store_key, lo_ts, hi_ts, want)"
    " CROSS JOIN LATERAL (SELECT string_agg(int8send(q.ts_us * 2 + q.active), ''::bytea) AS packed"
    f" FROM ({_nearest('%(n)s')}) q) x"
)


@dataclass(frozen=True)
class Chunk:
    """One chunk of the fleet as read: store keys ``first_key … stop_key − 1``."""

    first_key: int
    stop_key: int
    input: ReportInput
    older: DatabaseOlder


def load_report_input(conn: Connection, as_of_us: int | None) -> tuple[ReportInput, int]:
    """Everything at once — all stores, all polls at or before now — and ``now``.

    The whole history in memory: for tests and small databases (the report
    itself reads chunks, see ``pipeline.py``). Store keys are the indexes.
    """
    with ReportSnapshot(conn, as_of_us) as snap:
        return snap.read_chunk(0, snap.max_key + 1, None)[0], snap.now_us


# ------------------------------------------------------------------------------------ polls


def _sqlite_polls(cur: Any, keys: tuple[int, int], lo_us: int, hi_us: int) -> tuple[list[Any], Polls, list[int]]:
    """Store ids, packed polls of ``[lo, hi]`` per store (one index seek each), the stores with polls before ``lo``.

    The polls of the whole chunk come back as *one* value (:data:`_SQLITE_CHUNK_POLLS`),
    so SQLite works through every store in one step without Python's GIL;
    a row per store made each reader thread take the GIL back for every
    store, and wait for it while another thread held it (bench/README.md).
    """
    (text,) = cur.execute(_SQLITE_CHUNK_POLLS, (hi_us, lo_us, *keys)).fetchone()
    store, packed, older = _parse_chunk_text(text, keys[0])
    ids = _sqlite_keyed_texts(cur, "store", "store_id", keys)
    return ids, _unpack(store, packed, hi_us), older.tolist()


def _sqlite_keyed_texts(cur: Any, table: str, column: str, keys: tuple[int, int]) -> list[tuple[int, str]]:
    """``(store_key, column)`` of ``table``'s rows in the key range, as one row (see :func:`_sqlite_polls`).

    The texts travel as a JSON array, which holds any text; both aggregates
    see the rows of one scan in the same order, and neither column is NULL.
    """
    cur.execute(
        f"SELECT group_concat(store_key), json_group_array({column}) FROM {table}"
        " WHERE store_key >= ? AND store_key < ?",
        keys,
    )
    key_text, texts = cur.fetchone()
    if key_text is None:
        return []
    store_keys = [int(k) for k in key_text.split(",")]
    values = json.loads(texts)
    if len(values) != len(store_keys):
        raise StoremonError(f"could not read {table} back")
    return list(zip(store_keys, values, strict=True))


# Per store: a header (store_key − first) × 2 + has_older + 2 ≥ 2, then its polls as
# (ts − now) × 2 + active ≤ 1 (ts ≤ now), so a header can never be read as a poll.
_SQLITE_CHUNK_POLLS = (
    "SELECT group_concat(part) FROM (SELECT ((s.store_key - ?3) * 2 + 2"
    " + EXISTS (SELECT 1 FROM poll q WHERE q.store_key = s.store_key AND q.ts_us < ?2))"
    " || coalesce(',' || (SELECT group_concat((p.ts_us - ?1) * 2 + p.active) FROM poll p"
    " WHERE p.store_key = s.store_key AND p.ts_us >= ?2 AND p.ts_us <= ?1), '') AS part"
    " FROM store s WHERE s.store_key >= ?3 AND s.store_key < ?4)"
)


def _parse_chunk_text(text: str | None, first_key: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:data:`_SQLITE_CHUNK_POLLS`'s text → a store key per poll, the packed polls, the stores with older polls."""
    if text is None:  # no store in the chunk
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a partial parse must fail loudly, not truncate
        values = np.fromstring(text, dtype=np.int64, sep=",")
    expected = text.count(",") + 1
    if len(values) != expected:
        raise StoremonError(f"could not read the polls back: expected {expected} values, parsed {len(values)}")
    header = values >= 2
    at = np.flatnonzero(header)
    counts = np.diff(np.append(at, len(values))) - 1
    code = values[at] - 2
    stores = (code >> 1) + first_key
    return np.repeat(stores, counts), values[~header], stores[(code & 1).astype(bool)]


def _postgres_polls(cur: Any, keys: tuple[int, int], lo_us: int, hi_us: int) -> tuple[list[Any], Polls, list[int]]:
    cur.execute(
        "SELECT s.store_key, s.store_id, (SELECT string_agg(int8send(p.ts_us * 2 + p.active), ''::bytea"
        " ORDER BY p.ts_us) FROM poll p WHERE p.store_key = s.store_key AND p.ts_us >= %(lo)s"
        " AND p.ts_us <= %(now)s),"
        " EXISTS (SELECT 1 FROM poll q WHERE q.store_key = s.store_key AND q.ts_us < %(lo)s)"
        " FROM store s WHERE s.store_key >= %(first)s AND s.store_key < %(stop)s",
        {"lo": lo_us, "now": hi_us, "first": keys[0], "stop": keys[1]},
    )
    rows = cur.fetchall()
    store, packed = _parse_binary_rows([(r[0], r[2]) for r in rows])
    return [(r[0], r[1]) for r in rows], _unpack(store, packed, 0), [r[0] for r in rows if r[3]]


def _with_recent_polls(
    cur: Any, dialect: str, keys: tuple[int, int], bounds: tuple[int, int], found: Polls, has_older: list[int]
) -> tuple[Polls, list[int]]:
    """``found`` and ``has_older`` of ``poll`` completed with the chunk's polls in ``poll_recent``.

    ``poll_recent`` is small (db/poll_sources.py), so one range read of it a
    chunk, as plain rows, costs little; it is skipped when the table is empty.
    """
    lo, hi = bounds
    cur.execute(
        _placeholders(
            "SELECT store_key, ts_us, active FROM poll_recent WHERE store_key >= ? AND store_key < ? AND ts_us <= ?",
            dialect,
        ),
        (*keys, hi),
    )
    rows = cur.fetchall()
    if not rows:
        return found, has_older
    recent = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    older = recent[:, 1] < lo
    stores = np.union1d(np.asarray(has_older, dtype=np.int64), recent[older, 0])
    now = recent[~older]
    merged = Polls.normalized(
        np.concatenate([found.store, now[:, 0]]),
        np.concatenate([found.ts_us, now[:, 1]]),
        np.concatenate([found.active, now[:, 2].astype(bool)]),
    )
    return merged, [int(k) for k in stores]


def _parse_text_rows(rows: Sequence[tuple[int, str | None]]) -> tuple[np.ndarray, np.ndarray]:
    """``(store_key, "v,v,…" or NULL)`` rows → a store key per value, and the values."""
    present = [(key, text) for key, text in rows if text is not None]
    n = len(present)
    keys = np.fromiter((key for key, _ in present), dtype=np.int64, count=n)
    # Counting separators in C is cheaper than a COUNT(*) aggregate per row in SQL.
    counts = np.fromiter((text.count(",") + 1 for _, text in present), dtype=np.int64, count=n)
    if n == 0:
        return keys, np.zeros(0, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a partial parse must fail loudly, not truncate
        packed = np.fromstring(",".join([text for _, text in present]), dtype=np.int64, sep=",")
    if len(packed) != int(counts.sum()):
        raise StoremonError(f"could not read the polls back: expected {int(counts.sum())} values, parsed {len(packed)}")
    return np.repeat(keys, counts), packed


def _parse_binary_rows(rows: Sequence[tuple[int, bytes | None]]) -> tuple[np.ndarray, np.ndarray]:
    """``(store_key, big-endian int64 bytes or NULL)`` rows → a store key per value, and the values."""
    parts = [(key, np.frombuffer(packed, dtype=">i8")) for key, packed in rows if packed is not None]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    counts = np.fromiter((len(p) for _, p in parts), dtype=np.int64, count=len(parts))
    keys = np.fromiter((k for k, _ in parts), dtype=np.int64, count=len(parts))
    return np.repeat(keys, counts), np.concatenate([p for _, p in parts]).astype(np.int64)


def _unpack(store: np.ndarray, packed: np.ndarray, base_us: int) -> Polls:
    """``(ts − base) × 2 + active`` → polls (floor halving is exact for negative offsets too)."""
    return Polls.normalized(store, base_us + (packed >> 1), (packed & 1).astype(bool))


# ------------------------------------------------------------------------- hours, zones, ids


def _sqlite_hours(cur: Any, keys: tuple[int, int]) -> list[np.ndarray]:
    """Each column as one ``group_concat`` (one scan, same row order for all four), parsed by numpy."""
    cur.execute(
        "SELECT " + ", ".join(f"group_concat({c})" for c in _HOURS_COLUMNS) + " FROM business_hours"
        " WHERE store_key >= ? AND store_key < ?",
        keys,
    )
    texts = cur.fetchone()
    if texts is None or texts[0] is None:
        return [np.zeros(0, dtype=np.int64) for _ in _HOURS_COLUMNS]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cols = [np.fromstring(t, dtype=np.int64, sep=",") for t in texts]
    if len({len(c) for c in cols}) != 1:
        raise StoremonError("could not read the business hours back")
    return cols


def _generic_hours(cur: Any, keys: tuple[int, int], dialect: str) -> list[np.ndarray]:
    sql = "SELECT " + ", ".join(_HOURS_COLUMNS) + " FROM business_hours WHERE store_key >= ? AND store_key < ?"
    cur.execute(_placeholders(sql, dialect), keys)
    rows = cur.fetchall()
    width = len(_HOURS_COLUMNS)
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=width * len(rows))
    return [flat[k::width].copy() for k in range(width)]


def _scalar(cur: Any, sql: str) -> Any:
    """The first column of the first row of ``sql`` (``None`` if there is none)."""
    cur.execute(sql)
    row = cur.fetchone()
    return None if row is None else row[0]


def _placeholders(sql: str, dialect: str) -> str:
    """``?`` parameters (SQLite's) as the driver of ``dialect`` wants them."""
    return sql if dialect == "sqlite" else sql.replace("?", "%s")


def _chunk_input(
    first_key: int,
    stop_key: int,
    ids: Sequence[Any],
    polls: Polls,
    hours: list[np.ndarray],
    zones: Sequence[Any],
) -> ReportInput:
    """A chunk's arrays, store key ``first_key + i`` as index ``i`` (ids of unused keys are empty)."""
    store_ids = np.full(max(stop_key - first_key, 0), "", dtype=object)
    for key, sid in ids:
        store_ids[int(key) - first_key] = sid
    return ReportInput(
        store_ids=store_ids,
        poll_store=polls.store - first_key,
        poll_ts_us=polls.ts_us,
        poll_active=polls.active,
        hours_store=hours[0] - first_key,
        hours_day=hours[1],
        hours_start_us=hours[2],
        hours_end_us=hours[3],
        zone_store=np.array([int(r[0]) - first_key for r in zones], dtype=np.int64),
        zone_name=np.array([r[1] for r in zones], dtype=object),
    )


# --------------------------------------------------------------------------- helper connections


def _open_sqlite_helper(snap: ReportSnapshot) -> tuple[Any, Any] | None:
    path = _sqlite_path(snap)
    return None if path is None else _open_sqlite_reader(path)


def _sqlite_path(snap: ReportSnapshot) -> str | None:
    """The snapshot's database file, or ``None`` for an in-memory database (no other connection sees it)."""
    db_path = snap.conn.engine.url.database if snap.conn is not None else None
    if not db_path or db_path == ":memory:":
        return None
    return str(Path(db_path).resolve())


def _open_sqlite_reader(path: str) -> tuple[Any, Any] | None:
    """A read-only connection to ``path`` holding SQLite's shared lock, or ``None`` if it is not granted at once."""
    # as_uri() percent-encodes '#', '?' and '%', which a URI filename would
    # otherwise read as a fragment, a query or an escape (and open another file).
    uri = Path(path).as_uri() + "?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=0, check_same_thread=False, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        cursor = connection.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SELECT 1 FROM store LIMIT 1").fetchall()  # takes the shared lock now, or fails
    except sqlite3.Error:
        connection.close()
        return None
    return connection, cursor


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")


def _open_postgres_helper(snap: ReportSnapshot) -> tuple[Any, Any] | None:
    """A new connection (not from the pool: its transaction settings are its own) in this snapshot."""
    snapshot_id = _export_postgres_snapshot(snap)
    return None if snapshot_id is None else _join_postgres(_postgres_connect_args(snap), snapshot_id)


def _export_postgres_snapshot(snap: ReportSnapshot) -> str | None:
    """An id other connections can import this transaction's snapshot by (valid while it lasts)."""
    snapshot_id = str(_scalar(snap.cursor, "SELECT pg_export_snapshot()"))
    return snapshot_id if _SNAPSHOT_ID.fullmatch(snapshot_id) else None


def _postgres_connect_args(snap: ReportSnapshot) -> tuple[list[Any], dict[str, Any]]:
    if snap.conn is None:
        raise StoremonError("a joined snapshot cannot export itself")
    engine = snap.conn.engine
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    return list(args), dict(kwargs)


def _join_postgres(connect: tuple[list[Any], dict[str, Any]], snapshot_id: str) -> tuple[Any, Any]:
    import psycopg

    if not _SNAPSHOT_ID.fullmatch(snapshot_id):
        raise StoremonError("not a snapshot id")
    connection = psycopg.connect(*connect[0], **connect[1])
    try:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        cursor = connection.cursor()
        cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")  # the id was checked above: hex and dashes
    except Exception:
        connection.close()
        raise
    return connection, cursor
