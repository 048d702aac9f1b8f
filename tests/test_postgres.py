"""PostgreSQL specifics: same bytes as SQLite, one-line connection errors, two processes at once.

Needs ``STOREMON_TEST_PG_URL`` (skipped without it, a failure under CI); each
test works in schemas of its own (see ``new_target`` in conftest).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.engine import make_url

from storemon_tui.db import Database, open_database
from storemon_tui.ingest import import_file, import_files
from storemon_tui.report import compute_report
from storemon_tui.report.formatting import report_text
from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.report.source import load_report_input
from storemon_tui.sample import generate

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parent.parent
SAMPLE = sorted((REPO / "sample_data").glob("*.csv"))
on_postgresql = pytest.mark.parametrize("backend", ["postgresql"])


def report_of(db) -> str:
    with db.snapshot() as conn:
        inp, now = load_report_input(conn, None)
    return report_text(compute_report(inp, now))


# -- the same report on both back ends ---------------------------------------------------------


@on_postgresql
@pytest.mark.parametrize("as_of", [None, "2023-01-24 09:30:00"])
def test_sample_report_is_byte_identical_on_sqlite_and_postgresql(
    invoke, db_target: str, tmp_path: Path, as_of: str | None
) -> None:
    outputs = []
    for target, name in ((str(tmp_path / "lite.sqlite3"), "lite.csv"), (db_target, "pg.csv")):
        args = ["--db", target, "--import", *SAMPLE, "--export", tmp_path / name]
        code, _, err = invoke(*args, *(["--as-of", as_of] if as_of else []))
        assert code == 0, err
        outputs.append((tmp_path / name).read_bytes())
    assert outputs[0].count(b"\n") > 100
    assert outputs[0] == outputs[1]


@on_postgresql
def test_generated_report_is_byte_identical(new_target, tmp_path: Path) -> None:
    """More stores and zones than the sample (DST, overnight hours, UUID and 20-digit ids)."""
    files = generate(tmp_path / "gen", stores=600, seed=11)
    paths = sorted((tmp_path / "gen").glob("*.csv"))
    assert len(paths) == 3 and files.stores == 600
    texts = []
    for target in (str(tmp_path / "gen.sqlite3"), new_target("gen")):
        db = open_database(target)
        try:
            import_files(db, paths)
            texts.append(report_of(db))
        finally:
            db.dispose()
    assert texts[0].count("\n") > 500
    assert texts[0] == texts[1]


# -- connection failures: exit 1, one line, no traceback -----------------------------------------


@pytest.fixture
def server_url(pg_admin):
    """``server_url(**changes)``: the test server's URL with some parts changed."""
    return lambda **changes: pg_admin.url.set(**changes).render_as_string(hide_password=False)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"host": "127.0.0.1", "port": 1}, "Connection refused"),
        ({"database": "storemon_no_such_database"}, 'database "storemon_no_such_database" does not exist'),
        ({"username": "storemon_no_such_role"}, 'role "storemon_no_such_role" does not exist'),
        ({"username": "storemon_no_such_role", "password": "s3cret"}, 'role "storemon_no_such_role" does not exist'),
    ],
    ids=["server-down", "missing-database", "missing-role", "missing-role-with-password"],
)
def test_connection_failure_is_one_line(invoke, server_url, csv_file, changes: dict, reason: str) -> None:
    # (The test server trusts every local connection, so a wrong password cannot be provoked;
    # a missing role fails at the same authentication step.)
    url = server_url(**changes)
    polls = csv_file("p.csv", "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\n")
    for args in (["--import", polls], ["--export", "-"], ["--import", polls, "--export", "-"]):
        code, out, err = invoke("--db", url, *args)
        assert code == 1, err
        assert out == ""
        assert "Traceback" not in err
        (line,) = err.splitlines()
        location = make_url(url).render_as_string(hide_password=True)
        assert line.startswith(f"storemon: database {location}: "), line
        assert reason in line, line
        assert "s3cret" not in line


def test_server_down_in_a_real_process(cli, server_url) -> None:
    started = time.monotonic()
    result = cli("--db", server_url(host="127.0.0.1", port=1), "--export", "-")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Connection refused" in result.stderr
    assert time.monotonic() - started < 30


# -- two processes at once -----------------------------------------------------------------------

