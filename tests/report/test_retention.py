"""Retention: ``--prune --keep-days N`` keeps every later report byte-identical; ``--keep-reports N``.

Pruning keeps, per store, its latest poll and its latest evidence poll
before the cut-off (decided by the slow reference here, independently), and
every poll from the cut-off on; any report whose now is at least 168 h after
the cut-off must not change by a byte, on SQLite and on PostgreSQL. It is
one transaction: a kill in the middle changes nothing.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from storemon_tui.db import open_database
from storemon_tui.db.database import get_data_version
from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.report.retention import prune_polls, prune_reports
from tests.report.report_db import NOW, ZONES, chunked_report, fill, random_fleet
from tests.report.report_helpers import us
from tests.report.report_reference import DAY, Zone, business, inside

WEEK = 7 * DAY


def expected_kept(stores, cutoff: int) -> set[tuple[str, int, bool]]:
    """Every poll from the cut-off on, and per store its latest poll and latest evidence poll before it."""
    kept = set()
    for sid, zone, rows, polls in stores:
        before = [p for p in polls if p[0] < cutoff]
        kept |= {(sid, t, a) for t, a in polls if t >= cutoff}
        if before:
            kept.add((sid, *before[-1]))
        for t, a in reversed(before):
            iv = business(Zone(zone, t - DAY, t + DAY), rows, t - DAY, t + DAY)
            if inside(iv, t):
                kept.add((sid, t, a))
                break
    return kept


def polls_in(db) -> set[tuple[str, int, bool]]:
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT s.store_id, p.ts_us, p.active FROM poll p JOIN store s ON s.store_key = p.store_key")
        ).all()
    return {(sid, int(t), bool(a)) for sid, t, a in rows}


@pytest.mark.parametrize("keep_days", [3, 10, 400])
def test_prune_keeps_later_reports_byte_identical(db, keep_days):
    stores = random_fleet(11)
    fill(db, stores)
    latest = max(t for *_, polls in stores for t, _ in polls)
    cutoff = latest - keep_days * DAY
    later = [None, cutoff + WEEK, cutoff + WEEK + 13 * 3_600_000_000 + 7, latest + 30 * DAY]
    # The guarantee covers reports whose now is at least 168 h after the cut-off (None: now = latest).
    before = {as_of: chunked_report(db, as_of) for as_of in later if (as_of or latest) >= cutoff + WEEK}
    version = _version(db)
    pruned = prune_polls(db, keep_days)
    assert pruned.cutoff_us == cutoff
    assert polls_in(db) == expected_kept(stores, cutoff)
    assert pruned.deleted == sum(len(s[3]) for s in stores) - len(polls_in(db))
    for as_of, text_ in before.items():
        assert chunked_report(db, as_of) == text_, as_of
    assert _version(db) == version + (1 if pruned.deleted else 0)  # earlier reports are now stale


def _version(db) -> int:
    with db.connect() as conn:
        return get_data_version(conn)


@pytest.mark.parametrize("backend", ["sqlite"])
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ZONES),
            st.lists(st.tuples(st.integers(0, 6), st.integers(0, 95), st.integers(0, 96)), max_size=4),
            st.lists(
                st.tuples(st.integers(-400 * 24, 0), st.booleans()), min_size=1, max_size=25, unique_by=lambda p: p[0]
            ),
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 20),
)
def test_prune_property(db, fleet, keep_days):
    # Random stores with hourly-grid polls over 400 days; any keep-days; reports at and after
    # cut-off + 168 h unchanged, and exactly the expected polls left.
    quarter = 900_000_000
    stores = [
        (
            f"s{i}",
            zone,
            [(d, a * quarter, b * quarter) for d, a, b in rows],
            sorted((NOW + h * 3_600_000_000, x) for h, x in polls),
        )
        for i, (zone, rows, polls) in enumerate(fleet)
    ]
    fill(db, stores, clear=True)
    latest = max(t for *_, polls in stores for t, _ in polls)
    cutoff = latest - keep_days * DAY
    as_ofs = [None] + [a for a in (cutoff + WEEK, cutoff + WEEK + 5 * DAY + 11) if a <= latest + DAY]
    before = {a: chunked_report(db, a) for a in as_ofs if (a or latest) >= cutoff + WEEK}
    prune_polls(db, keep_days)
    assert polls_in(db) == expected_kept(stores, cutoff)
    for as_of, text_ in before.items():
        assert chunked_report(db, as_of) == text_


def test_prune_reclaims_the_space(tmp_path):
    db = open_database(tmp_path / "big.sqlite3")
    try:
        fill(db, random_fleet(12, n=40))
        pruned = prune_polls(db, 2)
        assert pruned.deleted > 5000
        assert pruned.bytes_after < pruned.bytes_before
        assert os.path.getsize(tmp_path / "big.sqlite3") == pruned.bytes_after
    finally:
        db.dispose()


def test_prune_of_an_empty_database_changes_nothing(db):
    pruned = prune_polls(db, 1)
    assert pruned.cutoff_us is None and pruned.deleted == 0


def test_keep_reports_keeps_the_newest(db, tmp_path, monkeypatch):
    monkeypatch.setenv("STOREMON_DATA_DIR", str(tmp_path / "data"))
    fill(db, random_fleet(13, n=5))
    jobs = ReportJobs(db, directory=tmp_path)
    running = jobs._create(NOW - 9 * DAY)[0]  # the oldest record, still running (as another process's)
    made = [jobs.run(NOW - k * DAY) for k in range(5)]  # made[4] is the newest
    result = prune_reports(db, 2, directory=tmp_path)
    left = {r.id for r in jobs.list()}
    assert left == {running, made[3].id, made[4].id}
    assert result.deleted == 3 and result.files == 3
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == sorted(f"{i.id}.csv" for i in made[3:])
    assert jobs.get(running).status is ReportStatus.RUNNING


def test_cli_prune(invoke, db_target, tmp_path):
    db = open_database(db_target)
    try:
        fill(db, random_fleet(14, n=12))
    finally:
        db.dispose()
    code, out, err = invoke("--db", db_target, "--prune", "--keep-days", "5", "--keep-reports", "0")
    assert code == 0, err
    assert out == ""
    assert "pruned" in err and "polls older than" in err and "pruned 0 reports" in err
    for args, message in [
        (["--keep-days", "5"], "only apply to --prune"),
        (["--prune"], "needs --keep-days"),
        (["--prune", "--keep-days", "-1"], "whole number"),
    ]:
        code, out, err = invoke("--db", db_target, *args)
        assert code == 2 and message in err, err


def test_prune_shows_progress_on_a_terminal(cli_env, tmp_path):
    target = tmp_path / "t.sqlite3"
    db = open_database(target)
    try:
        fill(db, random_fleet(15, n=20))
    finally:
        db.dispose()
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "storemon_tui", "--db", str(target), "--prune", "--keep-days", "3"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            env=cli_env,
            timeout=120,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert done.returncode == 0
    assert b"pruning polls: " in shown and b"%" in shown
    assert b"pruned " in shown


@pytest.mark.slow
def test_a_kill_during_prune_leaves_the_database_as_it_was(db_target, backend, cli_env, tmp_path, dump):
    # Enough polls that deleting takes a while; the kill lands while the transaction is open:
    # SQLite once its rollback journal exists, PostgreSQL once the server runs the DELETE.
    db = open_database(db_target)
    try:
        minutes = range(60 * 24 * 10)  # 10 days of a poll a minute, 12 stores: 172,800 polls
        stores = [(f"s{i}", None, [], [(NOW - k * 60_000_000, k % 7 != 0) for k in minutes]) for i in range(12)]
        fill(db, stores)
        before = dump(db)
        proc = subprocess.Popen(
            [sys.executable, "-m", "storemon_tui", "--db", db_target, "--prune", "--keep-days", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=cli_env,
        )
        try:
            assert _wait_until_deleting(db, db_target, backend, proc), "prune never started deleting"
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert dump(db) == before
        assert chunked_report(db) is not None  # still a usable database
    finally:
        db.dispose()


def _wait_until_deleting(db, db_target: str, backend: str, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if backend == "sqlite":
            if Path(db_target + "-journal").exists() and Path(db_target + "-journal").stat().st_size > 0:
                return True
        else:
            with db.connect() as conn:
                sql = (
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE query LIKE 'DELETE FROM poll p USING%%' AND state = 'active'"
                )
                busy = conn.exec_driver_sql(sql).scalar()
            if busy:
                return True
        time.sleep(0.005)
    return False


def test_as_of_helper_sanity():
    assert us("2023-01-25T12:00:00Z") == NOW
