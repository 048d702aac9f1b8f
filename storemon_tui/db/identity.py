"""Is this database storemon's? Decided before anything is written to it.

storemon creates its tables in an empty database (an SQLite file, or the
current schema of a PostgreSQL database) and records its schema version in
``meta``. A database that already holds other tables — another program's
``poll`` or ``meta`` — is not storemon's: creating tables beside them, or
writing into tables of the same name, would change data storemon does not
own. It is refused, with one line, before anything is written; so is a
database made by a newer storemon (a higher schema version), whose layout
this one does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

from storemon_tui.errors import DatabaseError

SCHEMA_VERSION = 2
"""Bumped with every schema change; a later version migrates older databases.

2 added ``poll_recent``: a storemon of version 1 would neither read its polls
nor keep them apart from ``poll``'s, so it must refuse such a database.
Migrating from 1 only creates the table.
"""

TABLES = frozenset({"meta", "store", "poll", "poll_recent", "business_hours", "store_timezone", "report"})
"""storemon's tables (a test checks them against the models)."""

_SHOWN = 5
"""Foreign table names named in the refusal."""


@dataclass(frozen=True)
class Contents:
    """What a database holds, as far as the decision needs."""

    tables: frozenset[str]
    """Its tables and views (SQLite: without ``sqlite_*``; PostgreSQL: in the current schema)."""
    version: int | None
    """The schema version in storemon's ``meta`` table, or ``None`` when there is no such table or row."""


def schema_complete(location: str, contents: Contents) -> bool:
    """``True`` if storemon's schema is all there; ``False`` if tables must be created.

    Raises :class:`DatabaseError` for a database that is neither empty nor
    storemon's, and for a newer storemon's. A storemon database of this
    version that lacks a table (one added within this version) gets it
    created; an empty one gets everything; an older version's gets what
    this version added (and its version raised, see :func:`recorded_version_sql`).
    """
    if contents.version is None:
        if contents.tables:
            names = sorted(contents.tables)
            shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
            raise DatabaseError(
                f"database {location} is not a storemon database: it already holds other tables ({shown}); "
                "nothing was changed. Give an empty database or a new file"
            )
        return False
    if contents.version > SCHEMA_VERSION:
        raise DatabaseError(
            f"database {location} has schema version {contents.version}, newer than this storemon "
            f"understands ({SCHEMA_VERSION}); upgrade storemon"
        )
    return contents.tables >= TABLES and contents.version == SCHEMA_VERSION


def recorded_version_sql(contents: Contents) -> str | None:
    """What to run, after creating the missing tables, to record this schema version (``None``: nothing).

    The SQL takes the version as its one parameter, ``:v``.
    """
    if contents.version is None:
        return "INSERT INTO meta (key, value) VALUES ('schema_version', :v), ('data_version', '0')"
    if contents.version < SCHEMA_VERSION:
        return "UPDATE meta SET value = :v WHERE key = 'schema_version'"
    return None


def parse_version(value: object) -> int | None:
    """A ``schema_version`` value as storemon writes it (digits), else ``None`` (not storemon's row)."""
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isdigit() else None
