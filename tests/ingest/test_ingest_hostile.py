"""Hostile input (issue 11): one definition of a valid record, on both readers and both back ends.

Every case is a file with one hostile record among good ones. It is
imported twice per back end: once the usual way (Arrow's fast reader first,
the exact reader only where it must) and once with the exact reader
throughout. Both must reject exactly the hostile record (line and reason),
import every other row, and copy the record verbatim into the rejects file;
without ``--skip-invalid`` the file must be refused naming that line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from storemon_tui.ingest import InvalidRowsError
from storemon_tui.ingest.importer import write_prepared
from storemon_tui.ingest.prepare import prepare_file
from storemon_tui.ingest.reader import MAX_LINE_BYTES
from storemon_tui.ingest.values import clock_us

POLLS = "store_id,timestamp_utc,status\n"
GOOD_ROWS = 1_000
HOUR_US = 3_600_000_000


def good_rows(count: int = GOOD_ROWS) -> str:
    """``count`` valid polls of 100 stores in January 2023, all distinct keys."""
    return "".join(f"g{i % 100},2023-01-{1 + i // 100 % 28:02d} {i % 24:02d}:00:00 UTC,active\n" for i in range(count))


def iso(micros: int) -> str:
    """µs since the epoch as ``YYYY-MM-DD HH:MM:SS UTC``."""
    from datetime import UTC, datetime, timedelta

    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True)
class Case:
    """A hostile record (raw bytes, line 2 of the file), what is rejected, and how many rows are good."""

    record: bytes
    reason: str
    """The rejects file's reason column for it."""
    valid_before: int = 0
    """Good rows on lines before the hostile record (line 2 onwards)."""

    @property
    def line(self) -> int:
        return 2 + self.valid_before


def cases(now_us: int) -> dict[str, Case]:
    big = "x" * (MAX_LINE_BYTES + 10)
    future = iso(now_us + 25 * HOUR_US)
    return {
        "text-after-closing-quote": Case(
            b'"s2"x,2023-01-22 12:00:00 UTC,active',
            'line 2: malformed CSV (text after a closing quote; a quote inside a quoted value is written twice (""))',
        ),
        "field-over-the-size-limit": Case(
            f"s2,2023-01-22 12:00:00 UTC,{big}".encode(),
            f"line 2: malformed CSV (a record longer than {MAX_LINE_BYTES:,} bytes)",
        ),
        "quoted-field-over-the-size-limit": Case(
            f's2,2023-01-22 12:00:00 UTC,"{big}"'.encode(),
            f"line 2: malformed CSV (a record longer than {MAX_LINE_BYTES:,} bytes)",
        ),
        "year-0000": Case(
            b"s2,0000-01-01 00:00:00 UTC,active",
            "line 2: column 'timestamp_utc': not a valid date/time (year 0 is out of range)",
        ),
        "before-1970": Case(
            b"s2,1969-12-31 23:59:59 UTC,active",
            "line 2: column 'timestamp_utc': before 1970 (polls must be from 1970-01-01 00:00:00 UTC on)",
        ),
        "in-the-future": Case(
            f"s2,{future},active".encode(),
            "line 2: column 'timestamp_utc': "
            "in the future (more than 24 hours after this machine's clock when it was imported)",
        ),
        "year-9999": Case(
            b"s2,9999-12-31 23:59:59 UTC,active",
            "line 2: column 'timestamp_utc': "
            "in the future (more than 24 hours after this machine's clock when it was imported)",
        ),
        "nul-in-store-id": Case(
            b"s\x002,2023-01-22 12:00:00 UTC,active",
            "line 2: column 'store_id': contains a NUL character (\\x00)",
        ),
        "nul-in-status": Case(
            b"s2,2023-01-22 12:00:00 UTC,act\x00ive",
            "line 2: column 'status': contains a NUL character (\\x00)",
        ),
        "store-id-of-256-bytes": Case(
            ("é" * 128).encode() + b",2023-01-22 12:00:00 UTC,active",
            "line 2: column 'store_id': store_id is 256 bytes long (at most 255 bytes of UTF-8)",
        ),
        "bare-cr-inside-a-line": Case(
            b"s2,2023-01-22 12:00:00 UTC,act\rive",
            "line 2: malformed CSV (a carriage return (CR) inside a line, outside quotes)",
        ),
        "quote-never-closed": Case(
            b's2,"2023-01-22 12:00:00 UTC,active',
            "line 2: malformed CSV (a quote opened on this line is never closed)",
        ),
        "hostile-record-after-good-rows": Case(
            b'"s2"x,2023-01-22 12:00:00 UTC,active',
            'line 502: malformed CSV (text after a closing quote; a quote inside a quoted value is written twice (""))',
            valid_before=500,
        ),
    }


