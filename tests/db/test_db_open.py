"""Opening a database and the bulk-write transaction the importer runs in.

An SQLite file is opened, created and imported into through ``sqlite3``
alone; SQLAlchemy's engine is made only when something asks for it. These
tests pin down that both ways reach the same file and that a bulk write is
all or nothing on both back ends.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from storemon_tui.db import open_database
from storemon_tui.errors import DatabaseError
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
    with pytest.raises(KeyboardInterrupt), db.bulk_write() as conn:
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


def test_a_sqlite_url_with_options_is_refused_with_one_line(tmp_path: Path) -> None:
    """storemon sets SQLite's options itself; options it would silently drop are an error instead."""
    with pytest.raises(DatabaseError, match="options in an SQLite URL are not supported"):
        open_database(f"sqlite:///{tmp_path / 'x.sqlite3'}?timeout=5")


def test_a_postgresql_url_without_psycopg_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """psycopg is an optional extra: without it, the readable error must not turn into an import error."""
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    with pytest.raises(DatabaseError, match=r"^--db postgresql\+psycopg://u@127\.0\.0\.1:1/x: .*psycopg"):
        open_database("postgresql+psycopg://u@127.0.0.1:1/x")
