"""Reading ahead: the next file is prepared while the current one is written.

What must not change because of it: files are written in the order given,
each file's problems stay with that file, and no more than one file is
prepared ahead (memory stays bounded by two files however many are given).
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storemon_tui.ingest import FileError, InvalidRowsError, import_files
from storemon_tui.ingest import prepare as prepare_module
from storemon_tui.ingest.prepare import ReadAhead, prepare_file

POLLS = "store_id,timestamp_utc,status\n"
ZONES = "store_id,timezone_str\n"


def test_prepared_files_come_out_in_order_with_their_own_errors(csv_file, tmp_path: Path) -> None:
    good = csv_file("good.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    bad = csv_file("bad.csv", POLLS + "a,2023-01-22 25:00:00 UTC,active\n")
    missing = tmp_path / "missing.csv"
    zones = csv_file("zones.csv", ZONES + "a,America/Denver\n")

    outcomes = []
    for path, future in ReadAhead([good, bad, missing, zones]):
        assert future.done()  # handed out only once prepared
        outcomes.append((path.name, type(future.exception()).__name__ if future.exception() else "ok"))

    assert outcomes == [
        ("good.csv", "ok"),
        ("bad.csv", "InvalidRowsError"),
        ("missing.csv", "FileError"),
        ("zones.csv", "ok"),
    ]


def test_at_most_one_file_is_prepared_ahead(csv_file, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the consumer holds file N, only file N+1 may have been started."""
    paths = [csv_file(f"z{i}.csv", ZONES + f"s{i},UTC\n") for i in range(5)]
    started: list[str] = []
    lock = threading.Lock()

    def recording_prepare(path, **kwargs):  # type: ignore[no-untyped-def]
        with lock:
            started.append(Path(path).name)
        return prepare_file(path, **kwargs)

    monkeypatch.setattr(prepare_module, "prepare_file", recording_prepare)
    for index, (path, future) in enumerate(ReadAhead(paths)):
        assert future.result().path == path
        threading.Event().wait(0.05)  # give a runaway read-ahead time to show itself
        with lock:
            assert started == [p.name for p in paths[: index + 2]]


def test_import_files_stops_at_the_first_bad_file_after_writing_the_earlier_ones(db, csv_file, dump) -> None:
    first = csv_file("first.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    broken = csv_file("broken.csv", POLLS + "a,not a time,active\n")
    never = csv_file("never.csv", ZONES + "a,America/Denver\n")

    with pytest.raises(InvalidRowsError, match="broken.csv:2"):
        import_files(db, [first, broken, never])

    contents = dump(db)
    assert len(contents["poll"]) == 1
    assert contents["store_timezone"] == []


def test_import_files_accepts_a_read_ahead_started_before_the_database_opened(db, csv_file, tmp_path: Path) -> None:
    read_ahead = ReadAhead([csv_file("p.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")])
    (summary,) = import_files(db, read_ahead)
    assert summary.inserted == 1
    assert set(summary.stages) == {"read", "validate", "write", "commit"}
    with pytest.raises(FileError, match="gone.csv: no such file"):
        import_files(db, ReadAhead([tmp_path / "gone.csv"]))


def test_headless_import_never_loads_sqlalchemy_before_it_starts_reading() -> None:
    """The read-ahead's module tree is SQLAlchemy-free, so reading can start before SQLAlchemy loads."""
    code = (
        "import sys\n"
        "import storemon_tui.ingest.prepare\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual'))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
