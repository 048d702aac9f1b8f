"""``--alert-cmd CMD``: tell an operator's own command which stores went down or recovered.

After each batch the watcher computes the fleet status (``spec/status.md``)
and compares it with the previous batch's (:func:`alert_events`, a pure
function over status rows). A store is *down* when it is open now and its
status now is ``inactive``; one that is down now but was not is a
``down`` event, one that was and no longer is a ``recovered`` event. The
first batch after start compares with nothing, so every store down then is
a ``down`` event. When there are events, CMD runs once through the shell
with one JSON object per event on stdin (:func:`run_alert_command`): that
is how storemon reaches mail, chat or a pager without knowing any of them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass

StatusRows = Mapping[str, Mapping[str, str]]
"""Status rows by store id; each row maps the status CSV's column names to their text."""

DOWN = "down"
RECOVERED = "recovered"
ALERT_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0
"""Once the watcher is asked to stop, a running command gets this long to finish (a post in flight)."""
_SLICE_S = 0.2


def is_down(row: Mapping[str, str]) -> bool:
    """Open now and inactive now: the one state an operator is paged for."""
    return row.get("open_now") == "yes" and row.get("status_now") == "inactive"


def alert_events(previous: StatusRows | None, current: StatusRows) -> list[dict[str, str]]:
    """The ``down`` and ``recovered`` events between two status tables, by store id.

    ``previous`` is ``None`` for the first batch after start. Each event is
    ``{"event": …, "store_id": …}`` plus the store's current status row (or,
    for a store that has left the table altogether, its last row).
    """
    before = previous or {}
    was_down = {store for store, row in before.items() if is_down(row)}
    now_down = {store for store, row in current.items() if is_down(row)}
    events = []
    for store in sorted(was_down ^ now_down):
        kind = DOWN if store in now_down else RECOVERED
        row = current.get(store) or before[store]
        events.append({"event": kind, "store_id": store, **{k: v for k, v in row.items() if k != "store_id"}})
    return events


def json_lines(events: list[dict[str, str]]) -> bytes:
    """The command's stdin: one JSON object per line."""
    return "".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events).encode("utf-8")


@dataclass(frozen=True)
class AlertResult:
    """How the command went: ``error`` is empty when it exited 0 in time."""

    exit_code: int | None
    seconds: float
    error: str = ""


def run_alert_command(
    command: str,
    events: list[dict[str, str]],
    timeout_s: float = ALERT_TIMEOUT_S,
    *,
    should_stop: Callable[[], bool] | None = None,
    stop_grace_s: float = STOP_GRACE_S,
) -> AlertResult:
    """Run ``command`` through the shell with the events on stdin; never raises.

    It runs in a session of its own so that a timeout kills everything it
    started (``sh -c 'curl …'`` leaves ``curl`` holding the pipes
    otherwise, and waiting for them would hang the watcher). When
    ``should_stop`` turns true (SIGTERM), the command gets ``stop_grace_s``
    more, not the rest of its 30 s: a service manager waits for the watcher.
    Its stdin is an unlinked temporary file, not a pipe: the command reads
    at its own pace, and waiting for it can be sliced (``communicate`` drops
    the rest of its input when it is called again after a timeout).
    """
    started = time.monotonic()
    with tempfile.TemporaryFile() as stdin:
        stdin.write(json_lines(events))
        stdin.seek(0)
        try:
            proc = subprocess.Popen(
                command,
                shell=True,
                stdin=stdin,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return AlertResult(None, time.monotonic() - started, f"cannot start: {exc.strerror or exc}")
    try:
        err, cut_short = _communicate(proc, timeout_s, should_stop, stop_grace_s)
    except BaseException:  # a second Ctrl-C: the command is in a session of its own, the terminal's ^C misses it
        _kill_group(proc)
        raise
    if cut_short:
        _kill_group(proc)
        return AlertResult(None, time.monotonic() - started, cut_short)
    seconds = time.monotonic() - started
    if proc.returncode == 0:
        return AlertResult(0, seconds)
    last = err.decode("utf-8", "replace").strip().splitlines()
    detail = f": {last[-1]}" if last else ""
    return AlertResult(proc.returncode, seconds, f"exited with status {proc.returncode}{detail}")


def _communicate(
    proc: subprocess.Popen[bytes],
    timeout_s: float,
    should_stop: Callable[[], bool] | None,
    stop_grace_s: float,
) -> tuple[bytes, str]:
    """``proc.communicate()`` in slices, so that a stop request is seen at once.

    Returns the command's stderr and ``""``, or ``b""`` and why it must be
    killed (it timed out, or it outlived the grace after a stop request).
    """
    deadline = time.monotonic() + timeout_s
    stop_at: float | None = None
    while True:
        now = time.monotonic()
        if stop_at is None and should_stop is not None and should_stop():
            stop_at = now + stop_grace_s
        if stop_at is not None and now >= stop_at and stop_at < deadline:
            return b"", f"still running {stop_grace_s:g} s after storemon was asked to stop; killed"
        if now >= deadline:
            return b"", f"timed out after {timeout_s:g} s; killed"
        limit = deadline if stop_at is None else min(deadline, stop_at)
        with suppress(subprocess.TimeoutExpired):  # a retry resumes reading stderr where it was
            return proc.communicate(timeout=min(limit - now, _SLICE_S))[1], ""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):  # it ended by itself meanwhile
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


class Alerter:
    """The watcher's memory between batches: the last status table, and the command to tell.

    The state moves on whether or not the command succeeds: a failed
    command's events are logged in full (``alert_failed``) rather than sent
    again with the next batch's, which would page twice for one outage.
    """

    def __init__(
        self, command: str, timeout_s: float = ALERT_TIMEOUT_S, should_stop: Callable[[], bool] | None = None
    ) -> None:
        self.command = command
        self.timeout_s = timeout_s
        self.should_stop = should_stop
        self.previous: StatusRows | None = None

    def after_batch(self, current: StatusRows) -> list[dict[str, str]]:
        """Compare with the previous batch, run the command if anything changed; returns the events."""
        from storemon_tui.headless import log

        events = alert_events(self.previous, current)
        self.previous = current
        if not events:
            return events
        down = sum(e["event"] == DOWN for e in events)
        counts = f"{down} down, {len(events) - down} recovered"
        result = run_alert_command(self.command, events, self.timeout_s, should_stop=self.should_stop)
        if result.error:
            log.error(
                "alert_failed",
                f"storemon: --alert-cmd {result.error} ({counts}; the events are in this log)",
                error=result.error,
                exit_code=result.exit_code,
                seconds=round(result.seconds, 3),
                events=events,
            )
        else:
            log.event(
                "alert_sent",
                f"alert: {counts} sent to --alert-cmd in {result.seconds:.2f} s",
                down=down,
                recovered=len(events) - down,
                seconds=round(result.seconds, 3),
            )
        return events
