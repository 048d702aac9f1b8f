"""Untrusted text on the command line: shown escaped on stderr, never raw; the data itself kept byte for byte."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest


def test_import_summary_and_export_show_hostile_ids_escaped(
    cli, hostile_polls: Path, hostile_shown: dict[str, str], terminal_safe, tmp_path: Path, db_target: str
) -> None:
    """On both back ends: the terminal sees the ids escaped, the database and the export keep them exact."""
    report = tmp_path / "report.csv"
    run = cli("--db", db_target, "--import", hostile_polls, "--export", report)
    assert run.returncode == 0, run.stderr
    terminal_safe(run.stderr)
    assert "polls\\x1b[2J\\x07.csv: polls, 8 rows read" in run.stderr  # the file name, escaped
    with open(report, encoding="utf-8", newline="") as handle:  # the data itself is not escaped
        exported = [row[0] for row in csv.reader(handle)][1:]
    assert sorted(exported) == sorted(hostile_shown)


def test_problem_lines_show_hostile_values_escaped(
    cli, tmp_path: Path, hostile_shown: dict[str, str], terminal_safe
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["store_id", "timestamp_utc", "status", "x\x1b]0;col\x07"])
    for index, value in enumerate(hostile_shown):
        writer.writerow(["s1", f"2023-01-22 12:0{index}:00 UTC", value, ""])
    writer.writerow(["s1", "2023-01-22 13:00:00 UTC", "line\nfeed", ""])
    bad = tmp_path / "bad\x1b]52;c;eA==\x07.csv"
    bad.write_text(out.getvalue(), encoding="utf-8", newline="")
    run = cli("--db", tmp_path / "x.sqlite3", "--import", bad)
    assert run.returncode == 1
    terminal_safe(run.stderr)
    assert "bad\\x1b]52;c;eA==\\x07.csv:2: column 'status': value '\\x1b[2J'" in run.stderr
    for shown in hostile_shown.values():
        assert f"value '{shown}'" in run.stderr
    assert "value 'line\\x0afeed'" in run.stderr  # a line feed in a value does not start a fake line


def test_a_missing_file_and_an_unknown_argument_are_shown_escaped(cli, tmp_path: Path, terminal_safe) -> None:
    missing = cli("--db", tmp_path / "x.sqlite3", "--import", tmp_path / "gone\x1b[2J.csv")
    assert missing.returncode == 1
    terminal_safe(missing.stderr)
    assert "gone\\x1b[2J.csv" in missing.stderr
    usage = cli("--db", tmp_path / "x.sqlite3", "--bogus\x1b]0;t\x07")
    assert usage.returncode == 2
    terminal_safe(usage.stderr)
    assert "--bogus\\x1b]0;t\\x07" in usage.stderr


def test_a_database_path_with_escapes_is_shown_escaped(cli, tmp_path: Path, hostile_polls: Path, terminal_safe) -> None:
    run = cli("--db", tmp_path / "db\x1b[2J.sqlite3", "--import", hostile_polls, "--export", tmp_path / "r\x07.csv")
    assert run.returncode == 0, run.stderr
    terminal_safe(run.stderr)
    assert "written to " in run.stderr and "r\\x07.csv" in run.stderr


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_lines_of_the_headless_modes_are_terminal_safe(log_format: str, terminal_safe) -> None:
    import json

    from storemon_tui.headless import log

    stream = io.StringIO()
    log.configure(log_format, stream)
    try:
        log.event("file_rejected", "drop/polls\x1b]52;c;eA==\x07\u202e.csv: rejected", file="polls\x1b[2J\x9b.csv")
    finally:
        log.configure("text")
    line = stream.getvalue()
    terminal_safe(line)
    if log_format == "json":
        entry = json.loads(line)  # exact for a collector
        assert entry["message"] == "drop/polls\x1b]52;c;eA==\x07\u202e.csv: rejected"
        assert entry["file"] == "polls\x1b[2J\x9b.csv"
    else:
        assert line == "drop/polls\\x1b]52;c;eA==\\x07\\u202e.csv: rejected\n"


def test_export_to_a_terminal_shows_ids_escaped(cli_env: dict[str, str], hostile_polls: Path, tmp_path: Path) -> None:
    """A file gets the ids byte for byte; a terminal (``--export -`` on a tty) gets them escaped like any text."""
    import os
    import pty
    import subprocess
    import sys

    db = tmp_path / "x.sqlite3"
    run = [sys.executable, "-m", "storemon_tui", "--db", str(db)]
    subprocess.run([*run, "--import", str(hostile_polls)], check=True, capture_output=True, env=cli_env, timeout=120)
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [*run, "--export", "-"], stdout=terminal, stderr=subprocess.PIPE, env=cli_env, timeout=120
        )
        os.close(terminal)
        shown = b""
        while chunk := _read_or_eof(controller):
            shown += chunk
    finally:
        os.close(controller)
    assert done.returncode == 0, done.stderr
    text = shown.decode()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b]52;c;cHduZWQ=\\x07" in text and "abc\\u202etxt" in text


def _read_or_eof(fd: int) -> bytes:
    import os

    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the terminal's other side is closed
        return b""
