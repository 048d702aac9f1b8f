"""Reading the report input back from the database, on SQLite and PostgreSQL (``db`` fixture).

The packed reads (``group_concat`` parsed by numpy, ``int8send`` bytes) are
checked against plain SQL; the snapshot guarantee on both back ends.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import text

from storemon_tui.db import open_database
from storemon_tui.errors import StoremonError
from storemon_tui.report import compute_report
from storemon_tui.report.formatting import report_lines
from storemon_tui.report.source import ReportSnapshot, load_report_input
from tests.report.report_helpers import hm, us


def _fill(db) -> None:
    """Worked example A and B, with store keys 1, 2 and a gap (key 3 unused, key 4 hours-only)."""
    with db.begin() as conn:
        conn.execute(text("INSERT INTO store (store_key, store_id) VALUES (1, 'A'), (2, '0012'), (4, 'hours-only')"))
        polls = [
            (1, us("2023-01-23T15:14:00Z"), 1),
            (1, us("2023-01-23T16:15:00Z"), 0),
            (1, us("2023-01-23T13:00:00Z"), 0),
            (2, us("2023-01-20T17:30:00Z"), 1),
        ]
        conn.execute(
            text("INSERT INTO poll (store_key, ts_us, active) VALUES (:k, :t, :a)"),
            [{"k": k, "t": t, "a": a} for k, t, a in polls],
        )
        conn.execute(
            text("INSERT INTO business_hours (store_key, day_of_week, start_us, end_us) VALUES (:k, :d, :s, :e)"),
            [
                {"k": 1, "d": 0, "s": hm("09:00"), "e": hm("12:00")},
                {"k": 4, "d": 1, "s": hm("09:00"), "e": hm("10:00")},
            ],
        )
        conn.execute(text("INSERT INTO store_timezone (store_key, timezone_str) VALUES (1, 'America/New_York')"))


@pytest.fixture
def sqlite_db(tmp_path):
    """For the tests of SQLite's own fast paths and locking."""
    db = open_database(tmp_path / "x.sqlite3")
    yield db
    db.dispose()


def test_no_polls_is_a_clear_error(db):
    with db.connect() as conn, pytest.raises(StoremonError, match="no polls; import a polls CSV first"):
        load_report_input(conn, None)


def test_load_arrays_and_now(db):
    _fill(db)
    with db.connect() as conn:
        inp, now = load_report_input(conn, None)
    assert now == us("2023-01-23T16:15:00Z")  # latest poll
    assert inp.store_ids.tolist() == ["", "A", "0012", "", "hours-only"]  # store_key is the index
    assert inp.poll_store.tolist() == [1, 1, 1, 2]
    assert inp.poll_ts_us.tolist() == sorted(inp.poll_ts_us[:3].tolist()) + [us("2023-01-20T17:30:00Z")]
    assert inp.poll_active.tolist() == [False, True, False, True]
    assert inp.hours_store.tolist() == [1, 4] and inp.hours_day.tolist() == [0, 1]
    assert inp.hours_start_us.tolist() == [hm("09:00"), hm("09:00")]
    assert inp.zone_store.tolist() == [1] and inp.zone_name.tolist() == ["America/New_York"]


def test_load_as_of_filters_polls(db):
    _fill(db)
    as_of = us("2023-01-23T15:14:00Z")
    with db.connect() as conn:
        inp, now = load_report_input(conn, as_of)
    assert now == as_of
    assert inp.poll_ts_us.max() == as_of
    assert len(inp.poll_ts_us) == 3  # the 16:15Z poll is after as-of
    with db.connect() as conn:
        inp, now = load_report_input(conn, us("2020-01-01T00:00:00Z"))  # before every poll: empty, not an error
    assert len(inp.poll_ts_us) == 0
    assert len(compute_report(inp, now)) == 0


def test_end_to_end_worked_examples(db):
    _fill(db)
    with db.connect() as conn:
        inp, now = load_report_input(conn, us("2023-01-23T17:30:00Z"))
    # sorted by store_id: "0012" < "A"; the hours-only store is not reported
    assert report_lines(compute_report(inp, now)) == [
        "0012,60.00,24.00,168.00,0.00,0.00,0.00",
        "A,0.00,1.74,1.74,30.00,1.26,1.26",
    ]


