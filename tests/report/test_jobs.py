"""Report jobs on both back ends: trigger → Running → Complete, cancel, failure, restart.

The worker thread is held at its first progress report by a :class:`Gate`,
so "while it is running" is a fact of the test, not a race against a fast
engine: cancellation stops the real engine at its next check.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from storemon_tui.db import get_data_version, open_database, sqlite_file
from storemon_tui.errors import StoremonError
from storemon_tui.ingest import import_file, import_files
from storemon_tui.report import compute_report
from storemon_tui.report.formatting import REPORT_HEADER, report_text
from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.report.source import load_report_input

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sorted((REPO / "sample_data").glob("*.csv"))


class Gate:
    """An ``on_progress`` hook that holds the worker at its first report until released."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.seen: list[float] = []

    def __call__(self, fraction: float) -> None:
        self.seen.append(fraction)
        if not self.reached.is_set():
            self.reached.set()
            self.release.wait(30)


def expected_csv(db, as_of_us: int | None = None) -> str:
    """The report computed directly from the database (no job machinery)."""
    with db.snapshot() as conn:
        inp, now = load_report_input(conn, as_of_us)
    return report_text(compute_report(inp, now))


@pytest.fixture
def sample_db(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STOREMON_DATA_DIR", str(tmp_path / "data"))
    import_files(db, SAMPLE)
    return db


@pytest.fixture
def jobs(sample_db, tmp_path: Path) -> ReportJobs:
    directory = tmp_path / "reports"
    directory.mkdir()
    return ReportJobs(sample_db, directory=directory)


# -- the normal path -----------------------------------------------------------------------


def test_trigger_runs_to_complete_with_the_csv_in_the_reports_dir(jobs, sample_db) -> None:
    gate = Gate()
    stored: list[float] = []

    def on_progress(fraction: float) -> None:
        stored.append(jobs.list()[0].progress)  # what the app's poll would read now
        gate(fraction)

    report_id = jobs.trigger(on_progress=on_progress)
    assert gate.reached.wait(30)
    running = jobs.get(report_id)
    assert running.status is ReportStatus.RUNNING and not running.done
    assert running.started_at is not None and running.finished_at is None
    assert running.progress == 0.0 and running.file_path is None and running.row_count is None
    assert list(jobs.directory.iterdir()) == []
    with pytest.raises(StoremonError, match=f"report {report_id} is Running, not Complete"):
        jobs.csv_bytes(report_id)
    gate.release.set()

    info = jobs.wait(report_id, timeout=60)
    assert info.status is ReportStatus.COMPLETE and info.done
    target = jobs.directory / f"{report_id}.csv"
    assert info.file_path == str(target) and target.is_file()
    assert [p.name for p in jobs.directory.iterdir()] == [target.name]  # no temporary left behind
    assert info.progress == 100.0
    assert info.error is None
    assert info.finished_at >= info.started_at >= info.created_at
    assert info.seconds is not None and info.seconds >= 0

    csv = jobs.csv_bytes(report_id).decode()
    assert csv == target.read_text(encoding="utf-8") == expected_csv(sample_db)
    lines = csv.splitlines()
    assert lines[0] == REPORT_HEADER
    assert info.row_count == len(lines) - 1 > 0

    # Progress: fractions in [0, 1] ending at 1; stored percentages in [0, 100], never going back.
    assert gate.seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in gate.seen)
    assert gate.seen == sorted(gate.seen)
    assert all(0.0 <= p <= 100.0 for p in stored) and stored == sorted(stored)
    assert any(0.0 < p < 100.0 for p in stored), stored  # a live bar moves in between


def test_default_directory_is_the_data_dir(sample_db, tmp_path: Path) -> None:
    jobs = ReportJobs(sample_db)  # STOREMON_DATA_DIR points into tmp_path (sample_db fixture)
    info = jobs.wait(jobs.trigger(), timeout=60)
    assert info.status is ReportStatus.COMPLETE
    assert Path(info.file_path) == tmp_path / "data" / "reports" / f"{info.id}.csv"


