"""A large fleet's report and status computed by worker processes (``report/workers.py``).

The workers must give exactly what the in-process pipeline gives (SQLite and
PostgreSQL), from the TUI's kind of thread too; a cancel must leave no
process behind; a worker's error must surface as it was raised; and when
the workers cannot join the report's snapshot, the report is computed here.
The fleets are small: the threshold is lowered so the workers run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from storemon_tui.errors import Cancelled, StoremonError
from storemon_tui.report import pipeline, workers
from storemon_tui.report.engine import read_start
from storemon_tui.report.formatting import report_text
from storemon_tui.report.source import Chunk
from storemon_tui.report.status import status_text
from storemon_tui.report.timing import Check, Progress, StageTimer
from tests.report.report_db import NOW, fill, random_fleet, set_chunking, snapshot_while_a_writer_commits


def _children() -> list[int]:
    """This process's child processes, from /proc (whatever started them)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(entry.name))
    return found


@pytest.fixture
def joined(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Workers forced on for any fleet; records how many joined each report's snapshot."""
    monkeypatch.setattr(pipeline, "WORKER_MIN_STORES", 1)
    counts: list[int] = []
    real = workers.WorkerPool.close

    def counting(self):
        if self.workers and self.offered:  # the first close of a pool that was given a job
            counts.append(self.joined)
        real(self)

    monkeypatch.setattr(workers.WorkerPool, "close", counting)
    return counts


def _both(db, as_of: int | None) -> tuple[str, str]:
    with db.snapshot() as conn:
        report = report_text(pipeline.run_report(conn, as_of))
    with db.snapshot() as conn:
        status = status_text(pipeline.run_status(conn, as_of))
    return report, status


@pytest.mark.parametrize(("seed", "here_too"), [(1, False), (2, True)])
def test_workers_give_exactly_the_in_process_report_and_status(db, seed, here_too, monkeypatch, joined):
    # here_too=False: the workers compute every chunk; True: this process takes chunks as well.
    fill(db, random_fleet(seed))
    set_chunking(monkeypatch, 3, 40, 2)  # many small chunks, finishing out of order
    monkeypatch.setattr(pipeline, "COMPUTE_HERE", here_too)
    for as_of in (None, NOW - 3 * 86_400_000_000 + 17):
        monkeypatch.setattr(pipeline, "WORKERS", 0)
        expected = _both(db, as_of)
        assert expected[0].count("\n") > 30
        monkeypatch.setattr(pipeline, "WORKERS", 2)
        assert _both(db, as_of) == expected
    assert joined == [2, 2, 2, 2]
    assert _children() == []


def test_workers_started_from_a_thread_and_early_give_the_same_report(db, monkeypatch, joined):
    # The app computes reports in a worker thread; the CLI starts the processes before the snapshot.
    fill(db, random_fleet(3))
    with db.snapshot() as conn:
        expected = report_text(pipeline.run_report(conn, None))
    got: list[str] = []

    def in_thread() -> None:
        with pipeline.early_workers(db) as pool, db.snapshot() as conn:
            assert pool is not None
            got.append(report_text(pipeline.run_report(conn, None, workers=pool)))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join(60)
    assert got == [expected]
    assert joined[-1] == pipeline.WORKERS
    assert _children() == []


def test_cancelling_a_report_stops_its_workers_at_once(db, monkeypatch, joined):
    fill(db, random_fleet(4))
    set_chunking(monkeypatch, 1, 1, 2)  # a chunk per store: many chunks to cancel between
    monkeypatch.setattr(pipeline, "WORKERS", 2)
    monkeypatch.setattr(pipeline, "COMPUTE_HERE", False)  # so the first chunk done is a worker's
    seen: list[float] = []

    def cancel_after_a_chunk() -> bool:
        return any(0 < f < 1 for f in seen)

    started = time.monotonic()
    with db.snapshot() as conn, pytest.raises(Cancelled):
        pipeline.run_report(conn, None, progress=seen.append, should_cancel=cancel_after_a_chunk)
    assert time.monotonic() - started < 20
    assert joined in ([1], [2])  # cancelled after a worker's first chunk: the other may not have said yet
    assert max(seen) < 0.97  # stopped before the last chunk
    assert _children() == []


def failing_part(chunk: Chunk, now_us: int, timer: StageTimer, check: Check, progress: Progress) -> None:
    """A chunk computation that fails in the worker (module-level: the worker imports it by name)."""
    if os.environ["STOREMON_TEST_FAIL"] == "storemon":
        raise StoremonError(f"store {chunk.first_key} is broken")
    raise ValueError("not a StoremonError")


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(
    ("kind", "error", "message"),
    [("storemon", StoremonError, "store 0 is broken"), ("other", ValueError, "not a StoremonError")],
)
def test_an_error_in_a_worker_surfaces_as_raised_there(db, monkeypatch, joined, kind, error, message):
    fill(db, random_fleet(5, n=8))
    set_chunking(monkeypatch, 1, 1, 2)
    monkeypatch.setattr(pipeline, "WORKERS", 1)  # one worker, taking every chunk: the first fails first
    monkeypatch.setattr(pipeline, "COMPUTE_HERE", False)
    monkeypatch.setenv("STOREMON_TEST_FAIL", kind)  # the worker inherits it
    with db.snapshot() as conn, pytest.raises(error) as raised:
        pipeline._over_chunks(conn, None, read_start, failing_part, None, None, None)
    assert type(raised.value) is error
    assert str(raised.value) == message
    assert joined == [1]
    assert _children() == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_workers_refused_by_a_committing_writer_leave_the_report_to_this_process(db, tmp_path, monkeypatch, joined):
    # SQLite grants no new reader while a writer holds its pending lock: the workers cannot join,
    # so the report is computed here, from the same snapshot, and the writer commits afterwards.
    fill(db, random_fleet(6, n=16))
    monkeypatch.setattr(pipeline, "COMPUTE_HERE", False)  # this process computes only without workers
    with db.snapshot() as conn:
        expected = report_text(pipeline.run_report(conn, None))
    joined.clear()
    with snapshot_while_a_writer_commits(db, tmp_path / "t.sqlite3") as (conn, writer_errors):
        got = report_text(pipeline.run_report(conn, None))
    assert joined == [0]
    assert got == expected
    assert not writer_errors
    assert _children() == []


def test_a_worker_outlives_no_parent_killed_outright(tmp_path):
    # A parent killed by SIGKILL (or SIGTERM without a handler) runs no clean-up: its workers must
    # notice and exit on their own.
    script = textwrap.dedent(
        """
        import os, sys
        from storemon_tui.report.workers import WorkerPool
        pool = WorkerPool(2)
        print(" ".join(str(w.process.pid) for w in pool.workers), flush=True)
        os._exit(0)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.05)
    assert not any(_running(p) for p in pids)


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (an exited orphan waits for init to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
