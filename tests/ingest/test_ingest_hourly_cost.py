"""An hourly import costs the same however much the database holds (issue 12.3).

Not a timing test: SQLite's virtual machine counts the work of every
statement the import runs (a progress handler called every few VM
instructions, on the import's own real connection). Seeking a key costs a
few instructions whatever the table's size; scanning or counting a table
costs instructions per row. So the same hourly file imported into a small
database and into one with 50× the stores and ~1,000× the polls must cost
(nearly) the same number of instructions; a scan of ``poll`` or ``store``
(counting the table, reading every store id, ``ANALYZE``) would cost tens
of thousands more.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storemon_tui.db import open_database, sqlite_file
from storemon_tui.ingest import import_file

START = datetime(2023, 1, 1, tzinfo=UTC)
EVERY = 100
"""VM instructions between two calls of the progress handler."""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _history(path: Path, stores: int, hours: int) -> Path:
    """Hourly polls of ``stores`` stores over ``hours`` hours before the hourly file's hour."""
    lines = ["store_id,timestamp_utc,status"]
    for hour in range(hours):
        moment = START + timedelta(hours=hour)
        lines += [f"s{store},{_stamp(moment + timedelta(seconds=store % 3000))},active" for store in range(stores)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _hourly(path: Path, hour: int, status: Callable[[int], str]) -> Path:
    """One poll for each of the 40 stores every database has, in hour ``hour``."""
    moment = START + timedelta(hours=hour)
    lines = ["store_id,timestamp_utc,status"]
    lines += [f"s{store},{_stamp(moment + timedelta(seconds=store % 3000))},{status(store)}" for store in range(40)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def vm_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A counter of SQLite VM instructions (in units of :data:`EVERY`) on every connection storemon opens."""
    steps = [0]
    connect = sqlite_file.connect

    def counting_connect(path: str) -> sqlite3.Connection:
        conn = connect(path)

        def count() -> int:
            steps[0] += 1
            return 0

        conn.set_progress_handler(count, EVERY)
        return conn

    monkeypatch.setattr(sqlite_file, "connect", counting_connect)
    yield steps


def _import_cost(db_path: Path, csv: Path, steps: list[int]) -> tuple[int, tuple[int, int, int]]:
    db = open_database(db_path)
    try:
        steps[0] = 0
        summary = import_file(db, csv)
        return steps[0], (summary.inserted, summary.replaced, summary.changed)
    finally:
        db.dispose()


def test_an_hourly_file_costs_the_same_in_a_small_and_a_large_database(tmp_path: Path, vm_steps: list[int]) -> None:
    small, large = tmp_path / "small.sqlite", tmp_path / "large.sqlite"
    for path, stores, hours in ((small, 40, 2), (large, 2_000, 48)):  # 80 polls / 96,000 polls
        db = open_database(path)
        try:
            import_file(db, _history(tmp_path / f"{path.stem}.csv", stores, hours))
        finally:
            db.dispose()
    # New polls (the usual hourly file), then the same hour again with 10 statuses changed.
    new = _hourly(tmp_path / "new.csv", 48, lambda store: "active")
    again = _hourly(tmp_path / "again.csv", 48, lambda store: "inactive" if store < 10 else "active")
    costs = {}
    for path in (small, large):
        costs[path.stem, "new"] = _import_cost(path, new, vm_steps)
        costs[path.stem, "again"] = _import_cost(path, again, vm_steps)
    for case, outcome in (("new", (40, 0, 0)), ("again", (0, 40, 10))):
        small_steps, small_outcome = costs["small", case]
        large_steps, large_outcome = costs["large", case]
        assert small_outcome == large_outcome == outcome
        # A scan of poll would add ~96,000 rows x several instructions (thousands of units);
        # reading the whole store table, 2,000 rows (~100 units). The slack covers small
        # plan differences (e.g. a deeper B-tree does not add instructions, a wider one neither).
        assert large_steps <= small_steps * 1.1 + 20, (case, small_steps, large_steps)
