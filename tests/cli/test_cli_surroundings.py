"""Hostile surroundings get one clear line or a usage error, never a hang or 'unexpected error' (issue 11 item 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from storemon_tui.report.as_of import parse_as_of

POLLS = "store_id,timestamp_utc,status\n"
US = 1_000_000


# -- no terminal ---------------------------------------------------------------------------------


def test_the_app_without_a_terminal_exits_2_at_once(cli_env: dict[str, str], tmp_path: Path) -> None:
    """A cron line that forgot --import used to hang for ever writing escape codes."""
    done = subprocess.run(
        [sys.executable, "-m", "storemon_tui", "--db", str(tmp_path / "x.sqlite3")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=cli_env,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "storemon: the app needs a terminal (stdin and stdout); in scripts and cron use --import FILE ... "
        "and/or --export PATH (see storemon --help)"
    ]
    assert not (tmp_path / "x.sqlite3").exists()


# -- --as-of ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-25", 1674604800 * US),  # midnight UTC
        ("2023-01-22 12:00", 1674388800 * US),
        ("2023-01-22T12:00", 1674388800 * US),
        ("2023-01-22T12:00Z", 1674388800 * US),
        ("2023-01-22 12:00:00 UTC", 1674388800 * US),  # the CSV's own spelling
        ("2023-01-22T12:00:00.5", 1674388800 * US + 500_000),
        ("2023-01-22T17:30+05:30", 1674388800 * US),  # 17:30 at +05:30 is 12:00 UTC
        ("2023-01-22 07:00-05:00", 1674388800 * US),
        ("  2023-01-22 12:00  ", 1674388800 * US),
    ],
)
def test_as_of_accepts_the_common_iso_forms(text: str, expected: int) -> None:
    assert parse_as_of(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2023-13-45", "2023-01-22 25:00", "12:00", "2023-01-22 12:00 CET"])
def test_a_malformed_as_of_is_a_usage_error(invoke, tmp_path: Path, text: str) -> None:
    code, out, err = invoke("--db", tmp_path / "x.sqlite3", "--export", "-", "--as-of", text)
    assert code == 2 and out == ""
    assert err.startswith("usage: storemon") and f"--as-of {text!r}: " in err
    assert not (tmp_path / "x.sqlite3").exists()


def test_as_of_before_all_data_is_one_line_and_no_report(invoke, db_target: str, csv_file, tmp_path: Path) -> None:
    polls = csv_file("p.csv", POLLS + "a,2023-01-25 10:00:00 UTC,active\nb,2023-01-24 10:00:00 UTC,active\n")
    assert invoke("--db", db_target, "--import", polls)[0] == 0
    out_path = tmp_path / "r.csv"
    code, out, err = invoke("--db", db_target, "--export", out_path, "--as-of", "2023-01-24 09:59")
    assert (code, out) == (1, "")
    assert err == (
        "storemon: no polls at or before 2023-01-24 09:59:00 UTC (the first is at 2023-01-24 10:00:00 UTC)\n"
    )
    assert not out_path.exists()
    code, _, err = invoke("--db", db_target, "--export", out_path, "--as-of", "2023-01-24 10:00")
    assert code == 0, err  # a poll exactly at the instant counts


def test_status_as_of_before_all_data_is_the_same_line_as_the_report(
    invoke, db_target: str, csv_file, tmp_path: Path
) -> None:
    """``--status`` alone used to write an empty CSV and exit 0 where ``--export`` exits 1: now both say so."""
    out_path = tmp_path / "s.csv"
    # An empty database first: the same line as --export's (which says so, with or without --as-of).
    for as_of in ([], ["--as-of", "2023-01-24 09:59"]):
        for output in (["--export", "-"], ["--status", "-"], ["--status", out_path]):
            code, out, err = invoke("--db", db_target, *output, *as_of)
            assert (code, out, err) == (1, "", "storemon: the database has no polls; import a polls CSV first\n")
    polls = csv_file("p.csv", POLLS + "a,2023-01-25 10:00:00 UTC,active\nb,2023-01-24 10:00:00 UTC,active\n")
    assert invoke("--db", db_target, "--import", polls)[0] == 0
    for output in (["--status", "-"], ["--status", out_path]):
        code, out, err = invoke("--db", db_target, *output, "--as-of", "2023-01-24 09:59")
        assert (code, out) == (1, "")
        assert err == (
            "storemon: no polls at or before 2023-01-24 09:59:00 UTC (the first is at 2023-01-24 10:00:00 UTC)\n"
        )
        assert not out_path.exists()
    code, out, err = invoke("--db", db_target, "--status", "-", "--as-of", "2023-01-24 10:00")
    assert code == 0, err  # a poll exactly at the instant counts
    assert out.splitlines()[1].startswith("b,")


# -- data directory and database URLs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp: tmp / "a-file", "is not a directory"),
        (lambda tmp: Path("/dev/null"), "is not a directory"),  # only mkdir()ed, which fails: nothing is written
        (lambda tmp: tmp / "a-file" / "below", "cannot be made (Not a directory)"),
    ],
    ids=["a file", "/dev/null", "below a file"],
)
def test_a_bad_data_directory_is_one_line(
    invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make, reason
) -> None:
    (tmp_path / "a-file").write_text("x")
    directory = make(tmp_path)
    monkeypatch.setenv("STOREMON_DATA_DIR", str(directory))
    code, out, err = invoke("--export", "-")
    assert (code, out) == (1, "")
    assert err == f"storemon: STOREMON_DATA_DIR {directory}: {reason}\n"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://u:secret@h:notaport/db", "storemon: --db postgresql+psycopg://u:***@h:notaport/db: "),
        ("postgresql+psycopg://:@:/", "storemon: --db postgresql+psycopg://:***@:/: "),
        ("postgresql+psycopg://u@127.0.0.1:1/db?bogus_option=1", "storemon: database postgresql+psycopg://"),
    ],
)
def test_a_malformed_postgresql_url_is_one_line(invoke, url: str, expected: str) -> None:
    code, out, err = invoke("--db", url, "--export", "-")
    assert (code, out) == (1, "")
    assert err.startswith(expected) and len(err.splitlines()) == 1, err
    assert "unexpected error" not in err and "secret" not in err
