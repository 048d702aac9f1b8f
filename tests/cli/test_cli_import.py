"""The command line's import path, run as a real subprocess where it matters."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from storemon_tui import __version__

POLLS = "store_id,timestamp_utc,status\n"


def test_core_never_imports_textual() -> None:
    code = (
        "import storemon_tui.db, storemon_tui.ingest, storemon_tui.report.jobs, storemon_tui.report.export, "
        "storemon_tui.report.store_detail, storemon_tui.sample, "
        "storemon_tui.cli, sys; "
        "assert not any(m == 'textual' or m.startswith('textual.') for m in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_headless_sqlite_import_never_loads_sqlalchemy(tmp_path: Path) -> None:
    """Importing into SQLite runs on ``sqlite3`` alone: loading SQLAlchemy would add 0.3–0.9 s to every import."""
    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS + "0012,2023-01-22 12:00:00 UTC,active\n")
    zones = tmp_path / "zones.csv"
    zones.write_text("store_id,timezone_str\n0012,America/Chicago\n")
    code = (
        "import sys\n"
        "from storemon_tui.cli import main\n"
        f"code = main(['--db', {str(tmp_path / 'x.sqlite3')!r}, '--import', {str(polls)!r}, {str(zones)!r}])\n"
        "heavy = {'sqlalchemy', 'sqlmodel', 'pydantic', 'pandas'}\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "0 []", result.stderr


def test_help_and_version(cli) -> None:
    help_run = cli("--help")
    assert help_run.returncode == 0
    assert "--import" in help_run.stdout and "--skip-invalid" in help_run.stdout and "--db" in help_run.stdout
    version_run = cli("--version")
    assert version_run.returncode == 0
    assert version_run.stdout.strip() == f"storemon {__version__}"


def test_skip_invalid_without_import_is_a_usage_error(invoke) -> None:
    code, out, err = invoke("--skip-invalid")
    assert code == 2
    assert "--skip-invalid only applies to --import" in err
    assert err.startswith("usage: storemon")


def test_import_summary_lines(cli, tmp_path: Path) -> None:
    polls = tmp_path / "polls.csv"
    polls.write_text(
        POLLS + "12345678901234567890,2023-01-22 12:00:00 UTC,active\n0012,2023-01-22 12:00:00 UTC,inactive\n"
        "0012,2023-01-22T12:00:00Z,active\n"
    )
    zones = tmp_path / "zones.csv"
    zones.write_text("store_id,timezone_str,extra\n0012,America/Chicago,x\n")
    db = tmp_path / "cli.sqlite3"
    result = cli("--db", db, "--import", polls, zones)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    # Zones are written (and reported) before polls, whatever the order given.
    assert re.fullmatch(
        rf"{re.escape(str(zones))}: time zones, 1 row read, 1 inserted, 0 changed, 0 unchanged, 0 rejected, "
        r"ignored column: 'extra', \d+\.\d\d s",
        lines[0],
    ), lines[0]
    assert re.fullmatch(
        rf"{re.escape(str(polls))}: polls, 3 rows read, 2 inserted, 0 replaced \(0 changed status\), "
        r"1 duplicate row in file \(last wins\), 0 rejected, \d+\.\d\d s",
        lines[1],
    ), lines[1]

    again = cli("--db", db, "--import", polls)
    assert again.returncode == 0
    assert ": polls, 3 rows read, 0 inserted, 2 replaced (0 changed status)" in again.stderr

    import sqlite3

    with sqlite3.connect(db) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT store_id FROM store")) == ["0012", "12345678901234567890"]
        assert conn.execute("SELECT typeof(store_id) FROM store").fetchall() == [("text",), ("text",)]


def test_file_errors_are_one_line_no_traceback_and_later_files_still_import(cli, tmp_path: Path) -> None:
    """Several unreadable inputs in one run: one line each, exit 1, the good file is imported."""
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"store_id,timezone_str\nS\xe9,UTC\n")
    header_only = tmp_path / "header.csv"
    header_only.write_text(POLLS)
    directory = tmp_path / "folder"
    directory.mkdir()
    missing = tmp_path / "missing.csv"
    good = tmp_path / "good.csv"
    good.write_text("store_id,timezone_str\nok,UTC\n")
    db = tmp_path / "cli.sqlite3"
    result = cli("--db", db, "--import", missing, directory, empty, latin, header_only, good)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # Unreadable headers first, then the zones files (latin.csv's header is fine), then polls.
    lines = result.stderr.splitlines()
    assert lines == [
        f"storemon: {missing}: no such file",
        f"storemon: {directory}: is a directory, not a CSV file",
        f"storemon: {empty}: is empty (expected a header line and data rows)",
        f"storemon: {latin}:2: not UTF-8 text (byte 0xe9 at column 2); save the file as UTF-8",
        lines[4],
        f"storemon: {header_only}: has a header but no data rows",
    ]
    assert lines[4].startswith(f"{good}: time zones, 1 row read, 1 inserted")


def test_invalid_rows_exit_nonzero_and_no_export(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(POLLS + "a,2023-01-22 12:00:00 UTC,active\nb,2023-01-22 12:00:00 UTC,unknown\n")
    result = cli("--db", tmp_path / "cli.sqlite3", "--import", bad, "--export", tmp_path / "out.csv")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        f"storemon: {bad}:3: column 'status': value 'unknown': status must be 'active' or 'inactive'" in result.stderr
    )
    assert "not exporting because an import failed" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_bad_database_location_is_one_line(invoke, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("store_id,timezone_str\nok,UTC\n")
    code, out, err = invoke("--db", tmp_path / "no" / "such" / "dir" / "x.sqlite3", "--import", good)
    assert code == 1
    missing = tmp_path / "no/such/dir"
    assert err.strip() == f"storemon: database {missing / 'x.sqlite3'}: directory {missing} does not exist"


def test_default_database_lives_in_the_data_dir(invoke, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("store_id,timezone_str\nok,UTC\n")
    code, _, err = invoke("--import", good)
    assert code == 0, err
    assert (tmp_path / "data" / "storemon.sqlite3").is_file()


@pytest.mark.parametrize("args", [["--as-of", "2023-01-22 12:00:00"], ["--import"]])
def test_other_usage_errors(invoke, args: list[str]) -> None:
    code, _, err = invoke(*args)
    assert code == 2
    assert "usage: storemon" in err


@pytest.mark.slow
def test_ctrl_c_at_any_moment_of_an_import_exits_130_cleanly(tmp_path: Path, start_cli) -> None:
    """Ctrl-C while the files are being read, the database opens or rows are written.

    Each run must end promptly: with 130 (or 0 if the import won the race), no
    traceback, every file in or out as a whole, and a sound database file.
    (Ctrl-C used to be an exception raised wherever the main thread was; one
    landing inside Python's import machinery while the reader threads were
    importing too left a module lock held and hung the process.)
    """
    import signal
    import sqlite3
    import time

    import numpy as np

    rows = 300_000
    i = np.arange(rows)
    stamps = np.datetime_as_string(
        np.datetime64("2023-01-18T00:00:00", "s") + (i // 500).astype("timedelta64[m]"), unit="s"
    )
    polls = tmp_path / "polls.csv"
    polls.write_text(
        POLLS
        + "\n".join(np.char.add(np.char.add((i % 500).astype(str), ","), np.char.add(stamps, " UTC,active")).tolist())
        + "\n"
    )
    zones = tmp_path / "zones.csv"
    zones.write_text("store_id,timezone_str\n" + "".join(f"{s},America/Chicago\n" for s in range(500)))

    # Delays from the moment the CLI's code runs (start_cli waits for that): reading, opening, writing.
    for run, delay in enumerate([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.7, 0.9]):
        db = tmp_path / f"run{run}.sqlite3"
        running = start_cli("--db", db, "--import", polls, zones)
        proc = running.proc
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        err = running.stderr_within(30, f"import still running 30 s after Ctrl-C at {delay} s")
        assert proc.returncode in (0, 130), (delay, proc.returncode, err)
        assert "Traceback" not in err and "Exception ignored" not in err, (delay, err)
        if proc.returncode == 130:
            assert "storemon: interrupted" in err, err
        if db.exists():
            with sqlite3.connect(db) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if "poll" in tables:
                    assert conn.execute("SELECT count(*) FROM poll").fetchone()[0] in (0, rows)
                    assert conn.execute("SELECT count(*) FROM store_timezone").fetchone()[0] in (0, 500)


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (["--import"], "storemon: interrupted; nothing was imported"),
        (["--export", "-"], "storemon: interrupted; the database is unchanged by the interrupted step"),
    ],
    ids=["import", "export"],
)
def test_ctrl_c_while_the_cli_starts_up_is_held_then_stops_it(
    invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], line: str
) -> None:
    """A Ctrl-C while the CLI parses its arguments and imports its modules is held, not raised there.

    Raised wherever the main thread was, it could land inside Python's import
    machinery: in the callback that drops a module lock it was printed as
    "Exception ignored ... KeyboardInterrupt" and lost, and it could leave the
    global import lock held, so the import's reading threads blocked on their
    first import and the CLI hung (the subprocess test above, now and then).
    Here the press comes at a known moment of start-up: the start-up must go
    on, then an import stops before it reads or opens anything, an export
    before it starts. 130 and one line either way.
    """
    import signal

    from storemon_tui.headless import log

    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS + "0012,2023-01-22 12:00:00 UTC,active\n")
    db = tmp_path / "held.sqlite3"
    configure = log.configure
    steps: list[str] = []

    def pressed_during_start_up(*args: object, **kwargs: object) -> None:
        signal.raise_signal(signal.SIGINT)  # its Python handler runs before this call returns
        steps.append("start-up went on")
        configure(*args, **kwargs)

    monkeypatch.setattr(log, "configure", pressed_during_start_up)
    previous = signal.signal(
        signal.SIGINT, signal.default_int_handler
    )  # as in a terminal, even if run in the background
    try:
        code, out, err = invoke("--db", db, *command, *([polls] if command == ["--import"] else []))
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C was raised in the middle of the CLI's start-up")
    finally:
        after = signal.signal(signal.SIGINT, previous)
    assert steps == ["start-up went on"]
    assert (code, out, err.strip()) == (130, "", line)
    assert after is signal.default_int_handler  # the CLI put back the handler it found
    assert not db.exists()


def test_import_takes_a_directory_or_a_quoted_glob_as_the_app_does(invoke, tmp_path: Path) -> None:
    """``--import DIR`` and ``--import 'dir/*.csv'`` (no shell expanding it) import the CSV files there."""
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "polls.csv").write_text(POLLS + "0012,2023-01-22 12:00:00 UTC,active\n")
    (folder / "zones.csv").write_text("store_id,timezone_str\n0012,America/Chicago\n")
    (folder / "notes.txt").write_text("not a CSV\n")
    code, out, err = invoke("--db", tmp_path / "dir.sqlite3", "--import", folder)
    assert code == 0, err
    assert [line.split(":")[0] for line in err.splitlines()] == [str(folder / "zones.csv"), str(folder / "polls.csv")]
    code, out, err = invoke("--db", tmp_path / "glob.sqlite3", "--import", str(folder / "p*.csv"))
    assert code == 0, err
    assert [line.split(":")[0] for line in err.splitlines()] == [str(folder / "polls.csv")]
    # A glob matching nothing still fails, naming it.
    code, out, err = invoke("--db", tmp_path / "none.sqlite3", "--import", str(folder / "x*.csv"))
    assert code != 0 and "x*.csv" in err
