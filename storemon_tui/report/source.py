"""Read the report's input from the database into numpy arrays, fast.

Why the SQLite path looks unusual: the report needs every poll (≈2 M rows),
and the cost of reading them is almost entirely Python building one tuple
per row (≈0.5 µs each) — far more than SQLite's own scan. So on SQLite the
database packs each store's polls into one text value
(``group_concat`` of ``(ts_us − base) × 2 + active``) and numpy parses all
of them in a single C call: 14 000 rows cross into Python instead of 2 M.
``group_concat`` order is not guaranteed by SQLite, so the result is checked
(and sorted if ever needed).

Business hours (≈100 000 rows) are read the same way, one ``group_concat``
per column. Other databases (PostgreSQL) use plain ``SELECT`` statements
fetched in large chunks straight into numpy arrays.
"""

from __future__ import annotations

import itertools
import sqlite3
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection

from storemon_tui.errors import NoPollsError, StoremonError
from storemon_tui.report.inputs import ReportInput

_CHUNK = 1 << 16

_Polls = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Poll arrays (store key, ts_us, active), sorted by (store, ts)."""


def load_report_input(conn: Connection, as_of_us: int | None) -> tuple[ReportInput, int]:
    """Load stores, polls at or before now, hours and zones; return ``(input, now_us)``.

    ``now`` is ``as_of_us`` if given, else the latest poll timestamp. Store
    keys (dense small integers) are used directly as store indexes.
    Raises :class:`StoremonError` when the database has no polls at all.

    The reads must see one snapshot (an import may commit meanwhile): pass a
    connection from ``Database.snapshot()``; on SQLite a connection without
    an open transaction gets a read transaction of its own here.
    """
    dbapi = conn.connection.dbapi_connection
    if dbapi is None:  # only after the connection was closed or invalidated
        raise StoremonError("the database connection is closed")
    own_snapshot = conn.dialect.name == "sqlite" and not cast(sqlite3.Connection, dbapi).in_transaction
    cur = dbapi.cursor()
    try:
        if own_snapshot:
            cur.execute("BEGIN")
        polls, now_us = _read_polls(cur, conn, as_of_us)
        cur.execute("SELECT store_key, store_id FROM store")
        store_rows = cur.fetchall()
        hours = _hours_sqlite(cur) if conn.dialect.name == "sqlite" else _hours_generic(cur)
        cur.execute("SELECT store_key, timezone_str FROM store_timezone")
        zone_rows = cur.fetchall()
    finally:
        cur.close()
        if own_snapshot:
            dbapi.rollback()  # read-only: just ends the snapshot
    return _assemble(polls, store_rows, hours, zone_rows), now_us


def _read_polls(cur: Any, conn: Connection, as_of_us: int | None) -> tuple[_Polls, int]:
    """The polls at or before now, and now (``as_of_us``, else the latest poll)."""
    # The newest poll of the highest store key is a cheap primary-key lookup; it
    # anchors the packed values near the data and tells whether any poll exists.
    cur.execute("SELECT store_key, ts_us FROM poll ORDER BY store_key DESC, ts_us DESC LIMIT 1")
    probe = cur.fetchone()
    if probe is None:
        raise NoPollsError()
    base = int(as_of_us) if as_of_us is not None else int(probe[1])
    if conn.dialect.name == "sqlite":
        polls = _polls_sqlite(cur, base, as_of_us, int(probe[0]), conn.engine.url.database)
    elif conn.dialect.name == "postgresql":
        polls = _polls_postgres(cur, as_of_us)
    else:
        polls = _polls_generic(cur, as_of_us)
    return polls, int(as_of_us) if as_of_us is not None else int(polls[1].max())


def _assemble(
    polls: _Polls, store_rows: Sequence[Any], hours: list[np.ndarray], zone_rows: Sequence[Any]
) -> ReportInput:
    """The input arrays, with store keys as indexes (ids of unused keys are empty)."""
    p_store, p_ts, p_act = polls
    max_key = max(
        int(p_store.max()) if len(p_store) else 0,
        max((int(r[0]) for r in store_rows), default=0),
        int(hours[0].max()) if len(hours[0]) else 0,
        max((int(r[0]) for r in zone_rows), default=0),
    )
    store_ids = np.full(max_key + 1, "", dtype=object)
    for key, sid in store_rows:
        store_ids[int(key)] = sid
    return ReportInput(
        store_ids=store_ids,
        poll_store=p_store,
        poll_ts_us=p_ts,
        poll_active=p_act,
        hours_store=hours[0],
        hours_day=hours[1],
        hours_start_us=hours[2],
        hours_end_us=hours[3],
        zone_store=np.array([int(r[0]) for r in zone_rows], dtype=np.int64),
        zone_name=np.array([r[1] for r in zone_rows], dtype=object),
    )


def _polls_sqlite(
    cur, base: int, as_of_us: int | None, max_key: int, db_path: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One text row per store, parsed by numpy (see module docstring).

    SQLite builds the text on one core per connection, so the stores are
    split in two halves and a second, read-only connection builds the upper
    half in a thread (``sqlite3`` releases the GIL while a query runs): ~40 %
    less wall time on two cores. Both halves see the same data: ``cur``'s
    transaction already holds SQLite's shared lock (the caller's probe read),
    and in rollback-journal mode no writer can commit while it does.

    The second connection must not *wait* for its shared lock: a writer
    that is committing holds SQLite's pending lock (no new readers) while it
    waits for ``cur``'s shared lock to go, so waiting would deadlock both
    for the busy timeout. It asks once, and if refused ``cur`` reads the
    upper half itself.
    """
    where = f"AND ts_us <= {int(as_of_us)} " if as_of_us is not None else ""
    sql = (
        f"SELECT store_key, group_concat((ts_us - {base}) * 2 + active) "  # noqa: S608 - ints only
        f"FROM poll WHERE store_key > ? AND store_key <= ? {where}GROUP BY store_key"
    )
    middle = max_key // 2
    if db_path and db_path != ":memory:" and max_key > 1:
        with ThreadPoolExecutor(max_workers=1) as pool:
            upper = pool.submit(_fetch_readonly, db_path, sql, (middle, max_key))
            rows = cur.execute(sql, (-1, middle)).fetchall()
            try:
                rows += upper.result()
            except sqlite3.Error:  # locked by a committing writer (or unopenable): read it here
                rows += cur.execute(sql, (middle, max_key)).fetchall()
    else:
        rows = cur.execute(sql, (-1, max_key)).fetchall()
    if not rows:
        z = np.zeros(0, dtype=np.int64)
        return z, z.copy(), np.zeros(0, dtype=bool)
    keys, counts, packed = _parse_packed(rows)
    del rows
    store = np.repeat(keys, counts)
    ts = base + (packed >> 1)  # floor halving: exact for negative offsets too
    active = (packed & 1).astype(bool)
    return _sorted(store, ts, active)


