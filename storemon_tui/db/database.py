"""Opening a database: SQLite file or SQLAlchemy URL, schema and data version.

One :class:`Database` per database. SQLModel sessions and SQLAlchemy Core
connections share its engine: the ORM for small records (reports, meta),
Core and the raw DB-API connection for the bulk paths. On an SQLite file
the engine is made only when first asked for: opening the database,
creating its schema and importing go through :mod:`sqlite3` alone
(:mod:`storemon_tui.db.sqlite_file`), so a headless import never pays for
loading SQLAlchemy. This module imports SQLAlchemy only inside the
functions that need it, for the same reason.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storemon_tui.db import sqlite_file
from storemon_tui.db.identity import SCHEMA_VERSION, Contents, parse_version, recorded_version_sql, schema_complete
from storemon_tui.errors import DatabaseError
from storemon_tui.paths import default_db_path

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

DB_ENV_VAR = "STOREMON_DB"


BUMP_DATA_VERSION_SQL = {
    "sqlite": "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'data_version'",
    "postgresql": "UPDATE meta SET value = (CAST(value AS BIGINT) + 1)::text WHERE key = 'data_version'",
}
"""Increment the data version, per dialect (run through SQLAlchemy or a raw cursor)."""

_DATA_VERSION_SQL = "SELECT value FROM meta WHERE key = 'data_version'"

WRITE_OPTION = "storemon_write"
"""Execution option: a transaction that will write starts with ``BEGIN IMMEDIATE``.

