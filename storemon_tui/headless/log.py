"""Structured logs for the headless modes: every stderr line is one logging event.

Why the standard :mod:`logging` module: a log collector wants one JSON
object per line (``--log-format json``), a person at a terminal wants the
plain lines storemon has always printed (``text``, the default), and
``logging`` gives both from one call site with no new dependency. Each
event has a stable name (``event``) and typed fields, so a collector can
alert on ``file_rejected`` without parsing English.

Progress bars are not log events: they go to a terminal only, never into a
log stream (see :func:`progress_allowed`).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from storemon_tui.safe_text import visible_lines

LOGGER_NAME = "storemon"
FORMATS = ("text", "json")

_log = logging.getLogger(LOGGER_NAME)
_format = "text"


class TextFormatter(logging.Formatter):
    """The line a person reads: the message alone, as storemon printed it before logging existed.

    File names and values in it come from outside: shown escaped (``safe_text``), never raw to a terminal.
    """

    def format(self, record: logging.LogRecord) -> str:
        return visible_lines(record.getMessage())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (ISO 8601 UTC), ``level``, ``event``, ``message`` and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "ts": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "message"),
            "message": record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry.setdefault(key, value)
        # ASCII: exact for a collector, and no control or bidi character reaches a terminal tailing the log.
        return json.dumps(entry, ensure_ascii=True, default=str)


def configure(log_format: str = "text", stream: TextIO | None = None) -> None:
    """Send storemon's events to ``stream`` (stderr) in ``log_format``; replaces any earlier set-up.

    The stream is looked up at emit time when not given, so a test that
    swaps ``sys.stderr`` (pytest's capsys) still sees the lines.
    """
    global _format
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r}: choose from {', '.join(FORMATS)}")
    _format = log_format
    handler = _StderrHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    for old in list(_log.handlers):
        _log.removeHandler(old)
    _log.addHandler(handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False


def json_logs() -> bool:
    return _format == "json"


def progress_allowed(stream: TextIO) -> bool:
    """Progress bars only on a terminal, and never interleaved with JSON lines."""
    return not json_logs() and stream.isatty()


def event(name: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event: ``message`` is the text line, ``fields`` the JSON line's extra keys."""
    if not _log.handlers:
        configure()
    _log.log(level, "%s", message, extra={"event": name, "fields": fields})


def error(name: str, message: str, **fields: Any) -> None:
    event(name, message, level=logging.ERROR, **fields)


def warning(name: str, message: str, **fields: Any) -> None:
    event(name, message, level=logging.WARNING, **fields)


class _StderrHandler(logging.StreamHandler):
    """A stream handler that writes to the current ``sys.stderr`` unless given a stream."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        if self._fixed is None:
            self.stream = sys.stderr
        super().emit(record)
