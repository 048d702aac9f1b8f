"""Opening a database: SQLite file or SQLAlchemy URL, schema and data version.

One :class:`Database` wraps one SQLAlchemy engine. SQLModel sessions and
SQLAlchemy Core connections share it: the ORM for small records (reports,
meta), Core and the raw DB-API connection for the bulk paths.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from storemon_tui.errors import DatabaseError
from storemon_tui.paths import default_db_path

DB_ENV_VAR = "STOREMON_DB"

SCHEMA_VERSION = 1
"""Bumped with every schema change; a later version migrates older databases."""


def resolve_target(target: str | os.PathLike[str] | None) -> str:
    """Turn ``--db`` / ``STOREMON_DB`` / the default into a SQLAlchemy URL."""
    if target is None or str(target) == "":
        target = os.environ.get(DB_ENV_VAR) or default_db_path()
    raw = str(target)
    if "://" in raw:
        return raw
    path = Path(raw).expanduser().resolve()
    # URL.create escapes '%', '#', '?' and '@': a plain f-string URL would be
    # percent-decoded and open another file (``e%41`` -> ``eA``).
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def describe_url(url: str) -> str:
    """A human-readable location with any password hidden."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


WRITE_OPTION = "storemon_write"
"""Execution option: a transaction that will write starts with ``BEGIN IMMEDIATE``.

Taking SQLite's write lock up front means two writers queue on the busy
timeout instead of one failing half-way with "database is locked"."""


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    """Connection settings, measured rather than guessed.

    A rollback journal, not WAL: a fresh import of two million polls writes
    every page once instead of twice (WAL then checkpoint), which measured
    ~0.6 s faster, and readers still read while an import is in progress
    (they only wait for the moment of commit). ``synchronous=FULL`` keeps
    every committed import durable and every interrupted one invisible.
    The 256 MiB page cache keeps a large import from spilling mid-way.

    ``isolation_level = None`` stops the sqlite3 module from opening
    transactions behind SQLAlchemy's back; :func:`_sqlite_begin` opens them.
    """
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=DELETE")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-262144")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """Open every SQLite transaction explicitly (the SQLAlchemy pysqlite recipe)."""
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class Database:
    """An opened storemon database."""

    url: str
    engine: Engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def location(self) -> str:
        """Where the data lives, for headers and messages (password hidden)."""
        return describe_url(self.url)

    @contextmanager
    def _readable_errors(self) -> Iterator[None]:
        """Turn driver errors (server down, locked, missing) into one readable line."""
        try:
            yield
        except OperationalError as exc:
            raise DatabaseError(_one_line(exc, self.location)) from exc

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A Core connection inside one transaction."""
        with self._readable_errors(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def begin_write(self) -> Iterator[Connection]:
        """A transaction that writes: on SQLite it holds the write lock from the start."""
        with self._readable_errors(), self.engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction that sees one consistent state of the data.

        The report reads polls, hours and zones in several queries; on
        PostgreSQL REPEATABLE READ makes them one snapshot even while another
        host imports. On SQLite a read transaction already is one (the
        writer waits for it to finish before committing).
        """
        with self._readable_errors():
            if self.dialect == "postgresql":
                options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
                with self.engine.connect().execution_options(**options) as conn, conn.begin():
                    yield conn
            else:
                with self.engine.begin() as conn:
                    yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A Core connection for reads."""
        with self._readable_errors(), self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _one_line(exc: SQLAlchemyError, location: str) -> str:
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    return f"database {location}: {first}"


def open_database(target: str | os.PathLike[str] | None = None, *, create: bool = True) -> Database:
    """Open (and on first use create) the database named by ``target``.

    Raises :class:`DatabaseError` with one readable line when the database
    cannot be reached, e.g. a missing directory, a PostgreSQL server that is
    down, a wrong password or a missing database.
    """
    url = resolve_target(target)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"--db {url!r} is neither a file path nor a database URL") from exc
    backend = parsed.get_backend_name()
    kwargs: dict[str, object] = {}
    if backend == "sqlite":
        db_path = parsed.database
        if db_path and db_path != ":memory:":
            parent = Path(db_path).parent
            if not parent.is_dir():
                raise DatabaseError(f"database {db_path}: directory {parent} does not exist")
            if Path(db_path).is_dir():
                raise DatabaseError(f"database {db_path}: is a directory")
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif backend == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": 10}
    else:
        raise DatabaseError(f"--db {describe_url(url)}: unsupported database (use a file path or postgresql+psycopg://)")
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseError(f"--db {describe_url(url)}: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    db = Database(url=url, engine=engine)
    if create:
        ensure_schema(db)
    return db


def ensure_schema(db: Database) -> None:
    """Create missing tables and record the schema version.

    The common case — an existing database of this version — is one small
    read and never imports the ORM (SQLModel, pydantic): a headless hourly
    ``--import`` starts ~0.2 s faster for it. A new SQLite database does not
    import it either (see :func:`_create_tables`). Creation is safe when several
    processes race: on PostgreSQL an advisory lock serializes it, on SQLite
    the write transaction does, and the version rows are only inserted once.
    """
    try:
        with db.engine.connect() as conn:
            current = _stored_schema_version(conn)
        if current == SCHEMA_VERSION:
            return
        _check_not_newer(db, current)
        with db.engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            if db.dialect == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7231001)"))
            _create_tables(conn)
            current = _stored_schema_version(conn)
            _check_not_newer(db, current)
            if current is None:
                conn.execute(
                    text("INSERT INTO meta (key, value) VALUES ('schema_version', :v), ('data_version', '0')"),
                    {"v": str(SCHEMA_VERSION)},
                )
    except OperationalError as exc:
        raise DatabaseError(_one_line(exc, db.location)) from exc


def _create_tables(conn: Connection) -> None:
    """Create every missing table and index of the models.

    SQLite runs the SQL rendered from the models (:mod:`storemon_tui.db.sqlite_ddl`),
    which spares a first import loading SQLModel and pydantic (~0.3 s);
    other databases use ``create_all`` itself.
    """
    if conn.dialect.name == "sqlite":
        from storemon_tui.db import sqlite_ddl

        for statement in sqlite_ddl.statements():
            conn.exec_driver_sql(statement)
        return
    from sqlmodel import SQLModel

    import storemon_tui.db.models  # noqa: F401 - registers the tables on SQLModel.metadata

    SQLModel.metadata.create_all(conn)


def _stored_schema_version(conn: Connection) -> int | None:
    if not inspect(conn).has_table("meta"):
        return None
    value = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar()
    return int(value) if value is not None else None


def _check_not_newer(db: Database, current: int | None) -> None:
    if current is not None and current > SCHEMA_VERSION:
        raise DatabaseError(
            f"database {db.location} has schema version {current}, newer than this storemon "
            f"understands ({SCHEMA_VERSION}); upgrade storemon"
        )


def get_data_version(conn: Connection) -> int:
    """The counter bumped by every import and clear; reports record it."""
    value = conn.execute(text("SELECT value FROM meta WHERE key = 'data_version'")).scalar()
    return int(value or 0)


def bump_data_version(conn: Connection) -> int:
    """Increment the data version inside the caller's transaction."""
    conn.execute(
        text("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'data_version'")
        if conn.dialect.name == "sqlite"
        else text("UPDATE meta SET value = (CAST(value AS BIGINT) + 1)::text WHERE key = 'data_version'")
    )
    return get_data_version(conn)