EXPORTER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from storemon_tui.cli import main

    url, out_dir = sys.argv[1], Path(sys.argv[2])
    started, done = out_dir / "started", out_dir / "done"
    worst, n, deadline = 0, 0, time.monotonic() + 120
    while time.monotonic() < deadline:
        finished = done.exists()  # decided before the export: the last one sees the final state
        code = main(["--db", url, "--export", str(out_dir / f"{n:04d}.csv")])
        worst = max(worst, code)
        n += 1
        started.touch()
        if finished:
            break
    sys.exit(worst if finished else 3)
    """
)


def _polls_files(directory: Path, count: int) -> list[Path]:
    """Polls files that each move "now" forward, flip some existing polls and add a store."""
    lines = (REPO / "sample_data" / "store_status.csv").read_text(encoding="utf-8").splitlines()[1:]
    stores = sorted({line.split(",", 1)[0] for line in lines})
    latest = max(datetime.fromisoformat(line.split(",")[1].removesuffix(" UTC")) for line in lines)
    rng = np.random.default_rng(5)
    paths = []
    for i in range(1, count + 1):
        rows = []
        for k in rng.choice(len(lines), size=2000, replace=False).tolist():  # same keys, other status
            store, stamp, status = lines[k].split(",")
            rows.append(f"{store},{stamp},{'inactive' if status == 'active' else 'active'}")
        moment = (latest + timedelta(minutes=20 * i)).replace(tzinfo=UTC)
        for j, store in enumerate(stores):  # a new latest poll for every store: a new "now"
            stamp = (moment - timedelta(seconds=j)).strftime("%Y-%m-%d %H:%M:%S UTC")
            rows.append(f"{store},{stamp},{'active' if (i + j) % 3 else 'inactive'}")
        rows.append(f"new-store-{i},{moment:%Y-%m-%d %H:%M:%S} UTC,active")
        path = directory / f"polls_{i}.csv"
        path.write_text("store_id,timestamp_utc,status\n" + "\n".join(rows) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def _without_reports(tables: dict) -> dict:
    return {name: rows for name, rows in tables.items() if name != "report"}


@on_postgresql
@pytest.mark.slow
def test_concurrent_import_and_export_are_consistent(new_target, dump, tmp_path: Path, cli_env) -> None:
    shared, replay = new_target("shared"), new_target("replay")
    files = _polls_files(tmp_path, 4)

    # Every committed state, one after another: the report of each is a valid export.
    expected: list[str] = []
    db = open_database(replay)
    try:
        import_files(db, SAMPLE)
        expected.append(report_of(db))
        for path in files:
            import_file(db, path)
            expected.append(report_of(db))
        final_tables = _without_reports(dump(db))
    finally:
        db.dispose()
    assert len(set(expected)) == len(expected), "every import must change the report, or the check is blind"

    db = open_database(shared)
    try:
        import_files(db, SAMPLE)
    finally:
        db.dispose()

    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    exporter = subprocess.Popen(
        [sys.executable, "-c", EXPORTER, shared, str(out_dir)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    importer = None
    try:
        deadline = time.monotonic() + 60
        while not (out_dir / "started").exists() and exporter.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (out_dir / "started").exists(), exporter.communicate(timeout=5)
        importer = subprocess.Popen(
            [sys.executable, "-m", "storemon_tui", "--db", shared, "--import", *map(str, files)],
            env=cli_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        imp_out, imp_err = importer.communicate(timeout=120)
        (out_dir / "done").touch()
        exp_out, exp_err = exporter.communicate(timeout=120)
    finally:
        for proc in (importer, exporter):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert importer.returncode == 0, imp_err
    assert len(imp_err.splitlines()) == len(files), imp_err
    assert exporter.returncode == 0, exp_err
    assert "Traceback" not in imp_err + exp_err

    db = open_database(shared)
    try:
        assert _without_reports(dump(db)) == final_tables
        reports = ReportJobs(db).list()
    finally:
        db.dispose()

    exports = sorted(out_dir.glob("*.csv"))
    assert len(exports) >= 2
    assert len(reports) == len(exports) and all(r.status is ReportStatus.COMPLETE for r in reports)
    states = []
    for path in exports:
        text = path.read_text(encoding="utf-8")
        assert text in expected, f"{path.name} is not the report of any committed state"
        states.append(expected.index(text))
    assert states == sorted(states), f"an export went back in time: {states}"
    print(f"exports saw states {states}")  # shown with -rP: how much the two processes overlapped
    assert states[0] == 0 and states[-1] == len(files)


def _wait_until_blocked_by(db: Database, holder_pid: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Return once a server session is waiting for a lock that ``holder_pid`` holds (the process still running).

    One transaction per look: ``pg_stat_activity`` is a snapshot taken once per transaction.
    """
    from sqlalchemy import text

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the import ended before waiting on the lock"
        with db.engine.connect() as conn:
            blocked = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"),
                {"holder": holder_pid},
            ).scalar()
        if blocked:
            return
        time.sleep(0.05)
    raise AssertionError(f"no session waited on the lock within {timeout:.0f} s")


