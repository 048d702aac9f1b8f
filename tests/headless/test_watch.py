"""``storemon --watch``: a real watcher process on a temporary folder, observed through its JSON log."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.headless.watch_helpers import POLLS_HEADER, count_polls, drop, poll_rows, wait_until

ZONES = "store_id,timezone_str\ns0,America/New_York\ns1,Europe/Paris\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\ns0,0,09:00:00,17:00:00\n"


def test_a_file_renamed_in_is_imported_at_once_moved_and_reported(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db, report = tmp_path / "w.sqlite3", tmp_path / "report.csv"
    # A stable time of 60 s: only "renamed in, so complete" can explain an import within seconds.
    watcher = start_watcher(drop_dir, db, "--export", str(report), STOREMON_WATCH_STABLE_S="60")
    if watcher.events[-1]["mode"] != "inotify":  # only inotify tells a rename from a write
        watcher.stop()
        pytest.skip("no inotify on this machine")
    drop(drop_dir, "polls.csv", POLLS_HEADER + poll_rows(3))
    imported = watcher.wait_for("file_imported", timeout=20)
    assert imported["waited_s"] < 10
    assert (imported["kind"], imported["rows_read"], imported["inserted"]) == ("polls", 3, 3)
    assert imported["moved_to"] == str(drop_dir / "imported" / "polls.csv")
    written = watcher.wait_for("report_written")
    assert written["path"] == str(report) and written["stores"] == 3
    assert report.read_text().startswith("store_id,uptime_last_hour")
    assert not (drop_dir / "polls.csv").exists() and (drop_dir / "imported" / "polls.csv").is_file()
    assert count_polls(db) == 3
    assert watcher.stop() == 0
    assert watcher.names()[-1] == "watch_stopped"


def test_a_file_written_slowly_in_place_is_taken_only_once_unchanged_for_2_s(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.sqlite3"
    watcher = start_watcher(drop_dir, db)
    rows = poll_rows(60)
    chunks = [POLLS_HEADER] + [rows[i : i + len(rows) // 5] for i in range(0, len(rows), len(rows) // 5)]
    started = time.monotonic()
    with open(drop_dir / "slow.csv", "w", encoding="utf-8") as handle:
        for chunk in chunks:  # ~1.5 s of writing, pausing 0.25 s (well under the 2 s) between writes
            handle.write(chunk)
            handle.flush()
            time.sleep(0.25)
    writing = time.monotonic() - started
    imported = watcher.wait_for("file_imported", timeout=30)
    assert imported["rows_read"] == 60  # the whole file, not the part written when it first appeared
    assert imported["waited_s"] >= writing - 0.25 + 2 - 0.1  # seen at the first write; 2 s after the last
    assert count_polls(db) == 60
    assert watcher.stop() == 0


def test_a_bad_file_is_rejected_with_its_reasons_and_the_database_is_unchanged(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.sqlite3"
    watcher = start_watcher(drop_dir, db)
    drop(drop_dir, "good.csv", POLLS_HEADER + poll_rows(2))
    watcher.wait_for("file_imported")
    before = _dump(db)
    drop(drop_dir, "bad.csv", POLLS_HEADER + "s9,2023-01-22 10:00:00 UTC,active\ns9,yesterday,active\n")
    rejected = watcher.wait_for("file_rejected")
    assert rejected["moved_to"] == str(drop_dir / "rejected" / "bad.csv")
    error_text = (drop_dir / "rejected" / "bad.csv.error.txt").read_text()
    assert f"{drop_dir / 'bad.csv'}:3: column 'timestamp_utc': value 'yesterday'" in error_text
    assert "1 invalid row" in error_text and error_text == rejected["error"] + "\n"
    assert not (drop_dir / "bad.csv").exists()
    assert _dump(db) == before
    assert watcher.stop() == 0


def test_files_present_at_start_go_first_in_kind_order_and_a_burst_gives_one_report(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db, report = tmp_path / "w.sqlite3", tmp_path / "report.csv"
    for name, content in (("p.csv", POLLS_HEADER + poll_rows(2)), ("h.csv", HOURS), ("z.csv", ZONES)):
        (drop_dir / name).write_text(content)  # oldest first: polls, hours, zones
    watcher = start_watcher(drop_dir, db, "--export", str(report), STOREMON_WATCH_BATCH_S="3")
    kinds = [watcher.wait_for("file_imported")["kind"] for _ in range(3)]
    assert kinds == ["time zones", "business hours", "polls"]
    watcher.wait_for("report_written")
    # A burst of three more files, renamed in one after the other: one batch, one report.
    for hour in (1, 2, 3):
        drop(drop_dir, f"burst{hour}.csv", POLLS_HEADER + poll_rows(2, start_hour=hour))
    for _ in range(3):
        watcher.wait_for("file_imported")
    watcher.wait_for("report_written")
    assert watcher.stop() == 0
    assert watcher.names().count("report_written") == 2
    assert count_polls(db) == 8


def test_sigterm_while_a_file_waits_for_the_database_cancels_it_cleanly(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.sqlite3"
    watcher = start_watcher(drop_dir, db)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer: the watcher's transaction cannot begin
    try:
        drop(drop_dir, "polls.csv", POLLS_HEADER + poll_rows(50))
        watcher.wait_for("file_importing")
        assert watcher.stop() == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "import_cancelled" in watcher.names()
    assert count_polls(db) == 0
    assert (drop_dir / "polls.csv").is_file()  # kept for the next start


def test_sigterm_during_a_large_import_leaves_all_or_nothing(start_watcher, drop_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite3"
    watcher = start_watcher(drop_dir, db)
    rows = 300_000
    drop(drop_dir, "big.csv", POLLS_HEADER + "".join(f"b{i},2023-01-22 10:00:00 UTC,active\n" for i in range(rows)))
    watcher.wait_for("file_importing", timeout=60)
    assert watcher.stop() == 0
    polls = count_polls(db)
    if "import_cancelled" in watcher.names():
        assert polls == 0 and (drop_dir / "big.csv").is_file()
    else:  # the signal came after the commit: all of it, moved away
        assert polls == rows and (drop_dir / "imported" / "big.csv").is_file()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_sigterm_in_the_middle_of_writing_a_file_rolls_all_of_it_back(
    start_watcher, drop_dir: Path, db_target: str, cli, dump, pg_admin
) -> None:
    """Stopped for certain in mid-write: a trigger on ``poll`` waits for a lock the test holds.

    The file's new stores are inserted, its polls copied into the stage and the
    existing polls it changes updated when the trigger (after that UPDATE)
    waits; the test sees the watcher waiting, sends SIGTERM, lets it go on:
    the next cancellation point rolls everything back.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storemon_tui.db import open_database

    name = f"storemon_stall_{os.getpid()}_{time.monotonic_ns()}"
    target = make_url(db_target).update_query_dict({"application_name": name}).render_as_string(False)
    before_file = drop_dir.parent / "before.csv"
    before_file.write_text(POLLS_HEADER + poll_rows(10, start_hour=10))
    assert cli("--db", db_target, "--import", before_file).returncode == 0
    stall_key = int.from_bytes(os.urandom(7), "big")  # the server is shared: a lock no one else takes
    schema_engine = create_engine(db_target, isolation_level="AUTOCOMMIT")
    with schema_engine.connect() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN PERFORM pg_advisory_xact_lock({stall_key}); RETURN NULL; END $$"
            )
        )
        conn.execute(text("CREATE TRIGGER stall AFTER UPDATE ON poll FOR EACH STATEMENT EXECUTE FUNCTION stall()"))
    schema_engine.dispose()
    database = open_database(db_target)
    before = dump(database)

    watcher = start_watcher(drop_dir, target)
    with pg_admin.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": stall_key})
        try:
            # The same 10 polls turned inactive (an UPDATE), and 200 new stores.
            drop(
                drop_dir,
                "polls.csv",
                POLLS_HEADER + poll_rows(10, start_hour=10, status="inactive") + poll_rows(200, store="n"),
            )
            wait_until(
                lambda: (
                    holder.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :n "
                            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                        ),
                        {"n": name},
                    ).scalar()
                    == 1
                ),
                60,
                "the watcher to wait in the trigger",
            )
            watcher.proc.send_signal(signal.SIGTERM)
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": stall_key})
        assert watcher.stop() == 0
    names = watcher.names()
    assert "import_cancelled" in names and "file_imported" not in names, names
    assert dump(database) == before  # no store, no poll change, no data version bump
    database.dispose()
    assert (drop_dir / "polls.csv").is_file() and not (drop_dir / "imported").exists()


