"""``--log-format``: the headless CLI's stderr as plain lines or as one JSON object per line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.headless.watch_helpers import POLLS_HEADER, check_json_lines, poll_rows


def test_import_and_export_log_one_json_object_per_line(cli, tmp_path: Path) -> None:
    good = tmp_path / "polls.csv"
    good.write_text(POLLS_HEADER + poll_rows(3))
    bad = tmp_path / "bad.csv"
    bad.write_text(POLLS_HEADER + "s1,yesterday,active\n")
    db = tmp_path / "j.sqlite3"
    run = cli("--db", db, "--import", good, "--export", tmp_path / "r.csv", "--log-format", "json")
    assert run.returncode == 0, run.stderr
    lines = run.stderr.splitlines()
    check_json_lines(lines)
    imported, written = (json.loads(line) for line in lines)
    assert imported["event"] == "file_imported" and imported["level"] == "info"
    assert (imported["path"], imported["kind"], imported["rows_read"], imported["inserted"]) == (
        str(good),
        "polls",
        3,
        3,
    )
    assert imported["message"].startswith(f"{good}: polls, 3 rows read, 3 inserted")
    assert (
        written["event"] == "report_written" and written["stores"] == 3 and written["path"] == str(tmp_path / "r.csv")
    )

    failed = cli("--db", db, "--import", bad, "--export", tmp_path / "r.csv", "--log-format", "json")
    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    check_json_lines(lines)
    entries = [json.loads(line) for line in lines]
    assert [(e["event"], e["level"]) for e in entries] == [("file_failed", "error"), ("export_skipped", "error")]
    assert entries[0]["path"] == str(bad) and "yesterday" in entries[0]["error"]

    missing = cli("--db", tmp_path / "nowhere" / "x.sqlite3", "--export", "-", "--log-format", "json")
    assert missing.returncode == 1 and missing.stdout == ""
    (entry,) = (json.loads(line) for line in missing.stderr.splitlines())
    assert entry["event"] == "failed" and "does not exist" in entry["error"]


def test_the_text_format_is_the_plain_lines(cli, tmp_path: Path) -> None:
    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS_HEADER + poll_rows(2))
    run = cli("--db", tmp_path / "t.sqlite3", "--import", polls, "--export", "-")
    assert run.returncode == 0
    first, second = run.stderr.splitlines()
    assert first.startswith(f"{polls}: polls, 2 rows read, 2 inserted")
    assert second.startswith("report ") and " 2 stores written to stdout in " in second


def test_no_progress_bar_in_the_json_stream_even_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal the text format shows progress (carriage returns); JSON never does."""
    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS_HEADER + "".join(f"p{i},2023-01-22 10:00:00 UTC,active\n" for i in range(200_000)))
    outputs = {}
    for fmt in ("text", "json"):
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "storemon_tui", "--db", str(tmp_path / f"{fmt}.sqlite3"), "--import", str(polls)]
            + ["--log-format", fmt],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            env={**os.environ, "STOREMON_DATA_DIR": str(tmp_path / "data")},
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert proc.wait(timeout=120) == 0
        outputs[fmt] = b"".join(chunks).decode()
    assert "importing " in outputs["text"] and "\r" in outputs["text"].replace("\r\n", "")
    json_lines = outputs["json"].replace("\r\n", "\n").splitlines()
    check_json_lines(json_lines)
    assert [json.loads(line)["event"] for line in json_lines] == ["file_imported"]


# -- usage errors and an early Ctrl-C are events too ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "error"),
    [
        # Wrong after parsing: a malformed --as-of (the audit's example).
        (["--log-format", "json", "--as-of", "bogus", "--export", "-"], "--as-of 'bogus': "),
        # Wrong while parsing, before --log-format is even reached; `--log-format=json` spelling.
        (["--bogus", "--log-format=json"], "unrecognized arguments: --bogus"),
        # An abbreviation argparse accepts as --log-format, after a bad value of another flag.
        (["--prune", "--keep-days", "x", "--log", "json"], "--keep-days: expected a whole number"),
        # A combination refused by the unattended flags' own checks.
        (["--log-format", "json", "--watch", "inbox", "--import", "x.csv"], "--watch cannot be combined"),
    ],
    ids=["as-of", "unrecognized", "abbreviated", "combination"],
)
def test_a_usage_error_is_one_json_event_with_log_format_json(invoke, tmp_path: Path, args, error) -> None:
    code, out, err = invoke("--db", tmp_path / "x.sqlite3", *args)
    assert (code, out) == (2, "")
    lines = err.splitlines()
    check_json_lines(lines)
    (entry,) = (json.loads(line) for line in lines)
    assert (entry["event"], entry["level"]) == ("usage_error", "error")
    assert error in entry["error"]
    assert entry["message"] == f"storemon: error: {entry['error']}"
    assert not (tmp_path / "x.sqlite3").exists()


def test_a_usage_error_without_log_format_json_stays_argparse_text(invoke, tmp_path: Path) -> None:
    """The default, and a --log-format that is itself wrong: argparse's usage and message, as always."""
    for args in (["--as-of", "bogus", "--export", "-"], ["--log-format", "yaml", "--export", "-"]):
        code, out, err = invoke("--db", tmp_path / "x.sqlite3", *args)
        assert (code, out) == (2, "")
        assert err.startswith("usage: storemon") and "storemon: error: " in err


def test_a_usage_error_from_the_real_process_exits_2_with_one_json_line(cli, tmp_path: Path) -> None:
    run = cli("--db", tmp_path / "x.sqlite3", "--log-format", "json", "--as-of", "bogus", "--export", "-")
    assert (run.returncode, run.stdout) == (2, "")
    lines = run.stderr.splitlines()
    check_json_lines(lines)
    (entry,) = (json.loads(line) for line in lines)
    assert entry["event"] == "usage_error" and "--as-of 'bogus'" in entry["error"]


def test_the_app_without_a_terminal_is_a_json_usage_error_too(cli_env: dict[str, str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "storemon_tui", "--db", str(tmp_path / "x.sqlite3"), "--log-format", "json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (2, "")
    lines = done.stderr.splitlines()
    check_json_lines(lines)
    (entry,) = (json.loads(line) for line in lines)
    assert (entry["event"], entry["level"]) == ("usage_error", "error")
    assert entry["message"].startswith("storemon: the app needs a terminal")


PRESS_CTRL_C_WHILE_PARSING = (
    "import signal, sys\n"
    "import storemon_tui.cli as cli\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if tests run in background\n"
    "build = cli.build_parser\n"
    "def pressed_while_parsing():\n"
    "    signal.raise_signal(signal.SIGINT)\n"
    "    return build()\n"
    "cli.build_parser = pressed_while_parsing\n"
    "cli.entry_point()\n"
)
"""The real entry point, with a Ctrl-C pressed at a known moment of argument parsing."""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_ctrl_c_while_parsing_the_arguments_is_an_interrupted_event(
    cli_env: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    """``--check`` raises the held Ctrl-C before it starts, so it reaches the entry point's own handler."""
    done = subprocess.run(
        [sys.executable, "-c", PRESS_CTRL_C_WHILE_PARSING, "--db", str(tmp_path / "x.sqlite3"), "--check"]
        + ["--log-format", fmt],
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (130, ""), done.stderr
    if fmt == "text":
        assert done.stderr == "storemon: interrupted\n"
        return
    lines = done.stderr.splitlines()
    check_json_lines(lines)
    (entry,) = (json.loads(line) for line in lines)
    assert (entry["event"], entry["level"], entry["message"]) == ("interrupted", "error", "storemon: interrupted")
