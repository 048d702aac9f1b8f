"""``--export PATH`` respects what is at PATH (issue 11 item 1), and leaves no temporary file behind.

Before: the CSV was written to a temporary file and renamed over PATH, so a
symlink became a regular file (its target never updated), a FIFO's reader got
nothing, and as root ``--export /dev/null`` turned the device into a file.
Device cases use device nodes the test makes itself (never the system's).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

POLLS = "store_id,timestamp_utc,status\n" + "".join(f"s{i},2023-01-22 12:00:00 UTC,active\n" for i in range(50))


@pytest.fixture
def imported(invoke, tmp_path: Path) -> str:
    """An SQLite database with a few stores in it."""
    polls = tmp_path / "polls.csv"
    polls.write_text(POLLS)
    target = str(tmp_path / "db.sqlite3")
    code, _, err = invoke("--db", target, "--import", polls)
    assert code == 0, err
    return target


def temporaries(*directories: Path) -> list[str]:
    return [p.name for d in directories if d.exists() for p in d.iterdir() if "tmp" in p.name]


def test_export_through_a_symlink_updates_its_target(invoke, imported: str, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    real = tmp_path / "out" / "report.csv"
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to("out/report.csv")
    code, _, err = invoke("--db", imported, "--export", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == "out/report.csv"
    assert real.read_text().startswith("store_id,") and real.read_text().count("\n") == 51
    assert temporaries(tmp_path, tmp_path / "out", tmp_path / "data" / "reports") == []


def test_export_to_a_fifo_feeds_its_reader(invoke, imported: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = invoke("--db", imported, "--export", fifo)
    reader.join(30)
    assert code == 0, err
    assert received and received[0].startswith(b"store_id,") and received[0].count(b"\n") == 51
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_export_to_a_character_device_writes_into_it(invoke, imported: str, tmp_path: Path) -> None:
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # our own null device node, not /dev/null
    except PermissionError:
        pytest.skip("mknod is not permitted here")
    code, _, err = invoke("--db", imported, "--export", null)
    assert code == 0, err
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["db.sqlite3", "null", "polls.csv"]


def test_export_to_dev_stdout_appends_to_the_redirected_file(
    cli_env: dict[str, str], imported: str, tmp_path: Path
) -> None:
    """Through a link to ``/proc/self/fd/1``, which is what ``/dev/stdout`` is. Never the real one: code that
    gets this wrong renames a file over the link, which breaks ``/dev/stdout`` for the whole machine."""
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    log = tmp_path / "log.csv"
    log.write_text("earlier\n")
    inode = log.stat().st_ino
    with open(log, "ab") as appending:
        done = subprocess.run(
            [sys.executable, "-m", "storemon_tui", "--db", imported, "--export", str(stdout)],
            stdout=appending,
            stderr=subprocess.PIPE,
            env=cli_env,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr
    content = log.read_text()
    assert content.startswith("earlier\nstore_id,") and content.count("\n") == 52
    assert log.stat().st_ino == inode  # the same file, written through, never renamed over
    assert stdout.is_symlink()


def test_export_where_the_file_system_refuses_is_one_line(invoke, imported: str) -> None:
    code, out, err = invoke("--db", imported, "--export", "/sys/storemon-export-test.csv")
    assert code == 1 and out == ""
    assert err == "storemon: cannot write /sys/storemon-export-test.csv: Permission denied\n"


def test_a_report_write_failing_part_way_leaves_no_temporary(cli_env: dict[str, str], tmp_path: Path) -> None:
    """The file size limit (like a full disk) hits the report's CSV in the reports directory: one line, exit 1."""
    polls = tmp_path / "big.csv"
    polls.write_text(
        "store_id,timestamp_utc,status\n"
        + "".join(f"store-{i:06d},2023-01-22 12:00:00 UTC,active\n" for i in range(3000))
    )
    db = tmp_path / "db.sqlite3"
    code = (
        "import resource, signal, sys\n"
        "from storemon_tui.cli import main\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"assert main(['--db', {str(db)!r}, '--import', {str(polls)!r}]) == 0\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))\n"  # the CSV is ~150 kB
        f"sys.exit(main(['--db', {str(db)!r}, '--export', {str(tmp_path / 'out.csv')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=cli_env, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(": File too large"), done.stderr
    assert "Traceback" not in done.stderr
    assert temporaries(tmp_path, tmp_path / "data" / "reports") == []
    assert not (tmp_path / "out.csv").exists()


def test_a_rejects_file_behind_a_symlink_is_written_through_it(invoke, tmp_path: Path) -> None:
    """The rejects file goes through the same helper: a link stays a link, no temporary is left."""
    bad = tmp_path / "p.csv"
    bad.write_text("store_id,timestamp_utc,status\ns,2023-01-22 12:00:00 UTC,active\nt,2023-01-22 12:00:00 UTC,maybe\n")
    (tmp_path / "kept").mkdir()
    (tmp_path / "p.csv.rejects.csv").symlink_to("kept/rejects.csv")
    code, _, err = invoke("--db", tmp_path / "db.sqlite3", "--import", bad, "--skip-invalid")
    assert code == 0, err
    assert (tmp_path / "p.csv.rejects.csv").is_symlink()
    assert (
        (tmp_path / "kept" / "rejects.csv").read_text().splitlines()[1].startswith("t,2023-01-22 12:00:00 UTC,maybe,")
    )
    assert temporaries(tmp_path, tmp_path / "kept") == []