def _fetch_readonly(db_path: str, sql: str, params: tuple[int, int]) -> list[tuple]:
    """Run one query on a private read-only connection (for a worker thread)."""
    # as_uri() percent-encodes '#', '?' and '%', which a URI filename would
    # otherwise read as a fragment, a query or an escape (and open another file).
    uri = Path(db_path).resolve().as_uri() + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True, timeout=0)  # never wait: see _polls_sqlite
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def _parse_packed(rows: list[tuple[int, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(store_key, "v,v,…")`` rows → keys, per-key counts and the packed values."""
    n = len(rows)
    keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    # Counting separators in C is cheaper than a COUNT(*) aggregate per row in SQL.
    counts = np.fromiter((r[1].count(",") + 1 for r in rows), dtype=np.int64, count=n)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a partial parse must fail loudly, not truncate
        packed = np.fromstring(",".join([r[1] for r in rows]), dtype=np.int64, sep=",")
    if len(packed) != int(counts.sum()):
        raise StoremonError(f"could not read the polls back: expected {int(counts.sum())} values, parsed {len(packed)}")
    return keys, counts, packed


def _polls_postgres(cur, as_of_us: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One binary value per store, cut into int64s by numpy.

    psycopg hands a ``COPY`` out one row per message (3 s for 2 M polls); here
    PostgreSQL concatenates each store's ``ts_us × 2 + active`` as big-endian
    ``int8send`` bytes instead, so 14 000 values cross into Python (~1 s).
    The aggregate reads an ordered subquery (an index scan), and ``_sorted``
    verifies the order rather than trusting it.
    """
    where = f" WHERE ts_us <= {int(as_of_us)}" if as_of_us is not None else ""
    cur.execute(
        "SELECT store_key, string_agg(int8send(ts_us * 2 + active), ''::bytea) "  # noqa: S608 - ints only
        f"FROM (SELECT store_key, ts_us, active FROM poll{where} ORDER BY store_key, ts_us) p GROUP BY store_key"
    )
    rows = cur.fetchall()
    parts = [np.frombuffer(packed, dtype=">i8") for _, packed in rows]
    counts = np.fromiter((len(part) for part in parts), dtype=np.int64, count=len(parts))
    keys = np.fromiter((key for key, _ in rows), dtype=np.int64, count=len(rows))
    del rows
    packed = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
    store = np.repeat(keys, counts)
    return _sorted(store, packed >> 1, (packed & 1).astype(bool))


def _polls_generic(cur, as_of_us: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plain SQL any database accepts, fetched in big chunks into numpy."""
    where = f" WHERE ts_us <= {int(as_of_us)}" if as_of_us is not None else ""
    cur.execute(f"SELECT store_key, ts_us, active FROM poll{where} ORDER BY store_key, ts_us")  # noqa: S608
    parts = []
    while True:
        chunk = cur.fetchmany(_CHUNK)
        if not chunk:
            break
        parts.append(np.fromiter(itertools.chain.from_iterable(chunk), dtype=np.int64, count=3 * len(chunk)))
    flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    cols = flat.reshape(-1, 3)
    return _sorted(cols[:, 0].copy(), cols[:, 1].copy(), cols[:, 2].astype(bool))


def _sorted(store: np.ndarray, ts: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Guarantee (store, ts) order; a no-op check when the database already delivered it."""
    if len(store) > 1:
        ds = np.diff(store)
        if ((ds < 0) | ((ds == 0) & (np.diff(ts) < 0))).any():
            order = np.lexsort((ts, store))
            store, ts, active = store[order], ts[order], active[order]
    return store, ts, active


_HOURS_COLUMNS = ("store_key", "day_of_week", "start_us", "end_us")


def _hours_sqlite(cur) -> list[np.ndarray]:
    """Each column as one ``group_concat`` (one scan, same row order for all four), parsed by numpy."""
    cur.execute("SELECT " + ", ".join(f"group_concat({c})" for c in _HOURS_COLUMNS) + " FROM business_hours")
    texts = cur.fetchone()
    if texts is None or texts[0] is None:
        return [np.zeros(0, dtype=np.int64) for _ in _HOURS_COLUMNS]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cols = [np.fromstring(t, dtype=np.int64, sep=",") for t in texts]
    if len({len(c) for c in cols}) != 1:
        raise StoremonError("could not read the business hours back")
    return cols


def _hours_generic(cur) -> list[np.ndarray]:
    cur.execute("SELECT " + ", ".join(_HOURS_COLUMNS) + " FROM business_hours")
    rows = cur.fetchall()
    width = len(_HOURS_COLUMNS)
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=width * len(rows))
    return [flat[k::width].copy() for k in range(width)]
