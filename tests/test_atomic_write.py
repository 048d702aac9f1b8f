"""write_atomically: what is at the path decides how it is written; nothing is ever left behind.

Every case runs on the real file system. Device cases never touch the
system's own devices: the tests make device nodes of their own in a
temporary directory (``mknod``, skipped where not permitted), so a wrong
implementation replaces a throwaway node, never ``/dev/null``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import IO

import pytest

from storemon_tui.atomic_write import TEMP_SUFFIX, resolve_target, write_atomically
from storemon_tui.errors import StoremonError

REPO = Path(__file__).resolve().parent.parent


def write(path: str | Path, data: bytes = b"new\r\ncontent\n") -> None:
    with write_atomically(path) as handle:
        handle.write(data)


def leftovers(*directories: Path) -> list[str]:
    return [p.name for d in directories for p in d.iterdir() if p.name.endswith(TEMP_SUFFIX) or ".tmp" in p.name]


def umask() -> int:
    return int(
        next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("Umask:")).split()[
            1
        ],
        8,
    )


def device(tmp_path: Path, name: str, kind: int, major: int, minor: int) -> Path:
    """A device node of our own (safe to get wrong); skip where the system forbids making one."""
    path = tmp_path / name
    try:
        os.mknod(path, kind | 0o666, os.makedev(major, minor))
    except PermissionError:
        pytest.skip("mknod is not permitted here")
    return path


# -- regular files -------------------------------------------------------------------------------


def test_a_new_file_is_created_with_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write(target)
    assert target.read_bytes() == b"new\r\ncontent\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask()
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_replaced_by_a_rename_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    target.chmod(0o640)
    before = target.stat().st_ino
    write(target)
    assert target.read_bytes() == b"new\r\ncontent\n"
    assert target.stat().st_ino != before  # a new file renamed into place: readers never see half of it
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_text_mode_writes_exactly_what_it_is_given(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with write_atomically(target, encoding="utf-8") as handle:
        handle.write("a\r\nb\nč\n")
    assert target.read_bytes() == "a\r\nb\nč\n".encode()


# -- symbolic links ------------------------------------------------------------------------------


def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes() == b"new\r\ncontent\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_relative_links_chains_and_linked_directories(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere").mkdir()
    real = tmp_path / "data" / "report.csv"
    real.write_bytes(b"old")
    (tmp_path / "elsewhere" / "hop2").symlink_to("../data/report.csv")  # relative to its own directory
    (tmp_path / "hop1").symlink_to(tmp_path / "elsewhere" / "hop2")  # absolute
    (tmp_path / "start").symlink_to("hop1")  # relative
    (tmp_path / "dirlink").symlink_to("data", target_is_directory=True)
    write(tmp_path / "start", b"via chain")
    assert real.read_bytes() == b"via chain"
    for link in ("start", "hop1", "elsewhere/hop2"):
        assert (tmp_path / link).is_symlink()
    write(tmp_path / "dirlink" / "report.csv", b"via dir")
    assert real.read_bytes() == b"via dir" and (tmp_path / "dirlink").is_symlink()
    assert leftovers(tmp_path, tmp_path / "data", tmp_path / "elsewhere") == []


def test_a_dangling_link_gets_the_file_it_names(tmp_path: Path) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to("missing.csv")
    write(link)
    assert link.is_symlink() and (tmp_path / "missing.csv").read_bytes() == b"new\r\ncontent\n"


def test_a_symlink_loop_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(StoremonError, match="a: too many levels of symbolic links"):
        write(tmp_path / "a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


# -- things that are not regular files -----------------------------------------------------------


def test_a_fifo_is_written_in_place_for_its_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write(fifo)
    reader.join(10)
    assert received == [b"new\r\ncontent\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_character_device_is_written_in_place(tmp_path: Path) -> None:
    null = device(tmp_path, "null", stat.S_IFCHR, 1, 3)  # our own node for the null device
    write(null)
    assert stat.S_ISCHR(os.lstat(null).st_mode) and os.lstat(null).st_rdev == os.makedev(1, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_a_full_device_fails_in_one_line_and_stays_a_device(tmp_path: Path) -> None:
    full = device(tmp_path, "full", stat.S_IFCHR, 1, 7)  # our own node for /dev/full: every write is ENOSPC
    with pytest.raises(StoremonError, match=r"cannot write .*full: No space left on device"):
        write(full)
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_a_directory_a_block_device_and_a_missing_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoremonError, match="is a directory"):
        write(tmp_path)
    with pytest.raises(StoremonError, match="directory .*nowhere does not exist"):
        write(tmp_path / "nowhere" / "x.csv")
    disk = device(tmp_path, "disk", stat.S_IFBLK, 240, 0)  # an unassigned (local-use) major: no real disk
    with pytest.raises(StoremonError, match="is a block device"):
        write(disk)
    assert stat.S_ISBLK(os.lstat(disk).st_mode)


# -- failures leave nothing behind ---------------------------------------------------------------


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()], ids=["exception", "ctrl-c"])
def test_an_exception_mid_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    with pytest.raises(type(error)), write_atomically(target) as handle:
        handle.write(b"half")
        raise error
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_a_failed_rename_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(StoremonError, match="cannot write"), write_atomically(target) as handle:
        handle.write(b"data")
        target.mkdir()  # something else took the name meanwhile: the rename fails
    assert target.is_dir() and leftovers(tmp_path) == []


def test_a_file_system_refusing_the_file_is_one_clear_error() -> None:
    with pytest.raises(StoremonError, match="cannot write /sys/storemon-test.csv: Permission denied"):
        write("/sys/storemon-test.csv")


def run_python(code: str, stdout: int | IO[bytes] = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    """``python -c CODE`` with this checkout importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=60
    )


