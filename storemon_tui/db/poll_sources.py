"""Where the polls live: ``poll`` and ``poll_recent``, read as one, and folding the second into the first.

Why two tables: ``poll`` is clustered by ``(store_key, ts_us)``, so that a
store's polls are one range read; but then an hour's polls of 10,000
stores land on ~10,000 different pages of it, each journaled, written back
and synced: 0.7 s of a 10,000-row import into 19 M polls, against almost
nothing into an empty database (bench/README.md). ``poll_recent`` has the
same shape and takes the new polls of small imports; it stays small, so an
hour's polls share a few hundred of its pages. Once it holds
:data:`FOLD_ROWS` polls an import moves them all into ``poll`` in one pass,
which touches each page of ``poll`` at most once for many polls.

The rule every writer keeps: the two tables never hold the same
``(store_key, ts_us)``. So every reader takes the plain union (``UNION
ALL``) of the two and needs no de-duplication, and a poll's status is
changed where the poll is.
"""

from __future__ import annotations

from typing import Any

from storemon_tui.db.summary_sql import set_meta_sql

POLL_TABLES = ("poll", "poll_recent")
"""Every table that holds polls; a reader reads all of them."""

FOLD_ROWS = 500_000
"""``poll_recent`` is folded into ``poll`` once it holds this many polls.

Folding rewrites up to every page of ``poll``, whatever it moves (19 M polls:
3.1 s for 100,000 polls, 4.7 s for 600,000), while a poll_recent of this size
still takes an hourly file in a few hundred pages (bench/README.md).
"""

POLL_NEWEST_KEY = "poll_newest_us"
"""``meta`` key: no poll in ``poll`` is newer than this (µs since the epoch); absent while unknown.

Why: an hourly file's polls are newer than everything in ``poll``, and then
none of them can be there, so SQLite's hourly path does not seek each of them
in ``poll`` (~10,000 of its leaf pages read: most of what an hourly import
into 19 M polls cost beyond one into an empty database, bench/README.md).
It is an upper bound, so deleting polls (pruning, Clear) leaves it true;
every write into ``poll`` keeps it (:func:`note_newest_in_poll`). A database
from before it has none until an import into an empty ``poll`` or a fold
sets it.
"""

FOLD_SQL = (
    "INSERT INTO poll (store_key, ts_us, active) SELECT store_key, ts_us, active FROM poll_recent",
    "DELETE FROM poll_recent",
)
"""Moving every recent poll into ``poll`` (no key is in both, so a plain insert)."""


NEWEST_IN_POLL_SQL = "SELECT max((SELECT max(p.ts_us) FROM poll AS p WHERE p.store_key = s.store_key)) FROM store AS s"
"""The newest poll of ``poll``, exactly: one primary-key seek per store (``max(ts_us)`` alone scans the table)."""


def fold_recent_polls(cursor: Any) -> int:
    """Move every poll of ``poll_recent`` into ``poll``, inside the caller's transaction; the number moved.

    ``cursor`` is a DB-API cursor of either back end.
    """
    cursor.execute("SELECT count(*), max(ts_us) FROM poll_recent")
    count, newest = cursor.fetchone()
    if count:
        for statement in FOLD_SQL:
            cursor.execute(statement)
        if newest_in_poll_bound(cursor) is None:  # not known yet: worked out once, here
            cursor.execute(NEWEST_IN_POLL_SQL)
            note_newest_in_poll(cursor, cursor.fetchone()[0], exact=True)
        else:
            note_newest_in_poll(cursor, int(newest), exact=False)
    return int(count)


def newest_in_poll_bound(cursor: Any) -> int | None:
    """:data:`POLL_NEWEST_KEY`, or ``None`` when it is not known."""
    cursor.execute(f"SELECT value FROM meta WHERE key = '{POLL_NEWEST_KEY}'")
    row = cursor.fetchone()
    return None if row is None else int(row[0])


def note_newest_in_poll(cursor: Any, newest_us: int | None, *, exact: bool) -> None:
    """Polls up to ``newest_us`` were written into ``poll``: keep :data:`POLL_NEWEST_KEY` an upper bound.

    ``exact``: ``newest_us`` is the newest poll of all ``poll`` (it was empty
    before, or it was worked out), so it is the bound itself (``None``: an
    empty ``poll``, no bound). Otherwise a known bound is raised to it, and an
    unknown one stays unknown.
    """
    if exact:
        if newest_us is None:
            cursor.execute(f"DELETE FROM meta WHERE key = '{POLL_NEWEST_KEY}'")
        else:
            cursor.execute(set_meta_sql(POLL_NEWEST_KEY, newest_us))
        return
    bound = newest_in_poll_bound(cursor)
    if bound is not None and newest_us is not None and newest_us > bound:
        cursor.execute(set_meta_sql(POLL_NEWEST_KEY, newest_us))


def union_of_polls(where: str, columns: str = "store_key, ts_us, active") -> str:
    """``SELECT columns FROM poll WHERE … UNION ALL`` the same of ``poll_recent``, as one subquery text.

    ``where`` is a condition on the unqualified columns (it may use the
    caller's parameters and outer columns); the result has ``columns``.
    """
    return " UNION ALL ".join(f"SELECT {columns} FROM {table} WHERE {where}" for table in POLL_TABLES)