CASE_NAMES = list(cases(0))


def hostile_file(tmp_path: Path, case: Case) -> Path:
    rows = good_rows().encode()
    before = b"".join(rows.splitlines(keepends=True)[: case.valid_before])
    after = b"".join(rows.splitlines(keepends=True)[case.valid_before :])
    path = tmp_path / "hostile.csv"
    path.write_bytes(POLLS.encode() + before + case.record + b"\n" + after)
    return path


@pytest.mark.parametrize("reader", ["fast-first", "exact-only"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_only_the_hostile_record_is_rejected_verbatim(db, dump, tmp_path: Path, name: str, reader: str) -> None:
    now_us = clock_us()
    case = cases(now_us)[name]
    path = hostile_file(tmp_path, case)

    prepared = prepare_file(path, skip_invalid=True, force_exact=reader == "exact-only", now_us=now_us)
    summary = write_prepared(db, prepared)

    assert (summary.rows_read, summary.inserted, summary.rejected) == (GOOD_ROWS + 1, GOOD_ROWS, 1)
    assert summary.rejects_path is not None
    expected = POLLS.rstrip("\n").encode() + b",reason\n" + case.record + b"," + _csv_field(case.reason) + b"\n"
    assert summary.rejects_path.read_bytes() == expected
    tables = dump(db)
    assert len(tables["polls"]) == GOOD_ROWS
    assert sorted(sid for _, sid in tables["store"]) == sorted(f"g{i}" for i in range(100))


@pytest.mark.parametrize("reader", ["fast-first", "exact-only"])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_without_skip_invalid_the_file_is_refused_at_the_hostile_line(tmp_path: Path, name: str, reader: str) -> None:
    now_us = clock_us()
    case = cases(now_us)[name]
    path = hostile_file(tmp_path, case)
    with pytest.raises(InvalidRowsError) as info:
        prepare_file(path, force_exact=reader == "exact-only", now_us=now_us)
    (problem,) = info.value.problems
    assert problem.line == case.line
    assert f"line {problem.line}: " + (f"column '{problem.column}': " if problem.column else "") + problem.reason == (
        case.reason
    )
    assert info.value.bad_rows == 1
    assert not Path(f"{path}.rejects.csv").exists()


def _csv_field(text: str) -> bytes:
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text.encode()


@pytest.mark.parametrize("reader", ["fast-first", "exact-only"])
def test_a_poll_just_within_a_day_of_the_clock_is_valid(db, dump, tmp_path: Path, reader: str) -> None:
    """The limit is relative to the clock when the import runs: 23 hours ahead is fine."""
    now_us = clock_us()
    path = tmp_path / "p.csv"
    path.write_text(POLLS + f"s1,{iso(now_us + 23 * HOUR_US)},active\ns1,1970-01-01 00:00:00 UTC,inactive\n")
    summary = write_prepared(db, prepare_file(path, force_exact=reader == "exact-only", now_us=now_us))
    assert summary.inserted == 2


@pytest.mark.parametrize("reader", ["fast-first", "exact-only"])
def test_valid_quoting_reads_the_same_on_both_readers(db, dump, tmp_path: Path, reader: str) -> None:
    """Quoted fields, doubled quotes, a comma and a line break inside quotes, a literal quote mid-field,
    and a leading space before a quote (which makes the quote literal) are all valid."""
    path = tmp_path / "q.csv"
    path.write_bytes(
        b"store_id,timezone_str,note\n"
        b'"a","UTC","plain"\n'  # line 2
        b'"b""1",UTC,"x,y"\n'  # line 3
        b'c,UTC,"two\nlines"\n'  # lines 4-5
        b'd"e,UTC,x\n'  # line 6: a quote inside an unquoted field is a character
        b' "f",UTC,x\n'  # line 7: so is a quote after a space
        b"g,Mars/Base,x\n"  # line 8: the one bad value
    )
    prepared = prepare_file(path, skip_invalid=True, force_exact=reader == "exact-only")
    summary = write_prepared(db, prepared)
    assert (summary.rows_read, summary.inserted, summary.rejected) == (6, 5, 1)
    assert summary.rejects_path.read_text().splitlines()[1] == (
        "g,Mars/Base,x,line 8: column 'timezone_str': unknown time zone (expected an IANA name such as America/Chicago)"
    )
    ids = sorted(sid for _, sid in dump(db)["store"])
    assert ids == ['"f"', "a", 'b"1', "c", 'd"e']  # ' "f"' trimmed: its quotes are characters


@pytest.mark.parametrize("reader", ["fast-first", "exact-only"])
def test_a_bare_cr_does_not_shift_later_line_numbers(tmp_path: Path, reader: str) -> None:
    """Editors number lines by LF; a bare CR inside line 2 must not make line 3 look like line 4."""
    path = tmp_path / "p.csv"
    path.write_bytes(
        POLLS.encode() + b"a,2023-01-22 12:00:00 UTC,act\rive\nb,2023-01-22 25:00:00 UTC,active\nc,bad,active\n"
    )
    with pytest.raises(InvalidRowsError) as info:
        prepare_file(path, force_exact=reader == "exact-only")
    assert [(p.line, p.column) for p in info.value.problems] == [(2, None), (3, "timestamp_utc"), (4, "timestamp_utc")]


@pytest.mark.parametrize("reader", ["fast-first", "exact-only"])
def test_ignored_columns_may_hold_anything_but_nul(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "z.csv"
    path.write_bytes(b"store_id,timezone_str,note\na,UTC,\xc3\xa9 \x01\x1b[2J\nb,UTC,x\x00y\n")
    with pytest.raises(InvalidRowsError) as info:
        prepare_file(path, force_exact=reader == "exact-only")
    assert [(p.line, p.column, p.value, p.reason) for p in info.value.problems] == [
        (3, "note", "x\x00y", "contains a NUL character (\\x00)")
    ]


LINE_SHAPES = {"lf": "\n", "crlf": "\r\n"}


@pytest.mark.parametrize("newline", list(LINE_SHAPES.values()), ids=list(LINE_SHAPES))
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("final_newline", [True, False], ids=["final-newline", "no-final-newline"])
def test_line_numbers_agree_on_both_readers(tmp_path: Path, newline: str, bom: bytes, final_newline: bool) -> None:
    """Bad values in a file Arrow reads cleanly are located by counting lines (no exact re-read);
    blank lines, CRLF, a BOM and a missing final newline must not shift them."""
    rows = []
    for i in range(400):
        stamp = "2023-01-22 25:00:00 UTC" if i in (0, 137, 399) else "2023-01-22 12:00:00 UTC"
        status = "maybe" if i == 250 else "active"
        rows.append(f"s{i % 7},{stamp},{status}")
        if i % 50 == 3:
            rows.append("")  # blank lines are skipped by both readers
    text = "store_id,timestamp_utc,status" + newline + newline.join(rows) + (newline if final_newline else "")
    path = tmp_path / "p.csv"
    path.write_bytes(bom + text.encode())

    def problems(force_exact: bool) -> list:
        with pytest.raises(InvalidRowsError) as info:
            prepare_file(path, force_exact=force_exact)
        return info.value.problems

    assert problems(False) == problems(True)
    assert [p.line for p in problems(True)] == [2, 2 + 137 + 3, 2 + 250 + 5, 2 + 399 + 8]  # header + blanks before
