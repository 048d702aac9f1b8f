"""One test per bad input: exit code, message (file and line), database unchanged.

The CLI is run in-process (``storemon_tui.cli.main``), which is exactly what
``python -m storemon_tui`` runs; ``tests/cli`` checks the real subprocess
(no traceback, exit codes) for the file-level errors too.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storemon_tui.db import open_database
from storemon_tui.ingest import InvalidRowsError, Problem, import_file

POLLS = "store_id,timestamp_utc,status\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\n"
ZONES = "store_id,timezone_str\n"
GOOD_POLL = "s1,2023-01-22 12:00:00 UTC,active\n"


@pytest.fixture
def seeded(db_target: str, csv_file, dump):
    """A database (on each back end) already holding some of every kind; returns (db target, snapshot, dump)."""
    path = db_target
    db = open_database(path)
    import_file(db, csv_file("seed_p.csv", POLLS + GOOD_POLL + "s2,2023-01-22 12:30:00 UTC,inactive\n"))
    import_file(db, csv_file("seed_h.csv", HOURS + "s1,0,09:00,17:00\n"))
    import_file(db, csv_file("seed_z.csv", ZONES + "s1,America/Chicago\n"))
    snapshot = dump(db)
    db.dispose()
    assert dict(snapshot["meta"])["data_version"] == "3"
    return path, snapshot, dump


def check_refused(
    invoke, seeded, target: Path, first_line: str, *, skip_invalid: bool = False, prefix_only: bool = False
) -> str:
    """Run the import; assert exit 1, the first message line (or its start), no traceback, nothing written."""
    db_path, before, dump = seeded
    args = ["--db", db_path, "--import", target] + (["--skip-invalid"] if skip_invalid else [])
    code, out, err = invoke(*args)
    assert code == 1, err
    assert out == ""
    assert "Traceback" not in err
    if prefix_only:
        assert err.splitlines()[0].startswith(f"storemon: {first_line}"), err
    else:
        assert err.splitlines()[0] == f"storemon: {first_line}", err
    db = open_database(db_path)
    try:
        assert dump(db) == before
    finally:
        db.dispose()
    assert not Path(str(target) + ".rejects.csv").exists()
    return err


def invalid_rows_tail(path: Path, rows: int, problems: int) -> str:
    rows_text = f"{rows} invalid row" + ("" if rows == 1 else "s")
    problems_text = f"{problems} problem" + ("" if problems == 1 else "s")
    return (
        f"{path}: {rows_text} ({problems_text}); nothing imported from this file "
        "(use --skip-invalid to import the valid rows)"
    )


# -- file-level problems -----------------------------------------------------------------


def test_wrong_header(invoke, seeded, csv_file) -> None:
    path = csv_file("wrong.csv", "id,when,what\n1,2023-01-22 12:00:00 UTC,active\n")
    err = check_refused(invoke, seeded, path, f"{path}:1: unrecognised header 'id,when,what'; expected one of:")
    assert "store_id,timestamp_utc,status" in err
    assert "store_id,dayOfWeek,start_time_local,end_time_local" in err
    assert "store_id,timezone_str" in err


def test_missing_column(invoke, seeded, csv_file) -> None:
    path = csv_file("missing.csv", "store_id,dayOfWeek,start_time_local\ns1,0,09:00\n")
    check_refused(
        invoke,
        seeded,
        path,
        f"{path}:1: header 'store_id,dayOfWeek,start_time_local' looks like a business hours file "
        "but is missing column 'end_time_local'; expected one of:",
    )


@pytest.mark.parametrize(
    "content", [b"", b"\xef\xbb\xbf", b"\n\r\n  \n"], ids=["zero-bytes", "bom-only", "blank-lines"]
)
def test_empty_file(invoke, seeded, csv_file, content: bytes) -> None:
    path = csv_file("empty.csv", content)
    check_refused(invoke, seeded, path, f"{path}: is empty (expected a header line and data rows)")


@pytest.mark.parametrize("content", [POLLS, POLLS.rstrip("\n"), POLLS.replace("\n", "\r\n") + "\r\n\r\n"])
def test_header_only(invoke, seeded, csv_file, content: str) -> None:
    path = csv_file("header_only.csv", content)
    check_refused(invoke, seeded, path, f"{path}: has a header but no data rows")


def test_non_utf8_bytes(invoke, seeded, csv_file) -> None:
    path = csv_file("latin1.csv", ZONES.encode() + b"s9,America/Chicago\ns\xe9,Europe/Paris\n")
    check_refused(invoke, seeded, path, f"{path}:3: not UTF-8 text (byte 0xe9 at column 2); save the file as UTF-8")


def test_non_utf8_header(invoke, seeded, csv_file) -> None:
    path = csv_file("utf16.csv", (ZONES + "s9,UTC\n").encode("utf-16"))
    check_refused(invoke, seeded, path, f"{path}:1: not UTF-8 text (byte 0xff at column 1); save the file as UTF-8")


def test_file_not_found(invoke, seeded, tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    check_refused(invoke, seeded, path, f"{path}: no such file")


def test_a_directory(invoke, seeded, tmp_path: Path) -> None:
    path = tmp_path / "adir"
    path.mkdir()
    check_refused(invoke, seeded, path, f"{path}: is a directory, not a CSV file")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file(invoke, seeded, csv_file) -> None:
    path = csv_file("secret.csv", POLLS + GOOD_POLL)
    path.chmod(0)
    try:
        check_refused(invoke, seeded, path, f"{path}: permission denied")
    finally:
        path.chmod(0o600)


# -- row-level problems ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "line", "column", "value", "reason"),
    [
        (
            "bad_timestamp",
            POLLS + GOOD_POLL + "s3,2023-01-22 12:00 UTC,active\n",
            3,
            "timestamp_utc",
            "2023-01-22 12:00 UTC",
            "not a timestamp (expected e.g. 2023-01-22 12:09:39.388884 UTC or ISO 8601)",
        ),
        (
            "bad_date",
            POLLS + GOOD_POLL + "s3,2023-02-30 12:00:00 UTC,active\n",
            3,
            "timestamp_utc",
            "2023-02-30 12:00:00 UTC",
            "not a valid date/time (day is out of range for month)",
        ),
        (
            "bad_status",
            POLLS + GOOD_POLL + "s3,2023-01-22 12:00:00 UTC,online\n",
            3,
            "status",
            "online",
            "status must be 'active' or 'inactive'",
        ),
        (
            "day7",
            HOURS + "s3,0,09:00,17:00\ns3,7,09:00,17:00\n",
            3,
            "dayOfWeek",
            "7",
            "dayOfWeek must be 0 (Monday) to 6 (Sunday)",
        ),
        (
            "time25",
            HOURS + "s3,1,09:00,25:00\n",
            2,
            "end_time_local",
            "25:00",
            "hour 25 is out of range (00-23, or 24:00:00 as an end time)",
        ),
        (
            "unknown_zone",
            ZONES + "s3,America/Chicago\ns4,America/Springfield\n",
            3,
            "timezone_str",
            "America/Springfield",
            "unknown time zone (expected an IANA name such as America/Chicago)",
        ),
        (
            "empty_store_id",
            POLLS + GOOD_POLL + ",2023-01-22 12:00:00 UTC,active\n",
            3,
            "store_id",
            "",
            "store_id is empty",
        ),
        (
            "blank_store_id",
            ZONES + "   ,UTC\n",
            2,
            "store_id",
            "   ",
            "store_id is empty",
        ),
    ],
)
def test_bad_value(invoke, seeded, csv_file, name, content, line, column, value, reason) -> None:
    path = csv_file(f"{name}.csv", content)
    err = check_refused(invoke, seeded, path, f"{path}:{line}: column '{column}': value '{value}': {reason}")
    assert err.splitlines()[1:] == [invalid_rows_tail(path, 1, 1)]


def test_truncated_last_line(invoke, seeded, csv_file) -> None:
    path = csv_file("truncated.csv", POLLS + GOOD_POLL + "s3,2023-01-22 12:0")
    err = check_refused(
        invoke,
        seeded,
        path,
        f"{path}:3: column 'status': missing value: line has 2 fields, the header has 3 (truncated line?)",
    )
    assert err.splitlines()[1:] == [invalid_rows_tail(path, 1, 1)]


def test_unterminated_quote(invoke, seeded, csv_file) -> None:
    path = csv_file("quote.csv", POLLS + GOOD_POLL + 's3,"2023-01-22 12:00:00 UTC,active\n')
    err = check_refused(invoke, seeded, path, f"{path}:3: malformed CSV (a quote opened on this line is never closed)")
    assert err.splitlines()[1:] == [invalid_rows_tail(path, 1, 1)]


def test_too_many_fields(invoke, seeded, csv_file) -> None:
    path = csv_file("wide.csv", ZONES + "s3,UTC\ns4,UTC,extra\n")
    check_refused(invoke, seeded, path, f"{path}:3: too many fields: line has 3 fields, the header has 2")


def test_one_bad_row_after_50000_good_ones(invoke, seeded, csv_file) -> None:
    good = "".join(f"{i % 997},2023-01-2{i % 7} 12:{i % 60:02d}:{i % 59:02d} UTC,active\n" for i in range(50_000))
    path = csv_file("big.csv", POLLS + good + "s1,2023-01-22 12:00:00 UTC,maybe\n")
    err = check_refused(
        invoke, seeded, path, f"{path}:50002: column 'status': value 'maybe': status must be 'active' or 'inactive'"
    )
    assert err.splitlines()[1:] == [invalid_rows_tail(path, 1, 1)]


def test_embedded_newline_keeps_line_numbers(invoke, seeded, csv_file) -> None:
    """A quoted field spanning 3 lines shifts every later row: the bad row is on editor line 6."""
    content = (
        "store_id,timezone_str,note\n"  # line 1
        's3,UTC,"first\nsecond\nthird"\n'  # lines 2-4
        "s4,UTC,plain\n"  # line 5
        "s5,Nowhere/City,x\n"  # line 6
    )
    path = csv_file("newline.csv", content)
    check_refused(
        invoke,
        seeded,
        path,
        f"{path}:6: column 'timezone_str': value 'Nowhere/City': "
        "unknown time zone (expected an IANA name such as America/Chicago)",
    )


def test_crlf_and_blank_lines_keep_line_numbers(db, csv_file) -> None:
    path = csv_file("crlf.csv", "store_id,timezone_str\r\n\r\ns3,UTC\r\n\r\n\r\ns4,Bad/Zone\r\n")
    with pytest.raises(InvalidRowsError) as info:
        import_file(db, path)
    assert [(p.line, p.column, p.value) for p in info.value.problems] == [(6, "timezone_str", "Bad/Zone")]


def test_more_than_20_problems_shows_20_and_the_rest_counted(invoke, seeded, csv_file) -> None:
    # 25 bad rows; rows 2..26 each have a bad status, row 14 has a bad timestamp too (26 problems).
    rows = [f"s{i},2023-01-22 12:00:{i:02d} UTC,bogus" for i in range(25)]
    rows[12] = "s12,not-a-time,bogus"
    path = csv_file("many.csv", POLLS + "\n".join(rows) + "\n" + GOOD_POLL)
    err = check_refused(
        invoke, seeded, path, f"{path}:2: column 'status': value 'bogus': status must be 'active' or 'inactive'"
    )
    lines = err.splitlines()
    shown = lines[:20]
    assert all(line.startswith(("storemon: ", f"{path}:")) for line in shown)
    assert [line.removeprefix("storemon: ").split(":")[1] for line in shown] == [
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
        "14",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "20",
    ]
    assert f"{path}:14: column 'status': value 'bogus'" in shown[12]
    assert f"{path}:14: column 'timestamp_utc': value 'not-a-time'" in shown[13]
    assert lines[20] == "... and 6 more problems"
    assert lines[21] == invalid_rows_tail(path, 25, 26)
    assert len(lines) == 22


def test_invalid_rows_error_lists_every_problem(db, csv_file, dump) -> None:
    before = dump(db)
    path = csv_file("h.csv", HOURS + "a,9,25:00,9am\nb,0,09:00,17:00\n")
    with pytest.raises(InvalidRowsError) as info:
        import_file(db, path)
    error = info.value
    assert error.bad_rows == 1
    assert [p.format(path) for p in error.problems] == [
        f"{path}:2: column 'dayOfWeek': value '9': dayOfWeek must be 0 (Monday) to 6 (Sunday)",
        f"{path}:2: column 'end_time_local': value '9am': not a time (expected HH:MM[:SS[.ffffff]])",
        f"{path}:2: column 'start_time_local': value '25:00': "
        "hour 25 is out of range (00-23, or 24:00:00 as an end time)",
    ]
    assert dump(db) == before


def test_bare_cr_line_ends_are_one_clear_error(invoke, tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(b"store_id,timestamp_utc,status\ra,2023-01-22 12:00:00 UTC,active\r")
    code, _, err = invoke("--import", path)
    assert code == 1
    assert (
        err.strip()
        == f"storemon: {path}:1: lines end in a bare CR (old Mac format); save the file with LF or CRLF line ends"
    )


# -- hostile input (issue 11): on SQLite and PostgreSQL, through the real command line ------------


def good_polls(count: int = 1_000) -> str:
    return "".join(f"g{i % 100},2023-01-{1 + i // 100 % 28:02d} {i % 24:02d}:00:00 UTC,active\n" for i in range(count))


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            b'"s2"x,2023-01-22 12:00:00 UTC,active',
            'line 2: malformed CSV (text after a closing quote; a quote inside a quoted value is written twice (""))',
        ),
        (b"s2,2023-01-22 12:00:00 UTC," + b"v" * 200_000, "line 2: malformed CSV (a record longer than 131,072 bytes)"),
    ],
    ids=["text-after-closing-quote", "field-over-the-size-limit"],
)
def test_skip_invalid_rejects_only_the_malformed_record(invoke, seeded, csv_file, record: bytes, reason: str) -> None:
    """Regression: both used to end the file there ("2 rows read, 0 inserted", exit 0)."""
    db_path, before, dump = seeded
    path = csv_file("hostile.csv", POLLS.encode() + record + b"\n" + good_polls().encode())
    code, _, err = invoke("--db", db_path, "--import", path, "--skip-invalid")
    assert code == 0, err
    assert f"{path}: polls, 1,001 rows read, 1,000 inserted" in err
    assert f"1 rejected (see {path}.rejects.csv)" in err
    rejects = Path(f"{path}.rejects.csv").read_bytes()
    quoted = '"' + reason.replace('"', '""') + '"'  # both reasons hold a comma
    assert rejects == POLLS.rstrip("\n").encode() + b",reason\n" + record + b"," + quoted.encode() + b"\n"
    db = open_database(db_path)
    try:
        assert len(dump(db)["polls"]) == len(before["polls"]) + 1_000
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("row", "column", "value", "reason"),
    [
        (
            '"s2"x,2023-01-22 12:00:00 UTC,active',
            None,
            None,
            'malformed CSV (text after a closing quote; a quote inside a quoted value is written twice (""))',
        ),
        (
            "s2,0000-01-01 00:00:00 UTC,active",
            "timestamp_utc",
            "0000-01-01 00:00:00 UTC",
            "not a valid date/time (year 0 is out of range)",
        ),
        (
            "s2,1969-07-20 20:17:40 UTC,active",
            "timestamp_utc",
            "1969-07-20 20:17:40 UTC",
            "before 1970 (polls must be from 1970-01-01 00:00:00 UTC on)",
        ),
        (
            "s2,9999-12-20 00:00:00 UTC,active",
            "timestamp_utc",
            "9999-12-20 00:00:00 UTC",
            "in the future (more than 24 hours after this machine's clock when it was imported)",
        ),
        ("s\x002,2023-01-22 12:00:00 UTC,active", "store_id", "s\x002", "contains a NUL character (\\x00)"),
        (
            "s" * 3000 + ",2023-01-22 12:00:00 UTC,active",
            "store_id",
            "s" * 80 + "…",
            "store_id is 3,000 bytes long (at most 255 bytes of UTF-8)",
        ),
    ],
    ids=["text-after-closing-quote", "year-0000", "before-1970", "far-future", "nul-in-store-id", "oversized-store-id"],
)
def test_hostile_row_in_an_otherwise_clean_file_is_refused(
    invoke, seeded, csv_file, row, column, value, reason
) -> None:
    """Regression: the first two passed in a clean file; NUL and long ids failed PostgreSQL with no line."""
    path = csv_file("hostile.csv", POLLS + row + "\n" + good_polls())
    problem = Problem(2, column, value, reason).format(path)
    err = check_refused(invoke, seeded, path, problem)
    assert err.splitlines()[1:] == [invalid_rows_tail(path, 1, 1)]


def test_a_future_poll_is_measured_from_the_clock_at_import(invoke, seeded, csv_file) -> None:
    """Not from the data, not from a fixed date: 23 hours ahead of now is fine, 25 hours is not."""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    soon = (now + timedelta(hours=23)).strftime("%Y-%m-%d %H:%M:%S UTC")
    late = (now + timedelta(hours=25)).strftime("%Y-%m-%d %H:%M:%S UTC")
    path = csv_file("future.csv", POLLS + f"s1,{soon},active\ns1,{late},active\n")
    check_refused(
        invoke,
        seeded,
        path,
        f"{path}:3: column 'timestamp_utc': value '{late}': "
        "in the future (more than 24 hours after this machine's clock when it was imported)",
    )


def test_nul_and_oversized_ids_are_skipped_like_any_bad_value(invoke, seeded, csv_file) -> None:
    """With --skip-invalid the other rows go in, on PostgreSQL too (it used to fail the whole file)."""
    db_path, before, dump = seeded
    path = csv_file(
        "ids.csv", POLLS + "s\x001,2023-01-22 12:00:00 UTC,active\n" + "é" * 200 + ",2023-01-22 12:00:00 UTC,active\n"
    )
    path.write_bytes(path.read_bytes() + good_polls(10).encode())
    code, _, err = invoke("--db", db_path, "--import", path, "--skip-invalid")
    assert code == 0, err
    assert "12 rows read, 10 inserted" in err and "2 rejected" in err
    db = open_database(db_path)
    try:
        assert len(dump(db)["polls"]) == len(before["polls"]) + 10
    finally:
        db.dispose()


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "posix/America/Chicago", "right/UTC", "Factory"])
def test_host_dependent_zone_names_are_invalid(invoke, seeded, csv_file, zone: str) -> None:
    path = csv_file("z.csv", ZONES + f"s9,{zone}\n")
    err = check_refused(invoke, seeded, path, f"{path}:2: column 'timezone_str': value '{zone}': ", prefix_only=True)
    assert "IANA" in err.splitlines()[0]


def test_backward_compatible_zone_links_are_valid(invoke, seeded, csv_file) -> None:
    """US/Eastern, GB and Etc/GMT+5 are IANA names (links in tzdata's list) and mean the same everywhere."""
    db_path, _, dump = seeded
    path = csv_file("z.csv", ZONES + "s7,US/Eastern\ns8,GB\ns9,Etc/GMT+5\n")
    code, _, err = invoke("--db", db_path, "--import", path)
    assert code == 0, err
    db = open_database(db_path)
    try:
        assert sorted(zone for _, zone in dump(db)["store_timezone"])[-3:] == ["Etc/GMT+5", "GB", "US/Eastern"]
    finally:
        db.dispose()


@pytest.mark.parametrize("newline", [b"\n", b""], ids=["then-rows", "no-line-end-at-all"])
def test_a_header_over_128_kib_is_one_clear_line(invoke, seeded, csv_file, newline: bytes) -> None:
    path = csv_file("wide.csv", b"store_id,timestamp_utc,status," + b"x" * 140_000 + newline + b"a,b,c,d\n" * 3)
    check_refused(
        invoke,
        seeded,
        path,
        f"{path}:1: the header line is longer than 131,072 bytes (128 KiB); is this a storemon CSV?",
    )


def test_long_values_and_header_lists_are_shortened_in_messages(invoke, seeded, csv_file) -> None:
    long_status = "z" * 5_000
    path = csv_file("long.csv", POLLS + f"s1,2023-01-22 12:00:00 UTC,{long_status}\n")
    err = check_refused(
        invoke, seeded, path, f"{path}:2: column 'status': value '{'z' * 80}…': status must be 'active' or 'inactive'"
    )
    assert len(err.splitlines()[0]) < 250

    columns = [f"column_{i}" for i in range(10_000)]
    wide = csv_file("cols.csv", ",".join(columns) + "\n" + ",".join("1" * 10_000) + "\n")
    err = check_refused(invoke, seeded, wide, f"{wide}:1: unrecognised header ", prefix_only=True)
    first = err.splitlines()[0]
    assert first.endswith("…' and 9,991 more columns; expected one of:"), first
    assert len(first) < 250


def test_long_column_names_are_shortened_in_messages(invoke, seeded, csv_file) -> None:
    """Regression: a problem in a column with a 3,000-character name printed the whole name, twice."""
    name = "n" * 3_000
    path = csv_file("cols.csv", ZONES.rstrip("\n") + f",{name}\n" + "a,UTC,x\x00y\nb,UTC\n")
    shown = "n" * 80 + "…"
    err = check_refused(
        invoke, seeded, path, f"{path}:2: column '{shown}': value 'x\\x00y': contains a NUL character (\\x00)"
    )
    assert err.splitlines()[1] == (
        f"{path}:3: column '{shown}': missing value: line has 2 fields, the header has 3 (truncated line?)"
    )


def test_bare_cr_inside_a_line_keeps_later_line_numbers(invoke, seeded, csv_file) -> None:
    """Regression: line numbers were one too high after a bare CR inside a line."""
    path = csv_file("cr.csv", POLLS.encode() + b"s1,2023-01-22 12:00:00 UTC,act\rive\ns2,never,active\n")
    err = check_refused(
        invoke, seeded, path, f"{path}:2: malformed CSV (a carriage return (CR) inside a line, outside quotes)"
    )
    assert f"{path}:3: column 'timestamp_utc': value 'never'" in err.splitlines()[1]
