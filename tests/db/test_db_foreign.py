"""A database that is not storemon's is refused before anything is written (issue 11 item 8).

Before: storemon created its tables beside another program's (or skipped
creating the ones whose names were taken) and then failed with
``unexpected error: ProgrammingError``. Now: one line, exit 1, the database
exactly as it was. Likewise a newer storemon's database, and on SQLite
anything that is not a regular file or not a database at all.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storemon_tui.db import open_database
from storemon_tui.db.identity import SCHEMA_VERSION, TABLES
from storemon_tui.errors import DatabaseError

POLLS = "store_id,timestamp_utc,status\ns,2023-01-22 12:00:00 UTC,active\n"

FOREIGN_SCHEMAS = {
    "another app's poll and meta": [
        "CREATE TABLE poll (id INTEGER PRIMARY KEY, question TEXT)",
        "CREATE TABLE meta (name TEXT, content TEXT)",
        "INSERT INTO poll (id, question) VALUES (1, 'lunch?')",
    ],
    "a key/value meta without storemon's rows": [
        "CREATE TABLE meta (key VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)",
        "INSERT INTO meta (key, value) VALUES ('owner', 'someone else')",
    ],
    "unrelated tables": ["CREATE TABLE invoices (n INTEGER)", "CREATE VIEW recent AS SELECT n FROM invoices"],
    "some of storemon's table names, made by hand": [
        "CREATE TABLE store (store_key INTEGER NOT NULL, store_id TEXT NOT NULL, PRIMARY KEY (store_key))"
    ],
}


def snapshot(target: str) -> list[tuple]:
    """Every table and column of the database (SQLite file or PostgreSQL schema), and the rows of ``poll``."""
    engine = create_engine(target if "://" in target else f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all()
            else:
                rows = conn.execute(
                    text(
                        "SELECT table_name, column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = current_schema() ORDER BY 1, 2"
                    )
                ).all()
            tables = {r[1] if engine.dialect.name == "sqlite" else r[0] for r in rows}
            polls = conn.execute(text("SELECT * FROM poll ORDER BY 1")).all() if "poll" in tables else []
        return [tuple(r) for r in rows] + [("poll rows", *map(tuple, polls))]
    finally:
        engine.dispose()


def run_sql(target: str, statements: list[str]) -> None:
    engine = create_engine(target if "://" in target else f"sqlite:///{target}")
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.mark.parametrize("schema", FOREIGN_SCHEMAS.values(), ids=FOREIGN_SCHEMAS.keys())
def test_a_foreign_database_is_refused_and_left_as_it_was(
    invoke, new_target: Callable[[str], str], csv_file, schema: list[str]
) -> None:
    target = new_target("foreign")
    run_sql(target, schema)
    before = snapshot(target)
    polls = csv_file("p.csv", POLLS)
    for args in (["--import", polls], ["--export", "-"]):
        code, out, err = invoke("--db", target, *args)
        assert (code, out) == (1, "")
        assert len(err.splitlines()) == 1 and "Traceback" not in err and "unexpected error" not in err, err
        assert "is not a storemon database: it already holds other tables (" in err
    assert snapshot(target) == before
    if "://" not in target:
        assert sorted(p.name for p in Path(target).parent.iterdir() if p.name.startswith("foreign")) == [
            "foreign.sqlite3"
        ]  # no journal, no WAL file


def test_a_newer_storemons_database_is_refused_before_anything_is_written(invoke, db_target: str, csv_file) -> None:
    db = open_database(db_target)
    with db.begin() as conn:
        conn.execute(text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(SCHEMA_VERSION + 1)})
        conn.execute(text("DROP TABLE report"))  # a newer layout may lack a table this storemon would create
    db.dispose()
    before = snapshot(db_target)
    code, out, err = invoke("--db", db_target, "--import", csv_file("p.csv", POLLS))
    assert code == 1 and out == ""
    assert f"has schema version {SCHEMA_VERSION + 1}, newer than this storemon understands" in err
    assert len(err.splitlines()) == 1
    assert snapshot(db_target) == before


def test_an_empty_database_and_storemons_own_are_used(db_target: str, dump) -> None:
    for _ in range(2):
        db = open_database(db_target)
        assert dump(db)["meta"][-1] == ("schema_version", str(SCHEMA_VERSION))
        db.dispose()


def test_storemons_tables_are_the_models_tables() -> None:
    from sqlmodel import SQLModel

    import storemon_tui.db.models  # noqa: F401 - registers the tables

    assert set(SQLModel.metadata.tables) == TABLES


def test_a_table_added_within_this_version_is_created_in_a_storemon_database(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    open_database(path).dispose()
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE report")
    open_database(path).dispose()
    with sqlite3.connect(path) as con:
        names = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert names >= TABLES
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'schema_version'").fetchone() == (1,)


# -- SQLite paths that are no database file ------------------------------------------------------


@pytest.mark.parametrize("target", [":memory:", "sqlite:///:memory:"])
def test_in_memory_is_refused(invoke, tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # where a file named ':memory:' used to appear
    code, _, err = invoke("--db", target, "--export", "-")
    assert code == 1 and "storemon keeps its data in a file; give an SQLite file path" in err
    assert not (tmp_path / ":memory:").exists()


def test_a_device_a_fifo_and_a_directory_are_refused_and_nothing_is_created(invoke, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    null = tmp_path / "null"
    try:
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # our own node: never the system's /dev/null
    except PermissionError:
        pytest.skip("mknod is not permitted here (never the real /dev/null: wrong code creates /dev/null-journal)")
    link = tmp_path / "link.sqlite3"
    link.symlink_to(null)
    before = sorted(p.name for p in tmp_path.iterdir())
    for target, reason in (
        (fifo, "is not a regular file"),
        (null, "is not a regular file"),
        (link, "is not a regular file"),
        (tmp_path, "is a directory"),
    ):
        code, out, err = invoke("--db", target, "--export", "-")
        assert (code, out) == (1, ""), err
        assert reason in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -journal beside any of them
    assert not Path("/dev/null-journal").exists()


@pytest.mark.parametrize(
    "content", [b"this is not a database " * 100, b"SQLite format 3\x00" + b"\x00" * 84], ids=["text", "bad header"]
)
def test_a_file_that_is_not_a_database_is_one_line(invoke, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(content)
    code, out, err = invoke("--db", path, "--export", "-")
    assert (code, out) == (1, "")
    assert err.startswith(f"storemon: database {path}: ") and len(err.splitlines()) == 1, err
    assert "unexpected error" not in err
    assert path.read_bytes() == content


def test_a_truncated_database_is_one_line(invoke, tmp_path: Path, csv_file) -> None:
    path = tmp_path / "db.sqlite3"
    rows = "".join(f"store-{i},2023-01-22 12:{i % 60:02d}:00 UTC,active\n" for i in range(20_000))
    assert invoke("--db", path, "--import", csv_file("p.csv", "store_id,timestamp_utc,status\n" + rows))[0] == 0
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for args in (["--export", "-"], ["--import", csv_file("q.csv", POLLS)]):
        code, out, err = invoke("--db", path, *args)
        assert (code, out) == (1, ""), err
        assert err.startswith(f"storemon: database {path}: ") and "malformed" in err, err
        assert "unexpected error" not in err and len(err.splitlines()) == 1


def test_opening_refuses_with_a_database_error(tmp_path: Path) -> None:
    """The library raises the same one-line error the CLI prints."""
    path = tmp_path / "x.sqlite3"
    run_sql(str(path), ["CREATE TABLE poll (id INTEGER)"])
    with pytest.raises(DatabaseError, match="is not a storemon database"):
        open_database(path)