def test_packed_read_equals_plain_sql(db):
    rng = np.random.default_rng(7)
    with db.begin() as conn:
        conn.execute(
            text("INSERT INTO store (store_key, store_id) VALUES " + ",".join(f"({k}, 's{k}')" for k in range(1, 51)))
        )
        rows = {
            (int(k), int(t)): int(a)
            for k, t, a in zip(
                rng.integers(1, 51, 3000),
                rng.integers(-(10**13), 10**13, 3000) + 1_700_000_000_000_000,
                rng.integers(0, 2, 3000),
                strict=True,
            )
        }
        conn.execute(
            text("INSERT INTO poll (store_key, ts_us, active) VALUES (:k, :t, :a)"),
            [{"k": k, "t": t, "a": a} for (k, t), a in rows.items()],
        )
    expected = sorted(rows)
    for as_of in (None, 1_700_000_000_000_000):
        with db.connect() as conn:
            inp, now = load_report_input(conn, as_of)
            plain = conn.execute(
                text("SELECT store_key, ts_us, active FROM poll WHERE ts_us <= :n ORDER BY store_key, ts_us"),
                {"n": now},
            ).all()
        keep = [(k, t) for k, t in expected if as_of is None or t <= as_of]
        assert list(zip(inp.poll_store.tolist(), inp.poll_ts_us.tolist(), strict=True)) == keep
        assert inp.poll_active.tolist() == [bool(rows[k]) for k in keep]
        assert [tuple(r) for r in plain] == [(k, t, rows[(k, t)]) for k, t in keep]
        assert now == (as_of if as_of is not None else max(t for _, t in expected))


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgres_load_matches_sqlite(db, sqlite_db):
    _fill(db)
    _fill(sqlite_db)
    with db.connect() as conn:
        pg_inp, pg_now = load_report_input(conn, None)
    with sqlite_db.connect() as conn:
        lite_inp, lite_now = load_report_input(conn, None)
    assert pg_now == lite_now
    for field in ("store_ids", "poll_store", "poll_ts_us", "poll_active", "hours_store", "zone_name"):
        assert getattr(pg_inp, field).tolist() == getattr(lite_inp, field).tolist()


def test_sqlite_hours_fast_path_equals_generic_path(sqlite_db):
    from storemon_tui.report.source import _generic_hours, _sqlite_hours

    every = (0, 1 << 40)
    with sqlite_db.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        assert [c.tolist() for c in _sqlite_hours(cur, every)] == [[], [], [], []]  # empty table
    _fill(sqlite_db)
    with sqlite_db.begin() as conn:
        conn.execute(
            text("INSERT INTO business_hours (store_key, day_of_week, start_us, end_us) VALUES (2, 6, 0, 86400000000)")
        )
    with sqlite_db.connect() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        fast = [c.tolist() for c in _sqlite_hours(cur, every)]
        slow = [c.tolist() for c in _generic_hours(cur, every, "sqlite")]
        assert [c.tolist() for c in _sqlite_hours(cur, (2, 4))] == [[2], [6], [0], [86_400_000_000]]
    assert fast == slow
    assert sorted(zip(*fast, strict=True)) == [
        (1, 0, hm("09:00"), hm("12:00")),
        (2, 6, 0, 86_400_000_000),
        (4, 1, hm("09:00"), hm("10:00")),
    ]


def test_load_uses_one_snapshot_and_leaves_no_transaction(sqlite_db):
    _fill(sqlite_db)
    with sqlite_db.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert not dbapi.in_transaction
        load_report_input(conn, None)
        assert not dbapi.in_transaction
    with sqlite_db.begin() as conn:  # inside the caller's transaction too
        inp, _ = load_report_input(conn, None)
        conn.execute(text("UPDATE meta SET value = value WHERE key = 'data_version'"))
    assert len(inp.poll_ts_us) == 4
    with sqlite_db.snapshot() as conn:  # the way report jobs read
        assert len(load_report_input(conn, None)[0].poll_ts_us) == 4


def test_concurrent_import_does_not_tear_the_read(sqlite_db, tmp_path, monkeypatch):
    # A writer tries to commit a new store and its poll right after the poll query:
    # the store query that follows must not see the new store (one snapshot).
    import threading

    import storemon_tui.report.source as source

    _fill(sqlite_db)
    writer = open_database(tmp_path / "x.sqlite3")
    real = source._sqlite_polls
    threads = []

    def write():
        with writer.begin() as w:
            w.execute(text("INSERT INTO store (store_key, store_id) VALUES (9, 'new')"))
            w.execute(text("INSERT INTO poll (store_key, ts_us, active) VALUES (9, 1, 1)"))

    def polls_then_write(*args):
        result = real(*args)
        if threads:  # only during the first load
            return result
        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=1.0)  # WAL: commits now, unseen; rollback journal: waits for the reader
        threads.append(thread)
        return result

    monkeypatch.setattr(source, "_sqlite_polls", polls_then_write)
    with sqlite_db.connect() as conn:
        inp, _ = load_report_input(conn, None)
    threads[0].join()
    writer.dispose()
    assert "new" not in inp.store_ids.tolist()
    with sqlite_db.connect() as conn:  # the write did land afterwards
        assert "new" in load_report_input(conn, None)[0].store_ids.tolist()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgres_snapshot_does_not_tear_the_read(db, db_target, monkeypatch):
    # On PostgreSQL the caller's snapshot (REPEATABLE READ, as report jobs read) is the
    # guarantee: a new store with its poll and hours, committed after the poll and store
    # queries but before the hours query, stays invisible to the whole read.
    import storemon_tui.report.source as source

    _fill(db)
    writer = open_database(db_target)
    real = source._generic_hours
    calls = []

    def write_then_hours(*args):
        calls.append(1)
        with writer.begin() as w:
            w.execute(text("INSERT INTO store (store_key, store_id) VALUES (9, 'new')"))
            w.execute(text("INSERT INTO poll (store_key, ts_us, active) VALUES (9, 1, 1)"))
            w.execute(
                text(
                    "INSERT INTO business_hours (store_key, day_of_week, start_us, end_us) VALUES (9, 2, 0, 3600000000)"
                )
            )
        return real(*args)

    monkeypatch.setattr(source, "_generic_hours", write_then_hours)
    try:
        with db.snapshot() as conn:
            inp, _ = load_report_input(conn, None)
    finally:
        writer.dispose()
    assert calls == [1]
    assert "new" not in inp.store_ids.tolist()
    assert 9 not in inp.poll_store.tolist() and 9 not in inp.hours_store.tolist()
    monkeypatch.setattr(source, "_generic_hours", real)
    with db.snapshot() as conn:  # the write did land
        after, _ = load_report_input(conn, None)
    assert after.store_ids[9] == "new" and 9 in after.hours_store.tolist()


