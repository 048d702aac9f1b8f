"""Alerts: the down/recovered diff over hand-built status rows, and running the operator's command."""

from __future__ import annotations

import json
import time
from pathlib import Path

from storemon_tui.headless.alerts import alert_events, run_alert_command


def row(store: str, open_now: str, status_now: str, since: str = "2023-01-25 10:00:00") -> dict[str, str]:
    return {
        "store_id": store,
        "open_now": open_now,
        "status_now": status_now,
        "since_utc": since,
        "run_business_hours": "1.50",
        "last_poll_utc": "2023-01-25 11:20:00",
        "silent_hours": "0.17",
        "uptime_pct_last_week": "97.20",
        "uptime_pct_previous_week": "",
    }


def table(*rows: dict[str, str]) -> dict[str, dict[str, str]]:
    return {r["store_id"]: r for r in rows}


def test_the_first_batch_reports_every_store_down_now() -> None:
    current = table(
        row("b", "yes", "inactive"),
        row("a", "yes", "inactive"),
        row("c", "no", "inactive"),  # closed: not down, whatever its last poll said
        row("d", "yes", "active"),
        row("e", "yes", "none"),  # no evidence: not known to be down
    )
    events = alert_events(None, current)
    assert [(e["event"], e["store_id"]) for e in events] == [("down", "a"), ("down", "b")]
    assert events[0] == {"event": "down", **row("a", "yes", "inactive")}
    assert list(events[0])[:2] == ["event", "store_id"]


def test_a_store_going_down_and_one_recovering() -> None:
    previous = table(row("a", "yes", "active"), row("b", "yes", "inactive"), row("c", "yes", "inactive"))
    current = table(
        row("a", "yes", "inactive", since="2023-01-25 11:00:00"),  # went down
        row("b", "yes", "active"),  # recovered
        row("c", "yes", "inactive"),  # still down: no event again
    )
    events = alert_events(previous, current)
    assert [(e["event"], e["store_id"]) for e in events] == [("down", "a"), ("recovered", "b")]
    assert events[0]["since_utc"] == "2023-01-25 11:00:00"
    assert events[1]["status_now"] == "active"


def test_closing_time_recovers_and_nothing_changed_is_silent() -> None:
    previous = table(row("a", "yes", "inactive"), row("gone", "yes", "inactive"))
    current = table(row("a", "no", "inactive"))  # closed for the night; "gone" left the table (data cleared)
    events = alert_events(previous, current)
    assert [(e["event"], e["store_id"]) for e in events] == [("recovered", "a"), ("recovered", "gone")]
    assert events[1]["open_now"] == "yes"  # its last known row
    assert alert_events(current, current) == []


def test_the_command_gets_one_json_object_per_line_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "alerts.jsonl"
    events = alert_events(None, table(row("a", "yes", "inactive"), row("é\x1b", "yes", "inactive")))
    result = run_alert_command(f"cat > '{out}'", events)
    assert result.error == "" and result.exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == events


def test_a_failing_command_is_reported_not_raised(tmp_path: Path) -> None:
    result = run_alert_command("echo 'smtp: connection refused' >&2; exit 3", [{"event": "down", "store_id": "a"}])
    assert (result.exit_code, result.error) == (3, "exited with status 3: smtp: connection refused")
    missing = run_alert_command("/nonexistent/notify-pager", [{"event": "down", "store_id": "a"}])
    assert missing.exit_code == 127 and missing.error.startswith("exited with status 127")


def test_a_slow_command_is_killed_with_everything_it_started(tmp_path: Path) -> None:
    started = time.monotonic()
    # The shell starts a child that would hold stdout/stderr open for a minute.
    result = run_alert_command("sleep 60 & sleep 60", [{"event": "down", "store_id": "a"}], timeout_s=0.5)
    assert result.exit_code is None and result.error == "timed out after 0.5 s; killed"
    assert time.monotonic() - started < 20


def test_a_stop_request_cuts_the_wait_to_the_grace(tmp_path: Path) -> None:
    """SIGTERM while a command runs: it gets the grace, not the rest of its 30 s; a quick one finishes."""
    out = tmp_path / "out.jsonl"
    events = [{"event": "down", "store_id": "a"}] * 3000  # more than a pipe holds (~100 KB)
    stop_at = time.monotonic() + 0.3
    started = time.monotonic()
    result = run_alert_command(
        "sleep 60 & sleep 60", events, should_stop=lambda: time.monotonic() > stop_at, stop_grace_s=0.5
    )
    assert result.exit_code is None
    assert result.error == "still running 0.5 s after storemon was asked to stop; killed"
    assert time.monotonic() - started < 20
    quick = run_alert_command(f"sleep 0.3; cat > '{out}'", events, should_stop=lambda: True, stop_grace_s=10)
    assert quick == type(quick)(0, quick.seconds)
    assert len(out.read_text().splitlines()) == 3000  # every line, through the sliced exchange


def test_the_alerter_remembers_between_batches_and_survives_a_failing_command(tmp_path: Path, capsys) -> None:
    from storemon_tui.headless import log
    from storemon_tui.headless.alerts import Alerter

    log.configure("json")
    out = tmp_path / "alerts.jsonl"
    alerter = Alerter(f"cat >> '{out}'")
    first = table(row("a", "yes", "inactive"), row("b", "yes", "active"))
    assert [e["store_id"] for e in alerter.after_batch(first)] == ["a"]  # first batch: everything down now
    assert alerter.after_batch(first) == []  # nothing changed: the command does not run
    second = table(row("a", "yes", "active"), row("b", "yes", "inactive"))
    assert [(e["event"], e["store_id"]) for e in alerter.after_batch(second)] == [("recovered", "a"), ("down", "b")]
    sent = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["event"], e["store_id"]) for e in sent] == [("down", "a"), ("recovered", "a"), ("down", "b")]

    alerter.command = "exit 7"
    third = table(row("a", "yes", "inactive"), row("b", "yes", "inactive"))
    assert [e["store_id"] for e in alerter.after_batch(third)] == ["a"]
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [e["event"] for e in logged] == ["alert_sent", "alert_sent", "alert_failed"]
    assert logged[-1]["exit_code"] == 7 and logged[-1]["events"][0]["store_id"] == "a"
    assert alerter.after_batch(third) == []  # not sent again: it is in the log