def test_a_second_watcher_on_the_folder_is_refused(start_watcher, drop_dir: Path, tmp_path: Path, cli_env) -> None:
    db = tmp_path / "w.sqlite3"
    watcher = start_watcher(drop_dir, db)
    second = subprocess.run(
        [sys.executable, "-m", "storemon_tui", "--db", str(db), "--watch", str(drop_dir)],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    assert second.returncode == 1
    assert second.stderr == (
        f"storemon: --watch {drop_dir}: already watched by another storemon (pid {watcher.proc.pid}); "
        "one watcher per folder\n"
    )
    assert watcher.stop() == 0


def test_a_database_locked_longer_than_the_lock_wait_is_retried_until_it_succeeds(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.sqlite3"
    watcher = start_watcher(drop_dir, db, STOREMON_BUSY_TIMEOUT_S="0.5")
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    locked_at = time.monotonic()
    drop(drop_dir, "polls.csv", POLLS_HEADER + poll_rows(5))
    retry = watcher.wait_for("retry")
    assert "database is locked" in retry["error"] and retry["attempt"] == 1
    time.sleep(max(0.0, 5 - (time.monotonic() - locked_at)))  # the scenario: a writer holding the lock 5 s
    other.execute("COMMIT")
    other.close()
    imported = watcher.wait_for("file_imported", timeout=60)
    assert imported["inserted"] == 5
    assert count_polls(db) == 5
    assert watcher.stop() == 0
    delays = [e["delay_s"] for e in watcher.events if e["event"] == "retry"]
    assert delays == sorted(delays) and delays[0] == 0.5  # back-off doubles


def test_text_log_and_polling_mode(drop_dir: Path, tmp_path: Path, cli_env) -> None:
    """``--poll`` works without inotify; the default text log is plain lines."""
    db = tmp_path / "w.sqlite3"
    env = cli_env | {"STOREMON_WATCH_STABLE_S": "0.5", "STOREMON_WATCH_POLL_S": "0.1", "STOREMON_WATCH_BATCH_S": "0.2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "storemon_tui", "--db", str(db), "--watch", str(drop_dir), "--poll"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        drop(drop_dir, "polls.csv", POLLS_HEADER + poll_rows(4))
        wait_until(lambda: (drop_dir / "imported" / "polls.csv").exists(), 30, "the file to be imported")
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = err.splitlines()
    assert lines[0] == f"watching {drop_dir} (polling) for files to import into {db}"
    assert lines[1] == "importing polls.csv (polls, 4 rows)"
    assert lines[2].startswith(f"{drop_dir / 'polls.csv'}: polls, 4 rows read, 4 inserted")
    assert lines[2].endswith("; moved to imported/polls.csv")
    assert lines[-1] == f"stopped watching {drop_dir} (SIGINT): 1 file imported, 0 rejected"
    assert os.path.exists(db)


def _dump(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return [
            *conn.execute("SELECT * FROM poll UNION ALL SELECT * FROM poll_recent ORDER BY 1, 2"),
            *conn.execute("SELECT * FROM store ORDER BY 1"),
            *conn.execute("SELECT key, value FROM meta WHERE key <> 'last_import_us' ORDER BY 1"),
        ]


def test_watch_on_both_databases_survives_a_lost_connection(
    start_watcher, drop_dir: Path, db_target: str, backend: str, request
) -> None:
    """Into PostgreSQL too; there, the server dropping the watcher's connection between files costs nothing."""
    target = db_target
    if backend == "postgresql":
        from sqlalchemy.engine import make_url

        name = f"storemon_watch_{os.getpid()}_{time.monotonic_ns()}"
        target = make_url(db_target).update_query_dict({"application_name": name}).render_as_string(False)
    watcher = start_watcher(drop_dir, target)
    drop(drop_dir, "one.csv", POLLS_HEADER + poll_rows(3))
    assert watcher.wait_for("file_imported")["inserted"] == 3
    if backend == "postgresql":
        from sqlalchemy import text

        with request.getfixturevalue("pg_admin").connect() as conn:
            killed = conn.execute(
                text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :n"),
                {"n": name},
            ).scalar()
        assert killed >= 1
    drop(drop_dir, "two.csv", POLLS_HEADER + poll_rows(2, start_hour=5))
    assert watcher.wait_for("file_imported", path=str(drop_dir / "two.csv"))["inserted"] == 2
    assert watcher.stop() == 0


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_connection_lost_in_the_middle_of_an_import_is_retried_and_the_file_goes_in(
    start_watcher, drop_dir: Path, db_target: str
) -> None:
    """Lost while importing, where the pool's pre-ping cannot hide it: logged, retried after a delay, then in.

    The test holds the import lock (another host importing), so the watcher's
    import waits for it inside its transaction; the server then drops that
    connection (``pg_terminate_backend``). The import must fail as a database
    error and be retried (``retry`` with its delay), the file staying in the
    folder meanwhile, never rejected; once the lock is free it goes in whole.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storemon_tui.ingest.pg_writer import IMPORT_LOCK_KEY

    name = f"storemon_lost_{os.getpid()}_{time.monotonic_ns()}"
    target = make_url(db_target).update_query_dict({"application_name": name}).render_as_string(False)
    watcher = start_watcher(drop_dir, target)
    waiting_for_the_lock = text(
        "SELECT pid FROM pg_stat_activity WHERE application_name = :n AND xact_start IS NOT NULL "
        "AND query LIKE '%pg_try_advisory_xact_lock%'"
    )
    engine = create_engine(db_target, isolation_level="AUTOCOMMIT")  # the test's schema: the same lock key
    try:
        with engine.connect() as holder:
            holder.execute(text(f"SELECT pg_advisory_lock({IMPORT_LOCK_KEY})"))
            try:
                drop(drop_dir, "polls.csv", POLLS_HEADER + poll_rows(7))
                watcher.wait_for("file_importing")
                pids: list[int] = []
                wait_until(
                    lambda: bool(pids.extend(holder.execute(waiting_for_the_lock, {"n": name}).scalars()) or pids),
                    30,
                    "the watcher's import to wait for the import lock",
                )
                assert holder.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pids[0]}).scalar()
                retry = watcher.wait_for("retry")
            finally:
                holder.execute(text(f"SELECT pg_advisory_unlock({IMPORT_LOCK_KEY})"))
            assert retry["attempt"] == 1 and retry["delay_s"] == 0.5  # FAST's first back-off
            assert retry["error"].endswith(": the connection is lost"), retry
            assert (drop_dir / "polls.csv").is_file()  # waiting in the folder, not rejected
            imported = watcher.wait_for("file_imported", path=str(drop_dir / "polls.csv"))
            assert imported["inserted"] == 7
            assert watcher.stop() == 0
            rows = holder.execute(
                text(
                    "SELECT s.store_id, p.active FROM (SELECT * FROM poll UNION ALL SELECT * FROM poll_recent) p"
                    " JOIN store s USING (store_key) ORDER BY 1"
                )
            ).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(f"s{i}", 1) for i in range(7)]  # the file's rows, once each
    assert "file_rejected" not in watcher.names() and (drop_dir / "imported" / "polls.csv").is_file()


def test_skip_invalid_imports_the_good_rows_and_files_the_rejects(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.sqlite3"
    # An export path that cannot be written: logged after the batch, and the watcher carries on.
    watcher = start_watcher(drop_dir, db, "--skip-invalid", "--export", str(tmp_path / "missing" / "r.csv"))
    drop(drop_dir, "mixed.csv", POLLS_HEADER + poll_rows(2) + "s9,yesterday,active\n")
    imported = watcher.wait_for("file_imported")
    assert (imported["inserted"], imported["rejected"]) == (2, 1)
    assert imported["rejects_path"] == str(drop_dir / "rejected" / "mixed.csv.rejects.csv")
    assert "yesterday" in (drop_dir / "rejected" / "mixed.csv.rejects.csv").read_text()
    assert (drop_dir / "imported" / "mixed.csv").is_file()
    failed = watcher.wait_for("report_failed")
    assert "directory" in failed["error"] and "does not exist" in failed["error"]
    drop(drop_dir, "more.csv", POLLS_HEADER + poll_rows(1, start_hour=9))
    watcher.wait_for("file_imported", path=str(drop_dir / "more.csv"))
    assert watcher.stop() == 0
    assert count_polls(db) == 3
    assert "file_ignored" not in watcher.names()  # its own rejects file, beside the input for a moment


def test_a_rejects_file_dropped_in_is_ignored_with_one_log_line_until_renamed(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    """A fixed ``*.rejects.csv`` dropped back in is not imported (so the watcher's own rejects never are),
    but it does not sit there unexplained: one ``file_ignored`` line, not one per scan."""
    db = tmp_path / "w.sqlite3"
    watcher = start_watcher(drop_dir, db, "--poll")  # a scan every 0.2 s: "not every scan" is visible
    fixed = drop(
        drop_dir, "polls.csv.rejects.csv", POLLS_HEADER.rstrip("\n") + ",reason\ns1,2023-01-22 10:00:00 UTC,active,\n"
    )
    ignored = watcher.wait_for("file_ignored")
    assert (ignored["level"], ignored["path"]) == ("warning", str(fixed))
    assert ".rejects.csv" in ignored["reason"] and "rename" in ignored["hint"]
    for hour in (1, 2):  # files after it: more scans, imports, batches
        drop(drop_dir, f"more{hour}.csv", POLLS_HEADER + poll_rows(1, start_hour=hour))
        watcher.wait_for("file_imported", path=str(drop_dir / f"more{hour}.csv"))
    assert fixed.is_file() and count_polls(db) == 2
    os.rename(fixed, drop_dir / "fixed.csv")  # the hint: renamed, it goes in
    imported = watcher.wait_for("file_imported", path=str(drop_dir / "fixed.csv"))
    assert imported["inserted"] == 1
    assert watcher.stop() == 0
    assert watcher.names().count("file_ignored") == 1


def test_a_watcher_that_cannot_start_says_why_in_one_line(cli, drop_dir: Path, tmp_path: Path) -> None:
    """A missing folder or an unusable database: exit 1 for the service manager, one logged line."""
    missing = tmp_path / "no-such-folder"
    run = cli("--db", tmp_path / "w.sqlite3", "--watch", missing, "--log-format", "json")
    assert run.returncode == 1
    (entry,) = (json.loads(line) for line in run.stderr.splitlines())
    assert entry["event"] == "watch_failed" and entry["error"] == f"--watch {missing}: not a directory"
    run = cli("--db", tmp_path / "nowhere" / "w.sqlite3", "--watch", drop_dir)
    assert run.returncode == 1
    assert (
        run.stderr
        == f"storemon: database {tmp_path / 'nowhere' / 'w.sqlite3'}: directory {tmp_path / 'nowhere'} does not exist\n"
    )
    assert cli("--watch", drop_dir, "--import", tmp_path / "x.csv").returncode == 2
    assert cli("--watch", drop_dir, "--export", "-").returncode == 2
