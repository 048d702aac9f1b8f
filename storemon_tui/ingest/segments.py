"""Reading a CSV's data records a segment at a time: fast when clean, exact when not.

Why segments: a file of any size is read with bounded memory (a segment is
at most :data:`SEGMENT_BYTES` plus one record), valid or not; a problem costs
the exact reader one small piece of the file, never the whole file.

Each segment ends at a line end. It is first given to Arrow's CSV reader
(the *fast path*), which is trusted only when it cannot have read the bytes
differently from Python's ``csv`` module in strict mode (the *exact path*):
every record on one line, the right number of fields, no NUL byte, no bare
CR, no record over :data:`~storemon_tui.ingest.reader.MAX_LINE_BYTES`, and
every line holding a quote parses under the exact reader's strict rules.
Otherwise that piece is read by the exact path, which knows where every
record starts and ends. So there is one definition of a valid record:

* a record is one line, or several when a quoted field holds line breaks;
* text after a closing quote (``"s2"x``), a CR inside a line outside quotes,
  and a record longer than 128 KiB or whose quote is never closed are
  *malformed*: the record is rejected (for the last two: its first line) and
  reading goes on with the next line;
* a record with too few or too many fields is rejected;
* a NUL character in a column the import ignores is rejected (the used
  columns' values are checked by :mod:`storemon_tui.ingest.values`);
* the file must be UTF-8 throughout, or it is refused as a whole.

Line numbers count LF characters, as editors do: a bare CR does not start a
line. Both paths produce a :class:`Segment`: the rows as string columns, and
for rows that turn out to be invalid, their line numbers and byte spans (the
rejects file copies records verbatim from those spans).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from storemon_tui.display import counted
from storemon_tui.ingest.arrow_arrays import string_array
from storemon_tui.ingest.kinds import FileKind, HeaderMatch
from storemon_tui.ingest.problems import FileError, Problem
from storemon_tui.ingest.reader import MAX_LINE_BYTES, utf8_error

SEGMENT_BYTES = 32 * 2**20
"""Bytes read and parsed at once: large enough for Arrow's threads, small enough to bound memory."""

PIECE_BYTES = 1 * 2**20
"""When a segment fails the fast path, it is retried in pieces this size, so a bad row
costs the exact reader about one piece."""

_LF, _CR, _QUOTE, _COMMA = 0x0A, 0x0D, 0x22, 0x2C

Buffer = bytes | bytearray

# Columns with few distinct values are read dictionary-encoded: cheaper to hold
# and to parse once per distinct value.
_DICTIONARY_COLUMNS = {"status", "dayOfWeek", "start_time_local", "end_time_local", "timezone_str"}
"""Not ``store_id``: a fleet has too many (see :meth:`~storemon_tui.ingest.stores.StoreIds.codes`)."""


@dataclass
class RawTable:
    """Rows of an input file as string columns, keyed by canonical column name."""

    match: HeaderMatch
    columns: dict[str, pa.Array | pa.ChunkedArray]
    n_rows: int

    @property
    def kind(self) -> FileKind:
        return self.match.kind


@dataclass
class Malformed:
    """A record that is not a row: its problem and its byte span in the file."""

    problem: Problem
    start: int
    end: int
    missing_fields: int = 0
    """Fields the record lacks (a truncated line): the rejects file adds empty ones."""


