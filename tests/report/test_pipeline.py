"""The report as jobs compute it: chunks of stores read from the database, look-back by index seek.

It must equal the report of the whole history loaded into memory (whose
engine is checked against the slow reference elsewhere), on SQLite and on
PostgreSQL, however the stores are chunked and whether or not helper
connections read ahead — while reading only the recent range and, for the
stores that need it, a few older polls.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text

from storemon_tui.db import open_database
from storemon_tui.report import pipeline
from storemon_tui.report.engine import read_start
from storemon_tui.report.formatting import report_text
from storemon_tui.report.source import DatabaseOlder, ReportSnapshot
from tests.report.report_db import (
    NOW,
    YEAR,
    Store,
    chunked_report,
    fill,
    hourly,
    random_fleet,
    set_chunking,
    snapshot_while_a_writer_commits,
    whole_report,
)
from tests.report.report_helpers import hm, us
from tests.report.report_reference import DAY, Zone, business, inside
from tests.report.report_strategies import histories


@pytest.fixture(params=[(1024, 300_000, 2), (3, 40, 2), (2, 10, 0)], ids=["default", "small-chunks", "no-helpers"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    set_chunking(monkeypatch, *request.param)


@pytest.mark.usefixtures("chunking")
@pytest.mark.parametrize("seed", [1, 2])
def test_chunked_database_report_equals_the_whole_history_in_memory(db, seed):
    fill(db, random_fleet(seed))
    for as_of in (None, NOW, NOW - 3 * DAY + 17, NOW + 30 * DAY, us("2123-06-01T00:00:00Z")):
        expected = whole_report(db, as_of)
        assert expected.count("\n") > 30
        assert chunked_report(db, as_of) == expected, as_of


def test_the_report_reads_the_recent_range_and_a_few_older_polls(db, monkeypatch):
    # Two years of hourly polls for 4 stores: ~17,500 each. Open Monday–Friday 09:00–17:00 New York.
    rng = np.random.default_rng(3)
    weekdays = [(d, hm("09:00"), hm("17:00")) for d in range(5)]
    stores = [
        (f"s{i}", "America/New_York", weekdays, sorted(hourly(rng, NOW - 2 * YEAR, NOW).items())) for i in range(4)
    ]
    fill(db, stores)
    now = max(s[3][-1][0] for s in stores)
    read: list[int] = []
    real_read, real_before = ReportSnapshot.read_chunk, DatabaseOlder.before

    def counting_read(self, *args, **kwargs):
        chunk, older = real_read(self, *args, **kwargs)
        read.append(len(chunk.poll_store))
        return chunk, older

    def counting_before(self, *args):
        polls = real_before(self, *args)
        read.append(len(polls))
        return polls

    monkeypatch.setattr(ReportSnapshot, "read_chunk", counting_read)
    monkeypatch.setattr(DatabaseOlder, "before", counting_before)
    expected = whole_report(db)  # reads everything (not counted: load_report_input reads the whole range)
    read.clear()
    assert chunked_report(db) == expected
    recent = sum(1 for s in stores for t, _ in s[3] if t >= read_start(now))
    # The recent range (8 days ≈ 192 polls a store) is all it takes: the day before the week
    # window (Tuesday, from ~11:00Z) holds evidence of every store (open 14:00–22:00Z).
    assert sum(read) == recent
    assert recent < 4 * 200  # of ~70,000 polls


@pytest.mark.usefixtures("chunking")
@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_report_with_helpers_refused_by_a_committing_writer_still_reads_everything(db, tmp_path):
    """A writer at COMMIT holds SQLite's pending lock (no new readers) and waits for the report's
    shared lock: the report's helper connections must not wait for it too (they would, for the
    30 s busy timeout, and then the report or the import fails); the report reads alone."""
    fill(db, random_fleet(4, n=16))
    expected = whole_report(db)
    with snapshot_while_a_writer_commits(db, tmp_path / "t.sqlite3") as (conn, writer_errors):
        started = time.monotonic()
        with ReportSnapshot(conn, None) as snap, snap.helper() as helper:
            assert helper is None
        got = report_text(pipeline.run_report(conn, None))
        assert time.monotonic() - started < 10
    assert not writer_errors
    assert got == expected


def test_an_import_committed_while_a_report_reads_is_not_in_it(db, db_target, monkeypatch):
    # One store per chunk; a writer commits a poll that would change the last store's row
    # right after the first chunk is read. PostgreSQL: the helpers share the snapshot.
    # SQLite: the writer waits for the report's read to end.
    monkeypatch.setattr(pipeline, "FIRST_CHUNK_STORES", 1)
    monkeypatch.setattr(pipeline, "TARGET_CHUNK_POLLS", 1)
    fleet = random_fleet(5, n=8)
    fill(db, fleet)
    expected = chunked_report(db)
    writer_db = open_database(db_target)
    threads: list[threading.Thread] = []
    real = pipeline.compute_chunk

    def write() -> None:
        with writer_db.begin() as w:
            w.execute(text("INSERT INTO poll (store_key, ts_us, active) VALUES (8, :t, 0)"), {"t": NOW - 10})

    def compute_then_write(*args, **kwargs):
        if not threads:
            threads.append(threading.Thread(target=write))
            threads[0].start()
            threads[0].join(timeout=1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "compute_chunk", compute_then_write)
    try:
        got = chunked_report(db)
        threads[0].join(30)
    finally:
        writer_db.dispose()
    assert got == expected
    assert chunked_report(db) != expected  # the write did land afterwards


# ----------------------------------------------------- years of extra history change nothing


def trimmed(stores: list[Store], now: int) -> list[Store]:
    """Each store's polls of the recent range, its latest poll, and its latest evidence before the range.

    Evidence is decided by the slow reference (``report_reference``), one poll at a time.
    """
    lo = read_start(now)
    out = []
    for sid, zone, rows, polls in stores:
        upto_now = [p for p in polls if p[0] <= now]
        keep = {p for p in upto_now if p[0] >= lo}
        if upto_now:
            keep.add(upto_now[-1])
        for t, a in reversed([p for p in upto_now if p[0] < lo]):
            iv = business(Zone(zone, t - DAY, t + DAY), rows, t - DAY, t + DAY)
            if inside(iv, t):
                keep.add((t, a))
                break
        out.append((sid, zone, rows, sorted(keep)))
    return out


@pytest.mark.parametrize("backend", ["sqlite"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(stores=histories())
def test_years_of_extra_history_change_nothing(db, stores):
    fill(db, stores, clear=True)
    full = chunked_report(db, NOW)
    assert full == whole_report(db, NOW)
    fill(db, trimmed(stores, NOW), clear=True)
    assert chunked_report(db, NOW) == full
