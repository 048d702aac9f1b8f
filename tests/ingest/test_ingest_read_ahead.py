"""Reading ahead: files are prepared in background threads and written as they are ready.

What must hold: files of one kind are written in the order given (a later
file's rows win), each file's problems stay with that file, and the CSV
being prepared at once stays within the memory budget.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storemon_tui.errors import Cancelled
from storemon_tui.ingest import FileError, InvalidRowsError, import_files
from storemon_tui.ingest import prepare as prepare_module
from storemon_tui.ingest.prepare import PendingFile, ReadAhead, prepare_file

POLLS = "store_id,timestamp_utc,status\n"
ZONES = "store_id,timezone_str\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\n"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch):
    """``gate("big.csv")`` holds that file's preparation until ``gate.open()``; records start order."""

    class Gate:
        def __init__(self) -> None:
            self.held: set[str] = set()
            self.opened = threading.Event()
            self.started: list[str] = []
            self.lock = threading.Lock()

        def __call__(self, *names: str) -> Gate:
            self.held.update(names)
            return self

        def open(self) -> None:
            self.opened.set()

    gate = Gate()

    def gated_prepare(path, **kwargs):
        with gate.lock:
            gate.started.append(Path(path).name)
        if Path(path).name in gate.held:
            assert gate.opened.wait(10), "gate never opened"
        return prepare_file(path, **kwargs)

    monkeypatch.setattr(prepare_module, "prepare_file", gated_prepare)
    return gate


def outcome(pending: PendingFile) -> str:
    try:
        pending.take()
    except Exception as exc:  # the outcome is the exception's type
        return type(exc).__name__
    return "ok"


