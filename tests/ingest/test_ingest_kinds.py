"""Kind detection from the header: trimmed, case-insensitive, aliases, extras, encodings."""

from __future__ import annotations

import pytest

from storemon_tui.ingest import FileError, FileKind, import_file
from storemon_tui.ingest.kinds import UnknownHeaderError, detect_kind, expected_headers

THREE_HEADERS = (
    "store_id,timestamp_utc,status",
    "store_id,dayOfWeek,start_time_local,end_time_local",
    "store_id,timezone_str",
)


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (["store_id", "timestamp_utc", "status"], FileKind.POLLS),
        ([" Store_ID ", "TIMESTAMP_UTC", "  Status"], FileKind.POLLS),
        (["status", "store_id", "timestamp_utc"], FileKind.POLLS),
        (["store_id", "dayOfWeek", "start_time_local", "end_time_local"], FileKind.HOURS),
        (["store_id", "DAYOFWEEK", "start_time_local", "end_time_local"], FileKind.HOURS),
        (["store_id", "day_of_week", "start_time_local", "end_time_local"], FileKind.HOURS),
        (["store_id", "Day", "start_time_local", "end_time_local"], FileKind.HOURS),
        (["store_id", "timezone_str"], FileKind.ZONES),
        (["TimeZone_Str ", " STORE_ID"], FileKind.ZONES),
    ],
)
def test_detect_kind_accepts_spellings(header: list[str], kind: FileKind) -> None:
    match = detect_kind(header)
    assert match.kind is kind
    assert match.ignored == ()
    # Every canonical column is found at the position it has in the file.
    for canonical, pos in match.positions.items():
        written = header[pos].strip().lower()
        assert written == canonical.lower() or (canonical == "dayOfWeek" and written in ("day_of_week", "day"))


def test_detect_kind_names_extra_columns() -> None:
    match = detect_kind(["note", "store_id", "timezone_str", "Region "])
    assert match.kind is FileKind.ZONES
    assert match.ignored == ("note", "Region ")
    assert match.positions == {"store_id": 1, "timezone_str": 2}


@pytest.mark.parametrize("header", [["id", "when", "what"], ["store_id"], [""], ["storeid", "timezone"]])
def test_unknown_header_lists_the_three_expected_headers(header: list[str]) -> None:
    with pytest.raises(UnknownHeaderError) as info:
        detect_kind(header)
    for expected in THREE_HEADERS:
        assert expected in str(info.value)
    assert expected_headers() in str(info.value)


def test_missing_column_is_named() -> None:
    with pytest.raises(UnknownHeaderError, match="missing column 'status'"):
        detect_kind(["store_id", "timestamp_utc"])


@pytest.mark.parametrize(
    "content",
    [
        "store_id,timezone_str\n1,America/Chicago\n",
        "\ufeffstore_id,timezone_str\n1,America/Chicago\n",
        "store_id,timezone_str\r\n1,America/Chicago\r\n",
        "\ufeffstore_id,timezone_str\r\n1,America/Chicago",
        '"store_id","timezone_str"\r\n"1","America/Chicago"\r\n',
        " Store_Id , TIMEZONE_STR \n1,America/Chicago\n",
    ],
    ids=["lf", "bom", "crlf", "bom-crlf-no-final-newline", "quoted", "spaced-mixed-case"],
)
def test_encodings_newlines_and_quoting(db, csv_file, dump, content: str) -> None:
    summary = import_file(db, csv_file("z.csv", content))
    assert summary.kind is FileKind.ZONES
    assert summary.rows_read == 1 and summary.inserted == 1 and summary.rejected == 0
    assert summary.ignored_columns == ()
    tables = dump(db)
    assert tables["store"] == [(1, "1")]
    assert tables["store_timezone"] == [(1, "America/Chicago")]


def test_extra_columns_are_ignored_and_named_in_summary(db, csv_file, dump) -> None:
    path = csv_file(
        "p.csv",
        "comment,store_id,timestamp_utc,status,source\nhello,s1,2023-01-22 12:00:00 UTC,active,api\n",
    )
    summary = import_file(db, path)
    assert summary.kind is FileKind.POLLS
    assert summary.ignored_columns == ("comment", "source")
    line = summary.describe()
    assert "'comment'" in line and "'source'" in line and "ignored column" in line
    assert dump(db)["polls"] == [(1, 1674388800000000, 1)]


def test_long_lists_of_ignored_columns_are_shortened_in_the_summary(db, csv_file) -> None:
    """Regression: 10,000 extra columns made a summary line of 10,000 names (and one long name, all of it)."""
    extra = [f"extra_{i}" for i in range(10_000)]
    header = ",".join(["store_id", "timestamp_utc", "status", *extra])
    path = csv_file("p.csv", header + "\ns1,2023-01-22 12:00:00 UTC,active" + ",x" * 10_000 + "\n")
    line = import_file(db, path).describe()
    named = ", ".join(f"'extra_{i}'" for i in range(10))  # 10 names of 7 characters fit in 80
    assert f"ignored columns: {named} and 9,990 more columns, " in line, line
    assert len(line) < len(str(path)) + 250

    long = csv_file("q.csv", f"store_id,timezone_str,{'n' * 3_000}\ns1,UTC,x\n")
    assert f"ignored column: '{'n' * 80}…', " in import_file(db, long).describe()


def test_polls_file_with_a_zone_column_is_polls(db, csv_file, dump) -> None:
    path = csv_file("p.csv", "store_id,timestamp_utc,status,timezone_str\ns1,2023-01-22 12:00:00 UTC,active,UTC\n")
    summary = import_file(db, path)
    assert summary.kind is FileKind.POLLS
    assert summary.ignored_columns == ("timezone_str",)
    assert dump(db)["store_timezone"] == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,when,what\n1,2,3\n", "unrecognised header"),
        ("store_id,timestamp_utc\n1,2023-01-22 12:00:00 UTC\n", "missing column 'status'"),
    ],
)
def test_unknown_header_file_error_shows_expected_headers(db, csv_file, content: str, expected: str) -> None:
    path = csv_file("bad.csv", content)
    with pytest.raises(FileError) as info:
        import_file(db, path)
    message = str(info.value)
    assert message.startswith(f"{path}:1: ")
    assert expected in message
    for header in THREE_HEADERS:
        assert header in message