def test_sqlite_read_does_not_deadlock_with_a_committing_writer(sqlite_db, tmp_path):
    """A writer at COMMIT holds SQLite's pending lock (no new readers) and waits for the
    report's shared lock: the report's second connection must not wait for it too
    (it used to, for the 30 s busy timeout, and then the report or the import failed)."""
    import threading
    import time

    from tests.report.report_db import snapshot_while_a_writer_commits

    _fill(sqlite_db)
    with sqlite_db.connect() as conn:
        expected = report_lines(compute_report(*load_report_input(conn, None)))
    with snapshot_while_a_writer_commits(sqlite_db, tmp_path / "x.sqlite3") as (conn, writer_errors):
        result: list = []
        reader = threading.Thread(target=lambda: result.append(load_report_input(conn, None)))
        started = time.monotonic()
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), "the report read waited for a committing writer"
        assert time.monotonic() - started < 5
    assert not writer_errors
    assert report_lines(compute_report(*result[0])) == expected


def test_chunk_read_equals_plain_sql(db):
    # A chunk read of a bounded range, compared with plain SQL: the polls of [lo, now], the ids,
    # and which stores have older polls. Edge cases of the packed reads: a poll at exactly now
    # (active: the largest value a poll packs to), stores with no poll at all, with only older
    # polls, with only recent ones, and unused keys inside and at the ends of chunks.
    rng = np.random.default_rng(11)
    now, lo = 1_700_000_000_000_000, 1_700_000_000_000_000 - 10**9
    keys = [k for k in range(1, 40) if k % 7 != 3]  # keys 3, 10, 17, … unused
    rows = {
        (int(k), int(t)): int(a)
        for k, t, a in zip(
            rng.choice(keys[:-4], 800), rng.integers(lo - 10**9, now + 10**6, 800), rng.integers(0, 2, 800), strict=True
        )
    }
    rows[(keys[-4], now)] = 1  # at now, active
    rows[(keys[-3], lo - 1)] = 0  # only older polls
    rows[(keys[-2], lo)] = 1  # only recent: exactly at lo
    odd = {keys[0]: 'a,"b"', keys[1]: "\x1b[31m\u202e\n", keys[2]: "[1]", keys[3]: "\\ é 店"}  # ids are any text
    ids = {k: odd.get(k, f"s{k}") for k in keys}
    with db.begin() as conn:
        conn.execute(
            text("INSERT INTO store (store_key, store_id) VALUES (:k, :s)"), [{"k": k, "s": s} for k, s in ids.items()]
        )
        conn.execute(
            text("INSERT INTO store_timezone (store_key, timezone_str) VALUES (:k, :z)"),
            [{"k": k, "z": odd.get(k, "Asia/Tokyo")} for k in keys[::2]],
        )
        conn.execute(
            text("INSERT INTO poll (store_key, ts_us, active) VALUES (:k, :t, :a)"),
            [{"k": k, "t": t, "a": a} for (k, t), a in rows.items()],
        )
    with db.connect() as conn, ReportSnapshot(conn, now) as snap:
        for first, stop in ((0, 3), (3, 4), (4, 20), (20, 45)):
            chunk, older = snap.read_chunk(first, stop, lo)
            recent = sorted((k, t) for k, t in rows if first <= k < stop and lo <= t <= now)
            assert list(zip(chunk.poll_store.tolist(), chunk.poll_ts_us.tolist(), strict=True)) == [
                (k - first, t) for k, t in recent
            ]
            assert chunk.poll_active.tolist() == [bool(rows[key]) for key in recent]
            assert chunk.store_ids.tolist() == [ids.get(k, "") for k in range(first, stop)]
            zoned = [k for k in keys[::2] if first <= k < stop]
            assert chunk.zone_store.tolist() == [k - first for k in zoned]
            assert chunk.zone_name.tolist() == [odd.get(k, "Asia/Tokyo") for k in zoned]
            has_older = {k for k, t in rows if t < lo}
            assert older.has_older.tolist() == [k in has_older for k in range(first, stop)]
