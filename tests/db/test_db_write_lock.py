"""Waiting for another process's write lock on SQLite: it queues, it can be stopped, and it gives up readably.

SQLite's own busy wait runs in C, where neither Ctrl-C nor a cancel button
reaches it for up to 30 s; storemon waits in 0.1 s slices instead
(:func:`storemon_tui.db.sqlite_file.begin_immediate`). Another connection
holding ``BEGIN IMMEDIATE`` stands in for the other process.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storemon_tui.db import open_database, sqlite_file
from storemon_tui.errors import Cancelled, DatabaseError
from storemon_tui.ingest import import_file

POLLS = "store_id,timestamp_utc,status\n"
ONE_POLL = POLLS + "s,2023-01-22 12:00:00 UTC,active\n"


@pytest.fixture
def holder_for() -> Iterator[Callable[[Path], sqlite3.Connection]]:
    """``holder_for(path)``: a connection holding the write lock of ``path`` until it commits or the test ends."""
    holders: list[sqlite3.Connection] = []

    def hold(path: Path) -> sqlite3.Connection:
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        holders.append(holder)
        return holder

    yield hold
    for holder in holders:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def locked_db(tmp_path: Path, holder_for) -> tuple[Path, sqlite3.Connection]:
    """An existing storemon database whose write lock another connection holds."""
    path = tmp_path / "locked.sqlite3"
    open_database(path).dispose()
    return path, holder_for(path)


def test_an_import_waiting_for_another_writer_goes_in_when_the_lock_is_released(locked_db, csv_file, dump) -> None:
    path, holder = locked_db
    asked: list[float] = []

    def release_when_first_asked() -> bool:
        """Called between busy slices only, so being called proves the import was waiting."""
        asked.append(time.monotonic())
        if holder.in_transaction:
            holder.execute("COMMIT")
        return False

    db = open_database(path, create=False)
    import_file(db, csv_file("p.csv", ONE_POLL), should_cancel=release_when_first_asked)
    assert asked, "the import never waited for the lock"
    assert dump(db)["store"] == [(1, "s")]
    db.dispose()


def test_an_import_waiting_for_another_writer_can_be_cancelled(locked_db, csv_file, dump) -> None:
    path, _holder = locked_db
    db = open_database(path, create=False)
    before = dump(db)
    cancelled_at: list[float] = []
    started = time.monotonic()

    def cancel_after_a_while() -> bool:
        if time.monotonic() - started > 0.3:
            cancelled_at.append(time.monotonic())
            return True
        return False

    with pytest.raises(Cancelled, match="while waiting for another writer"):
        import_file(db, csv_file("p.csv", ONE_POLL), should_cancel=cancel_after_a_while)
    assert time.monotonic() - cancelled_at[0] < 2  # at once, not at the end of the 30 s busy timeout
    assert dump(db) == before
    db.dispose()


def test_creating_a_new_database_waiting_for_another_writer_can_be_cancelled(tmp_path: Path, holder_for) -> None:
    """A brand-new file whose lock another process holds: the schema wait can be stopped too."""
    path = tmp_path / "new.sqlite3"
    holder_for(path)
    started = time.monotonic()
    with pytest.raises(Cancelled):
        open_database(path, should_cancel=lambda: time.monotonic() - started > 0.3)
    assert time.monotonic() - started < 2.3


def test_an_import_that_cannot_get_the_write_lock_fails_with_one_line(
    locked_db, csv_file, dump, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process keeps the lock past the busy timeout: a readable error, nothing written."""
    path, _holder = locked_db
    db = open_database(path, create=False)
    before = dump(db)
    monkeypatch.setattr(sqlite_file, "BUSY_TIMEOUT_S", 0.3)
    with pytest.raises(DatabaseError) as failure:
        import_file(db, csv_file("p.csv", ONE_POLL))
    assert str(failure.value) == f"database {path}: database is locked"
    assert dump(db) == before
    db.dispose()


@pytest.mark.parametrize(
    ("new_database", "message"),
    [
        (False, "storemon: interrupted; nothing from {polls} was written"),
        (True, "storemon: interrupted; nothing was imported"),
    ],
    ids=["existing-database", "new-database"],
)
def test_one_ctrl_c_stops_a_cli_import_waiting_for_another_writer(
    tmp_path: Path, holder_for, csv_file, start_cli, new_database: bool, message: str
) -> None:
    """One Ctrl-C is enough while the import waits for the lock: there is no write to finish."""
    path = tmp_path / "locked.sqlite3"
    if not new_database:
        open_database(path).dispose()
    holder_for(path)
    polls = csv_file("p.csv", ONE_POLL)
    running = start_cli("--db", path, "--import", polls)
    time.sleep(3)  # started, and now waiting for the lock
    assert running.proc.poll() is None
    running.proc.send_signal(signal.SIGINT)
    err = running.stderr_within(5, "the import kept waiting for the lock after Ctrl-C")
    assert running.proc.returncode == 130, err
    assert message.format(polls=polls) in err, err
    assert "Traceback" not in err, err


def test_ctrl_c_stops_an_export_waiting_for_another_writer(tmp_path: Path, holder_for, csv_file, start_cli) -> None:
    """The report's own writes go through SQLAlchemy; they wait in slices too."""
    path = tmp_path / "locked.sqlite3"
    db = open_database(path)
    import_file(db, csv_file("p.csv", ONE_POLL))
    db.dispose()
    holder_for(path)
    running = start_cli("--db", path, "--export", tmp_path / "report.csv")
    time.sleep(3)  # waiting to record the report
    assert running.proc.poll() is None
    running.proc.send_signal(signal.SIGINT)
    err = running.stderr_within(5, "the export kept waiting for the lock after Ctrl-C")
    assert running.proc.returncode == 130, err
    assert "Traceback" not in err, err
