"""The SQLite schema as plain SQL, rendered from the SQLModel models.

Why a rendered copy: creating a fresh database through
``SQLModel.metadata.create_all`` means importing SQLModel and pydantic, a
measurable part of a first ``storemon --import`` (bench/README.md) that
otherwise needs neither. So
:func:`~storemon_tui.db.database.ensure_schema` runs ``schema.sqlite.sql``
on SQLite instead. The models stay the one source of truth: this module
renders the file from them, and a test fails whenever the file and the
models disagree. After changing a model, regenerate it with::

    python -m storemon_tui.db.sqlite_ddl
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_FILE = Path(__file__).with_name("schema.sqlite.sql")
HEADER = "-- Generated from storemon_tui/db/models.py by `python -m storemon_tui.db.sqlite_ddl`; do not edit.\n"


def render() -> str:
    """Every table and index of the models as ``CREATE … IF NOT EXISTS`` statements for SQLite."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable
    from sqlmodel import SQLModel

    import storemon_tui.db.models  # noqa: F401 - registers the tables on SQLModel.metadata

    dialect = sqlite.dialect()
    statements: list = []
    for table in SQLModel.metadata.sorted_tables:
        statements.append(CreateTable(table, if_not_exists=True).compile(dialect=dialect))
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            statements.append(CreateIndex(index, if_not_exists=True).compile(dialect=dialect))
    statements = ["\n".join(line.rstrip() for line in str(s).strip().splitlines()) for s in statements]
    return HEADER + "".join(f"\n{statement};\n" for statement in statements)


def statements() -> list[str]:
    """The statements of the rendered file, one per item, without the comment header."""
    text = "".join(
        line for line in SCHEMA_FILE.read_text(encoding="utf-8").splitlines(True) if not line.startswith("--")
    )
    return [statement.strip() for statement in text.split(";") if statement.strip()]


if __name__ == "__main__":  # pragma: no cover - a developer's tool
    SCHEMA_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
