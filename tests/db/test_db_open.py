"""Opening a database and the bulk-write transaction the importer runs in.

An SQLite file is opened, created and imported into through ``sqlite3``
alone; SQLAlchemy's engine is made only when something asks for it. These
tests pin down that both ways reach the same file and that a bulk write is
all or nothing on both back ends.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storemon_tui.db import open_database, sqlite_file
from storemon_tui.errors import Cancelled, DatabaseError
from storemon_tui.ingest import import_file

POLLS = "store_id,timestamp_utc,status\n"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused_with_one_line(url: str) -> None:
    with pytest.raises(DatabaseError, match="keeps its data in a file; give an SQLite file path"):
        open_database(url)


def test_sqlite_url_and_path_open_the_same_file(tmp_path: Path, csv_file, dump) -> None:
    path = tmp_path / "same.sqlite3"
    by_url = open_database(f"sqlite:///{path}")
    import_file(by_url, csv_file("p.csv", POLLS + "0012,2023-01-22 12:00:00 UTC,active\n"))
    by_path = open_database(path)
    assert by_url.location == by_path.location == str(path)
    assert dump(by_path) == dump(by_url)
    assert dump(by_path)["store"] == [(1, "0012")]
    by_url.dispose()
    by_path.dispose()


def test_a_path_with_url_characters_is_one_file(tmp_path: Path, csv_file, dump) -> None:
    """``%41`` must not be percent-decoded into ``A`` on either way in."""
    path = tmp_path / "e%41#x?.sqlite3"
    db = open_database(path)
    import_file(db, csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\n"))
    assert dump(db)["store"] == [(1, "s")]  # read through the engine, written through sqlite3
    assert sorted(p.name for p in tmp_path.glob("*.sqlite3")) == ["e%41#x?.sqlite3"]
    db.dispose()


def test_bulk_write_rolls_back_on_any_exception(db, dump) -> None:
    before = dump(db)
    with pytest.raises(KeyboardInterrupt):
        with db.bulk_write() as conn:
            cursor = conn.cursor()
            cursor.execute("INSERT INTO store (store_id) VALUES ('half-written')")
            cursor.close()
            raise KeyboardInterrupt
    assert dump(db) == before
    with db.bulk_write() as conn:
        cursor = conn.cursor()
        cursor.execute("INSERT INTO store (store_id) VALUES ('written')")
        cursor.close()
    assert [sid for _, sid in dump(db)["store"]] == ["written"]


@pytest.fixture
def locked_sqlite(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """An SQLite database whose write lock another connection holds (``BEGIN IMMEDIATE``) until the test ends."""
    path = tmp_path / "locked.sqlite3"
    open_database(path).dispose()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    yield path, holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


def test_an_import_waiting_for_another_writer_goes_in_when_the_lock_is_released(
    locked_sqlite, csv_file, dump
) -> None:
    path, holder = locked_sqlite
    threading.Timer(0.5, lambda: holder.execute("COMMIT")).start()
    db = open_database(path, create=False)
    started = time.monotonic()
    import_file(db, csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\n"))
    assert time.monotonic() - started >= 0.4  # it did wait
    assert dump(db)["store"] == [(1, "s")]
    db.dispose()


def test_an_import_waiting_for_another_writer_can_be_cancelled(locked_sqlite, csv_file, dump) -> None:
    """SQLite's busy wait runs in C; storemon waits in slices so a cancel takes effect at once, not after 30 s."""
    path, _holder = locked_sqlite
    db = open_database(path, create=False)
    before = dump(db)
    started = time.monotonic()
    with pytest.raises(Cancelled, match="while waiting for another writer"):
        import_file(
            db,
            csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\n"),
            should_cancel=lambda: time.monotonic() - started > 0.3,
        )
    assert time.monotonic() - started < 0.3 + 5 * sqlite_file.LOCK_WAIT_SLICE_S
    assert dump(db) == before
    db.dispose()


def test_ctrl_c_stops_a_cli_import_waiting_for_another_writer(locked_sqlite, csv_file, start_cli) -> None:
    """One Ctrl-C is enough while the import waits for the lock: there is no write to finish."""
    path, _holder = locked_sqlite
    polls = csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\n")
    running = start_cli("--db", path, "--import", polls)
    time.sleep(3)  # started, and now waiting for the lock
    assert running.proc.poll() is None
    running.proc.send_signal(signal.SIGINT)
    err = running.stderr_within(5, "the import kept waiting for the lock after Ctrl-C")
    assert running.proc.returncode == 130, err
    assert f"storemon: interrupted; nothing from {polls} was written" in err, err
    assert "Traceback" not in err, err


def test_an_import_that_cannot_get_the_write_lock_fails_with_one_line(
    tmp_path: Path, csv_file, dump, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding SQLite's write lock: a readable error after the busy timeout, nothing written."""
    monkeypatch.setattr(sqlite_file, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "locked.sqlite3"
    db = open_database(path)
    before = dump(db)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseError) as failure:
            import_file(db, csv_file("p.csv", POLLS + "s,2023-01-22 12:00:00 UTC,active\n"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(failure.value) == f"database {path}: database is locked"
    assert dump(db) == before
    db.dispose()


def test_a_sqlite_url_with_options_is_refused_with_one_line(tmp_path: Path) -> None:
    """storemon sets SQLite's options itself; options it would silently drop are an error instead."""
    with pytest.raises(DatabaseError, match="options in an SQLite URL are not supported"):
        open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}?timeout=5")


def test_a_postgresql_url_without_psycopg_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg is an optional extra: without it, the readable error must not turn into an import error."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(DatabaseError, match=r"^--db postgresql\+psycopg://u@127\.0\.0\.1:1/x: .*psycopg"):
        open_database("postgresql+psycopg://u@127.0.0.1:1/x")