Taking SQLite's write lock up front means two writers queue on the busy
timeout instead of one failing half-way with "database is locked"."""


def describe_url(url: str) -> str:
    """A human-readable location with any password hidden."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except ValueError:
        return _without_password(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def _without_password(url: str) -> str:
    """``url`` with the text between ``user:`` and ``@`` hidden, for a URL too malformed to parse."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _sqlite_connect_listener(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    sqlite_file.configure(dbapi_conn)


def _sqlite_begin(conn: Connection) -> None:
    """Open every SQLite transaction explicitly (the SQLAlchemy pysqlite recipe).

    A write transaction waits for the lock the way imports do
    (:func:`~storemon_tui.db.sqlite_file.begin_immediate`), so Ctrl-C ends
    the wait at once.
    """
    if conn.get_execution_options().get(WRITE_OPTION, False):
        raw = conn.connection.driver_connection
        assert raw is not None  # None only once the connection is invalidated; this one is being begun
        sqlite_file.begin_immediate(raw)
    else:
        conn.exec_driver_sql("BEGIN")


class Database:
    """An opened storemon database: an SQLite file or a PostgreSQL URL."""

    def __init__(self, *, dialect: str, url: str | None = None, sqlite_path: str | None = None) -> None:
        if url is None and sqlite_path is None:
            raise ValueError("a Database needs a URL or an SQLite file path")
        self.dialect = dialect
        """``"sqlite"`` or ``"postgresql"``."""
        self.sqlite_path = sqlite_path
        """The SQLite file, or ``None`` for a server database."""
        self._url = url
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The SQLAlchemy URL (password included)."""
        if self._url is None:
            from sqlalchemy.engine import URL

            # URL.create escapes '%', '#', '?' and '@': a plain f-string URL would be
            # percent-decoded and open another file (``e%41`` -> ``eA``).
            self._url = URL.create("sqlite", database=self.sqlite_path).render_as_string(hide_password=False)
        return self._url

    @property
    def location(self) -> str:
        """Where the data lives, for headers and messages (password hidden)."""
        return self.sqlite_path if self.sqlite_path is not None else describe_url(self.url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use (thread-safe: the app asks from workers)."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def _make_engine(self) -> Engine:
        from sqlalchemy import create_engine, event
        from sqlalchemy.exc import ArgumentError

        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": sqlite_file.BUSY_TIMEOUT_S}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 10}
        try:
            engine = create_engine(self.url, **kwargs)
        except (ArgumentError, ImportError) as exc:
            raise DatabaseError(f"--db {self.location}: {exc}") from exc
        if self.dialect == "sqlite":
            event.listen(engine, "connect", _sqlite_connect_listener)
            event.listen(engine, "begin", _sqlite_begin)
        return engine

    @contextmanager
    def _readable_errors(self) -> Iterator[None]:
        """Turn driver errors (server down, locked, missing, disk full) into one readable line."""
        try:
            yield
        except Exception as exc:
            if not isinstance(exc, self._operational_errors()) and not _damaged(exc) and not _connecting(exc):
                raise
            raise DatabaseError(_one_line(exc, self.location)) from exc

    def _operational_errors(self) -> tuple[type[Exception], ...]:
        """The "could not do it" errors this database can raise: the drivers', and SQLAlchemy's once it is used.

        A module that was never imported cannot have raised, so nothing is
        imported here (psycopg is optional: importing it in an error handler
        would replace a readable error with ``ModuleNotFoundError``).
        """
        errors: list[type[Exception]] = [sqlite3.OperationalError]
        for module, name in (("sqlalchemy.exc", "OperationalError"), ("psycopg", "OperationalError")):
            loaded = sys.modules.get(module)
            if loaded is not None:
                errors.append(getattr(loaded, name))
        return tuple(errors)

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
    def bulk_write(self, should_cancel: Callable[[], bool] | None = None) -> Iterator[Any]:
        """A write transaction on a bare DB-API connection, for the bulk import paths.

        Committed when the block ends, rolled back on any exception (Ctrl-C
        included). An SQLite file gets a connection of its own, holding the
        write lock from the start (a wait for another writer's lock ends at
        Ctrl-C or when ``should_cancel`` says so), and SQLAlchemy is never
        loaded. A server database runs the transaction through the engine,
        whose pool notices a connection lost mid-import and discards it
        quietly; there the writer waits for other imports (see
        :class:`~storemon_tui.ingest.pg_writer.PostgresWriter`).
        """
        with self._readable_errors():
            if self.sqlite_path is not None:
                with sqlite_file.write_transaction(self.sqlite_path, should_cancel) as conn:
                    yield conn
                return
            with self.engine.begin() as conn:
                yield conn.connection.driver_connection

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
        if self._engine is not None:
            self._engine.dispose()


_SQLITE_DAMAGE = (11, 26)
"""SQLITE_CORRUPT ("database disk image is malformed", e.g. a truncated file) and SQLITE_NOTADB ("file is not a
database"): sqlite3 raises them as a plain ``DatabaseError``, beside programming errors that must stay tracebacks."""


def _connecting(exc: BaseException) -> bool:
    """Raised while connecting (SQLAlchemy records no statement), e.g. psycopg's "invalid connection option"
    for a misspelt option in the URL: a problem with the URL or the server, never a bug in a query."""
    dbapi_error = getattr(sys.modules.get("sqlalchemy.exc"), "DBAPIError", None)
    return dbapi_error is not None and isinstance(exc, dbapi_error) and exc.statement is None


def _damaged(exc: BaseException) -> bool:
    """The SQLite file is not a database or is damaged (directly, or wrapped by SQLAlchemy)."""
    cause = getattr(exc, "orig", exc)
    code = getattr(cause, "sqlite_errorcode", None)
    return isinstance(cause, sqlite3.DatabaseError) and code is not None and code & 0xFF in _SQLITE_DAMAGE


def _one_line(exc: Exception, location: str) -> str:
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    return f"database {location}: {first}"


def open_database(
    target: str | os.PathLike[str] | None = None,
    *,
    create: bool = True,
    should_cancel: Callable[[], bool] | None = None,
) -> Database:
    """Open (and on first use create) the database named by ``target``.

    ``target`` is a file path (SQLite) or a SQLAlchemy URL; ``None`` means
    ``$STOREMON_DB``, else the SQLite file in the user data directory.
    ``should_cancel`` can end a wait for another writer while a new SQLite
    file gets its schema (:class:`~storemon_tui.errors.Cancelled`).
    Raises :class:`DatabaseError` with one readable line when the database
    cannot be reached, e.g. a missing directory, a PostgreSQL server that is
    down, a wrong password or a missing database.
    """
    if target is None or str(target) == "":
        target = os.environ.get(DB_ENV_VAR) or default_db_path()
    raw = str(target)
    if raw == ":memory:":
        raise DatabaseError("--db :memory:: storemon keeps its data in a file; give an SQLite file path")
    if "://" in raw:
        db = _database_for_url(raw)
    else:
        db = Database(dialect="sqlite", sqlite_path=str(Path(raw).expanduser().resolve()))
    if db.sqlite_path is not None:
        _check_sqlite_path(db.sqlite_path)
    if create:
        ensure_schema(db, should_cancel)
    return db


def _database_for_url(url: str) -> Database:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"--db {url!r} is neither a file path nor a database URL") from exc
    except ValueError:  # e.g. a port that is not a number
        raise DatabaseError(f"--db {_without_password(url)}: malformed database URL (is the port a number?)") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
            raise DatabaseError(f"--db {url!r}: storemon keeps its data in a file; give an SQLite file path")
        if parsed.query:
            # storemon sets SQLite's options itself (sqlite_file.configure); silently dropping these would mislead.
            raise DatabaseError(f"--db {url!r}: options in an SQLite URL are not supported; give the file path alone")
        return Database(dialect="sqlite", sqlite_path=str(Path(parsed.database).expanduser().resolve()))
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return Database(dialect="postgresql", url=url)
    raise DatabaseError(f"--db {describe_url(url)}: unsupported database (use a file path or postgresql+psycopg://)")


def _check_sqlite_path(path: str) -> None:
    """Refuse, before anything is created, a path that cannot hold an SQLite database.

    SQLite would open ``/dev/null`` or a FIFO and then create ``PATH-journal``
    beside it (``/dev/null-journal``); a directory fails later and less clearly.
    """
    parent = Path(path).parent
    if not parent.is_dir():
        raise DatabaseError(f"database {path}: directory {parent} does not exist")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseError(f"database {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise DatabaseError(f"database {path}: is a directory")
    if not stat.S_ISREG(mode):
        raise DatabaseError(f"database {path}: is not a regular file; an SQLite database is a file")


def ensure_schema(db: Database, should_cancel: Callable[[], bool] | None = None) -> None:
    """Create missing tables and record the schema version.

    The common case — an existing database of this version — is one small
    read and never imports the ORM (SQLModel, pydantic); on SQLite not even
    SQLAlchemy. Creation is safe when several processes race: on
    PostgreSQL an advisory lock serializes it, on SQLite the write
    transaction does, and the version rows are only inserted once.
    """
    if db.sqlite_path is not None:
        _ensure_sqlite_schema(db, db.sqlite_path, should_cancel)
    else:
        _ensure_server_schema(db)


def upgrade_schema(db: Database) -> None:
    """Bring a database made by an older storemon up to this schema version; change nothing else.

    For the readers that never create a database (``--check``): a database
    of this version, an empty one or a foreign one is left exactly as it is
    (their queries then say what is wrong), but an older storemon's gets
    the tables its version lacks, as any other command would add them.
    """
    with db._readable_errors():
        if db.sqlite_path is not None:
            contents = sqlite_file.read_contents(db.sqlite_path)
        else:
            with db.engine.connect() as conn:
                contents = _server_contents(conn, db.location)
    if contents.version is not None and contents.version < SCHEMA_VERSION:
        ensure_schema(db)


def _ensure_sqlite_schema(db: Database, path: str, should_cancel: Callable[[], bool] | None) -> None:
    """The SQLite case, through ``sqlite3`` alone (no SQLAlchemy).

    The file is first only read, on a connection left as SQLite opens it:
    storemon's own settings (``journal_mode`` is stored in the file) are
    applied only once the file is known to be storemon's or empty.
    """
    with db._readable_errors():
        if schema_complete(db.location, sqlite_file.read_contents(path)):
            return
        conn = sqlite_file.connect(path)
        try:
            with sqlite_file.transaction(conn, should_cancel):
                contents = sqlite_file.contents(conn)  # again, under the write lock: another creator may have won
                if not schema_complete(db.location, contents):
                    sqlite_file.create_schema(conn, contents)
        finally:
            conn.close()


def _ensure_server_schema(db: Database) -> None:
    """The PostgreSQL case: an advisory lock serializes concurrent creators."""
    from sqlalchemy import text

    with db._readable_errors():
        with db.engine.connect() as conn:
            if schema_complete(db.location, _server_contents(conn, db.location)):
                return
        with db.begin_write() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7231001)")
            contents = _server_contents(conn, db.location)
            if schema_complete(db.location, contents):
                return
            _create_tables(conn)
            record = recorded_version_sql(contents)
            if record is not None:
                conn.execute(text(record), {"v": str(SCHEMA_VERSION)})


def _create_tables(conn: Connection) -> None:
    """Create every missing table and index of the models (server databases)."""
    from sqlmodel import SQLModel

    import storemon_tui.db.models  # noqa: F401 - registers the tables on SQLModel.metadata

    SQLModel.metadata.create_all(conn)


_SERVER_TABLES_SQL = (
    "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
)
"""Every table and view of the schema storemon would create its tables in, readable or not."""
_SERVER_META_COLUMNS_SQL = (
    "SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relname = 'meta' AND a.attnum > 0 AND NOT a.attisdropped"
)


def _server_contents(conn: Connection, location: str) -> Contents:
    """The current schema's tables and storemon's schema version (without reading a foreign table)."""
    if conn.exec_driver_sql("SELECT current_schema()").scalar() is None:
        raise DatabaseError(f"database {location}: no schema to create tables in (check search_path)")
    tables = frozenset(str(name) for name in conn.exec_driver_sql(_SERVER_TABLES_SQL).scalars())
    version = None
    if "meta" in tables and {"key", "value"} <= set(conn.exec_driver_sql(_SERVER_META_COLUMNS_SQL).scalars()):
        version = parse_version(conn.exec_driver_sql("SELECT value FROM meta WHERE key = 'schema_version'").scalar())
    return Contents(tables, version)


def get_data_version(conn: Connection) -> int:
    """The counter bumped by every import and clear; reports record it."""
    value = conn.exec_driver_sql(_DATA_VERSION_SQL).scalar()
    return int(value or 0)


def bump_data_version(conn: Connection) -> int:
    """Increment the data version inside the caller's transaction."""
    conn.exec_driver_sql(BUMP_DATA_VERSION_SQL[conn.dialect.name])
    return get_data_version(conn)