def test_zones_then_hours_then_polls_and_unreadable_files_first(csv_file, tmp_path: Path) -> None:
    polls = csv_file("polls.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    hours = csv_file("hours.csv", HOURS + "a,0,09:00,17:00\n")
    zones = csv_file("zones.csv", ZONES + "a,America/Denver\n")
    missing = tmp_path / "missing.csv"
    wrong = csv_file("wrong.csv", "a,b\n1,2\n")

    read_ahead = ReadAhead([polls, hours, missing, zones, wrong])
    assert read_ahead.write_order == [missing, wrong, zones, hours, polls]
    assert [pending.path for pending in read_ahead] == read_ahead.write_order


def test_small_files_are_written_while_a_polls_file_is_still_being_read(csv_file, gate) -> None:
    big = csv_file("big.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    zones = csv_file("zones.csv", ZONES + "a,America/Denver\n")
    hours = csv_file("hours.csv", HOURS + "a,0,09:00,17:00\n")
    gate("big.csv")

    order = []
    for pending in ReadAhead([big, zones, hours]):
        order.append((pending.path.name, outcome(pending)))
        if pending.path.name == "hours.csv":
            assert "big.csv" in gate.started  # polls preparation was already under way
            gate.open()
    assert order == [("zones.csv", "ok"), ("hours.csv", "ok"), ("big.csv", "ok")]


def test_files_of_one_kind_come_out_in_the_order_given(csv_file, gate) -> None:
    """A later polls file must never be written before an earlier one, even if it is ready first."""
    first = csv_file("first.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    second = csv_file("second.csv", POLLS + "a,2023-01-22 12:00:00 UTC,inactive\n")
    gate("first.csv")
    threading.Timer(0.3, gate.open).start()  # second.csv is ready long before first.csv

    assert [pending.path.name for pending in ReadAhead([first, second])] == ["first.csv", "second.csv"]


def test_every_file_keeps_its_own_outcome(csv_file, tmp_path: Path) -> None:
    good = csv_file("good.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    bad = csv_file("bad.csv", POLLS + "a,2023-01-22 25:00:00 UTC,active\n")
    missing = tmp_path / "missing.csv"
    zones = csv_file("zones.csv", ZONES + "a,America/Denver\n")

    outcomes = {pending.path.name: outcome(pending) for pending in ReadAhead([good, bad, missing, zones])}
    assert outcomes == {"good.csv": "ok", "bad.csv": "InvalidRowsError", "missing.csv": "FileError", "zones.csv": "ok"}


def test_a_taken_file_is_referenced_only_by_its_taker(csv_file) -> None:
    """Once written and dropped, a file's arrays are freed, even while the loop still holds its PendingFile."""
    import gc
    import weakref

    paths = [csv_file(f"z{i}.csv", ZONES + f"s{i},UTC\n") for i in range(2)]
    freed = []
    for pending in ReadAhead(paths):
        prepared = pending.take()
        gone = weakref.ref(prepared.spool)
        del prepared
        gc.collect()
        freed.append(gone() is None)
        with pytest.raises(RuntimeError, match="already taken"):
            pending.take()
    assert freed == [True, True]


def test_preparation_stays_within_the_memory_budget(csv_file, gate) -> None:
    """Over budget, a file starts only once the one before it has been written."""
    paths = [csv_file(f"z{i}.csv", ZONES + f"s{i},UTC\n") for i in range(4)]
    size = paths[0].stat().st_size
    for index, pending in enumerate(ReadAhead(paths, budget_bytes=size)):
        assert pending.take().path == pending.path
        threading.Event().wait(0.05)  # give a runaway read-ahead time to show itself
        with gate.lock:
            assert gate.started == [p.name for p in paths[: index + 1]]


def test_within_budget_up_to_max_files_are_prepared_at_once(csv_file, gate) -> None:
    paths = [csv_file(f"z{i}.csv", ZONES + f"s{i},UTC\n") for i in range(4)]
    gate(*(p.name for p in paths))
    read_ahead = ReadAhead(paths, max_files=3)
    assert wait_until(lambda: len(gate.started) == 3)
    threading.Event().wait(0.05)
    assert gate.started == [p.name for p in paths[:3]]  # the fourth waits for a free slot
    gate.open()
    handed_out = []
    for pending in read_ahead:
        handed_out.append(pending.path)
        pending.take()
    assert handed_out == paths and gate.started == [p.name for p in paths]


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():
            return True
        deadline.wait(0.01)
    return condition()


def test_cancel_while_waiting_for_a_file(csv_file, gate) -> None:
    big = csv_file("big.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    later = csv_file("later.csv", POLLS + "b,2023-01-22 12:00:00 UTC,active\n")
    gate("big.csv")
    cancelled = threading.Event()
    read_ahead = ReadAhead([big, later], should_cancel=cancelled.is_set, max_files=1)
    threading.Timer(0.1, cancelled.set).start()
    with pytest.raises(Cancelled, match="before .*big.csv was written"):
        next(iter(read_ahead))
    gate.open()
    assert wait_until(lambda: False, timeout=0.1) is False  # let big.csv's thread finish
    assert gate.started == ["big.csv"]  # later.csv was never started


def test_closed_read_ahead_starts_nothing_more_and_iterates_once(csv_file, gate) -> None:
    paths = [csv_file(f"z{i}.csv", ZONES + f"s{i},UTC\n") for i in range(3)]
    with ReadAhead(paths, max_files=1) as read_ahead:
        first = next(iter(read_ahead))
        first.take()
    assert [p for p in gate.started] == ["z0.csv"]
    with pytest.raises(RuntimeError, match="once"):
        iter(read_ahead).__next__()


def test_a_failed_file_is_freed_once_its_error_is_handled(csv_file, monkeypatch: pytest.MonkeyPatch) -> None:
    """No reference cycle through the stored traceback keeps a failed file's table alive."""
    import gc
    import weakref

    tables: list[weakref.ref] = []
    real_read_segments = prepare_module.read_segments

    def recording_read_segments(*args, **kwargs):
        for segment in real_read_segments(*args, **kwargs):
            tables.append(weakref.ref(segment.table.columns["timestamp_utc"]))
            yield segment

    bad = csv_file("bad.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n" * 50 + "a,garbage,active\n")
    monkeypatch.setattr(prepare_module, "read_segments", recording_read_segments)
    gc.disable()
    try:
        raised = []
        for pending in ReadAhead([bad]):
            try:
                pending.take()
            except InvalidRowsError as exc:  # handled like the CLI does: report, then drop it
                raised.append(str(exc))
        assert raised and "bad.csv:52" in raised[0]
        assert tables and all(ref() is None for ref in tables)
    finally:
        gc.enable()


def test_a_header_longer_than_64_kib_still_sorts_by_its_kind(csv_file) -> None:
    zones = csv_file("zones.csv", ZONES + "a,America/Denver\n")
    long_polls = csv_file(
        "long.csv", "store_id,timestamp_utc,status," + "x" * 70_000 + "\na,2023-01-22 12:00:00 UTC,active,\n"
    )
    assert ReadAhead([long_polls, zones]).write_order == [zones, long_polls]


def test_import_files_writes_same_key_polls_from_the_later_file_last(db, csv_file, dump, gate) -> None:
    first = csv_file("first.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    second = csv_file("second.csv", POLLS + "a,2023-01-22 12:00:00 UTC,inactive\n")
    gate("first.csv")
    threading.Timer(0.3, gate.open).start()

    summaries = import_files(db, [first, second])

    assert [s.path.name for s in summaries] == ["first.csv", "second.csv"]
    assert [row[-1] for row in dump(db)["polls"]] == [0]  # second.csv's 'inactive' won


def test_import_files_raises_the_first_error_after_writing_what_came_before(db, csv_file, dump) -> None:
    first = csv_file("first.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")
    broken = csv_file("broken.csv", POLLS + "a,not a time,active\n")
    later = csv_file("later.csv", POLLS + "b,2023-01-22 12:00:00 UTC,active\n")

    with pytest.raises(InvalidRowsError, match="broken.csv:2"):
        import_files(db, [first, broken, later])

    assert len(dump(db)["polls"]) == 1  # first.csv only: later.csv (same kind) waits behind broken.csv


def test_import_files_accepts_a_read_ahead_started_before_the_database_opened(db, csv_file, tmp_path: Path) -> None:
    read_ahead = ReadAhead([csv_file("p.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n")])
    (summary,) = import_files(db, read_ahead)
    assert summary.inserted == 1
    assert set(summary.stages) == {"read", "validate", "write", "commit"}
    with pytest.raises(FileError, match="gone.csv: no such file"):
        import_files(db, ReadAhead([tmp_path / "gone.csv"]))


def test_headless_import_starts_reading_before_loading_sqlalchemy_or_arrow_compute() -> None:
    """The read-ahead's module tree is only the CSV reader, so the first read starts
    before SQLAlchemy (and pyarrow.compute, which validation needs) have loaded."""
    code = (
        "import sys\n"
        "import storemon_tui.ingest.prepare\n"
        "heavy = ('sqlalchemy', 'sqlmodel', 'textual', 'pandas', 'pyarrow.compute')\n"
        "print(sorted(m for m in sys.modules if m in heavy or m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
