"""Every file is one transaction: cancel, crash or kill leaves the database as it was.

Also the progress callback contract: (done, total) with one total, reaching it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from storemon_tui.db import open_database
from storemon_tui.errors import Cancelled
from storemon_tui.ingest import import_file, import_files

POLLS = "store_id,timestamp_utc,status\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\n"
ZONES = "store_id,timezone_str\n"


def polls_text(n: int, stores: int = 300, *, dup_every: int = 0) -> str:
    """``n`` valid poll rows with distinct keys, one second apart (every ``dup_every``-th repeats its predecessor)."""
    i = np.arange(n)
    if dup_every:
        i = np.where((i % dup_every == 0) & (i > 0), i - 1, i)
    stamps = np.datetime_as_string(np.datetime64("2023-01-18T00:00:00", "s") + i.astype("timedelta64[s]"), unit="s")
    lines = np.char.add(np.char.add(np.char.add((i % stores).astype(str), ","), stamps), " UTC,active")
    return POLLS + "\n".join(lines.tolist()) + "\n"


def seed(db, csv_file) -> None:
    import_file(db, csv_file("seed_p.csv", POLLS + "x,2023-01-22 12:00:00 UTC,active\n"))
    import_file(db, csv_file("seed_h.csv", HOURS + "x,0,09:00,17:00\n"))
    import_file(db, csv_file("seed_z.csv", ZONES + "x,America/Chicago\n"))


@pytest.fixture
def seeded_db(db, csv_file):
    seed(db, csv_file)
    return db


_CHECK_COUNTS: dict[tuple[str, str], int] = {}
"""(back end, file) → how many times a full import of it asks should_cancel."""


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("polls", polls_text(250_000)),
        ("hours", HOURS + "".join(f"s{i},{i % 7},09:00,17:00\n" for i in range(25_000)) + "x,1,10:00,11:00\n"),
        ("zones", ZONES + "".join(f"s{i},Europe/Paris\n" for i in range(25_000)) + "x,Asia/Tokyo\n"),
    ],
    ids=["polls", "hours", "zones"],
)
@pytest.mark.parametrize("cancel_at", ["first", "second", "last"])
def test_cancel_leaves_nothing_written(
    seeded_db, new_target, csv_file, dump, name: str, content: str, cancel_at: str
) -> None:
    """Cancelled at the first, second or very last check (just before commit): nothing is visible."""
    path = csv_file(f"{name}.csv", content)
    # Count the checks on a twin of seeded_db: same back end, same content (PostgreSQL
    # loads polls into an empty table by another path than into a filled one). The count
    # is deterministic, so it is measured once per back end and file.
    probe_key = (seeded_db.dialect, name)
    if probe_key not in _CHECK_COUNTS:
        probe = open_database(new_target("probe"))
        try:
            seed(probe, csv_file)
            checks = {"n": 0}
            import_file(probe, path, should_cancel=lambda: bool(checks.__setitem__("n", checks["n"] + 1)))
        finally:
            probe.dispose()
        _CHECK_COUNTS[probe_key] = checks["n"]
    checks = {"n": _CHECK_COUNTS[probe_key]}
    assert checks["n"] >= 3, "expected the writer to check for cancellation between batches"
    stop_at = {"first": 1, "second": 2, "last": checks["n"]}[cancel_at]

    before = dump(seeded_db)
    calls = {"n": 0}

    def should_cancel() -> bool:
        calls["n"] += 1
        return calls["n"] >= stop_at

    with pytest.raises(Cancelled, match="nothing from this file was written"):
        import_file(seeded_db, path, should_cancel=should_cancel)
    assert calls["n"] == stop_at
    assert dump(seeded_db) == before


def test_cancel_during_import_files_keeps_earlier_files(db, csv_file, dump) -> None:
    first = csv_file("z.csv", ZONES + "a,UTC\n")
    second = csv_file("p.csv", polls_text(100))
    seen: list[Path] = []

    def progress(path: Path, done: int, total: int) -> None:
        seen.append(path)

    with pytest.raises(Cancelled):
        import_files(db, [first, second], progress=progress, should_cancel=lambda: bool(seen) and seen[-1] == second)
    tables = dump(db)
    assert tables["store_timezone"] == [(1, "UTC")]
    assert tables["polls"] == []
    assert dict(tables["meta"])["data_version"] == "1"


@pytest.mark.parametrize("dup_every", [0, 3])
def test_progress_reports_one_total_and_reaches_it(db, csv_file, dup_every: int) -> None:
    calls: list[tuple[int, int]] = []
    path = csv_file("p.csv", polls_text(250_000, dup_every=dup_every))
    summary = import_file(db, path, progress=lambda done, total: calls.append((done, total)))
    assert summary.rows_read == 250_000
    assert len(calls) >= 2
    totals = {total for _, total in calls}
    assert totals == {250_000}, f"progress total changed during one import: {sorted(totals)}"
    done = [d for d, _ in calls]
    assert done[0] == 0 and done[-1] == 250_000
    assert done == sorted(done)


@pytest.mark.parametrize(
    "content",
    [HOURS + "a,0,09:00,17:00\na,1,09:00,17:00\n", ZONES + "a,UTC\nb,UTC\na,Asia/Tokyo\n"],
    ids=["hours", "zones-with-duplicate"],
)
def test_progress_other_kinds(db, csv_file, content: str) -> None:
    calls: list[tuple[int, int]] = []
    import_file(db, csv_file("f.csv", content), progress=lambda done, total: calls.append((done, total)))
    rows = content.count("\n") - 1
    assert calls[0] == (0, rows)
    assert calls[-1] == (rows, rows)
    assert {t for _, t in calls} == {rows}


def test_failed_write_rolls_back(seeded_db, csv_file, dump, monkeypatch) -> None:
    """An exception inside the write (here: injected after the store rows) leaves no trace."""
    from storemon_tui.ingest import writer as writer_module

    before = dump(seeded_db)

    def boom(self, *args, **kwargs):
        raise RuntimeError("disk on fire")

    from storemon_tui.ingest.pg_writer import PostgresWriter

    monkeypatch.setattr(writer_module.SqliteWriter, "write_polls", boom)
    monkeypatch.setattr(PostgresWriter, "write_polls", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        import_file(seeded_db, csv_file("p.csv", POLLS + "new-store,2023-01-22 12:00:00 UTC,active\n"))
    assert dump(seeded_db) == before


# -- a real kill -9 in the middle of a large import -------------------------------------------

BIG_ROWS = 1_500_000


def write_big_polls(path: Path, rows: int = BIG_ROWS) -> None:
    """~1.5 M valid polls over 2 000 stores and a week, written by Arrow in well under a second."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(20230125)
    store = pa.array(rng.integers(0, 2_000, rows)).cast(pa.string())
    seconds = np.datetime64("2023-01-18T00:00:00", "s").astype(np.int64) + rng.integers(0, 7 * 86_400, rows)
    stamps = pc.binary_join_element_wise(pa.array(seconds, pa.timestamp("s")).cast(pa.string()), " UTC", "")
    status = pc.if_else(pa.array(rng.random(rows) < 0.9), "active", "inactive")
    table = pa.table({"store_id": store, "timestamp_utc": stamps, "status": status})
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="none"))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_during_import_leaves_previous_content(tmp_path: Path, csv_file, dump, cli_env) -> None:
    db_path = tmp_path / "kill.sqlite3"
    db = open_database(db_path)
    import_file(
        db, csv_file("small_p.csv", POLLS + "x,2023-01-22 12:00:00 UTC,active\n7,2023-01-19 00:00:00 UTC,inactive\n")
    )
    import_file(db, csv_file("small_z.csv", ZONES + "x,America/Chicago\n"))
    before = dump(db)
    db.dispose()

    big = tmp_path / "big.csv"
    write_big_polls(big)
    journal = Path(str(db_path) + "-journal")
    proc = subprocess.Popen(
        [sys.executable, "-m", "storemon_tui", "--db", str(db_path), "--import", str(big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=cli_env,
    )
    try:
        deadline = time.monotonic() + 60
        # The rollback journal appears when the write transaction first spills pages: we are mid-write.
        while not journal.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "import finished before it could be killed: " + proc.stderr.read().decode()
        assert journal.exists(), "never saw the import start writing"
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    reopened = open_database(db_path)  # a hot journal is rolled back on first access
    try:
        assert dump(reopened) == before
        # And the database is healthy and writable again.
        with reopened.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        summary = import_file(reopened, csv_file("after.csv", POLLS + "y,2023-01-23 00:00:00 UTC,active\n"))
        assert summary.inserted == 1
    finally:
        reopened.dispose()
