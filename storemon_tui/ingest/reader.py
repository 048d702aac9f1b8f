"""Reading an input CSV into string columns, fast when clean, exact when not.

The fast path hands the bytes to Arrow's multi-threaded CSV reader. Arrow
cannot tell us editor line numbers, so whenever anything is wrong with a
file the *exact path* re-reads it with Python's ``csv`` module, which knows
the line each record starts on. Both paths produce the same
:class:`RawTable`; validation then runs identically on either.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from storemon_tui.ingest.kinds import FileKind, HeaderMatch, UnknownHeaderError, detect_kind
from storemon_tui.ingest.problems import FileError, Problem

BOM = codecs.BOM_UTF8

# Columns with few distinct values are read dictionary-encoded: cheaper to hold
# and to parse once per distinct value.
_DICTIONARY_COLUMNS = {"store_id", "status", "dayOfWeek", "start_time_local", "end_time_local", "timezone_str"}


@dataclass
class RawTable:
    """An input file's rows as string columns, keyed by canonical column name."""

    path: Path
    match: HeaderMatch
    columns: dict[str, pa.Array | pa.ChunkedArray]
    n_rows: int
    lines: np.ndarray | None = None
    """1-based starting line of each row (exact path only)."""
    record_numbers: np.ndarray | None = None
    """Index of each row among all data records (exact path only), to fetch it verbatim."""
    structural: list[tuple[int, Problem]] = field(default_factory=list)
    """(record number, problem) for records with the wrong number of fields."""

    @property
    def kind(self) -> FileKind:
        return self.match.kind

    @property
    def exact(self) -> bool:
        return self.lines is not None


HEAD_BYTES = 64 * 1024
"""How much of a file is read to find its header (and to preview it)."""

KIND_BYTES = 1024 * 1024
"""How far :func:`file_kind` looks for the end of an unusually long header line."""


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The whole file (or its first ``limit`` bytes), or a :class:`FileError` saying why not."""
    try:
        if path.is_dir():
            raise FileError(path, "is a directory, not a CSV file")
        with open(path, "rb") as handle:
            data = handle.read() if limit is None else handle.read(limit)
    except FileNotFoundError:
        raise FileError(path, "no such file") from None
    except PermissionError:
        raise FileError(path, "permission denied") from None
    except IsADirectoryError:
        raise FileError(path, "is a directory, not a CSV file") from None
    except OSError as exc:
        raise FileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not _has_content(data, len(BOM) if data.startswith(BOM) else 0):
        raise FileError(path, "is empty (expected a header line and data rows)")
    return data


_NON_SPACE = re.compile(rb"\S")


def _has_content(data: bytes, offset: int) -> bool:
    """Is there anything but whitespace after ``offset``? (No 130 MB copy.)"""
    return _NON_SPACE.search(data, offset) is not None


def check_utf8(path: Path, data: bytes) -> None:
    """Raise a :class:`FileError` naming line and column of the first non-UTF-8 byte."""
    try:
        codecs.decode(data, "utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise FileError(
            path, f"not UTF-8 text (byte 0x{byte} at column {column}); save the file as UTF-8", line=line
        ) from None


def read_header(path: Path, data: bytes) -> tuple[HeaderMatch, int]:
    """Detect the file's kind; return the match and the byte offset after the header."""
    body = data[len(BOM) :] if data.startswith(BOM) else data
    end = body.find(b"\n")
    first = body if end < 0 else body[:end]
    try:
        text = first.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        check_utf8(path, data)
        raise
    if "\r" in text:
        raise FileError(
            path, "lines end in a bare CR (old Mac format); save the file with LF or CRLF line ends", line=1
        )
    header = next(csv.reader([text]), [])
    try:
        match = detect_kind(header)
    except UnknownHeaderError as exc:
        raise FileError(path, str(exc), line=1) from None
    offset = len(data) - len(body) + (len(body) if end < 0 else end + 1)
    return match, offset


