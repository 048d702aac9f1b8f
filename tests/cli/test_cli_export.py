"""``storemon --export``: the CSV, stdout purity, the recorded report, --as-of, one-line errors.

In-process (``invoke``) on both back ends wherever the database matters; one
real subprocess checks that ``--export -`` puts nothing but the CSV on stdout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storemon_tui.db import open_database
from storemon_tui.report import compute_report
from storemon_tui.report.formatting import report_text
from storemon_tui.report.jobs import ReportJobs, ReportStatus
from storemon_tui.report.source import load_report_input

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sorted((REPO / "sample_data").glob("*.csv"))
HEADER = (
    "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,downtime_last_hour,downtime_last_day,downtime_last_week"
)
ROW = re.compile(r"[^,]+(,\d+\.\d\d){6}")
POLLS = "store_id,timestamp_utc,status\n"


def expected_csv(target: str, as_of_us: int | None = None) -> str:
    """The report computed straight from the database, without the CLI."""
    db = open_database(target)
    try:
        with db.snapshot() as conn:
            inp, now = load_report_input(conn, as_of_us)
        return report_text(compute_report(inp, now))
    finally:
        db.dispose()


def recorded_reports(target: str):
    db = open_database(target)
    try:
        return ReportJobs(db).list()
    finally:
        db.dispose()


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 1, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_import_and_export_sample(invoke, db_target: str, tmp_path: Path) -> None:
    out_path = tmp_path / "out.csv"
    code, out, err = invoke("--db", db_target, "--import", *SAMPLE, "--export", out_path)
    assert code == 0, err
    assert out == ""
    csv = out_path.read_text(encoding="utf-8")
    lines = csv.split("\n")
    assert lines[0] == HEADER
    assert lines[-1] == ""  # ends with one newline
    rows = lines[1:-1]
    assert len(rows) > 100
    assert all(ROW.fullmatch(row) for row in rows), [r for r in rows if not ROW.fullmatch(r)][:3]
    ids = [row.split(",", 1)[0] for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert csv == expected_csv(db_target)
    assert not list(tmp_path.glob(".out.csv*"))  # the temporary file was renamed away

    # One summary line per file, then the export line naming the recorded report.
    err_lines = err.splitlines()
    assert len(err_lines) == 4, err
    # Written (and reported) zones first, then hours, then polls.
    by_kind = sorted(SAMPLE, key=lambda p: ["timezones", "menu_hours", "store_status"].index(p.stem))
    assert [line.split(":")[0] for line in err_lines[:3]] == [str(p) for p in by_kind]
    match = re.fullmatch(
        rf"report ([0-9a-f]{{32}}): {len(rows)} stores written to {re.escape(str(out_path))} in \d+\.\d\d s",
        err_lines[3],
    )
    assert match, err_lines[3]

    (report,) = recorded_reports(db_target)  # recorded like a report made in the app
    assert report.id == match.group(1)
    assert report.status is ReportStatus.COMPLETE and report.row_count == len(rows)
    assert Path(report.file_path).read_text(encoding="utf-8") == csv
    assert Path(report.file_path).parent == tmp_path / "data" / "reports"


def test_export_to_stdout_in_process(invoke, db_target: str) -> None:
    code, _, err = invoke("--db", db_target, "--import", *SAMPLE)
    assert code == 0, err
    code, out, err = invoke("--db", db_target, "--export", "-")
    assert code == 0, err
    assert out == expected_csv(db_target)
    assert re.fullmatch(r"report [0-9a-f]{32}: \d+ stores written to stdout in \d+\.\d\d s\n", err), err


def test_export_to_stdout_is_only_the_csv(cli, tmp_path: Path) -> None:
    """The real process: summary and report lines go to stderr, stdout is exactly the CSV."""
    db_path = tmp_path / "cli.sqlite3"
    result = cli("--db", db_path, "--import", *SAMPLE, "--export", "-")
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected_csv(str(db_path))
    assert result.stdout.startswith(HEADER + "\n")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 4  # three import summaries and the report line


# -- --as-of ----------------------------------------------------------------------------------


def test_as_of_moves_now_and_ignores_later_polls(invoke, db_target: str, csv_file, tmp_path: Path) -> None:
    # Open 24x7 (no hours rows). Latest poll 12:00: 'a' was up at 10:00 and down at 12:00,
    # 'late' has a single poll after the as-of instant.
    polls = csv_file(
        "p.csv",
        POLLS
        + "a,2023-01-25 10:00:00 UTC,active\n"
        + "a,2023-01-25 12:00:00 UTC,inactive\n"
        + "late,2023-01-25 11:30:00 UTC,active\n",
    )
    code, _, err = invoke("--db", db_target, "--import", polls)
    assert code == 0, err

    latest, as_of = tmp_path / "latest.csv", tmp_path / "as_of.csv"
    assert invoke("--db", db_target, "--export", latest)[0] == 0
    code, out, err = invoke("--db", db_target, "--export", as_of, "--as-of", "2023-01-25 11:00:00")
    assert code == 0, err
    # now = 12:00; the midpoint 11:00 splits a's polls: the active one owns everything before
    # 11:00, the inactive one [11:00, 12:00) -> hour 0 up / 60 down, day 23 / 1 h, week 167 / 1 h.
    assert latest.read_text().splitlines() == [
        HEADER,
        "a,0.00,23.00,167.00,60.00,1.00,1.00",
        "late,60.00,24.00,168.00,0.00,0.00,0.00",
    ]
    # now = 11:00: the 12:00 poll and 'late' (11:30) are in the future and ignored.
    assert as_of.read_text().splitlines() == [HEADER, "a,60.00,24.00,168.00,0.00,0.00,0.00"]
    reports = recorded_reports(db_target)
    assert sorted(r.as_of_us for r in reports) == [1674644400000000, 1674648000000000]


@pytest.mark.parametrize(
    "spelling", ["2023-01-25 11:00:00", "2023-01-25T11:00:00Z", "2023-01-25 11:00:00 UTC", "2023-01-25T12:00:00+01:00"]
)
@pytest.mark.parametrize("backend", ["sqlite"])  # parsing only; the back end does not matter
def test_as_of_spellings(invoke, db_target: str, csv_file, tmp_path: Path, spelling: str) -> None:
    polls = csv_file("p.csv", POLLS + "a,2023-01-25 10:00:00 UTC,active\na,2023-01-25 12:00:00 UTC,inactive\n")
    out_path = tmp_path / "r.csv"
    code, _, err = invoke("--db", db_target, "--import", polls, "--export", out_path, "--as-of", spelling)
    assert code == 0, err
    assert out_path.read_text().splitlines()[1] == "a,60.00,24.00,168.00,0.00,0.00,0.00"


def test_as_of_without_export_is_a_usage_error(invoke, tmp_path: Path) -> None:
    code, out, err = invoke("--db", tmp_path / "x.sqlite3", "--as-of", "2023-01-25 11:00:00")
    assert code == 2
    assert out == ""
    assert "--as-of only applies to --export" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.sqlite3").exists()


# -- failures: exit 1, one line, nothing recorded -----------------------------------------------


def test_empty_database(invoke, db_target: str, tmp_path: Path) -> None:
    out_path = tmp_path / "out.csv"
    line = one_line_error(*invoke("--db", db_target, "--export", out_path))
    assert line == "storemon: the database has no polls; import a polls CSV first"
    assert not out_path.exists()
    assert recorded_reports(db_target) == []


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2023-13-45 00:00:00",
        "",  # e.g. `--as-of "$T"` with T unset in a cron job
    ],
)
@pytest.mark.parametrize("backend", ["sqlite"])  # refused before the database is opened
def test_unparsable_as_of(invoke, db_target: str, csv_file, tmp_path: Path, value: str) -> None:
    polls = csv_file("p.csv", POLLS + "a,2023-01-25 10:00:00 UTC,active\n")
    assert invoke("--db", db_target, "--import", polls)[0] == 0
    out_path = tmp_path / "out.csv"
    code, out, err = invoke("--db", db_target, "--export", out_path, "--as-of", value)
    assert (code, out) == (2, "")  # wrong usage (issue 11): see test_cli_surroundings.py
    assert err.splitlines()[-1].startswith(f"storemon: error: --as-of {value!r}: "), err
    assert not out_path.exists()
    assert recorded_reports(db_target) == []


def test_unwritable_paths(invoke, db_target: str, csv_file, tmp_path: Path) -> None:
    polls = csv_file("p.csv", POLLS + "a,2023-01-25 10:00:00 UTC,active\n")
    assert invoke("--db", db_target, "--import", polls)[0] == 0

    missing = tmp_path / "no" / "such" / "out.csv"
    line = one_line_error(*invoke("--db", db_target, "--export", missing))
    assert line == f"storemon: --export {missing}: directory {missing.parent} does not exist"

    directory = tmp_path / "adir"
    directory.mkdir()
    line = one_line_error(*invoke("--db", db_target, "--export", directory))
    assert line == f"storemon: --export {directory}: is a directory"
    assert list(directory.iterdir()) == []

    # Checked before computing: no report was started, let alone left Running.
    assert recorded_reports(db_target) == []


def test_import_then_failed_export_keeps_the_import(invoke, db_target: str, csv_file, tmp_path: Path) -> None:
    polls = csv_file("p.csv", POLLS + "a,2023-01-25 10:00:00 UTC,active\n")
    missing = tmp_path / "nope" / "out.csv"
    code, out, err = invoke("--db", db_target, "--import", polls, "--export", missing)
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.splitlines()[-1] == f"storemon: --export {missing}: directory {missing.parent} does not exist"
    assert expected_csv(db_target).splitlines()[1].startswith("a,")  # the import was committed


@pytest.mark.parametrize("folder", ["with#hash", "with%41percent", "with?query"])
def test_sqlite_path_with_url_special_characters(invoke, tmp_path: Path, folder: str) -> None:
    """A database path is a path, not a URL: '%41' is not 'A', '#' and '?' are not
    a fragment or a query (the report's second read-only connection used to open,
    and create, the file named by the text before '#')."""
    directory = tmp_path / folder
    directory.mkdir()
    target = directory / "db.sqlite3"
    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS + "".join(f"{i},2023-01-22 12:00:00 UTC,active\n" for i in range(1, 4)), encoding="utf-8")
    code, out, err = invoke("--db", target, "--import", polls, "--export", "-")
    assert code == 0, err
    assert out.splitlines()[1:] == [f"{i},60.00,24.00,168.00,0.00,0.00,0.00" for i in range(1, 4)]
    assert sorted(p.name for p in directory.iterdir()) == ["db.sqlite3"]
    assert not (tmp_path / "with").exists()  # no stray database named by the text before '#'/'?'


# -- ids byte for byte ------------------------------------------------------------------------

CR_IDS_POLLS = (
    b'store_id,timestamp_utc,status\r\n"crlf\r\nid",2023-01-22 12:00:00 UTC,active\r\n'
    b'"bare\rcr",2023-01-22 12:00:00 UTC,inactive\r\n"lf\nid",2023-01-22 12:00:00 UTC,active\r\n'
)
CR_IDS_ROWS = {b'"bare\rcr",', b'"crlf\r\nid",', b'"lf\nid",'}


def report_id_fields(data: bytes) -> set[bytes]:
    return {field for field in CR_IDS_ROWS if field in data}


def test_export_keeps_line_breaks_inside_ids_byte_for_byte(cli_env, tmp_path: Path, db_target: str) -> None:
    """A CRLF (or a bare CR) inside a quoted store id used to come out as LF in every export (both back ends)."""
    import subprocess
    import sys

    polls = tmp_path / "polls.csv"
    polls.write_bytes(CR_IDS_POLLS)
    out_path = tmp_path / "out.csv"

    def run(*args: str | Path) -> bytes:
        done = subprocess.run(
            [sys.executable, "-m", "storemon_tui", "--db", db_target, *map(str, args)],
            capture_output=True,
            env=cli_env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert run("--import", polls) == b""
    stdout = run("--export", "-")
    assert report_id_fields(stdout) == CR_IDS_ROWS
    run("--export", out_path)
    assert out_path.read_bytes() == stdout
    stored = next((tmp_path / "data" / "reports").glob("*.csv")).read_bytes()
    assert report_id_fields(stored) == CR_IDS_ROWS
    assert stdout.startswith(HEADER.encode() + b"\n")
