"""A real ``storemon --watch`` process for tests, read through its JSON log.

Tests wait on what the watcher says (``wait_for("file_imported")``) or on
files appearing, each with a timeout, never on fixed sleeps: the machine
is shared and slow moments must not turn into failures. Every stderr line
must be a JSON object with ``ts``, ``level`` and ``event``; :meth:`stop`
checks that for every line the process printed.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

POLLS_HEADER = "store_id,timestamp_utc,status\n"
REQUIRED_KEYS = {"ts", "level", "event", "message"}

FAST = {
    "STOREMON_WATCH_STABLE_S": "2",
    "STOREMON_WATCH_BATCH_S": "1",
    "STOREMON_WATCH_POLL_S": "0.2",
    "STOREMON_WATCH_RETRY_S": "0.5",
}
"""Timings for tests: the documented stable time, a shorter batch window and back-off."""


class WatcherProcess:
    """``python -m storemon_tui --watch FOLDER --db DB --log-format json ARGS`` and its parsed log."""

    def __init__(self, folder: Path, db: Path | str, *args: str, env: dict[str, str]) -> None:
        command = [
            sys.executable,
            "-m",
            "storemon_tui",
            "--db",
            str(db),
            "--watch",
            str(folder),
            "--log-format",
            "json",
        ]
        self.proc = subprocess.Popen(
            [*command, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.lines: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"event": "<not json>", "line": line}
            self._queue.put(entry)
        self._queue.put(None)

    def wait_for(self, event: str, timeout: float = 30, **fields: Any) -> dict[str, Any]:
        """The next logged ``event`` whose fields match ``fields``; fail (with the log) after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                entry = self._queue.get(timeout=max(remaining, 0.01)) if remaining > 0 else None
            except queue.Empty:
                entry = None
            if entry is None:
                self.kill()
                pytest.fail(f"no {event!r} {fields or ''} within {timeout} s; log:\n{''.join(self.lines)}")
            self.events.append(entry)
            if entry.get("event") == event and all(entry.get(k) == v for k, v in fields.items()):
                return entry

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send ``sig``, wait for the exit, check every log line; returns the exit status."""
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"watcher did not stop within {timeout} s; log:\n{''.join(self.lines)}")
        self._reader.join(timeout=10)
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                break
            if entry is not None:
                self.events.append(entry)
        check_json_lines(self.lines)
        return code

    def names(self) -> list[str]:
        return [e.get("event", "") for e in self.events]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def check_json_lines(lines: list[str]) -> None:
    """Every line is one JSON object with the required keys and an ISO 8601 UTC ``ts``."""
    assert lines, "the watcher logged nothing"
    for line in lines:
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        assert entry.keys() >= REQUIRED_KEYS, line
        assert entry["level"] in {"info", "warning", "error"}, line
        assert entry["ts"].endswith("Z") and datetime.fromisoformat(entry["ts"]).utcoffset() is not None, line


def drop(folder: Path, name: str, content: str) -> Path:
    """Write a file beside the folder, then rename it in (complete at once, as a well-behaved sender does)."""
    staging = folder.parent / f"staging-{name}"
    staging.write_text(content, encoding="utf-8")
    target = folder / name
    os.rename(staging, target)
    return target


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def poll_rows(n: int, *, start_hour: int = 0, store: str = "s", status: str = "active") -> str:
    """``n`` polls lines: stores ``s0..``, one poll each, distinct keys."""
    return "".join(f"{store}{i},2023-01-22 {start_hour:02d}:{i % 60:02d}:00 UTC,{status}\n" for i in range(n))


def count_polls(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT (SELECT count(*) FROM poll) + (SELECT count(*) FROM poll_recent)").fetchone()[0]
        )
