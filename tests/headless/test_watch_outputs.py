"""``--watch`` with ``--status`` and ``--alert-cmd``: a real watcher, batches of files, its JSON log.

The stores have no business hours, so they are open all week: whether a
store is down depends only on its latest poll, and "now" is the latest poll
in the database (``spec/status.md``), so each batch below sets the scene.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from storemon_tui.report.status import STATUS_COLUMNS, STATUS_HEADER
from tests.headless.watch_helpers import POLLS_HEADER, drop, wait_until


def polls(hour: int, **statuses: str) -> str:
    """A polls file: one poll per store at ``hour``:00 on 2023-01-24."""
    return POLLS_HEADER + "".join(f"{store},2023-01-24 {hour:02d}:00:00 UTC,{s}\n" for store, s in statuses.items())


def status_lines(path: Path) -> dict[str, str]:
    """The status CSV's rows by store id (``open_now,status_now`` and the rest as one string)."""
    header, *rows = path.read_text().splitlines()
    assert header == STATUS_HEADER
    return {row.split(",", 1)[0]: row.split(",", 1)[1] for row in rows}


def sent(alerts: Path) -> list[tuple[str, str]]:
    return [(e["event"], e["store_id"]) for e in map(json.loads, alerts.read_text().splitlines())]


def test_alerts_on_the_first_batch_then_down_and_recovered_with_one_status_per_burst(
    start_watcher, drop_dir: Path, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    db, status, report, alerts = (tmp_path / n for n in ("w.sqlite3", "status.csv", "report.csv", "alerts.jsonl"))
    watcher = start_watcher(
        drop_dir,
        db,
        *("--status", str(status), "--export", str(report), "--alert-cmd", f"cat >> '{alerts}'"),
        STOREMON_WATCH_BATCH_S="3",
    )
    started = watcher.events[-1]
    assert (started["status"], started["alerts"]) == (str(status), True)
    assert "status to" in started["message"] and "alerts to --alert-cmd" in started["message"]

    # Batch 1: b is down at start. The first batch compares with nothing: one "down" event.
    drop(drop_dir, "first.csv", polls(10, a="active", b="inactive", c="active"))
    assert watcher.wait_for("status_written")["stores"] == 3
    assert watcher.wait_for("alert_sent")["down"] == 1
    assert sent(alerts) == [("down", "b")]
    (event,) = map(json.loads, alerts.read_text().splitlines())
    assert list(event) == ["event", *STATUS_COLUMNS]
    assert event["open_now"] == "yes" and event["status_now"] == "inactive"
    assert event["last_poll_utc"] == "2023-01-24 10:00:00"
    assert status_lines(status)["b"].startswith("yes,inactive,")
    assert report.read_text().startswith("store_id,uptime_last_hour")
    # The health check now knows how many stores are down, and how fresh that is.
    check = subprocess.run(
        [sys.executable, "-m", "storemon_tui", "--db", str(db), "--check", "--max-age", "1000000"],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    assert " down_now=1;;;0 down_now_age=" in check.stdout, check.stdout

    # Batch 2, a burst of two files: a goes down, b recovers, c stays up. One status, one alert.
    drop(drop_dir, "second.csv", polls(11, a="inactive", b="active"))
    drop(drop_dir, "third.csv", polls(11, c="active"))
    for _ in range(2):
        watcher.wait_for("file_imported")
    watcher.wait_for("status_written")
    alert = watcher.wait_for("alert_sent")
    assert (alert["down"], alert["recovered"]) == (1, 1)
    assert sent(alerts) == [("down", "b"), ("down", "a"), ("recovered", "b")]
    lines = status_lines(status)
    assert lines["a"].startswith("yes,inactive,") and lines["b"].startswith("yes,active,")

    # Batch 3 changes nothing that matters: the status is rewritten, the command does not run.
    drop(drop_dir, "fourth.csv", polls(12, a="inactive", b="active", c="active"))
    watcher.wait_for("status_written")
    assert watcher.stop() == 0
    names = watcher.names()
    assert names.count("status_written") == 3 and names.count("report_written") == 3
    assert names.count("alert_sent") == 2 and "alert_failed" not in names
    assert sent(alerts) == [("down", "b"), ("down", "a"), ("recovered", "b")]
    assert status_lines(status)["c"].split(",")[4] == "2023-01-24 12:00:00"  # last_poll_utc: batch 3's data


def test_a_failing_alert_command_is_logged_and_the_watcher_carries_on(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.sqlite3"
    # --alert-cmd without --status: the status is computed for the alerts, no file is written.
    watcher = start_watcher(drop_dir, db, "--alert-cmd", "echo 'chat webhook: 503' >&2; exit 3")
    drop(drop_dir, "first.csv", polls(10, a="inactive", b="active"))
    failed = watcher.wait_for("alert_failed")
    assert failed["exit_code"] == 3 and failed["error"] == "exited with status 3: chat webhook: 503"
    assert [(e["event"], e["store_id"]) for e in failed["events"]] == [("down", "a")]  # none lost: in the log
    assert failed["level"] == "error"
    # The next batch is imported and compared as usual: b going down is a new event, a is not sent again.
    drop(drop_dir, "second.csv", polls(11, b="inactive"))
    watcher.wait_for("file_imported", path=str(drop_dir / "second.csv"))
    failed = watcher.wait_for("alert_failed")
    assert [(e["event"], e["store_id"]) for e in failed["events"]] == [("down", "b")]
    assert watcher.stop() == 0
    assert "status_written" not in watcher.names() and not list(tmp_path.glob("*.csv"))


def test_sigterm_while_the_alert_command_runs_stops_within_the_grace(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db, started = tmp_path / "w.sqlite3", tmp_path / "command-started"
    watcher = start_watcher(drop_dir, db, "--alert-cmd", f"touch '{started}'; sleep 60")
    drop(drop_dir, "first.csv", polls(10, a="inactive"))
    wait_until(started.exists, 60, "the alert command to start")
    asked = time.monotonic()
    assert watcher.stop() == 0
    assert time.monotonic() - asked < 5 + 15  # the 5 s grace, not the rest of the 30 s timeout
    failed = next(e for e in watcher.events if e["event"] == "alert_failed")
    assert failed["error"] == "still running 5 s after storemon was asked to stop; killed"
    assert [(e["event"], e["store_id"]) for e in failed["events"]] == [("down", "a")]
    assert watcher.names()[-1] == "watch_stopped"


def test_an_unwritable_status_path_is_logged_and_the_alerts_still_go(
    start_watcher, drop_dir: Path, tmp_path: Path
) -> None:
    db, alerts = tmp_path / "w.sqlite3", tmp_path / "alerts.jsonl"
    missing = tmp_path / "missing" / "status.csv"
    watcher = start_watcher(drop_dir, db, "--status", str(missing), "--alert-cmd", f"cat >> '{alerts}'")
    drop(drop_dir, "first.csv", polls(10, a="inactive"))
    failed = watcher.wait_for("status_failed")
    assert failed["path"] == str(missing) and "does not exist" in failed["error"]
    watcher.wait_for("alert_sent")
    assert sent(alerts) == [("down", "a")]
    assert watcher.stop() == 0


def test_alert_and_status_usage_errors(cli, drop_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.sqlite3"
    run = cli("--db", db, "--status", tmp_path / "s.csv", "--alert-cmd", "true")
    assert run.returncode == 2 and "--alert-cmd only apply to --watch" in run.stderr
    run = cli("--db", db, "--watch", drop_dir, "--status", "-")
    assert run.returncode == 2 and "not stdout" in run.stderr
    run = cli("--db", db, "--watch", drop_dir, "--alert-cmd", " ")
    assert run.returncode == 2 and "--alert-cmd needs a command" in run.stderr
    # --prune is a run of its own (from cron beside the watcher), never silently ignored.
    run = cli("--db", db, "--watch", drop_dir, "--prune", "--keep-reports", "5")
    assert run.returncode == 2 and "--watch cannot be combined with" in run.stderr
    run = cli("--db", db, "--check", "--prune", "--keep-reports", "5")
    assert run.returncode == 2 and "--check cannot be combined with" in run.stderr
    assert not db.exists()
