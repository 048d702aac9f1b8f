"""The SQLite writer's hourly path: a small file's new polls go into ``poll_recent``, not ``poll``.

Why: ``poll`` is clustered by ``(store_key, ts_us)``, so an hour's polls of
10,000 stores would land on ~10,000 of its pages, each journaled, written
back and synced (most of a 10,000-row import into 19 M polls). In the small
``poll_recent`` they share a few hundred pages (``db/poll_sources.py``).

The file's polls are first put in a temporary table (:data:`STAGE`), then
three statements, each driven by that table and seeking the others by
primary key (never a scan of ``poll``), keep the rule that a key is never in
both tables: a poll already in ``poll`` changes its status there, one
already in ``poll_recent`` changes it there, every other one is inserted
into ``poll_recent``. Their row counts are the import's exact counts. A file
whose polls are all newer than ``poll``'s newest (its recorded upper bound)
skips ``poll`` altogether.
``UPDATE … FROM`` is not used: SQLite plans it as a scan of the updated table.
"""

from __future__ import annotations

from typing import Any

from storemon_tui.db.poll_sources import newest_in_poll_bound

STAGE = "temp.poll_in"
"""This file's polls, unique, while the hourly path places them."""

CREATE_STAGE_SQL = (
    "CREATE TEMP TABLE IF NOT EXISTS poll_in (store_key INTEGER NOT NULL, ts_us INTEGER NOT NULL,"
    " active INTEGER NOT NULL, PRIMARY KEY (store_key, ts_us)) WITHOUT ROWID"
)


def _update_sql(table: str) -> str:
    """Set the staged status of every poll of ``table`` that is staged with another status.

    The row-value ``IN`` list is built from the stage (each staged poll seeks
    ``table``), and each listed poll is then found by its primary key.
    """
    same_key = f"i.store_key = {table}.store_key AND i.ts_us = {table}.ts_us"
    return (
        f"UPDATE {table} SET active = (SELECT i.active FROM {STAGE} AS i WHERE {same_key}) "
        f"WHERE (store_key, ts_us) IN (SELECT i.store_key, i.ts_us FROM {STAGE} AS i WHERE EXISTS "
        f"(SELECT 1 FROM {table} AS t WHERE t.store_key = i.store_key AND t.ts_us = i.ts_us AND t.active <> i.active))"
    )


def _insert_new_sql(seek_poll: bool) -> str:
    """Every staged poll in neither table, into ``poll_recent`` (those already there were updated in place).

    Without ``seek_poll`` the caller knows that none of them is in ``poll``.
    """
    in_poll = "WHERE NOT EXISTS (SELECT 1 FROM poll AS p WHERE p.store_key = i.store_key AND p.ts_us = i.ts_us) "
    return (
        f"INSERT INTO poll_recent (store_key, ts_us, active) SELECT i.store_key, i.ts_us, i.active FROM {STAGE} AS i "
        f"{in_poll if seek_poll else ''}ORDER BY i.store_key, i.ts_us ON CONFLICT (store_key, ts_us) DO NOTHING"
    )


def place_staged_polls(cursor: Any) -> tuple[int, int]:
    """Write the staged polls where they belong; ``(inserted, changed)``: new polls, and polls whose status changed.

    Inside the caller's transaction; drops the stage afterwards (a rollback drops it too).
    When every staged poll is newer than ``poll``'s recorded bound on its newest poll (an hourly file, usually),
    ``poll`` is not read at all.
    """
    seek_poll = not _all_newer_than_poll(cursor)
    changed = 0
    for table in ("poll", "poll_recent") if seek_poll else ("poll_recent",):
        cursor.execute(_update_sql(table))
        changed += max(cursor.rowcount, 0)
    cursor.execute(_insert_new_sql(seek_poll))
    inserted = max(cursor.rowcount, 0)
    cursor.execute(f"DROP TABLE {STAGE}")
    return inserted, changed


def _all_newer_than_poll(cursor: Any) -> bool:
    """Is every staged poll newer than :data:`~storemon_tui.db.poll_sources.POLL_NEWEST_KEY` (when known)?"""
    bound = newest_in_poll_bound(cursor)
    if bound is None:
        return False
    cursor.execute(f"SELECT min(ts_us) FROM {STAGE}")
    (oldest,) = cursor.fetchone()
    return oldest is not None and int(oldest) > bound


def recent_rows(cursor: Any) -> int:
    """How many polls ``poll_recent`` holds (it is kept small, so counting it is cheap)."""
    cursor.execute("SELECT count(*) FROM poll_recent")
    return int(cursor.fetchone()[0])
