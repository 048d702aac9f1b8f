"""Polls live in two tables, ``poll`` and ``poll_recent`` (db/poll_sources.py): every reader sees their union.

The same polls, split between the two tables in different ways, must give
every reader exactly what it gives with all of them in ``poll``: the report
and the fleet status (chunked, with look-back seeks into either table), the
header's summary, the health check, the store drill-down, the Data pane's
pages and filters, clearing, and pruning. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from storemon_tui.db import Database
from storemon_tui.db.browse import Pager
from storemon_tui.db.maintenance import clear_filtered, describe_filtered, earliest_poll_us, summarize
from storemon_tui.headless.check import read_health
from storemon_tui.report import pipeline
from storemon_tui.report.retention import prune_polls
from storemon_tui.report.status import status_text
from storemon_tui.report.store_detail import load_store_detail
from tests.report.report_db import NOW, chunked_report, fill, random_fleet, set_chunking, whole_report
from tests.report.report_reference import DAY

SPLITS = {
    # Every other hour of each store, shifted by store: both tables hold polls of every store and period.
    "half": "(store_key * 7 + ts_us / 3600000000) % 2 = 0",
    "all": "1 = 1",
    # Only polls older than the report's reach: the look-back must find them in poll_recent.
    "old": f"ts_us < {NOW - 9 * DAY}",
    # Only each store's newest poll, as after an hourly import.
    "newest": "ts_us = (SELECT max(q.ts_us) FROM poll q WHERE q.store_key = poll.store_key)",
}
AS_OFS = [None, NOW - 3 * DAY + 17, NOW + 30 * DAY]


def split(db: Database, where: str) -> int:
    """Move the polls matching ``where`` from ``poll`` to ``poll_recent``; how many moved."""
    with db.begin() as conn:
        moved = conn.execute(
            text(f"INSERT INTO poll_recent (store_key, ts_us, active) SELECT * FROM poll WHERE {where}")
        ).rowcount
        conn.execute(text(f"DELETE FROM poll WHERE {where}"))
    return int(moved)


def all_polls(db: Database) -> list[tuple[int, int, int]]:
    """The union, sorted; also checks that no key is in both tables."""
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT store_key, ts_us, active FROM poll UNION ALL SELECT store_key, ts_us, active FROM poll_recent")
        ).all()
    keys = [(k, t) for k, t, _ in rows]
    assert len(set(keys)) == len(keys), "a poll is in both tables"
    return sorted((int(k), int(t), int(a)) for k, t, a in rows)


def pages(db: Database, store_filter: str = "") -> list[Any]:
    """Every page of the Data pane's polls: forward by key, backward from the end, and a jump into the middle."""
    pager = Pager(db, "polls", page_size=97, store_filter=store_filter)
    seen = []
    page = pager.first()
    while page.rows:
        seen.append(("forward", page.start, page.rows, page.total))
        page = pager.after(page)
    page = pager.last()
    while page.rows:
        seen.append(("backward", page.start, page.rows))
        page = pager.before(page)
    middle = pager.window(pager.total() // 2, 5)
    seen.append(("jump", middle.start, middle.rows))
    return seen


def observe(db: Database, db_target: str) -> dict[str, Any]:
    """What every reader makes of the database."""
    seen: dict[str, Any] = {}
    for as_of in AS_OFS:
        seen[f"report {as_of}"] = chunked_report(db, as_of)
        seen[f"whole {as_of}"] = whole_report(db, as_of)
        with db.snapshot() as conn:
            seen[f"status {as_of}"] = status_text(pipeline.run_status(conn, as_of))
    seen["summary"] = summarize(db)
    with db.connect() as conn:
        seen["earliest"] = earliest_poll_us(conn)
    seen["health"] = read_health(db_target)
    for store_id in ("s001", "s002", "s003", "s006"):
        detail = asdict(load_store_detail(db, store_id))
        detail["slots"] = np.asarray(detail["slots"]).tolist()
        seen[f"detail {store_id}"] = detail
    seen["pages"] = pages(db)
    seen["pages s00"] = pages(db, "s00")
    seen["filtered s00"] = describe_filtered(db, "polls", "s00")
    return seen


@pytest.mark.parametrize("how", list(SPLITS))
def test_every_reader_sees_both_tables(db, db_target, monkeypatch, how):
    set_chunking(monkeypatch, 3, 40, 2)  # many chunks, read ahead by helper connections
    fill(db, random_fleet(5, n=24))
    expected, polls = observe(db, db_target), all_polls(db)
    assert split(db, SPLITS[how]) > 0
    assert all_polls(db) == polls
    seen = observe(db, db_target)
    for name, value in expected.items():
        assert seen[name] == value, name


@pytest.mark.parametrize("how", ["half", "old"])
def test_prune_folds_the_recent_polls_first(db, how):
    stores = random_fleet(11, n=16)
    fill(db, stores)
    latest = max(t for *_, polls in stores for t, _ in polls)
    report = chunked_report(db)
    moved = split(db, SPLITS[how])
    pruned = prune_polls(db, 8)  # the report's now (the latest poll) is 192 h after the cut-off: unchanged
    assert pruned.cutoff_us == latest - 8 * DAY
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM poll_recent")).scalar() == 0
    assert moved > 0 and pruned.deleted > 0
    assert chunked_report(db) == report


def test_prune_equals_the_prune_of_one_table(db, db_target, new_target):
    # The same fleet in a second database, all in poll: both prunes keep the same polls.
    from storemon_tui.db import open_database

    stores = random_fleet(12, n=16)
    other = open_database(new_target("other"))
    try:
        fill(db, stores)
        fill(other, stores)
        split(db, SPLITS["half"])
        assert prune_polls(db, 4).deleted == prune_polls(other, 4).deleted
        assert all_polls(db) == all_polls(other)
    finally:
        other.dispose()


def test_clearing_polls_clears_both_tables(db):
    fill(db, random_fleet(3, n=10))
    total = len(all_polls(db))
    split(db, SPLITS["half"])
    filtered = describe_filtered(db, "polls", "s00")
    assert filtered is not None
    assert clear_filtered(db, "polls", "s00") == filtered.rows
    with db.connect() as conn:
        left = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT store_key FROM poll UNION ALL SELECT store_key FROM poll_recent) p"
                " JOIN store s ON s.store_key = p.store_key WHERE s.store_id LIKE 's00%'"
            )
        ).scalar()
    assert left == 0
    assert len(all_polls(db)) == total - filtered.rows
    from storemon_tui.db.maintenance import clear_tables

    assert clear_tables(db, ["polls"]) == {"polls": total - filtered.rows}
    assert all_polls(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), share=st.integers(1, 4), salt=st.integers(0, 97))
def test_any_split_gives_the_same_report_and_status(db, monkeypatch, seed, share, salt):
    set_chunking(monkeypatch, 2, 30, 2)
    fill(db, random_fleet(seed, n=10), clear=True)
    before = [chunked_report(db, as_of) for as_of in AS_OFS] + [_status(db)]
    split(db, f"(store_key * {salt} + ts_us / 1000003) % {share + 1} = 0")
    after = [chunked_report(db, as_of) for as_of in AS_OFS] + [_status(db)]
    assert after == before


def _status(db: Database) -> str:
    with db.snapshot() as conn:
        return status_text(pipeline.run_status(conn, None))
