"""An SQLite database file through the ``sqlite3`` module alone, without SQLAlchemy.

Why a second way in: importing SQLAlchemy costs a large share of a
two-million-poll ``storemon --import`` (bench/README.md), and the import
does not need it. The bulk writers talk to the DB-API
connection anyway. So :class:`~storemon_tui.db.database.Database` checks
and creates an SQLite schema and runs imports through these functions,
and makes its SQLAlchemy engine only when something asks for one
(reports, browsing, the app). Every connection, direct or from the
engine's pool, is configured by :func:`configure`, so both ways behave
the same.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from storemon_tui.db import sqlite_ddl
from storemon_tui.db.identity import SCHEMA_VERSION, Contents, parse_version, recorded_version_sql
from storemon_tui.errors import Cancelled

BUSY_TIMEOUT_S = float(os.environ.get("STOREMON_BUSY_TIMEOUT_S") or 30)
"""How long a writer waits for another process's write lock before giving up.

``STOREMON_BUSY_TIMEOUT_S`` overrides it: tests shorten it to see the
watcher's retry after a lock that outlasts the wait."""

LOCK_WAIT_SLICE_S = 0.1
"""While waiting for the write lock, how often control returns to Python.

SQLite's own busy wait runs in C: Ctrl-C and a cancel button would go
unnoticed for up to :data:`BUSY_TIMEOUT_S`. Waiting in slices of this
length lets both take effect within a tenth of a second."""

PAGE_CACHE_KIB = 256 * 1024
"""Each connection's page cache: large enough that a large import seldom spills dirty pages before its commit."""


def configure(conn: sqlite3.Connection) -> None:
    """Connection settings, measured rather than guessed.

    A rollback journal, not WAL: a fresh import of two million polls writes
    every page once instead of twice (WAL then checkpoint), which measured
    faster (bench/README.md), and readers still read while an import is in progress
    (they only wait for the moment of commit). ``synchronous=FULL`` keeps
    every committed import durable and every interrupted one invisible.
    The 256 MiB page cache keeps a large import from spilling mid-way.

    ``isolation_level = None`` stops the sqlite3 module from opening
    transactions on its own; storemon opens every one explicitly.
    """
    conn.isolation_level = None
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=DELETE")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    cur.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


@contextmanager
def page_cache_of(cursor: sqlite3.Cursor, kib: int) -> Iterator[None]:
    """Within the block, ``cursor``'s connection keeps at most ``kib`` KiB of pages; then :data:`PAGE_CACHE_KIB` again.

    For a statement that dirties many pages once each: SQLite spills them to
    the file (journaled first, so a rollback still restores them) instead of
    holding them all until the commit, and peak memory follows the limit.
    """
    cursor.execute(f"PRAGMA cache_size=-{kib}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")


def connect(path: str) -> sqlite3.Connection:
    """A configured connection to the file at ``path`` (usable from any one thread at a time)."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None)
    try:
        configure(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def begin_immediate(conn: sqlite3.Connection, should_cancel: Callable[[], bool] | None = None) -> None:
    """Take the write lock, waiting up to :data:`BUSY_TIMEOUT_S` for another writer.

    Taking it up front means two writers queue instead of one failing
    half-way with "database is locked". The wait is interruptible: Ctrl-C
    raises ``KeyboardInterrupt`` and ``should_cancel`` raises
    :class:`~storemon_tui.errors.Cancelled` within :data:`LOCK_WAIT_SLICE_S`.
    Whatever ends it early, no transaction is left open.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    conn.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_SLICE_S * 1000)}")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # the extended codes too
                if not busy or time.monotonic() >= deadline:
                    raise
            if should_cancel is not None and should_cancel():
                raise Cancelled("cancelled while waiting for another writer; nothing was written")
    except BaseException:
        if conn.in_transaction:  # Ctrl-C landed just after the lock was taken
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")


@contextmanager
def transaction(
    conn: sqlite3.Connection, should_cancel: Callable[[], bool] | None = None
) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` (see :func:`begin_immediate`) … ``COMMIT``; ``ROLLBACK`` on any exception (Ctrl-C too)."""
    begin_immediate(conn, should_cancel)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def write_transaction(path: str, should_cancel: Callable[[], bool] | None = None) -> Iterator[sqlite3.Connection]:
    """A connection of its own, inside one write transaction; closed afterwards."""
    conn = connect(path)
    try:
        with transaction(conn, should_cancel):
            yield conn
    finally:
        conn.close()


def contents(conn: sqlite3.Connection) -> Contents:
    """The file's tables and views (``sqlite_*`` aside) and storemon's schema version, if ``meta`` is storemon's."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    )
    tables = frozenset(str(name) for (name,) in rows)
    version = None
    if "meta" in tables and {"key", "value"} <= {str(column[1]) for column in conn.execute("PRAGMA table_info(meta)")}:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = parse_version(row[0]) if row is not None else None
    return Contents(tables, version)


def read_contents(path: str) -> Contents:
    """:func:`contents` of the file at ``path`` on a connection with SQLite's defaults, which writes nothing.

    (A missing file is created empty, as any first open of a new database would.)
    """
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        return contents(conn)
    finally:
        conn.close()


def create_schema(conn: sqlite3.Connection, contents: Contents) -> None:
    """Create every missing table and index (inside the caller's transaction) and record this schema version.

    Runs the SQL rendered from the models (:mod:`storemon_tui.db.sqlite_ddl`),
    which also spares a first import loading SQLModel and pydantic.
    ``contents`` is what the database held before (an older version is raised).
    """
    for statement in sqlite_ddl.statements():
        conn.execute(statement)
    record = recorded_version_sql(contents)
    if record is not None:
        conn.execute(record, {"v": str(SCHEMA_VERSION)})