@dataclass
class Segment:
    """A run of consecutive records of one file."""

    table: RawTable
    """The records with the header's number of fields."""
    malformed: list[Malformed] = field(default_factory=list)
    exact: bool = False
    _lines: np.ndarray | None = None
    _spans: np.ndarray | None = None
    _where: tuple[Buffer, int, int, int, int] | None = None
    """Fast path: (buffer, start, end, file offset of start, editor line of start), to locate rows on demand."""

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Editor line and ``(start, end)`` file offsets (line end excluded) of the given rows."""
        if len(rows) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.int64)
        if self._lines is None:
            assert self._where is not None
            self._lines, self._spans = _line_spans(*self._where)
        assert self._spans is not None
        return self._lines[rows], self._spans[rows]


def read_segments(
    path: Path, match: HeaderMatch, offset: int, first_line: int, *, force_exact: bool = False
) -> Iterator[Segment]:
    """The data records of ``path`` (from byte ``offset``, on editor line ``first_line``), a segment at a time.

    ``force_exact`` reads everything with the exact path (for tests: both
    paths must agree). Raises :class:`FileError` for bytes that are not UTF-8.
    """
    parser = _Parser(path, match, force_exact)
    with _open(path) as handle:
        handle.seek(offset)
        pos, line, carry = offset, first_line, b""
        while True:
            # A fresh buffer per segment (Arrow reads it in place; a row being located may still refer to it),
            # no larger than what is left of the file (+1, to see its end): an hourly file costs kilobytes.
            left = max(os.fstat(handle.fileno()).st_size - pos - len(carry), 0)
            buf = bytearray(len(carry) + min(SEGMENT_BYTES, left + 1))
            buf[: len(carry)] = carry
            size = len(carry) + handle.readinto(memoryview(buf)[len(carry) :])
            eof = size < len(buf)
            if size == 0:
                return
            cut = size if eof else buf.rfind(b"\n", 0, size) + 1
            if cut == 0:  # one line longer than a whole segment: certainly malformed
                malformed, consumed = _overlong_line(path, handle, buf, pos, line)
                del buf
                yield parser.only(malformed)
                pos, line, carry = pos + consumed, line + 1, b""
                handle.seek(pos)
                continue
            segments, consumed = parser.parse(buf, cut, pos, line, at_eof=eof and cut == size)
            yield from segments
            line += buf.count(b"\n", 0, consumed)
            pos += consumed
            carry = bytes(buf[consumed:size])
            if eof and not carry:
                return
            if eof and consumed == 0:
                raise AssertionError("the CSV reader made no progress")  # at the end every record is complete


def _open(path: Path) -> io.BufferedReader:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise FileError(path, f"cannot be read ({exc.strerror or exc})") from None


class _Parser:
    """Parses one segment: fast as a whole, else in pieces, each fast or exact."""

    def __init__(self, path: Path, match: HeaderMatch, force_exact: bool) -> None:
        self.path = path
        self.match = match
        self.force_exact = force_exact
        self.width = len(match.header)
        self.wanted = {f"c{pos}": canonical for canonical, pos in match.positions.items()}
        self.ignored_positions = [i for i in range(self.width) if i not in match.positions.values()]

    def only(self, malformed: Malformed) -> Segment:
        """A segment holding nothing but one malformed record."""
        columns = {canonical: pa.nulls(0, pa.string()) for canonical in self.wanted.values()}
        return Segment(RawTable(self.match, columns, 0), malformed=[malformed], exact=True)

    def parse(self, data: Buffer, cut: int, base: int, first_line: int, *, at_eof: bool) -> tuple[list[Segment], int]:
        """Segments for whole records of ``data[:cut]`` (``cut`` is after a line end) and the bytes they take.

        ``base`` is the file offset of ``data[0]``. Usually exactly ``cut``;
        less when the last record is a quoted value continuing past ``cut``
        (read again with more data), more never.
        """
        if not self.force_exact:
            fast = _parse_fast(self, data, 0, cut, base, first_line)
            if fast is not None:
                return [fast], cut
        segments: list[Segment] = []
        start, line = 0, first_line
        while start < cut:
            stop = cut
            if not self.force_exact and cut - start > PIECE_BYTES:
                stop = (data.find(b"\n", start + PIECE_BYTES, cut) + 1) or cut
                fast = _parse_fast(self, data, start, stop, base + start, line)
                if fast is not None:
                    segments.append(fast)
                    line += data.count(b"\n", start, stop)
                    start = stop
                    continue
            exact = _ExactReader(self, data, cut, start, base, line, at_eof=at_eof, stop_after=stop)
            segments.append(exact.read())
            line += data.count(b"\n", start, exact.consumed)
            start = exact.consumed
            if exact.incomplete:
                break  # the last record continues after ``cut``: carried over to the next read
        return segments, start


def _parse_fast(parser: _Parser, data: Buffer, start: int, end: int, base: int, first_line: int) -> Segment | None:
    """Arrow's reader on ``data[start:end]``, or ``None`` when the exact reader could read it differently.

    Without quotes and bare CRs every non-empty line is one row (Arrow flags
    rows of the wrong width), so the cheap checks are single ``memchr``
    passes; lines are looked at one by one only when quotes, ignored columns
    or very long values make it necessary.
    """
    table = _arrow_table(parser, data, start, end)
    if table is None:
        return None
    if data.find(b"\r", start, end) >= 0 and not _every_cr_ends_a_line(data, start, end):
        return None  # a bare CR: Arrow starts a row there, the exact reader calls the record malformed
    if parser.ignored_positions and utf8_error(parser.path, bytes(data[start:end])) is not None:
        return None  # Arrow checks the columns it keeps; the exact reader says where the bad byte is
    check_lines = bool(parser.ignored_positions) or data.find(b'"', start, end) >= 0
    if not check_lines and _longest_fields(table) + parser.width + 1 > MAX_LINE_BYTES:
        check_lines = True
    if check_lines and not _lines_are_simple(parser, data, start, end, table.num_rows):
        return None
    columns = {}
    for name, canonical in parser.wanted.items():
        column = table.column(name)
        columns[canonical] = (
            column.unify_dictionaries().combine_chunks() if pa.types.is_dictionary(column.type) else column
        )
    return Segment(RawTable(parser.match, columns, table.num_rows), _where=(data, start, end, base, first_line))


def _every_cr_ends_a_line(data: Buffer, start: int, end: int) -> bool:
    array = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    after = np.flatnonzero(array == _CR) + 1
    return bool(len(after) == 0 or (after[-1] < len(array) and (array[after] == _LF).all()))


def _arrow_table(parser: _Parser, data: Buffer, start: int, end: int) -> pa.Table | None:
    invalid_rows = 0

    def on_invalid(_row: object) -> str:
        nonlocal invalid_rows
        invalid_rows += 1
        return "skip"

    types = {
        name: pa.dictionary(pa.int32(), pa.string()) if canonical in _DICTIONARY_COLUMNS else pa.string()
        for name, canonical in parser.wanted.items()
    }
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data).slice(start, end - start),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(parser.width)],
                block_size=min(max((end - start) // 8, 1 << 20), 8 << 20),
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                include_columns=list(parser.wanted),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return None if invalid_rows else table


def _longest_fields(table: pa.Table) -> int:
    """The sum of each column's longest value, in bytes: a bound on every line's length without quotes."""
    total = 0
    for column in table.columns:
        longest = 0
        for chunk in column.chunks:
            values = chunk.dictionary if isinstance(chunk, pa.DictionaryArray) else chunk
            if len(values):
                offsets = np.frombuffer(
                    values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4
                )
                longest = max(longest, int(np.diff(offsets).max()))
        total += longest
    return total


def _lines_are_simple(parser: _Parser, data: Buffer, start: int, end: int, n_rows: int) -> bool:
    """One row per non-empty line, no NUL, no line over the limit, strict quoting."""
    if data.find(b"\x00", start, end) >= 0:
        return False
    array = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    starts, ends = _line_bounds(array)
    if len(starts) == 0:
        return n_rows == 0
    content = ends - starts - (array[np.maximum(ends - 1, 0)] == _CR) * (ends > starts)
    if int(content.max()) > MAX_LINE_BYTES:
        return False
    if int(np.count_nonzero(_nonempty(array, starts, ends))) != n_rows:
        return False
    return _quoting_is_strict(array, starts, ends, parser.width)


def _line_bounds(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, before the LF) of every line."""
    ends = np.flatnonzero(array == _LF)
    if len(array) and (len(ends) == 0 or ends[-1] != len(array) - 1):
        ends = np.append(ends, len(array))  # a last line without a line end
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    return starts, ends.astype(np.int64)


