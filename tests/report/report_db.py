"""Writing report inputs straight into a database, and reading reports back, for report tests.

A uniquely named plain module (not a conftest) so test files can import it.
Rows go in with plain SQL (no CSV import): these tests are about reading and
computing, and need exact control over keys, instants and history.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from storemon_tui.db import Database
from storemon_tui.report import compute_report
from storemon_tui.report.formatting import report_text
from storemon_tui.report.pipeline import run_report
from storemon_tui.report.source import load_report_input
from tests.report.report_helpers import hm, us
from tests.report.report_reference import DAY, HOUR

Store = tuple[str, str | None, list[tuple[int, int, int]], list[tuple[int, bool]]]
"""(store_id, zone or None, hours rows (day, start µs, end µs), polls (ts µs, active))."""


def fill(db: Database, stores: list[Store], *, clear: bool = False) -> None:
    """Insert the stores with keys 1, 2, … in the order given (``clear``: empty the tables first)."""
    with db.begin() as conn:
        if clear:
            for table in ("poll", "poll_recent", "business_hours", "store_timezone", "store"):
                conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text("INSERT INTO store (store_key, store_id) VALUES (:k, :s)"),
            [{"k": k, "s": sid} for k, (sid, *_rest) in enumerate(stores, start=1)],
        )
        polls = [{"k": k, "t": t, "a": int(a)} for k, s in enumerate(stores, start=1) for t, a in s[3]]
        if polls:
            conn.execute(text("INSERT INTO poll (store_key, ts_us, active) VALUES (:k, :t, :a)"), polls)
        hours = [{"k": k, "d": d, "s": a, "e": b} for k, s in enumerate(stores, start=1) for d, a, b in s[2]]
        if hours:
            conn.execute(
                text("INSERT INTO business_hours (store_key, day_of_week, start_us, end_us) VALUES (:k, :d, :s, :e)"),
                hours,
            )
        zones = [{"k": k, "z": s[1]} for k, s in enumerate(stores, start=1) if s[1] is not None]
        if zones:
            conn.execute(text("INSERT INTO store_timezone (store_key, timezone_str) VALUES (:k, :z)"), zones)


def chunked_report(db: Database, as_of_us: int | None = None) -> str:
    """The report CSV as jobs compute it: chunks read from the database."""
    with db.snapshot() as conn:
        return report_text(run_report(conn, as_of_us))


def whole_report(db: Database, as_of_us: int | None = None) -> str:
    """The report CSV from the whole history loaded into memory at once."""
    with db.snapshot() as conn:
        inp, now = load_report_input(conn, as_of_us)
    return report_text(compute_report(inp, now))


# ------------------------------------------------------------------ a random fleet of every kind

NOW = us("2023-01-25T12:00:00Z")
YEAR = 365 * DAY
ZONES = ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London", None]


def random_fleet(seed: int, n: int = 40) -> list[Store]:
    """Stores of many kinds: young and old histories, old-only, never polled, 1970 and future polls."""
    rng = np.random.default_rng(seed)
    stores: list[Store] = []
    for i in range(n):
        kind = i % 8
        hours = [] if i % 5 == 0 else _random_hours(rng)
        polls = {} if kind == 3 else hourly(rng, NOW - 12 * DAY, NOW)
        if kind in (1, 6):  # sparse history years back
            polls |= {int(t): bool(rng.random() < 0.7) for t in NOW - rng.integers(9 * DAY, 3 * YEAR, 30)}
        if kind == 2:  # nothing recent: the week belongs to the last old evidence
            polls = hourly(rng, NOW - 40 * DAY, NOW - 20 * DAY)
        if kind == 4:  # polls after now too (ignored)
            polls |= hourly(rng, NOW, NOW + 3 * DAY)
        if kind == 5:  # a poll in 1970
            polls[us("1970-01-05T15:00:00Z")] = False
        if kind == 6:  # recent polls only while closed: open Mondays, polled Tuesdays
            hours = [(0, hm("09:00"), hm("17:00"))]
        stores.append((f"s{i:03d}", ZONES[i % len(ZONES)], hours, sorted(polls.items())))
    return stores


def _random_hours(rng: np.random.Generator) -> list[tuple[int, int, int]]:
    return [
        (int(rng.integers(0, 7)), int(rng.integers(0, 96)) * 900_000_000, int(rng.integers(0, 97)) * 900_000_000)
        for _ in range(int(rng.integers(1, 9)))
    ]


def hourly(rng: np.random.Generator, lo: int, hi: int) -> dict[int, bool]:
    ts = np.arange(lo, hi, HOUR) + rng.integers(0, HOUR // 2)
    return {int(t): bool(rng.random() < 0.85) for t in ts}


# ------------------------------------------------------------------ situations around a read


def set_chunking(monkeypatch, first_stores: int, target_polls: int, readers: int) -> None:
    """How the report pipeline cuts and reads chunks, for one test."""
    from storemon_tui.report import pipeline

    monkeypatch.setattr(pipeline, "FIRST_CHUNK_STORES", first_stores)
    monkeypatch.setattr(pipeline, "TARGET_CHUNK_POLLS", target_polls)
    monkeypatch.setattr(pipeline, "READERS", readers)


@contextmanager
def snapshot_while_a_writer_commits(db: Database, sqlite_path: Path) -> Iterator[tuple[Any, list[BaseException]]]:
    """A read snapshot of ``db`` while another connection is committing: it holds SQLite's pending lock.

    A writer at COMMIT allows no new readers and waits for the snapshot's
    shared lock: a reader that waited for it in turn would deadlock both for
    the busy timeout. Yields the snapshot's connection and the writer's
    errors, which stay empty when it commits once the snapshot has ended.
    """
    errors: list[BaseException] = []
    committing = threading.Event()

    def commit_a_write() -> None:
        raw = sqlite3.connect(sqlite_path, timeout=20, isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("UPDATE meta SET value = value WHERE key = 'data_version'")
            committing.set()
            raw.execute("COMMIT")  # waits (holding PENDING) until the snapshot ends
        except BaseException as exc:  # reported by the caller's assertion
            errors.append(exc)
        finally:
            raw.close()

    writer = threading.Thread(target=commit_a_write)
    with db.snapshot() as conn:
        conn.exec_driver_sql("SELECT count(*) FROM poll").scalar()  # the snapshot's shared lock
        writer.start()
        assert committing.wait(10)
        time.sleep(0.3)  # the writer is now inside COMMIT, holding PENDING
        yield conn, errors
    writer.join(20)
