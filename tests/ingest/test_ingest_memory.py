"""Memory does not grow with the file, valid or not (issue 11 item 7, issue 12 item 2).

Each import runs as a real process and its peak RSS is read exactly with
``os.wait4``. The files are big enough that holding them (or the exact
reader's Python lists of them) would pass the limits several times over,
and small enough for a test run: the 19 M-poll figures are in bench/.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc"),
]

POLLS = b"store_id,timestamp_utc,status\n"


_RUN_AND_REPORT_PEAK = (
    "import sys\n"
    "from storemon_tui.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "peak = open('/proc/self/status').read().split('VmHWM:')[1].split()[0]\n"
    "print(f'peak-rss-kb {peak}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def peak_rss_mb(args: list[str], data_dir: Path, env: dict[str, str]) -> tuple[int, float, str]:
    """Exit code, peak RSS in MB and stderr of the CLI run with ``ARGS``.

    The peak is the process's own high-water mark (``VmHWM``), read as it
    finishes: ``ru_maxrss`` of a child would start from the RSS of the test
    process that spawned it.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_AND_REPORT_PEAK, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=data_dir,
        timeout=600,
    )
    lines = proc.stderr.splitlines()
    peak = next(line for line in lines if line.startswith("peak-rss-kb "))
    rss = int(peak.split()[1]) / 1024
    print(f"peak RSS {rss:.0f} MB: {' '.join(args)}")
    return proc.returncode, rss, "\n".join(line for line in lines if line != peak)


def write_polls(path: Path, rows: int, tail: bytes = b"") -> None:
    """``rows`` valid polls of 5,000 stores (~60 bytes a row), then ``tail``."""
    block = b"".join(
        f"{1000000 + i % 5000},2023-01-{1 + i // 5000 % 7 + 14:02d} {i // 35000 % 24:02d}:{i % 60:02d}:{i % 59:02d}"
        f".{i:06d} UTC,{'active' if i % 10 else 'inactive'}\n".encode()
        for i in range(100_000)
    )
    with open(path, "wb") as handle:
        handle.write(POLLS)
        for _ in range(rows // 100_000):
            handle.write(block)
        handle.write(tail)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"  # where the ``cli_env`` fixture points STOREMON_DATA_DIR
    folder.mkdir()
    return folder


def test_a_big_file_with_a_truncated_last_line_streams(tmp_path: Path, data_dir: Path, cli_env) -> None:
    """Regression: the exact re-read held the whole file as Python lists (16.4 GB for 19 M polls)."""
    path = tmp_path / "p.csv"
    write_polls(path, 1_500_000, tail=b"1000001,2023-01-22 12:0")
    code, rss, err = peak_rss_mb(["--db", str(tmp_path / "t.sqlite3"), "--import", str(path)], data_dir, cli_env)
    assert rss < 400, f"peak RSS {rss:.0f} MB"
    assert code == 1
    assert f"{path}:1500002: column 'status': missing value" in err


def test_gigabytes_of_nul_after_a_header_stream(tmp_path: Path, data_dir: Path, cli_env) -> None:
    """Regression: a file of NULs (no line end) after a header peaked at ~7x its size."""
    path = tmp_path / "nul.csv"
    with open(path, "wb") as handle:
        handle.write(POLLS)
        chunk = b"\x00" * (1 << 20)
        for _ in range(300):
            handle.write(chunk)
    code, rss, err = peak_rss_mb(["--db", str(tmp_path / "t.sqlite3"), "--import", str(path)], data_dir, cli_env)
    assert rss < 250, f"peak RSS {rss:.0f} MB"
    assert code == 1
    assert err.splitlines()[0] == f"storemon: {path}:2: malformed CSV (a record longer than 131,072 bytes)"
