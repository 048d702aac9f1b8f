"""The schema: created on first use, versioned, and on SQLite created from SQL rendered from the models."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storemon_tui.db import open_database, sqlite_ddl
from storemon_tui.db.database import SCHEMA_VERSION
from storemon_tui.errors import DatabaseError


def sqlite_schema(path: Path) -> dict[str, object]:
    """Everything about an SQLite schema that matters, independent of how the DDL was spelled."""
    con = sqlite3.connect(path)
    try:
        tables = [name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        shape: dict[str, object] = {}
        for table in tables:
            without_rowid = con.execute("SELECT wr FROM pragma_table_list WHERE name = ?", (table,)).fetchone()[0]
            indexes = {
                name: (unique, origin, [col for (_, _, col) in con.execute(f"PRAGMA index_info('{name}')")])
                for (_, name, unique, origin, _) in con.execute(f"PRAGMA index_list('{table}')")
            }
            shape[table] = {
                "columns": con.execute(f"PRAGMA table_xinfo('{table}')").fetchall(),
                "without_rowid": without_rowid,
                "indexes": indexes,
            }
        return shape
    finally:
        con.close()


def test_rendered_sqlite_schema_matches_the_models() -> None:
    """The checked-in SQL is exactly what the models render (regenerate: python -m storemon_tui.db.sqlite_ddl)."""
    assert sqlite_ddl.SCHEMA_FILE.read_text(encoding="utf-8") == sqlite_ddl.render()


def test_new_sqlite_database_has_the_schema_create_all_would_make(tmp_path: Path) -> None:
    from sqlmodel import SQLModel

    import storemon_tui.db.models  # noqa: F401 - registers the tables on SQLModel.metadata

    open_database(tmp_path / "ours.sqlite").dispose()
    engine = create_engine(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()

    ours, reference = sqlite_schema(tmp_path / "ours.sqlite"), sqlite_schema(tmp_path / "reference.sqlite")
    assert ours == reference
    assert ours["poll"]["without_rowid"] == 1  # the point of the poll table's design


def test_schema_and_data_version_are_recorded_once(db_target: str) -> None:
    for _ in range(2):  # the second open finds the schema and changes nothing
        db = open_database(db_target)
        with db.connect() as conn:
            rows = conn.execute(text("SELECT key, value FROM meta ORDER BY key")).all()
        db.dispose()
        assert rows == [("data_version", "0"), ("schema_version", str(SCHEMA_VERSION))]


def test_a_newer_schema_is_refused_with_one_line(db_target: str) -> None:
    db = open_database(db_target)
    with db.begin() as conn:
        conn.execute(text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(SCHEMA_VERSION + 1)})
    db.dispose()
    with pytest.raises(DatabaseError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this storemon"):
        open_database(db_target)


def test_a_version_1_database_is_migrated_keeping_its_data(db_target: str) -> None:
    """Version 1 had no ``poll_recent``: opening such a database adds it, raises the version, keeps every row."""
    db = open_database(db_target)
    with db.begin() as conn:
        conn.execute(text("INSERT INTO store (store_key, store_id) VALUES (1, 's1')"))
        conn.execute(text("INSERT INTO poll (store_key, ts_us, active) VALUES (1, 5, 1)"))
        conn.execute(text("DROP TABLE poll_recent"))
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
        conn.execute(text("UPDATE meta SET value = '7' WHERE key = 'data_version'"))
    db.dispose()

    db = open_database(db_target)
    with db.connect() as conn:
        meta = conn.execute(text("SELECT key, value FROM meta ORDER BY key")).all()
        polls = conn.execute(text("SELECT store_key, ts_us, active FROM poll")).all()
        recent = conn.execute(text("SELECT count(*) FROM poll_recent")).scalar()
    db.dispose()
    assert meta == [("data_version", "7"), ("schema_version", str(SCHEMA_VERSION))]
    assert polls == [(1, 5, 1)]
    assert recent == 0


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_opening_sqlite_never_loads_the_orm(tmp_path: Path, existing: bool) -> None:
    """A headless import's start-up: opening a new or an existing SQLite database loads no SQLAlchemy, SQLModel or
    pydantic."""
    path = tmp_path / "db.sqlite"
    if existing:
        open_database(path).dispose()
    code = (
        "import sys\n"
        "from storemon_tui.db import open_database\n"
        f"open_database({str(path)!r}).dispose()\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'pydantic', 'textual'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
