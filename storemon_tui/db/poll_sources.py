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

POLL_TABLES = ("poll", "poll_recent")
"""Every table that holds polls; a reader reads all of them."""

FOLD_ROWS = 500_000
"""``poll_recent`` is folded into ``poll`` once it holds this many polls.

Folding rewrites up to every page of ``poll``, whatever it moves (19 M polls:
3.1 s for 100,000 polls, 4.7 s for 600,000), while a poll_recent of this size
still takes an hourly file in a few hundred pages (bench/README.md).
"""

FOLD_SQL = (
    "INSERT INTO poll (store_key, ts_us, active) SELECT store_key, ts_us, active FROM poll_recent",
    "DELETE FROM poll_recent",
)
"""Moving every recent poll into ``poll`` (no key is in both, so a plain insert)."""


def fold_recent_polls(cursor: Any) -> int:
    """Move every poll of ``poll_recent`` into ``poll``, inside the caller's transaction; the number moved.

    ``cursor`` is a DB-API cursor of either back end.
    """
    cursor.execute("SELECT count(*) FROM poll_recent")
    (count,) = cursor.fetchone()
    if count:
        for statement in FOLD_SQL:
            cursor.execute(statement)
    return int(count)


def union_of_polls(where: str, columns: str = "store_key, ts_us, active") -> str:
    """``SELECT columns FROM poll WHERE … UNION ALL`` the same of ``poll_recent``, as one subquery text.

    ``where`` is a condition on the unqualified columns (it may use the
    caller's parameters and outer columns); the result has ``columns``.
    """
    return " UNION ALL ".join(f"SELECT {columns} FROM {table} WHERE {where}" for table in POLL_TABLES)
