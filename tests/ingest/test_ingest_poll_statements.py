"""The SQLite poll writer's statements: whatever their size and each chunk's packing, the table holds exactly the polls.

The multi-row statement reads the packing's constants as parameters (one
statement for every chunk), and the rows left over after the last whole
statement go one row a statement; a constant bound from the wrong chunk, or a
lost leftover row, would show here as a wrong or missing poll.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon_tui.db import sqlite_file
from storemon_tui.ingest.polls import SortedPolls, sort_last_wins
from storemon_tui.ingest.writer import SqliteWriter

BASE_US = 1_674_000_000_000_000
Poll = tuple[int, int, int]

polls = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 10**12), st.integers(0, 1)), min_size=0, max_size=120)


def _chunks(rows: list[Poll], cuts: list[int]) -> list[SortedPolls]:
    """``rows`` (the last row of a key wins) as sorted chunks in key order, cut at ``cuts``: each its own packing."""
    last = {(k, t): a for k, t, a in rows}
    ordered = sorted(last.items())
    bounds = sorted({0, len(ordered), *(c % (len(ordered) + 1) for c in cuts)})
    chunks = []
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        part = ordered[lo:hi]
        keys = np.array([k for (k, _), _ in part], dtype=np.int64)
        ts = np.array([BASE_US + t for (_, t), _ in part], dtype=np.int64)
        active = np.array([a for _, a in part], dtype=np.int8)
        chunks.append(sort_last_wins(keys, ts, active))
    return chunks


def _write(conn: sqlite3.Connection, chunks: list[SortedPolls], per_statement: int, fold_rows: int) -> tuple[int, int]:
    writer = SqliteWriter(conn)
    writer.rows_per_statement = per_statement
    writer.fold_rows = fold_rows
    conn.execute("BEGIN IMMEDIATE")
    result = writer.write_polls(chunks, sum(len(c) for c in chunks))
    conn.execute("COMMIT")
    return result.inserted, result.changed


@settings(max_examples=60, deadline=None)
@given(
    first=polls,
    second=polls,
    cuts=st.lists(st.integers(0, 200), max_size=4),
    per_statement=st.integers(1, 7),
    fold_rows=st.sampled_from([1, 10**6]),
)
def test_written_polls_equal_the_last_row_of_each_key(
    first: list[Poll], second: list[Poll], cuts: list[int], per_statement: int, fold_rows: int
) -> None:
    """``fold_rows`` 1: the second file is upserted into ``poll``; else it goes through ``poll_recent``'s stage."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite_file.connect(str(Path(tmp) / "t.sqlite3"))
        try:
            conn.execute("BEGIN")
            sqlite_file.create_schema(conn, sqlite_file.contents(conn))
            conn.execute("COMMIT")
            expected = {(k, BASE_US + t): a for k, t, a in first}
            assert _write(conn, _chunks(first, cuts), per_statement, fold_rows) == (len(expected), 0)  # plain inserts
            again = {(k, BASE_US + t): a for k, t, a in second}
            changed = sum(1 for key, a in again.items() if key in expected and expected[key] != a)
            inserted = sum(1 for key in again if key not in expected)
            expected.update(again)
            assert _write(conn, _chunks(second, cuts[::-1]), per_statement, fold_rows) == (inserted, changed)
            table = conn.execute(
                "SELECT store_key, ts_us, active FROM poll UNION ALL SELECT store_key, ts_us, active FROM poll_recent"
                " ORDER BY store_key, ts_us"
            ).fetchall()
        finally:
            conn.close()
    assert table == sorted((k, t, a) for (k, t), a in expected.items())