@on_postgresql
def test_second_ctrl_c_stops_an_import_waiting_on_a_lock(new_target, tmp_path: Path, start_cli) -> None:
    """The first Ctrl-C asks to stop at a safe point; while the server keeps the import
    waiting on a lock there is none, so a second Ctrl-C must stop it at once (exit 130)."""
    import signal

    from sqlalchemy import text

    target = new_target("locked")
    db = open_database(target)
    polls = tmp_path / "p.csv"
    polls.write_text("store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\n")
    try:
        with db.engine.connect() as holder, holder.begin():
            holder.execute(text("LOCK TABLE poll IN ACCESS EXCLUSIVE MODE"))
            holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar()
            running = start_cli("--db", target, "--import", polls)
            proc = running.proc
            # Wait until the import is blocked by the lock: a Ctrl-C during start-up (a slow machine
            # takes more than 3 s to get there) rightly stops the process at once, with nothing to finish.
            _wait_until_blocked_by(db, holder_pid, proc)
            proc.send_signal(signal.SIGINT)
            time.sleep(0.5)
            assert proc.poll() is None  # the first press waits for a safe point
            proc.send_signal(signal.SIGINT)
            err = running.stderr_within(15, "import still waiting after a second Ctrl-C")
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "storemon: interrupted" in err, err
        with db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM poll")).scalar() == 0
    finally:
        db.dispose()


@on_postgresql
def test_a_connection_lost_mid_import_is_one_line_and_the_next_import_works(
    new_target, pg_admin, csv_file, dump, caplog: pytest.LogCaptureFixture
) -> None:
    """The server ends the session while the writer is busy: one readable error, nothing written,
    no traceback from the pool on stderr, and the pool hands out a working connection next time."""
    from sqlalchemy import text

    from storemon_tui.errors import DatabaseError

    # A name of its own, so the test ends this import's session and no other test's.
    session_name = f"storemon_lost_{uuid.uuid4().hex[:12]}"
    db = open_database(f"{new_target('lost')}&application_name={session_name}")
    polls = csv_file("p.csv", "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\n")
    before = dump(db)

    def cut_off() -> bool:
        """The writer's cancel check, called while it waits for the import lock and between batches:
        end its session from outside (it is the one of this database's sessions inside a transaction)."""
        with pg_admin.connect() as admin:
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = :name AND state = 'idle in transaction'"
                ),
                {"name": session_name},
            )
        return False

    try:
        with pytest.raises(DatabaseError) as failure:
            import_file(db, polls, should_cancel=cut_off)
        assert str(failure.value).startswith(f"database {db.location}: ")
        # storemon configures no logging, so anything the pool logs lands on stderr as a traceback.
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        assert dump(db) == before
        import_file(db, polls)
        assert [sid for _, sid in dump(db)["store"]] == ["a"]
    finally:
        db.dispose()


@on_postgresql
def test_an_import_waiting_for_another_hosts_import_can_be_cancelled(new_target, csv_file, dump) -> None:
    """The import lock is polled, not waited for inside the server, so a cancel reaches it at once."""
    from sqlalchemy import text

    from storemon_tui.errors import Cancelled
    from storemon_tui.ingest.pg_writer import IMPORT_LOCK_KEY

    db = open_database(new_target("queued"))
    polls = csv_file("p.csv", "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\n")
    before = dump(db)
    try:
        with db.engine.connect() as other_host, other_host.begin():
            other_host.execute(text(f"SELECT pg_advisory_xact_lock({IMPORT_LOCK_KEY})"))
            started = time.monotonic()
            with pytest.raises(Cancelled):
                import_file(db, polls, should_cancel=lambda: time.monotonic() - started > 0.3)
            assert time.monotonic() - started < 2.3
        assert dump(db) == before
        import_file(db, polls)  # and once the other import is done, it goes in
        assert [sid for _, sid in dump(db)["store"]] == ["a"]
    finally:
        db.dispose()


@on_postgresql
def test_imports_into_different_schemas_do_not_wait_for_each_other(new_target, csv_file, dump) -> None:
    """The import lock is per schema: another schema's import in progress holds nothing this one needs."""
    from sqlalchemy import text

    from storemon_tui.ingest.pg_writer import IMPORT_LOCK_KEY

    busy, free = open_database(new_target("busy")), open_database(new_target("free"))
    polls = csv_file("p.csv", "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\n")
    try:
        with busy.engine.connect() as other_host, other_host.begin():
            other_host.execute(text(f"SELECT pg_advisory_xact_lock({IMPORT_LOCK_KEY})"))
            started = time.monotonic()
            # Waiting on the other schema's lock would call should_cancel until this gives up.
            import_file(free, polls, should_cancel=lambda: time.monotonic() - started > 10)
        assert [sid for _, sid in dump(free)["store"]] == ["a"]
    finally:
        busy.dispose()
        free.dispose()