def test_a_write_failing_part_way_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    """A real write error after the temporary file has data in it: the file size limit (like a full disk)."""
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    done = run_python(
        f"""
        import resource, signal
        from storemon_tui.atomic_write import write_atomically
        from storemon_tui.errors import StoremonError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        try:
            with write_atomically({str(target)!r}) as handle:
                for _ in range(100):
                    handle.write(b"x" * 10_000)
        except StoremonError as exc:
            print(exc)
        """
    )
    assert done.stdout.decode().strip() == f"cannot write {target}: File too large", done.stderr
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


# -- /dev/stdout ---------------------------------------------------------------------------------


def stdout_link(tmp_path: Path) -> Path:
    """What ``/dev/stdout`` is (a link to ``/proc/self/fd/1``), but ours.

    Never the real ``/dev/stdout``: code that gets this wrong renames a regular
    file over the link, and on the real one that breaks ``/dev/stdout`` for the
    whole machine (it happened once while checking this test fails without the fix).
    """
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    return link


@pytest.mark.parametrize("alias", ["stdout link", "/dev/fd/1", "/proc/self/fd/1"])
def test_dev_stdout_writes_where_printing_would(tmp_path: Path, alias: str) -> None:
    """Into a file opened with ``>>``: appended, the same file (never renamed over); into a pipe: the pipe.

    ``/dev/fd/1`` and ``/proc/self/fd/1`` are safe to name: they lead into /proc, where nothing can be renamed.
    """
    if alias == "stdout link":
        alias = str(stdout_link(tmp_path))
    log = tmp_path / "log.csv"
    log.write_bytes(b"earlier line\n")
    inode = log.stat().st_ino
    code = f"""
        from storemon_tui.atomic_write import write_atomically
        with write_atomically({alias!r}) as handle:
            handle.write(b"csv\\n")
        """
    with open(log, "ab") as appending:
        done = run_python(code, stdout=appending)
    assert done.returncode == 0, done.stderr
    assert log.read_bytes() == b"earlier line\ncsv\n" and log.stat().st_ino == inode
    assert leftovers(tmp_path) == []
    assert (tmp_path / "stdout").is_symlink() or "stdout" not in alias
    piped = run_python(code)
    assert (piped.returncode, piped.stdout) == (0, b"csv\n"), piped.stderr


def test_resolve_target_names_what_would_happen(tmp_path: Path) -> None:
    assert resolve_target(stdout_link(tmp_path)).in_place
    assert resolve_target(tmp_path / "new.csv").existing is None
    assert not resolve_target(tmp_path / "new.csv").in_place


def test_check_writable_fails_before_a_long_computation(tmp_path: Path) -> None:
    from storemon_tui.atomic_write import check_writable

    assert check_writable(tmp_path / "x.csv").path == str(tmp_path / "x.csv")
    with pytest.raises(StoremonError, match="is a directory"):
        check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_atomic_file_can_be_committed_later_or_discarded(tmp_path: Path) -> None:
    """The two-step form the rejects file uses (filled while the input is read, published at commit)."""
    from storemon_tui.atomic_write import AtomicFile

    target = tmp_path / "r.csv"
    kept = AtomicFile(target)
    kept.handle.write(b"kept\n")
    kept.finish()
    assert not target.exists() and len(leftovers(tmp_path)) == 1  # on disk, not yet in place
    kept.commit()
    assert target.read_bytes() == b"kept\n" and leftovers(tmp_path) == []
    dropped = AtomicFile(target)
    dropped.handle.write(b"dropped\n")
    dropped.discard()
    dropped.discard()  # twice is harmless
    assert target.read_bytes() == b"kept\n" and leftovers(tmp_path) == []