def test_as_of_is_recorded_and_used(jobs, sample_db) -> None:
    with sample_db.connect() as conn:
        latest = conn.execute(text("SELECT max(ts_us) FROM poll")).scalar()
    info = jobs.run(latest - 3_600_000_000)
    assert info.status is ReportStatus.COMPLETE and info.as_of_us == latest - 3_600_000_000
    assert jobs.csv_bytes(info.id).decode() == expected_csv(sample_db, latest - 3_600_000_000)
    latest_info = jobs.run()
    assert latest_info.as_of_us == latest  # "now" defaults to the latest poll
    assert jobs.csv_bytes(latest_info.id).decode() != jobs.csv_bytes(info.id).decode()


def test_trigger_twice_while_running_returns_the_same_report(jobs, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second trigger finds the running report without waiting for its read: on SQLite any
    commit, an empty one too, waits until every read transaction ends, and the gate holds the
    running report inside its snapshot. A one-second lock wait makes a wait fail, not just slow."""
    monkeypatch.setattr(sqlite_file, "BUSY_TIMEOUT_S", 1.0)
    gate = Gate()
    first = jobs.trigger(on_progress=gate)
    assert gate.reached.wait(30)
    other = None
    try:
        assert jobs.trigger() == first
        assert [r.id for r in jobs.list()] == [first]
        if jobs.db.dialect == "postgresql":  # SQLite records a new report once the running one has read
            other = jobs.trigger(as_of_us=jobs.get(first).as_of_us - 1)  # another as-of is another report
    finally:
        gate.release.set()
    if other is None:
        monkeypatch.setattr(sqlite_file, "BUSY_TIMEOUT_S", 30.0)
        other = jobs.trigger(as_of_us=jobs.get(first).as_of_us - 1)
    assert other != first
    assert jobs.wait(first, timeout=60).status is ReportStatus.COMPLETE
    assert jobs.wait(other, timeout=60).status is ReportStatus.COMPLETE
    third = jobs.trigger()
    assert third != first  # no longer running: a new report
    assert jobs.wait(third, timeout=60).status is ReportStatus.COMPLETE
    assert len(jobs.list()) == 3


def test_a_running_report_of_another_process_is_not_waited_for(jobs, sample_db, leave_running) -> None:
    # A Running record for the same as-of and data version, left by a process on
    # another host (it may have died): run() must compute its own report, not wait.
    with sample_db.connect() as conn:
        latest = conn.execute(text("SELECT max(ts_us) FROM poll")).scalar()
    stranger = leave_running(sample_db, owner="otherhost:12345")
    with sample_db.begin_write() as conn:
        conn.execute(text("UPDATE report SET as_of_us = :a WHERE id = :i"), {"a": latest, "i": stranger})
    info = jobs.run()
    assert info.id != stranger
    assert info.status is ReportStatus.COMPLETE
    assert jobs.get(stranger).status is ReportStatus.RUNNING  # not ours to judge


# -- cancel and failure --------------------------------------------------------------------


def test_cancel_stops_the_engine_and_writes_no_file(jobs) -> None:
    gate = Gate()
    report_id = jobs.trigger(on_progress=gate)
    assert gate.reached.wait(30)
    assert jobs.cancel(report_id) is True
    gate.release.set()
    info = jobs.wait(report_id, timeout=60)
    assert info.status is ReportStatus.CANCELLED
    assert gate.seen == [0.05]  # the engine stopped at its next check, before any more progress
    assert info.file_path is None and info.row_count is None and info.finished_at is not None
    assert list(jobs.directory.iterdir()) == []
    assert jobs.cancel(report_id) is False  # nothing running here any more
    with pytest.raises(StoremonError, match="is Cancelled, not Complete"):
        jobs.csv_bytes(report_id)


def test_cancel_unknown_report_is_false(jobs) -> None:
    assert jobs.cancel("0" * 32) is False
    with pytest.raises(StoremonError, match="no report with id"):
        jobs.get("0" * 32)


def test_engine_error_is_failed_with_its_message(jobs, monkeypatch: pytest.MonkeyPatch) -> None:
    from storemon_tui.report import pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("engine exploded\nsecond line of detail")

    monkeypatch.setattr(pipeline, "run_report", broken)
    info = jobs.wait(jobs.trigger(), timeout=60)
    assert info.status is ReportStatus.FAILED
    assert info.error == "engine exploded"
    assert info.file_path is None and info.finished_at is not None
    assert list(jobs.directory.iterdir()) == []
    with pytest.raises(RuntimeError, match="engine exploded"):  # run() (the CLI path) raises it too
        jobs.run()
    assert [r.status for r in jobs.list()] == [ReportStatus.FAILED, ReportStatus.FAILED]


def test_empty_database_is_a_clear_error_and_records_nothing(db, tmp_path: Path) -> None:
    jobs = ReportJobs(db, directory=tmp_path)
    with pytest.raises(StoremonError, match="the database has no polls; import a polls CSV first"):
        jobs.trigger()
    assert jobs.list() == []


# -- restart -------------------------------------------------------------------------------


def test_restart_marks_only_reports_of_dead_processes_interrupted(
    jobs, sample_db, db_target: str, backend: str, leave_running, gone_pid
) -> None:
    host = socket.gethostname()
    orphan = leave_running(sample_db, f"{host}:{gone_pid()}")
    alive = leave_running(sample_db, f"{host}:1")  # pid 1 (init) is alive
    ours = leave_running(sample_db, f"{host}:{os.getpid()}")
    elsewhere = leave_running(sample_db, "some-other-host:12345")  # nobody holds its running lock
    ownerless = leave_running(sample_db, None)  # from before owners were recorded

    reopened = open_database(db_target)
    try:
        restarted = ReportJobs(reopened, directory=jobs.directory)
        # SQLite cannot know about another host; on PostgreSQL a free running lock says its session ended.
        dead = {orphan, ownerless} | ({elsewhere} if backend == "postgresql" else set())
        assert restarted.mark_interrupted() == len(dead)
        failed = restarted.get(orphan)
        assert failed.status is ReportStatus.FAILED and failed.error == "interrupted"
        # When it stopped is unknown: no finish time, so its "took" does not count until this start.
        assert failed.finished_at is None and failed.seconds is None
        for report_id in {alive, ours, elsewhere, ownerless} - dead:
            assert restarted.get(report_id).status is ReportStatus.RUNNING
        for report_id in dead:
            assert restarted.get(report_id).status is ReportStatus.FAILED
        assert restarted.mark_interrupted() == 0  # idempotent
    finally:
        reopened.dispose()


def test_a_reused_pid_or_a_reboot_does_not_keep_a_dead_report_running(jobs, sample_db, leave_running) -> None:
    """A pid alone is not a process: after a reboot, or once the id is reused, the owner is gone."""
    from storemon_tui.report import owner

    here = owner.current()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        live = owner.Owner(here.host, sleeper.pid, owner._start_time(sleeper.pid), here.boot)
        assert live.start, "this test needs /proc"
        running = leave_running(sample_db, str(live))
        reused = leave_running(sample_db, str(owner.Owner(here.host, sleeper.pid, str(int(live.start) - 1), here.boot)))
        rebooted = leave_running(sample_db, str(owner.Owner(here.host, os.getpid(), here.start, "another-boot")))
        assert jobs.mark_interrupted() == 2
        assert jobs.get(running).status is ReportStatus.RUNNING
        assert jobs.get(reused).status is ReportStatus.FAILED
        assert jobs.get(rebooted).status is ReportStatus.FAILED
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_report_running_on_another_host_is_known_by_its_lock(jobs, sample_db, db_target: str, leave_running) -> None:
    """PostgreSQL shared by several hosts: a report whose session holds its running lock is alive."""
    from storemon_tui.report import owner

    report_id = leave_running(sample_db, "other-host:4242:123:some-boot")
    holder = owner.RunningLock(sample_db.engine, report_id)  # what the other host's process holds
    try:
        assert jobs.mark_interrupted() == 0
        assert jobs.get(report_id).status is ReportStatus.RUNNING
    finally:
        holder.release()
    assert jobs.mark_interrupted() == 1  # its session ended: the lock is free
    assert jobs.get(report_id).status is ReportStatus.FAILED


def test_a_report_killed_mid_computation_is_interrupted_for_the_next_process(
    sample_db, db_target: str, tmp_path: Path
) -> None:
    """kill -9 of the process computing a report (a real one, on both back ends)."""
    import signal
    import sys

    code = f"""
import sys, time
from storemon_tui.db import open_database
from storemon_tui.report.jobs import ReportJobs

def hold(fraction):
    print("computing", flush=True)
    time.sleep(600)

jobs = ReportJobs(open_database({db_target!r}), directory={str(tmp_path / "reports")!r})
jobs.run(progress=hold)
"""
    (tmp_path / "reports").mkdir(exist_ok=True)
    env = {**os.environ, "STOREMON_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "computing"
        jobs = ReportJobs(sample_db, directory=tmp_path / "reports")
        assert jobs.mark_interrupted() == 0  # it is alive: left alone
        (running,) = [r for r in jobs.list() if r.status is ReportStatus.RUNNING]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert ReportJobs(sample_db, directory=tmp_path / "reports").mark_interrupted() == 1
    info = ReportJobs(sample_db, directory=tmp_path / "reports").get(running.id)
    assert info.status is ReportStatus.FAILED and info.error == "interrupted"


def test_records_and_csv_survive_a_restart(jobs, sample_db, db_target: str, leave_running, gone_pid) -> None:
    done = jobs.run()
    csv = jobs.csv_bytes(done.id).decode()
    failed_id = leave_running(sample_db, f"{socket.gethostname()}:{gone_pid()}")
    sample_db.dispose()

    reopened = open_database(db_target)
    try:
        restarted = ReportJobs(reopened, directory=jobs.directory)
        restarted.mark_interrupted()
        assert restarted.get(done.id) == done
        assert restarted.csv_bytes(done.id).decode() == csv
        assert {r.id: r.status for r in restarted.list()} == {
            done.id: ReportStatus.COMPLETE,
            failed_id: ReportStatus.FAILED,
        }
    finally:
        reopened.dispose()


# -- staleness -----------------------------------------------------------------------------


def test_data_version_is_recorded_and_a_later_import_makes_the_report_stale(jobs, sample_db, csv_file) -> None:
    with sample_db.connect() as conn:
        version = get_data_version(conn)
    assert version == 3  # one per sample file
    info = jobs.run()
    assert info.data_version == version
    assert not info.is_stale(version)

    import_file(
        sample_db, csv_file("new.csv", "store_id,timestamp_utc,status\nnew-store,2023-01-25 19:00:00 UTC,active\n")
    )
    with sample_db.connect() as conn:
        later = get_data_version(conn)
        assert conn.execute(text("SELECT count(*) FROM report")).scalar() == 1
    assert later > version
    assert jobs.get(info.id).is_stale(later)
    fresh = jobs.run()
    assert fresh.data_version == later and not fresh.is_stale(later)
    assert "new-store," in jobs.csv_bytes(fresh.id).decode() and "new-store," not in jobs.csv_bytes(info.id).decode()


def test_an_import_between_trigger_and_read_gives_one_committed_state(jobs, sample_db, csv_file, monkeypatch) -> None:
    """ "now" (the latest poll) and the data must come from the same snapshot.

    An import commits after the report is recorded but before its data is read:
    it flips every poll of the last two hours and adds a later poll. The report
    must be that of the state before or after it, never the old "now" applied
    to the new statuses.
    """
    with sample_db.connect() as conn:
        latest = conn.execute(text("SELECT max(ts_us) FROM poll")).scalar()
        recent = conn.execute(
            text(
                "SELECT s.store_id, p.ts_us, p.active FROM poll p JOIN store s ON s.store_key = p.store_key "
                "WHERE p.ts_us >= :t"
            ),
            {"t": latest - 2 * 3_600_000_000},
        ).all()

    def iso(ts_us: int) -> str:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ts_us)).isoformat()

    flip = csv_file(
        "flip.csv",
        "store_id,timestamp_utc,status\n"
        + "".join(f"{sid},{iso(ts)},{'inactive' if active else 'active'}\n" for sid, ts, active in recent)
        + f"later-store,{iso(latest + 3_600_000_000)},active\n",
    )
    before = expected_csv(sample_db)
    real_create = ReportJobs._create

    def create_then_import(self, as_of_us):
        created = real_create(self, as_of_us)
        import_file(sample_db, flip)
        return created

    monkeypatch.setattr(ReportJobs, "_create", create_then_import)
    info = jobs.run()
    after = expected_csv(sample_db)
    assert before != after and len(recent) > 50
    assert info.status is ReportStatus.COMPLETE
    assert jobs.csv_bytes(info.id).decode() in (before, after)
    with sample_db.connect() as conn:
        assert info.data_version == (get_data_version(conn) if jobs.csv_bytes(info.id).decode() == after else 3)