def file_kind(path: Path) -> FileKind | None:
    """The kind of file its header says, or ``None`` when the file cannot be read as one.

    Cheap (the first 64 KiB, like :func:`read_table`); reading the file
    properly reports why it failed.
    """
    try:
        head = _read_head(path, limit=KIND_BYTES)
        if len(head) == KIND_BYTES and b"\n" not in head:
            return None  # no line end in the first MiB: the full read will say what is wrong
        return read_header(path, head)[0].kind
    except (FileError, UnicodeDecodeError):
        return None


def _read_head(path: Path, limit: int | None = None) -> bytes:
    """The file's first 64 KiB or, when the header line is longer, up to ``limit`` bytes (``None``: all)."""
    head = read_bytes(path, limit=HEAD_BYTES)
    if len(head) == HEAD_BYTES and b"\n" not in head:
        head = read_bytes(path, limit=limit)
    return head


def read_table(path: Path, *, force_exact: bool = False) -> RawTable:
    """Read ``path`` into a :class:`RawTable` (fast path unless something is off).

    The fast path reads only the head of the file itself (for the header) and
    lets Arrow read the rest straight from disk: no 130 MB copy in Python.
    """
    head = _read_head(path)
    match, offset = read_header(path, head)
    if not _has_content(head, offset) and file_size(path) <= len(head):
        raise FileError(path, "has a header but no data rows")
    if not force_exact:
        table = _read_fast(path, match)
        if table is not None:
            return table
    data = read_bytes(path)
    check_utf8(path, data)
    return _read_exact(path, data, match, offset)


_LF, _CR = 0x0A, 0x0D


def with_line_numbers(table: RawTable) -> RawTable | None:
    """``table`` (read by Arrow) with every row's editor line number, or ``None`` if unsure.

    When Arrow read a file cleanly (``newlines_in_values=False``, no invalid
    rows), each row is one physical line and only empty lines were skipped,
    so row ``i`` is on the ``i``-th non-empty line after the header. Finding
    those takes one pass of numpy over the bytes: a 2 M-row file with one bad
    value no longer needs the line-exact re-read (Python's ``csv`` module,
    ~35 s and ~2 GB there). Files with bare CR line ends, where editors and
    this count could disagree, return ``None``: the caller re-reads exactly.
    """
    if table.exact or table.structural:
        return table
    head = _read_head(table.path)
    _, offset = read_header(table.path, head)
    if file_size(table.path) <= offset:
        return None  # nothing after the header
    header_lines = head[:offset].count(b"\n")
    data = np.memmap(table.path, dtype=np.uint8, mode="r", offset=offset)
    last = len(data) - 1
    carriage_returns = np.flatnonzero(data == _CR)
    if not (data[np.minimum(carriage_returns + 1, last)] == _LF).all():
        return None
    ends = np.flatnonzero(data == _LF)
    if len(ends) == 0 or ends[-1] != last:
        ends = np.append(ends, len(data))  # a last line without a line end
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    empty = (lengths == 0) | ((lengths == 1) & (data[np.minimum(starts, last)] == _CR))
    nonempty = np.flatnonzero(~empty)
    if len(nonempty) != table.n_rows:
        return None  # not one row per line after all
    if not _quoting_is_strict(data, starts, ends, len(table.match.header)):
        return None
    return RawTable(
        path=table.path,
        match=table.match,
        columns=table.columns,
        n_rows=table.n_rows,
        lines=nonempty + header_lines + 1,
        record_numbers=np.arange(table.n_rows),
    )


def _read_fast(path: Path, match: HeaderMatch) -> RawTable | None:
    """Arrow's reader; ``None`` when the file has structural problems or bad UTF-8."""
    width = len(match.header)
    names = [f"c{i}" for i in range(width)]
    wanted = {f"c{pos}": canonical for canonical, pos in match.positions.items()}
    invalid_rows = 0

    def on_invalid(_row: object) -> str:
        nonlocal invalid_rows
        invalid_rows += 1
        return "skip"

    types = {
        name: pa.dictionary(pa.int32(), pa.string()) if canonical in _DICTIONARY_COLUMNS else pa.string()
        for name, canonical in wanted.items()
    }
    try:
        table = pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                include_columns=list(wanted),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    if invalid_rows:
        return None
    columns = {}
    for name, canonical in wanted.items():
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            columns[canonical] = column.unify_dictionaries().combine_chunks()
        else:
            columns[canonical] = column  # chunked: compute kernels work per chunk, no copy
    return RawTable(path=path, match=match, columns=columns, n_rows=table.num_rows)


