"""The fleet status from a database, and ``storemon --status``: chunks, look-back by index seek, one snapshot.

The status read chunk by chunk must equal the status of the whole history in
memory (checked against the slow reference in ``test_status_property.py``),
on SQLite and PostgreSQL, with byte-identical CSVs on both.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from sqlalchemy import text

from storemon_tui.db import open_database
from storemon_tui.report import pipeline
from storemon_tui.report.source import DatabaseOlder, load_report_input
from storemon_tui.report.status import STATUS_HEADER, compute_status, status_text
from storemon_tui.report.status_export import write_outputs
from tests.report.report_db import NOW, fill, random_fleet, set_chunking
from tests.report.report_helpers import us
from tests.report.report_strategies import histories, scenario
from tests.report.status_reference import store_status

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sorted((REPO / "sample_data").glob("*.csv"))
HOUR = 3_600_000_000
DAY = 24 * HOUR


def db_status(db, as_of_us: int | None = None) -> str:
    with db.snapshot() as conn:
        return status_text(pipeline.run_status(conn, as_of_us))


def memory_status(db, as_of_us: int | None = None) -> str:
    with db.snapshot() as conn:
        inp, now = load_report_input(conn, as_of_us)
    return status_text(compute_status(inp, now))


@pytest.mark.parametrize("chunking", [(1024, 300_000, 2), (3, 40, 2), (2, 10, 0)], ids=["default", "small", "alone"])
@pytest.mark.parametrize("seed", [6, 7])
def test_status_from_chunks_equals_the_whole_history_in_memory(db, monkeypatch, chunking, seed):
    set_chunking(monkeypatch, *chunking)
    fill(db, random_fleet(seed))
    for as_of in (None, NOW, NOW - 3 * DAY + 17, NOW + 30 * DAY, us("2123-06-01T00:00:00Z")):
        expected = memory_status(db, as_of)
        assert expected.count("\n") > 30
        assert db_status(db, as_of) == expected, as_of


def test_a_run_that_began_long_before_the_chunk_is_found_by_index_seeks(db, monkeypatch):
    # 24×7 store polled hourly: inactive for 30 days, then active for 40 days (until NOW).
    # The flip is 40 days back, far before the 15 days a status chunk reads: since is the
    # midpoint of the last inactive and the first active poll, found through the database.
    # A second store, open Mondays 09:00–10:00 Chicago only, flipped to inactive on a Monday
    # 5 weeks ago and is polled hourly, mostly while closed (every round of the look-back
    # filters its polls by status, then tests evidence).
    flip = NOW - 40 * DAY
    first = [(t, False) for t in range(flip - 30 * DAY, flip, HOUR)] + [(t, True) for t in range(flip, NOW, HOUR)]
    monday = us("2022-12-19T15:30:00Z")  # Monday 09:30 CST
    second = [(t, t < monday) for t in range(monday - 20 * DAY, NOW, HOUR)]
    fill(db, [("flip", None, [], first), ("mondays", None, [(0, 32_400_000_000, 36_000_000_000)], second)])
    asked = []
    real = DatabaseOlder._query
    monkeypatch.setattr(DatabaseOlder, "_query", lambda self, *a: asked.append(a[0]) or real(self, *a))
    text_ = db_status(db)
    assert text_ == memory_status(db)
    lines = dict(line.split(",", 1) for line in text_.splitlines()[1:])
    # since = (flip − 1 h + flip) / 2 = flip − 30 min. now is the latest poll, the "mondays"
    # store's at NOW − 30 min (its hourly grid started at 15:30Z), so run = 40 days = 960.00 h.
    assert lines["flip"].split(",")[2:4] == [_utc(flip - HOUR // 2), "960.00"]
    assert lines["mondays"].split(",")[1] == "inactive"
    assert {"before", "after"} <= set(asked)


def _utc(us_: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(us_ // 1_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("as_of", [None, "2023-01-24 09:30:00"])
def test_status_csv_is_byte_identical_on_sqlite_and_postgresql(invoke, new_target, backend, tmp_path, as_of):
    if backend != "postgresql":
        pytest.skip("compares the two back ends once, from the PostgreSQL run")
    outputs = []
    for target, name in ((str(tmp_path / "lite.sqlite3"), "lite.csv"), (new_target("pg"), "pg.csv")):
        args = ["--db", target, "--import", *SAMPLE, "--status", tmp_path / name]
        code, _, err = invoke(*args, *(["--as-of", as_of] if as_of else []))
        assert code == 0, err
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0].startswith((STATUS_HEADER + "\n").encode())
    assert outputs[0].count(b"\n") > 100
    assert outputs[0] == outputs[1]


def test_import_export_and_status_in_one_run(invoke, db_target, tmp_path):
    report, status = tmp_path / "report.csv", tmp_path / "status.csv"
    code, out, err = invoke("--db", db_target, "--import", *SAMPLE, "--export", report, "--status", status)
    assert code == 0, err
    assert out == ""
    assert "stores written to" in err and "status:" in err
    db = open_database(db_target)
    try:
        assert status.read_text() == db_status(db)
    finally:
        db.dispose()
    assert report.read_text().count("\n") == status.read_text().count("\n")  # one row per store in both


def test_status_to_stdout_and_usage(invoke, db_target, tmp_path):
    code, _, err = invoke("--db", db_target, "--import", *SAMPLE)
    assert code == 0, err
    code, out, err = invoke("--db", db_target, "--status", "-", "--as-of", "2023-01-24 09:30:00")
    assert code == 0, err
    assert out.startswith(STATUS_HEADER + "\n") and out.count("\n") > 100
    code, out, err = invoke("--db", db_target, "--export", "-", "--status", "-")
    assert code == 2 and "both write to stdout" in err
    code, out, err = invoke("--db", db_target, "--status", tmp_path / "missing" / "s.csv")
    assert code == 1 and "--status" in err and "does not exist" in err


def test_report_and_status_share_one_snapshot(db, db_target, tmp_path, monkeypatch):
    # An import commits after the report is computed and before the status is: the status must
    # not see it (PostgreSQL: the snapshot hides it; SQLite: the writer waits for the read to end).
    fill(db, random_fleet(8, n=10))
    with db.snapshot() as conn:
        before = status_text(pipeline.run_status(conn, None))
    writer = open_database(db_target)
    threads: list[threading.Thread] = []
    real = pipeline.run_status

    def write() -> None:
        with writer.begin() as w:
            w.execute(text("INSERT INTO poll (store_key, ts_us, active) VALUES (2, :t, 0)"), {"t": NOW + 5 * DAY})

    def write_then_status(*args, **kwargs):
        threads.append(threading.Thread(target=write))
        threads[0].start()
        threads[0].join(timeout=1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr("storemon_tui.report.status_export.run_status", write_then_status)
    monkeypatch.setenv("STOREMON_DATA_DIR", str(tmp_path / "data"))
    try:
        write_outputs(db, report_target=str(tmp_path / "r.csv"), status_target=str(tmp_path / "s.csv"))
        threads[0].join(30)
    finally:
        writer.dispose()
    assert (tmp_path / "s.csv").read_text() == before
    assert db_status(db) != before  # the write did land afterwards


def test_status_of_an_empty_fleet_window(db):
    # as-of before every poll: a header and no rows (the CLI's own rule for that is not the engine's).
    fill(db, random_fleet(9, n=6))
    assert db_status(db, us("1960-01-01T00:00:00Z")) == STATUS_HEADER + "\n"


# --------------------------------------------- hypothesis: the database path, against the reference


@pytest.mark.parametrize("backend", ["sqlite"])
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(case=scenario())
def test_status_through_the_database_matches_the_reference(db, monkeypatch, case):
    # Stores around DST changes, history up to 60 days back, polls after now too; read two
    # stores a chunk without helpers, so since and the previous week come from index seeks.
    set_chunking(monkeypatch, 2, 10, 0)
    now, stores = case
    assume(any(polls for *_, polls in stores))  # a database without polls is a clear error, not a status
    fill(db, stores, clear=True)
    refs = {sid: store_status(zone, rows, polls, now) for sid, zone, rows, polls in stores}
    expected = [STATUS_HEADER] + [",".join((sid, *row)) for sid, row in sorted(refs.items()) if row is not None]
    assert db_status(db, now).splitlines() == expected


@pytest.mark.parametrize("backend", ["sqlite"])
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(stores=histories())
def test_status_through_the_database_with_years_of_history(db, monkeypatch, stores):
    # History reaching five years back (too long for the slow reference): the status read in
    # small chunks, looking back by index seeks, equals the whole history in memory.
    set_chunking(monkeypatch, 2, 10, 0)
    fill(db, stores, clear=True)
    for as_of in (NOW, NOW - 9 * DAY + 13):
        assert db_status(db, as_of) == memory_status(db, as_of), as_of
