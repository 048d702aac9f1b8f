"""The head of an input CSV: is it readable, what kind is it, where do its data start.

Everything here reads a bounded prefix of the file (the header line is at
most :data:`MAX_LINE_BYTES`), so a multi-gigabyte file, or one that is not a
CSV at all, costs the same as a small one. The data records are read by
:mod:`storemon_tui.ingest.segments`, a segment at a time.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from pathlib import Path

from storemon_tui.ingest.kinds import FileKind, HeaderMatch, UnknownHeaderError, detect_kind
from storemon_tui.ingest.problems import FileError

BOM = codecs.BOM_UTF8

MAX_LINE_BYTES = 128 * 1024
"""The longest record (header included), in bytes: 128 KiB. A longer data record is
malformed; a longer header makes the file unreadable. Real rows are under 200 bytes."""

HEAD_BYTES = 64 * 1024
"""How much of a file is read to find its header (and to preview it)."""

_HEAD_LIMIT = len(BOM) + MAX_LINE_BYTES + 2
"""Enough bytes to hold the longest header line with its BOM and CRLF."""


def read_bytes(path: Path, limit: int) -> bytes:
    """The first ``limit`` bytes of the file, or a :class:`FileError` saying why not."""
    try:
        if path.is_dir():
            raise FileError(path, "is a directory, not a CSV file")
        with open(path, "rb") as handle:
            data = handle.read(limit)
    except FileNotFoundError:
        raise FileError(path, "no such file") from None
    except PermissionError:
        raise FileError(path, "permission denied") from None
    except IsADirectoryError:
        raise FileError(path, "is a directory, not a CSV file") from None
    except OSError as exc:
        raise FileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if _NON_SPACE.search(data, len(BOM) if data.startswith(BOM) else 0) is None:
        raise FileError(path, "is empty (expected a header line and data rows)")
    return data


_NON_SPACE = re.compile(rb"\S")


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The file's first ``size`` bytes or, when its header line is longer, enough to hold it."""
    head = read_bytes(path, limit=size)
    if len(head) == size and b"\n" not in head:
        head = read_bytes(path, limit=max(size, _HEAD_LIMIT))
    return head


def utf8_error(path: Path, data: bytes | bytearray, first_line: int = 1) -> FileError | None:
    """A :class:`FileError` naming line and column of the first non-UTF-8 byte of ``data``, if any.

    ``first_line`` is the editor line ``data`` starts on; columns count bytes.
    """
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + data.count(b"\n", 0, exc.start)
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        return FileError(path, f"not UTF-8 text (byte 0x{byte} at column {column}); save the file as UTF-8", line=line)
    return None


def check_utf8(path: Path, data: bytes) -> None:
    """Raise :func:`utf8_error`'s error, if there is one."""
    error = utf8_error(path, data)
    if error is not None:
        raise error


def read_header(path: Path, head: bytes) -> tuple[HeaderMatch, int]:
    """Detect the file's kind from ``head`` (see :func:`read_head`); return the match and
    the byte offset where the data start."""
    body = head[len(BOM) :] if head.startswith(BOM) else head
    end = body.find(b"\n")
    first = body if end < 0 else body[:end]
    if len(first.rstrip(b"\r")) > MAX_LINE_BYTES:
        raise FileError(
            path, f"the header line is longer than {MAX_LINE_BYTES:,} bytes (128 KiB); is this a storemon CSV?", line=1
        )
    error = utf8_error(path, first)
    if error is not None:
        raise error
    text = first.decode("utf-8").rstrip("\r")
    if "\r" in text:
        raise FileError(
            path, "lines end in a bare CR (old Mac format); save the file with LF or CRLF line ends", line=1
        )
    header = next(csv.reader([text]), [])
    try:
        match = detect_kind(header)
    except UnknownHeaderError as exc:
        raise FileError(path, str(exc), line=1) from None
    offset = len(head) - len(body) + (len(body) if end < 0 else end + 1)
    return match, offset


def file_kind(path: Path) -> FileKind | None:
    """The kind of file its header says, or ``None`` when the file cannot be read as one.

    Cheap (the head of the file); reading the file properly reports why it failed.
    """
    try:
        return read_header(path, read_head(path))[0].kind
    except FileError:
        return None


def file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
