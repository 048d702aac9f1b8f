"""Where imports put polls: ``poll`` or ``poll_recent`` (issue 12.3), never the same key in both.

SQLite: a first import fills ``poll``; a small import into a filled database
puts its new polls into ``poll_recent`` and changes a re-imported poll's
status where that poll is; a file that could bring ``poll_recent`` to the
writer's ``fold_rows`` folds it into ``poll`` first and writes into ``poll``.
PostgreSQL writes into ``poll``, folding whatever ``poll_recent`` holds first.
Whatever the path, the counts and the union of the two tables are those of
a single-table import (a hypothesis test against a last-wins dictionary).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from storemon_tui.db import Database, open_database
from storemon_tui.db.poll_sources import POLL_NEWEST_KEY
from storemon_tui.db.sqlite_file import PAGE_CACHE_KIB
from storemon_tui.errors import Cancelled
from storemon_tui.ingest import import_file
from storemon_tui.ingest import recent as recent_module
from storemon_tui.ingest import writer as writer_module
from storemon_tui.ingest.polls import sort_last_wins
from storemon_tui.ingest.writer import FOLD_PAGE_CACHE_KIB, PollWrite, SqliteWriter

POLLS = "store_id,timestamp_utc,status\n"
T0 = 1674388800000000  # 2023-01-22 12:00:00 UTC
MINUTE = 60_000_000

Poll = tuple[str, int, int]
"""(store id, minutes after T0, active)."""


def polls_csv(polls: Iterable[Poll]) -> str:
    lines = [
        f"{store},2023-01-22 {12 + minute // 60:02d}:{minute % 60:02d}:00 UTC,{'active' if active else 'inactive'}"
        for store, minute, active in polls
    ]
    return POLLS + "".join(line + "\n" for line in lines)


def counts(db: Database, path: Path) -> tuple[int, int, int, int]:
    summary = import_file(db, path)
    return summary.inserted, summary.replaced, summary.changed, summary.duplicates


def tables(db: Database) -> dict[str, list[tuple[str, int, int]]]:
    """Each poll table's polls as ``(store id, minutes after T0, active)``, sorted."""
    found = {}
    with db.connect() as conn:
        for table in ("poll", "poll_recent"):
            rows = conn.execute(
                text(f"SELECT s.store_id, p.ts_us, p.active FROM {table} p JOIN store s USING (store_key)")
            ).all()
            found[table] = sorted((store, (ts - T0) // MINUTE, active) for store, ts, active in rows)
    return found


HISTORY = [("a", 0, 1), ("a", 1, 1), ("b", 0, 0), ("c", 5, 1)]


def test_an_hourly_import_into_a_filled_database_writes_poll_recent_only(db, csv_file) -> None:
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    assert tables(db) == {"poll": HISTORY, "poll_recent": []}  # a first import: poll
    new = [("a", 60, 1), ("b", 61, 0), ("d", 62, 1)]
    assert counts(db, csv_file("hour.csv", polls_csv(new))) == (3, 0, 0, 0)
    where = {
        "sqlite": {"poll": HISTORY, "poll_recent": new},
        "postgresql": {"poll": sorted(HISTORY + new), "poll_recent": []},
    }
    assert tables(db) == where[db.dialect]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_changed_status_changes_where_the_poll_is(db, csv_file) -> None:
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    import_file(db, csv_file("hour.csv", polls_csv([("a", 60, 1)])))
    # a/1 is in poll, a/60 in poll_recent: both change status, b/0 is re-imported unchanged, e/70 is new.
    again = [("a", 1, 0), ("a", 60, 0), ("b", 0, 0), ("e", 70, 1)]
    assert counts(db, csv_file("again.csv", polls_csv(again))) == (1, 3, 2, 0)
    assert tables(db) == {
        "poll": [("a", 0, 1), ("a", 1, 0), ("b", 0, 0), ("c", 5, 1)],
        "poll_recent": [("a", 60, 0), ("e", 70, 1)],
    }


@pytest.mark.parametrize("backend", ["sqlite"])
def test_counts_are_the_same_whether_the_polls_sit_in_poll_or_poll_recent(
    new_target, csv_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file into the same polls, held by ``poll`` (the old single-table upsert, forced by a
    fold threshold of 1) or by ``poll_recent``: the same counts and the same polls."""
    history = [("a", m, m % 2) for m in range(10)] + [("b", 3, 1)]
    # New, changed (a/1: 1 -> 0), unchanged (a/2), a duplicate whose last row wins (b/3: 0 then 1 = unchanged).
    file = [("a", 1, 0), ("a", 2, 0), ("b", 3, 0), ("b", 3, 1), ("c", 9, 1), ("a", 30, 1)]
    outcomes = {}
    for name, fold_rows in (("poll", 1), ("poll_recent", 1_000)):
        monkeypatch.setattr(SqliteWriter, "fold_rows", fold_rows)
        db = open_database(new_target(name))
        try:
            import_file(db, csv_file("first.csv", polls_csv([("z", 0, 1)])))
            import_file(db, csv_file("history.csv", polls_csv(history)))
            assert bool(tables(db)["poll_recent"]) == (name == "poll_recent")
            outcomes[name] = counts(db, csv_file("file.csv", polls_csv(file))), tables(db)
        finally:
            db.dispose()
    (single_counts, single), (split_counts, split) = outcomes["poll"], outcomes["poll_recent"]
    # 2 new (c/9, a/30); 3 replaced (a/1, a/2, b/3), of which 1 changed (a/1); 1 duplicate row (b/3).
    assert single_counts == split_counts == (2, 3, 1, 1)
    assert single["poll_recent"] == []
    assert sorted(split["poll"] + split["poll_recent"]) == single["poll"]


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("file_rows", [2, 50], ids=["reaching-the-threshold", "big-file"])
def test_a_file_that_could_fill_poll_recent_folds_it_first(
    db, csv_file, monkeypatch: pytest.MonkeyPatch, file_rows: int
) -> None:
    """fold_rows 5: poll_recent holds 3; a file of 2 polls (3 + 2 reaches 5) or a big one folds, then goes to poll."""
    monkeypatch.setattr(SqliteWriter, "fold_rows", 5)
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    small = [("a", 60, 1), ("b", 60, 1), ("e", 60, 0)]
    import_file(db, csv_file("small.csv", polls_csv(small)))
    assert tables(db)["poll_recent"] == small
    # The file also changes e/60 (in poll_recent until the fold) to active.
    file = [("e", 60, 1)] + [("f", 100 + m, 1) for m in range(file_rows - 1)]
    assert counts(db, csv_file("file.csv", polls_csv(file))) == (file_rows - 1, 1, 1, 0)
    assert tables(db) == {"poll": sorted(HISTORY + small[:2] + file), "poll_recent": []}


def test_an_import_folds_whatever_poll_recent_holds_on_postgresql(db, csv_file) -> None:
    """Polls put into poll_recent by hand; on PostgreSQL the import folds them into poll first, on
    SQLite the small file goes to poll_recent. Either way, the union is right and no key is in both."""
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    with db.connect() as conn:
        conn.execute(text("INSERT INTO poll_recent SELECT store_key, ts_us + 3600000000, active FROM poll"))
        conn.commit()
    moved = [(store, minute + 60, active) for store, minute, active in HISTORY]
    file = [("a", 60, 0), ("c", 65, 1), ("d", 1, 1)]  # a/60 changes, c/65 unchanged, d/1 new
    assert counts(db, csv_file("file.csv", polls_csv(file))) == (1, 2, 1, 0)
    union = sorted(HISTORY + [("a", 60, 0)] + moved[1:] + [("d", 1, 1)])
    found = tables(db)
    assert sorted(found["poll"] + found["poll_recent"]) == union
    if db.dialect == "postgresql":
        assert found["poll_recent"] == []
    else:
        assert found["poll"] == HISTORY


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_first_postgresql_import_leaves_poll_with_planner_statistics(db, csv_file) -> None:
    """The bulk load into an empty ``poll`` analyzes it in the import's transaction. Without statistics the
    planner guessed ~200 rows a key and hash-joined the next hourly file's 10,000 polls against all of
    ``poll`` (0.95 s on 7.9 M polls) instead of seeking the primary key (0.04 s): bench/README.md."""
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    with db.connect() as conn:
        columns = conn.execute(
            text("SELECT attname FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'poll'")
        ).scalars()
        assert sorted(columns) == ["active", "store_key", "ts_us"]


def fill_poll_recent(db: Database, csv_file) -> None:
    """HISTORY in poll, three polls in poll_recent (PostgreSQL's imports never put them there: by hand)."""
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    if db.dialect == "postgresql":
        with db.connect() as conn:
            conn.execute(text("INSERT INTO poll_recent SELECT store_key, ts_us + 3600000000, active FROM poll LIMIT 3"))
            conn.commit()
    else:
        import_file(db, csv_file("small.csv", polls_csv([("a", 60, 1), ("b", 60, 1), ("e", 60, 0)])))


def test_cancel_at_any_check_of_a_folding_import_changes_nothing(
    db, new_target, csv_file, dump, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every cancellation point of an import that folds (before the fold, after it, and later) rolls it all back."""
    monkeypatch.setattr(SqliteWriter, "fold_rows", 5)
    fill_poll_recent(db, csv_file)
    path = csv_file("file.csv", polls_csv([("e", 60, 1), ("f", 100, 1), ("g", 100, 0)]))
    twin = open_database(new_target("twin"))  # counts the checks of a whole import of the same data
    try:
        fill_poll_recent(twin, csv_file)
        asked = [0]
        import_file(twin, path, should_cancel=lambda: bool(asked.__setitem__(0, asked[0] + 1)))
        assert dump(twin)["poll_recent"] == []  # it did fold
    finally:
        twin.dispose()
    before = dump(db)
    assert before["poll_recent"]
    assert asked[0] >= 3
    for stop_at in range(1, asked[0] + 1):
        calls = [0]

        def should_cancel(calls: list[int] = calls, stop_at: int = stop_at) -> bool:
            calls[0] += 1
            return calls[0] >= stop_at

        with pytest.raises(Cancelled):
            import_file(db, path, should_cancel=should_cancel)
        assert dump(db) == before, stop_at
    import_file(db, path)
    assert dump(db)["poll_recent"] == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_fold_runs_with_a_small_page_cache_and_the_write_after_it_with_the_full_one(
    db, csv_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folding hourly import stays under issue 12's 300 MB: its fold rewrites pages of ``poll`` once
    each, so a big page cache only holds them (367 MB peak with 256 MiB, 171 MB with 32 MiB, same speed:
    bench/README.md). The cache size is read on the writer's own connection during and after the fold."""
    seen: dict[str, int] = {}
    fold, write_into_poll = writer_module.fold_recent_polls, SqliteWriter._write_into_poll

    def recording_fold(cursor) -> int:
        seen["fold"] = cursor.execute("PRAGMA cache_size").fetchone()[0]
        return fold(cursor)

    def recording_write(self, cursor, *args):
        seen["after"] = cursor.execute("PRAGMA cache_size").fetchone()[0]
        return write_into_poll(self, cursor, *args)

    monkeypatch.setattr(writer_module, "fold_recent_polls", recording_fold)
    monkeypatch.setattr(SqliteWriter, "_write_into_poll", recording_write)
    monkeypatch.setattr(SqliteWriter, "fold_rows", 5)
    fill_poll_recent(db, csv_file)
    seen.clear()  # the first import wrote into an empty poll: no fold
    import_file(db, csv_file("file.csv", polls_csv([("e", 60, 1), ("f", 100, 1), ("g", 100, 0)])))
    assert seen == {"fold": -FOLD_PAGE_CACHE_KIB, "after": -PAGE_CACHE_KIB}
    assert FOLD_PAGE_CACHE_KIB < PAGE_CACHE_KIB
    assert tables(db)["poll_recent"] == []


# -- property: any sequence of imports gives the polls of one table, last row wins ---------------

poll_rows = st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 12), st.integers(0, 1)), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(poll_rows, min_size=1, max_size=6), fold_rows=st.integers(2, 30))
def test_any_sequence_of_imports_equals_one_table_last_wins(files: list[list[Poll]], fold_rows: int) -> None:
    expected: dict[tuple[str, int], int] = {}
    with tempfile.TemporaryDirectory() as directory, pytest.MonkeyPatch.context() as patch:
        patch.setattr(SqliteWriter, "fold_rows", fold_rows)
        db = open_database(Path(directory) / "p.sqlite")
        try:
            for number, rows in enumerate(files):
                path = Path(directory) / f"f{number}.csv"
                path.write_text(polls_csv(rows))
                latest = {(store, minute): active for store, minute, active in rows}
                new = sum(key not in expected for key in latest)
                changed = sum(key in expected and expected[key] != active for key, active in latest.items())
                assert counts(db, path) == (new, len(latest) - new, changed, len(rows) - len(latest))
                expected.update(latest)
                found = tables(db)
                assert not {p[:2] for p in found["poll"]} & {p[:2] for p in found["poll_recent"]}
                assert sorted(found["poll"] + found["poll_recent"]) == sorted((*k, a) for k, a in expected.items())
                assert len(found["poll_recent"]) < fold_rows
        finally:
            db.dispose()


# -- poll's newest-poll bound: an hourly file newer than all of poll never reads poll -------------


def newest_bound(db: Database) -> int | None:
    with db.connect() as conn:
        value = conn.execute(text(f"SELECT value FROM meta WHERE key = '{POLL_NEWEST_KEY}'")).scalar()
    return None if value is None else (int(value) - T0) // MINUTE


def recording_seeks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each hourly placement seeks ``poll`` (the flag its insert statement is built with)."""
    seeks: list[bool] = []
    build = recent_module._insert_new_sql

    def recording(seek_poll: bool) -> str:
        seeks.append(seek_poll)
        return build(seek_poll)

    monkeypatch.setattr(recent_module, "_insert_new_sql", recording)
    return seeks


def test_a_first_import_records_the_newest_poll_of_poll(db, csv_file) -> None:
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    assert newest_bound(db) == 5  # c/5 is the newest of HISTORY


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_hourly_file_newer_than_poll_skips_poll_and_an_older_poll_seeks_it(
    db, csv_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    seeks = recording_seeks(monkeypatch)
    assert counts(db, csv_file("hour.csv", polls_csv([("a", 60, 1), ("d", 61, 0)]))) == (2, 0, 0, 0)
    assert seeks == [False]  # 60 and 61 are newer than 5, the newest poll of poll
    # b/0 is in poll, older than the bound: the file seeks poll and changes it there.
    assert counts(db, csv_file("late.csv", polls_csv([("b", 0, 1), ("a", 62, 1)]))) == (1, 1, 1, 0)
    assert seeks == [False, True]
    found = tables(db)
    assert ("b", 0, 1) in found["poll"] and found["poll_recent"] == [("a", 60, 1), ("a", 62, 1), ("d", 61, 0)]
    assert newest_bound(db) == 5  # nothing was written into poll but a status


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_fold_raises_the_bound_and_works_it_out_when_unknown(db, csv_file, monkeypatch: pytest.MonkeyPatch) -> None:
    """fold_rows 5: three polls wait in poll_recent; the next file folds them, then writes into poll.
    The folding files are older than what they fold, so only the fold can have raised the bound."""
    monkeypatch.setattr(SqliteWriter, "fold_rows", 5)
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    import_file(db, csv_file("small.csv", polls_csv([("a", 60, 1), ("b", 70, 1), ("e", 65, 0)])))
    assert newest_bound(db) == 5  # poll_recent is not poll
    import_file(db, csv_file("file.csv", polls_csv([("b", 0, 1), ("c", 1, 1)])))
    assert tables(db)["poll_recent"] == [] and newest_bound(db) == 70
    # A database that has no bound (one from before it): the next fold works it out from poll.
    with db.connect() as conn:
        conn.execute(text(f"DELETE FROM meta WHERE key = '{POLL_NEWEST_KEY}'"))
        conn.commit()
    seeks = recording_seeks(monkeypatch)
    import_file(db, csv_file("hour.csv", polls_csv([("a", 90, 1)])))
    assert seeks == [True] and newest_bound(db) is None  # unknown: every staged poll seeks poll
    import_file(db, csv_file("more.csv", polls_csv([("a", 2, 1), ("d", 3, 1), ("e", 4, 1), ("f", 1, 0)])))
    assert tables(db)["poll_recent"] == [] and newest_bound(db) == 90


def test_a_fold_with_no_bound_works_it_out_on_either_database(db, csv_file, monkeypatch: pytest.MonkeyPatch) -> None:
    """Polls put into poll_recent by hand, the bound removed; any file folds (fold_rows 1 on SQLite,
    always on PostgreSQL), and the bound is poll's newest poll afterwards, whichever table held it."""
    monkeypatch.setattr(SqliteWriter, "fold_rows", 1)
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    with db.connect() as conn:
        conn.execute(text("INSERT INTO poll_recent SELECT store_key, ts_us + 3600000000, active FROM poll"))
        conn.execute(text(f"DELETE FROM meta WHERE key = '{POLL_NEWEST_KEY}'"))
        conn.commit()
    import_file(db, csv_file("file.csv", polls_csv([("d", 1, 1)])))
    assert tables(db)["poll_recent"] == [] and newest_bound(db) == 65  # c/5 moved an hour on


def test_deleting_polls_keeps_the_bound_an_upper_bound_and_an_import_into_an_empty_poll_resets_it(db, csv_file) -> None:
    import_file(db, csv_file("history.csv", polls_csv(HISTORY)))
    with db.connect() as conn:
        conn.execute(text("DELETE FROM poll"))
        conn.commit()
    assert newest_bound(db) == 5
    import_file(db, csv_file("again.csv", polls_csv([("a", 2, 1)])))
    assert newest_bound(db) == 2  # poll was empty: the bound is exact again


@pytest.mark.parametrize(
    ("keys", "ts_us"),
    [([3, 1, 2], [50, 70, 60]), ([1, 1, 2], [70, 70, 10]), ([1, 2], [0, 1 << 61])],
    ids=["packed", "packed-with-a-duplicate", "too-wide-to-pack"],
)
def test_a_chunk_knows_its_newest_poll_without_unpacking(keys: list[int], ts_us: list[int]) -> None:
    """The bound is raised by every chunk written into poll; a packed chunk must not be unpacked for it
    (a 4.7 M-poll chunk's arrays are ~80 MB, the SQLite writer binds the packed values)."""
    chunk = sort_last_wins(np.array(keys), np.array(ts_us), np.ones(len(keys), dtype=np.int8))
    unpacked_before = chunk._arrays is not None
    written = PollWrite()
    written.add_chunk(chunk)
    assert chunk.newest_us == written.newest_us == max(ts_us)
    assert (chunk._arrays is not None) == unpacked_before
    assert sort_last_wins(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8)).newest_us is None
