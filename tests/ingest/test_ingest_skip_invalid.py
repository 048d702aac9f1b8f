"""``--skip-invalid``: valid rows imported, invalid ones written verbatim to FILE.rejects.csv."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storemon_tui.db import open_database
from storemon_tui.ingest import FileKind, import_file

POLLS = "store_id,timestamp_utc,status\n"


def test_rejects_file_content_is_exact(db, csv_file, dump) -> None:
    content = (
        "Store_ID , timestamp_utc,status,note\n"  # line 1 (header kept verbatim, extra column too)
        's1,2023-01-22 12:00:00 UTC,active,"ok"\n'  # 2 ok
        "s2,2023-01-22 12:00:00 UTC,up,x\n"  # 3 bad status
        's3,not a time,ACTIVE,"multi\nline, with comma"\n'  # 4-5 bad timestamp, verbatim quoted note
        ",2023-01-22 12:00:00 UTC,nope,y\n"  # 6 empty id + bad status
        "s4,2023-01-22 13:00:00 UTC,inactive,z\n"  # 7 ok
        "s5,2023-01-22 12:0\n"  # 8 truncated
    )
    path = csv_file("polls.csv", content)
    summary = import_file(db, path, skip_invalid=True)
    assert summary.kind is FileKind.POLLS
    assert (summary.rows_read, summary.inserted, summary.rejected) == (6, 2, 4)
    assert summary.rejects_path == Path(str(path) + ".rejects.csv")
    assert f"4 rejected (see {summary.rejects_path})" in summary.describe()
    assert summary.ignored_columns == ("note",)

    assert summary.rejects_path.read_bytes().decode("utf-8") == (
        "Store_ID , timestamp_utc,status,note,reason\n"
        "s2,2023-01-22 12:00:00 UTC,up,x,line 3: column 'status': status must be 'active' or 'inactive'\n"
        's3,not a time,ACTIVE,"multi\nline, with comma",'
        "line 4: column 'timestamp_utc': not a timestamp (expected e.g. 2023-01-22 12:09:39.388884 UTC or ISO 8601)\n"
        ",2023-01-22 12:00:00 UTC,nope,y,"
        "line 6: column 'store_id': store_id is empty; line 6: column 'status': status must be 'active' or 'inactive'\n"
        # The truncated record is padded to the header's width so its reason is in the reason column.
        "s5,2023-01-22 12:0,,,"
        "\"line 8: column 'status': missing value: line has 2 fields, the header has 4 (truncated line?)\"\n"
    )
    tables = dump(db)
    assert sorted(sid for _, sid in tables["store"]) == ["s1", "s4"]
    assert len(tables["polls"]) == 2


def test_rejects_file_can_be_fixed_and_reimported(db, csv_file, dump) -> None:
    path = csv_file("z.csv", "store_id,timezone_str\na,America/Chicago\nb,Mars/Base\n")
    summary = import_file(db, path, skip_invalid=True)
    assert (summary.inserted, summary.rejected) == (1, 1)
    rejects = summary.rejects_path
    assert rejects is not None
    assert rejects.read_text() == (
        "store_id,timezone_str,reason\n"
        "b,Mars/Base,line 3: column 'timezone_str': unknown time zone (expected an IANA name such as America/Chicago)\n"
    )
    rejects.write_text(rejects.read_text().replace("Mars/Base", "Europe/Paris"))
    again = import_file(db, rejects)
    assert again.ignored_columns == ("reason",)
    assert again.inserted == 1
    tables = dump(db)
    ids = dict(tables["store"])
    assert sorted((ids[k], z) for k, z in tables["store_timezone"]) == [("a", "America/Chicago"), ("b", "Europe/Paris")]


def test_clean_file_with_skip_invalid_writes_no_rejects_file(db, csv_file) -> None:
    path = csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\n")
    summary = import_file(db, path, skip_invalid=True)
    assert summary.rejected == 0 and summary.rejects_path is None
    assert "0 rejected" in summary.describe()
    assert not Path(str(path) + ".rejects.csv").exists()


def test_all_rows_invalid_imports_nothing_but_succeeds(db, csv_file, dump) -> None:
    before = dump(db)
    path = csv_file("h.csv", "store_id,dayOfWeek,start_time_local,end_time_local\na,9,09:00,17:00\nb,1,25:00,17:00\n")
    summary = import_file(db, path, skip_invalid=True)
    assert (summary.inserted, summary.rejected, summary.stores) == (0, 2, 0)
    after = dump(db)
    assert {k: v for k, v in after.items() if k != "meta"} == {k: v for k, v in before.items() if k != "meta"}
    assert len(summary.rejects_path.read_text().splitlines()) == 3


def test_skip_invalid_hours_store_keeps_only_its_valid_rows(db, csv_file, dump) -> None:
    """The file mentions store a: its old hours go, its valid new rows come in, bad rows are rejected."""
    hours = "store_id,dayOfWeek,start_time_local,end_time_local\n"
    import_file(db, csv_file("h1.csv", hours + "a,0,09:00,17:00\na,1,09:00,17:00\n"))
    summary = import_file(db, csv_file("h2.csv", hours + "a,2,10:00,11:00\na,3,10:00,99:00\n"), skip_invalid=True)
    assert (summary.inserted, summary.replaced, summary.rejected) == (1, 2, 1)
    assert [(d, s, e) for _, _, d, s, e in dump(db)["business_hours"]] == [(2, 10 * 3_600_000_000, 11 * 3_600_000_000)]


def test_skip_invalid_cli_summary(invoke, db_target: str, csv_file) -> None:
    path = csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\ns,2023-01-22 13:00:00 UTC,broken\n")
    code, out, err = invoke("--db", db_target, "--import", path, "--skip-invalid")
    assert code == 0, err
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"{path}: polls, 2 rows read, 1 inserted, 0 replaced (0 changed status), ")
    assert f"1 rejected (see {path}.rejects.csv)" in line
    assert Path(f"{path}.rejects.csv").exists()


def test_rejects_file_wide_and_unterminated_records(db, csv_file) -> None:
    """A quote never closed makes its line malformed; the next line is read as a record of its own."""
    path = csv_file("z.csv", 'store_id,timezone_str\na,UTC,x,y\nb,UTC\nc,"Europe/Paris\nd,UTC\n')
    summary = import_file(db, path, skip_invalid=True)
    assert (summary.inserted, summary.rejected) == (2, 2)
    assert summary.rejects_path.read_text() == (
        "store_id,timezone_str,reason\n"
        'a,UTC,x,y,"line 2: too many fields: line has 4 fields, the header has 2"\n'
        'c,"Europe/Paris,line 4: malformed CSV (a quote opened on this line is never closed)\n'
    )


def test_rejects_file_that_cannot_be_put_in_place_commits_nothing(invoke, db_target: str, csv_file, dump) -> None:
    """All or nothing: the valid rows are not committed, the error names the rejects file, the next file goes in.

    (A directory where the rejects file must go stops even root; a read-only
    directory is checked below for other users.)
    """
    bad = csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\ns,2023-01-22 13:00:00 UTC,broken\n")
    target = Path(f"{bad}.rejects.csv")
    target.mkdir()
    later = csv_file("q.csv", POLLS + "t,2023-01-22 12:00:00 UTC,active\n")
    code, out, err = invoke("--db", db_target, "--import", bad, later, "--skip-invalid")
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith(f"storemon: {target}: the rejects file cannot be written (")
    assert lines[0].endswith(f"nothing from {bad} was imported")
    assert lines[1].startswith(f"{later}: polls, 1 row read, 1 inserted")
    assert "Traceback" not in err
    db = open_database(db_target)
    try:
        tables = dump(db)
    finally:
        db.dispose()
    assert [sid for _, sid in tables["store"]] == ["t"]
    assert target.is_dir() and not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only directories")
def test_rejects_next_to_a_read_only_directory_commit_nothing(invoke, db_target: str, tmp_path: Path, dump) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    bad = folder / "p.csv"
    bad.write_text(POLLS + "s,2023-01-22 12:00:00 UTC,active\ns,2023-01-22 13:00:00 UTC,broken\n")
    folder.chmod(0o555)
    try:
        code, _, err = invoke("--db", db_target, "--import", bad, "--skip-invalid")
    finally:
        folder.chmod(0o755)
    assert code == 1
    assert err.splitlines()[0].startswith(f"storemon: {bad}.rejects.csv: the rejects file cannot be written (")
    db = open_database(db_target)
    try:
        assert dump(db)["polls"] == []
    finally:
        db.dispose()