def _read_exact(path: Path, data: bytes, match: HeaderMatch, offset: int) -> RawTable:
    """Python's ``csv`` module: slower, but knows every record's starting line."""
    width = len(match.header)
    wanted = list(match.positions.items())
    values: dict[str, list[str]] = {canonical: [] for canonical, _ in wanted}
    lines: list[int] = []
    record_numbers: list[int] = []
    structural: list[tuple[int, Problem]] = []
    header_lines = data[:offset].count(b"\n")
    text = data[offset:].decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    previous_end = 0
    record = -1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            record += 1
            line = previous_end + 1 + header_lines
            structural.append((record, Problem(line, None, None, f"malformed CSV ({exc})")))
            break
        start = previous_end + 1 + header_lines
        previous_end = reader.line_num
        if not row:
            continue  # blank line
        record += 1
        if len(row) != width:
            structural.append((record, _wrong_width(match, row, start)))
            continue
        lines.append(start)
        record_numbers.append(record)
        for canonical, pos in wanted:
            values[canonical].append(row[pos])
    columns = {canonical: pa.array(column, type=pa.string()) for canonical, column in values.items()}
    return RawTable(
        path=path,
        match=match,
        columns=columns,
        n_rows=len(lines),
        lines=np.asarray(lines, dtype=np.int64),
        record_numbers=np.asarray(record_numbers, dtype=np.int64),
        structural=structural,
    )


def _wrong_width(match: HeaderMatch, row: list[str], line: int) -> Problem:
    width = len(match.header)
    found = f"line has {len(row)} field(s), the header has {width}"
    if len(row) > width:
        return Problem(line, None, None, f"too many fields: {found}")
    missing = [c for c, pos in match.positions.items() if pos >= len(row)]
    column = missing[0] if missing else match.header[len(row)]
    return Problem(line, column, None, f"missing value: {found} (truncated line?)")


def fetch_records(path: Path, record_numbers: set[int]) -> dict[int, list[str]]:
    """The given data records verbatim (field by field), for the rejects file."""
    data = read_bytes(path)
    _, offset = read_header(path, data)
    found: dict[int, list[str]] = {}
    reader = csv.reader(io.StringIO(data[offset:].decode("utf-8"), newline=""))
    record = -1
    try:
        for row in reader:
            if not row:
                continue
            record += 1
            if record in record_numbers:
                found[record] = row
                if len(found) == len(record_numbers):
                    break
    except csv.Error:
        pass
    return found


def _quoting_is_strict(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> bool:
    """Do the lines with quotes parse under the exact reader's strict rules?

    Arrow is lenient with malformed quoting (``"a"x``, a quote left open at
    the end of the file) where the exact reader reports the record as
    malformed. Only lines containing a quote can differ; they are re-parsed
    with the ``csv`` module (rare in exports, ~1 µs a line when every field is quoted).
    """
    quotes = np.flatnonzero(data == 0x22)
    if len(quotes) == 0:
        return True
    lines = np.unique(np.searchsorted(ends, quotes))
    texts = (bytes(data[starts[i] : ends[i]]).decode("utf-8").rstrip("\r") for i in lines.tolist())
    try:
        return all(len(fields) in (0, width) for fields in csv.reader(texts, strict=True))
    except csv.Error:
        return False


def fetch_lines(path: Path, line_numbers: set[int]) -> dict[int, list[str]]:
    """The given lines (1-based), each parsed as one CSV record, in one streaming pass."""
    found: dict[int, list[str]] = {}
    last = max(line_numbers, default=0)
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if number in line_numbers:
                text = raw.decode("utf-8").rstrip("\r\n")
                found[number] = next(csv.reader([text]), [])
                if number == last:
                    break
    return found


def file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