def _nonempty(array: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    lengths = ends - starts
    last = max(len(array) - 1, 0)
    return ~((lengths == 0) | ((lengths == 1) & (array[np.minimum(starts, last)] == _CR)))


def _line_spans(data: Buffer, start: int, end: int, base: int, first_line: int) -> tuple[np.ndarray, np.ndarray]:
    """Editor line and file span of each row of a fast segment (row ``i`` = ``i``-th non-empty line)."""
    array = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    starts, ends = _line_bounds(array)
    rows = np.flatnonzero(_nonempty(array, starts, ends))
    ends = ends - (array[np.maximum(ends - 1, 0)] == _CR) * (ends > starts)  # drop the CR of a CRLF
    spans = np.column_stack((starts[rows] + base, ends[rows] + base))
    return rows + first_line, spans


def _quoting_is_strict(array: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> bool:
    """Do the lines holding quotes parse under the exact reader's strict rules, as one record each?

    Arrow is lenient with malformed quoting (``"a"x``, a quote never closed);
    only lines containing a quote can differ, and they are re-parsed with the
    ``csv`` module (cheap: bench/README.md).
    """
    quotes = np.flatnonzero(array == _QUOTE)
    if len(quotes) == 0:
        return True
    if _all_fully_quoted(array, starts, ends, quotes, width):
        return True
    lines = np.unique(np.searchsorted(ends, quotes))
    texts = (bytes(array[starts[i] : ends[i]]).decode("utf-8").rstrip("\r") for i in lines.tolist())
    try:
        return all(len(fields) in (0, width) for fields in csv.reader(texts, strict=True))
    except (csv.Error, UnicodeDecodeError):
        return False


def _all_fully_quoted(array: np.ndarray, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray, width: int) -> bool:
    """Is every line holding a quote ``"…","…",…``: ``width`` quoted fields, no quote inside one, valid UTF-8?

    Such a line is one strict record of ``width`` fields, so the ``csv``
    module need not read it: a file quoting every field (as Arrow's and many
    exporters' writers do) is checked in a few numpy passes instead of
    line by line (bench/README.md). All or nothing, so that any other line
    is read with its neighbours exactly as before.
    """
    per = 2 * width
    counts = np.diff(np.searchsorted(quotes, ends), prepend=0)  # every quote is in a line: none is an LF
    lines = np.flatnonzero(counts)
    if not (counts[lines] == per).all() or int(counts.sum()) != len(quotes):
        return False
    at = quotes.reshape(-1, per)  # the quotes in order: line after line, ``per`` each
    stop = ends[lines] - (array[np.maximum(ends[lines] - 1, 0)] == _CR) * (ends[lines] > starts[lines])
    closing, opening = at[:, 1:-1:2], at[:, 2::2]
    fields_only = (
        (at[:, 0] == starts[lines]).all()
        and (at[:, -1] == stop - 1).all()
        and (opening == closing + 2).all()
        and (array[closing + 1] == _COMMA).all()
    )
    if not fields_only:
        return False
    try:
        str(array.data, "utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _RecordTooLong(Exception):
    """The record being read has grown past the limit."""


class _Lines:
    """The lines of ``data`` (split at LF only) for ``csv.reader``, with positions the reader cannot give."""

    def __init__(self, path: Path, data: Buffer, end: int, start: int, first_line: int) -> None:
        self.path = path
        self.data = data
        self.end = end
        self.pos = start
        self.line = first_line
        """Editor line of the byte at ``pos``."""
        self.record_start = start

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        data, pos = self.data, self.pos
        if pos >= self.end:
            raise StopIteration
        end = data.find(b"\n", pos, self.end) + 1 or self.end
        if (
            end - self.record_start > MAX_LINE_BYTES + 2
            and _content_length(data, self.record_start, end) > MAX_LINE_BYTES
        ):
            raise _RecordTooLong
        raw = data[pos:end]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            error = utf8_error(self.path, raw, self.line)
            assert error is not None
            raise error from None
        self.pos = end
        self.line += 1
        return text


def _content_length(data: Buffer, start: int, end: int) -> int:
    """Bytes of ``data[start:end]`` without its final line end."""
    if end > start and data[end - 1] == _LF:
        end -= 1
        if end > start and data[end - 1] == _CR:
            end -= 1
    return end - start


def _span_end(data: Buffer, start: int, end: int) -> int:
    return start + _content_length(data, start, end)


class _ExactReader:
    """Python's ``csv`` module over one piece of a file, record by record."""

    def __init__(
        self,
        parser: _Parser,
        data: Buffer,
        cut: int,
        start: int,
        base: int,
        first_line: int,
        *,
        at_eof: bool,
        stop_after: int,
    ) -> None:
        self.parser = parser
        self.data = data
        self.cut = cut
        self.base = base
        self.at_eof = at_eof
        self.stop_after = stop_after
        self.source = _Lines(parser.path, data, cut, start, first_line)
        self.values: dict[str, list[str]] = {canonical: [] for canonical in parser.wanted.values()}
        self.lines: list[int] = []
        self.spans: list[tuple[int, int]] = []
        self.malformed: list[Malformed] = []
        self.consumed = start
        self.incomplete = False
        """Reading stopped at a record whose quoted value goes on after ``cut``."""

    def read(self) -> Segment:
        source = self.source
        reader = csv.reader(source, strict=True)
        while source.pos < self.stop_after:
            start, line = source.pos, source.line
            source.record_start = start
            try:
                row = next(reader)
            except StopIteration:
                break
            except _RecordTooLong:
                self._first_line_malformed(
                    start, line, f"malformed CSV (a record longer than {MAX_LINE_BYTES:,} bytes)"
                )
                reader = csv.reader(source, strict=True)
                continue
            except csv.Error as exc:
                if source.pos >= self.cut and str(exc).startswith("unexpected end of data"):
                    if not self.at_eof:
                        source.pos, self.incomplete = start, True  # read it again with more data
                        break
                    self._first_line_malformed(
                        start, line, "malformed CSV (a quote opened on this line is never closed)"
                    )
                else:
                    self._malformed(start, source.pos, line, f"malformed CSV ({_explain_csv_error(exc)})")
                reader = csv.reader(source, strict=True)
                continue
            if row:
                self._record(row, start, line)
        self.consumed = source.pos
        columns = {canonical: string_array(column) for canonical, column in self.values.items()}
        segment = Segment(
            RawTable(self.parser.match, columns, len(self.lines)),
            malformed=self.malformed,
            exact=True,
            _lines=np.asarray(self.lines, dtype=np.int64),
            _spans=np.asarray(self.spans, dtype=np.int64).reshape(-1, 2),
        )
        return segment

    def _record(self, row: list[str], start: int, line: int) -> None:
        parser = self.parser
        end = self.source.pos
        if len(row) != parser.width:
            self._malformed(start, end, line, "", problem=_wrong_width(parser.match, row, line))
            self.malformed[-1].missing_fields = max(parser.width - len(row), 0)
            return
        for position in parser.ignored_positions:
            if "\x00" in row[position]:
                column = parser.match.header[position]
                problem = Problem(line, column, row[position], "contains a NUL character (\\x00)")
                self._malformed(start, end, line, "", problem=problem)
                return
        for canonical, position in parser.match.positions.items():
            self.values[canonical].append(row[position])
        self.lines.append(line)
        self.spans.append((self.base + start, self.base + _span_end(self.data, start, end)))

    def _first_line_malformed(self, start: int, line: int, reason: str) -> None:
        end = self.data.find(b"\n", start, self.cut) + 1 or self.cut
        self.source.pos, self.source.line = end, line + 1
        self._malformed(start, end, line, reason)

    def _malformed(self, start: int, end: int, line: int, reason: str, problem: Problem | None = None) -> None:
        self.malformed.append(
            Malformed(
                problem or Problem(line, None, None, reason),
                self.base + start,
                self.base + _span_end(self.data, start, end),
            )
        )


def _explain_csv_error(exc: csv.Error) -> str:
    message = str(exc)
    if message.startswith("new-line character seen in unquoted field"):
        return "a carriage return (CR) inside a line, outside quotes"
    if message.startswith("',' expected after '\"'"):
        return 'text after a closing quote; a quote inside a quoted value is written twice ("")'
    return message


def _wrong_width(match: HeaderMatch, row: list[str], line: int) -> Problem:
    width = len(match.header)
    found = f"line has {counted(len(row), 'field')}, the header has {width}"
    if len(row) > width:
        return Problem(line, None, None, f"too many fields: {found}")
    missing = [c for c, pos in match.positions.items() if pos >= len(row)]
    column = missing[0] if missing else match.header[len(row)]
    return Problem(line, column, None, f"missing value: {found} (truncated line?)")


def _overlong_line(path: Path, handle: io.BufferedReader, buf: Buffer, pos: int, line: int) -> tuple[Malformed, int]:
    """A line longer than a segment: malformed, read to its end a MiB at a time (UTF-8 still checked).

    ``buf`` holds the line's first bytes (no line end among them). Returns the
    malformed record and the bytes it takes with its line end.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    length, last, offset = 0, 0, 0
    handle.seek(pos + len(buf))
    while True:
        if offset < len(buf):
            chunk = bytes(buf[offset : offset + _DECODE_BYTES])
            offset += len(chunk)
        else:
            chunk = handle.read(_DECODE_BYTES)
        end = chunk.find(b"\n")
        piece = chunk if end < 0 else chunk[:end]
        try:
            decoder.decode(piece, final=end >= 0 or not chunk)
        except UnicodeDecodeError as exc:
            byte = piece[exc.start : exc.start + 1].hex()
            column = length + exc.start + 1
            raise FileError(
                path, f"not UTF-8 text (byte 0x{byte} at column {column}); save the file as UTF-8", line=line
            ) from None
        length += len(piece)
        last = piece[-1] if piece else last
        if end >= 0 or not chunk:
            break
    consumed = length + (1 if end >= 0 and chunk else 0)
    content = length - (1 if last == _CR and consumed > length else 0)
    problem = Problem(line, None, None, f"malformed CSV (a record longer than {MAX_LINE_BYTES:,} bytes)")
    return Malformed(problem, pos, pos + content), consumed


_DECODE_BYTES = 1 << 20
