"""The scale series: does the cost follow the data a report needs, not what the database ever held?

``python bench/bench.py --series [--scale 10] [--stores N] [--db-url URL]`` runs,
each stage a whole process with its peak RSS (see ``bench.py``):

1. 14,000 stores × 1 week: import, report (``--export``), fleet status (``--status``);
2. 14,000 stores × 4 weeks: import, report, status; and the same stores with only
   the last 8 days of those polls: import, report (the report should barely notice
   the 3 extra weeks);
3. with ``--scale 10``: 140,000 stores × 1 week (~19 M polls): import, report, status;
4. the hourly increment: a 10,000-row polls file for the hour after the data,
   imported into the biggest database of the run and into an empty one; on
   SQLite also into a copy whose ``poll_recent`` is 5,000 polls short of the
   fold (the one hourly import in ~50 that moves ``poll_recent`` into ``poll``).

A table with the targets of issues 12 and 13 closes the run. Data is generated
once per size into ``series/`` under ``--data-dir`` (default ``bench/data``) and reused. ``--stores N`` replaces the
14,000 stores of every case (and ×SCALE for the big one): a quick check that the
series runs end to end, whose figures say nothing about the targets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import bench

HOURLY_ROWS = 10_000

_FILTER_SCRIPT = """
import sys
import pyarrow as pa, pyarrow.compute as pc, pyarrow.csv as csv
source, target, since = sys.argv[1:4]
table = csv.read_csv(source, convert_options=csv.ConvertOptions(column_types={"timestamp_utc": pa.string()}))
table = table.filter(pc.greater_equal(table["timestamp_utc"], since))
csv.write_csv(table, target)
print(f"last days only: {table.num_rows:,} polls")
"""

_HOURLY_SCRIPT = """
import csv, random, sys
import pyarrow.csv as pcsv
source, target, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
ids = pcsv.read_csv(source, read_options=pcsv.ReadOptions(), convert_options=pcsv.ConvertOptions(
    include_columns=["store_id"]))["store_id"].unique().to_pylist()[:rows]
rng = random.Random(7)
with open(target, "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["store_id", "timestamp_utc", "status"])
    for sid in ids:  # the hour after the data (its end is 2023-01-25 00:00 UTC)
        m, s, us = rng.randrange(60), rng.randrange(60), rng.randrange(1_000_000)
        w.writerow([sid, f"2023-01-25 00:{m:02d}:{s:02d}.{us:06d} UTC", "active" if rng.random() < 0.9 else "inactive"])
print(f"hourly file: {len(ids):,} rows")
"""

_FILL_RECENT_SCRIPT = """
import math, sqlite3, sys
from storemon_tui.db.poll_sources import FOLD_ROWS
path, short_by = sys.argv[1], int(sys.argv[2])
rows = FOLD_ROWS - short_by
conn = sqlite3.connect(path)
(stores,) = conn.execute("SELECT count(*) FROM (SELECT DISTINCT store_key FROM poll)").fetchone()
hours = math.ceil(rows / stores)
with conn:  # polls from 3 hours after each store's last one on: past the hourly file's hour
    conn.execute(
        "INSERT INTO poll_recent (store_key, ts_us, active) "
        "WITH RECURSIVE n(k) AS (SELECT 3 UNION ALL SELECT k + 1 FROM n WHERE k < ? + 2), "
        "last AS (SELECT store_key, max(ts_us) AS ts FROM poll GROUP BY store_key) "
        "SELECT store_key, ts + k * 3600000000, 1 FROM last, n ORDER BY store_key, k LIMIT ?",
        (hours, rows),
    )
(filled,) = conn.execute("SELECT count(*) FROM poll_recent").fetchone()
assert filled == rows, (filled, rows)
print(f"poll_recent: {filled:,} polls")
"""


@dataclass
class Case:
    name: str
    stores: int
    days: int
    root: Path
    """``series/`` under ``--data-dir``."""

    @property
    def data_dir(self) -> Path:
        return self.root / f"{self.stores}x{self.days}d"


def run_series(args: argparse.Namespace) -> int:
    """All cases, then the hourly increment and the targets table."""
    bench.warm_bytecode(args.python)
    base = args.stores
    root = args.data_dir / "series"
    cases = [Case(f"{_count(base)} x 1 week", base, 7, root), Case(f"{_count(base)} x 4 weeks", base, 28, root)]
    if args.scale > 1:
        cases.append(Case(f"{_count(base * args.scale)} x 1 week", base * args.scale, 7, root))
    results: dict[str, bench.StageResult] = {}
    for case in cases:
        files = _ensure(case, args)
        if case.days == 28:  # first, so that a PostgreSQL run ends holding the case's whole data
            short = _last_days(case, files, 8, args)
            db8 = _fresh_db(args, case.data_dir / "db-8d.sqlite")
            _stages(f"{case.name}, last 8 days", db8, short, args, results, status=False)
        db = _fresh_db(args, case.data_dir / "db.sqlite")
        _stages(case.name, db, files, args, results)
    biggest = cases[-1]
    _hourly(biggest, args, results)
    _targets(results, cases, args)
    return 0 if all(r.ok for r in results.values()) else 1


def _count(stores: int) -> str:
    """``14k`` for 14,000 stores, ``300`` for 300: the cases' names."""
    return f"{stores // 1000}k" if stores % 1000 == 0 else str(stores)


def _ensure(case: Case, args: argparse.Namespace) -> list[Path]:
    """The case's three files, generated unless a finished generation left them (an interrupted one did not)."""
    files = [case.data_dir / name for name in bench.FILE_NAMES]
    done = case.data_dir / "generated"
    if done.is_file() and all(f.is_file() for f in files):
        print(f"\ninput: {case.data_dir} (cached)")
        return files
    print(f"\ngenerating {case.stores:,} stores x {case.days} days into {case.data_dir} ...", flush=True)
    cmd = [args.python, "-m", "storemon_tui.sample", "--stores", str(case.stores), "--days", str(case.days)]
    cmd += ["--seed", str(args.seed), "--out", str(case.data_dir)]
    subprocess.run(cmd, check=True, cwd=bench.REPO, env=bench._child_env(), stdout=subprocess.DEVNULL)
    done.touch()
    return files


def _fresh_db(args: argparse.Namespace, sqlite_path: Path) -> str:
    """An empty target: a deleted SQLite file, or the PostgreSQL tables dropped."""
    scratch = argparse.Namespace(**{**vars(args), "db": sqlite_path})
    return bench.reset_database(scratch)


def _stages(
    name: str,
    db: str,
    files: list[Path],
    args: argparse.Namespace,
    results: dict[str, bench.StageResult],
    status: bool = True,
) -> None:
    app = [args.python, "-m", "storemon_tui", "--db", db]
    results[f"{name}: import"] = bench.run_stage(f"{name}: import", [*app, "--import", *map(str, files)])
    out = files[0].parent / "out"
    out.mkdir(exist_ok=True)
    results[f"{name}: report"] = bench.run_stage(f"{name}: report", [*app, "--export", str(out / "report.csv")])
    if status:
        results[f"{name}: status"] = bench.run_stage(f"{name}: status", [*app, "--status", str(out / "status.csv")])


def _last_days(case: Case, files: list[Path], days: int, args: argparse.Namespace) -> list[Path]:
    """The same stores' files with only the polls of the last ``days`` days (hours and zones unchanged)."""
    target = case.data_dir / f"last{days}d"
    target.mkdir(exist_ok=True)
    polls = target / files[0].name
    if not polls.is_file():
        since = f"2023-01-{25 - days:02d} 00:00:00"  # the generator's default end is 2023-01-25 00:00 UTC
        subprocess.run([args.python, "-c", _FILTER_SCRIPT, str(files[0]), str(polls), since], check=True)
    for f in files[1:]:
        if not (target / f.name).is_file():
            shutil.copy(f, target / f.name)
    return [polls, target / files[1].name, target / files[2].name]


def _hourly(case: Case, args: argparse.Namespace, results: dict[str, bench.StageResult]) -> None:
    """A 10,000-row hourly file into the biggest database (a copy, on SQLite) and into an empty one."""
    hourly = case.root / "hourly.csv"
    source = case.data_dir / bench.FILE_NAMES[0]
    subprocess.run([args.python, "-c", _HOURLY_SCRIPT, str(source), str(hourly), str(HOURLY_ROWS)], check=True)
    if args.db_url:
        big = args.db_url  # still holds the biggest case: it ran last
    else:
        big_file = case.data_dir / "db-hourly.sqlite"
        shutil.copy(case.data_dir / "db.sqlite", big_file)
        _flush(big_file)
        big = str(big_file)
    name = f"hourly into {case.name}"
    results[name] = bench.run_stage(name, [args.python, "-m", "storemon_tui", "--db", big, "--import", str(hourly)])
    empty = _fresh_db(args, case.root / "empty.sqlite")
    results["hourly into empty"] = bench.run_stage(
        "hourly into empty", [args.python, "-m", "storemon_tui", "--db", empty, "--import", str(hourly)]
    )
    if not args.db_url:  # PostgreSQL's imports write into poll: its poll_recent stays empty
        _folding_hourly(case, args, hourly, results)


def _folding_hourly(case: Case, args: argparse.Namespace, hourly: Path, results: dict[str, bench.StageResult]) -> None:
    """The hourly file into a copy of the biggest database whose ``poll_recent`` it brings to the fold."""
    fold_file = case.data_dir / "db-fold.sqlite"
    shutil.copy(case.data_dir / "db.sqlite", fold_file)
    with open(hourly, "rb") as handle:
        short_by = (sum(1 for _ in handle) - 1) // 2  # the file's polls bring poll_recent past FOLD_ROWS
    fill = [args.python, "-c", _FILL_RECENT_SCRIPT, str(fold_file), str(short_by)]
    subprocess.run(fill, check=True, cwd=bench.REPO, env=bench._child_env())
    _flush(fold_file)
    name = f"hourly into {case.name}, folding"
    app = [args.python, "-m", "storemon_tui", "--db", str(fold_file), "--import", str(hourly)]
    results[name] = bench.run_stage(name, app)
    with closing(sqlite3.connect(fold_file)) as conn:
        (left,) = conn.execute("SELECT count(*) FROM poll_recent").fetchone()
    print(f"   poll_recent after it: {left:,} polls" + ("" if left == 0 else " (it did NOT fold)"))


def _flush(path: Path) -> None:
    """Write a fresh copy out to the disk before it is measured: the import's commit syncs the file,
    and would otherwise also write back the copy's hundreds of MB still in the page cache (a
    10,000-row hourly file's commit into the 140k copy: 0.7-1.2 s unflushed, 0.7 s flushed)."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _targets(results: dict[str, bench.StageResult], cases: list[Case], args: argparse.Namespace) -> None:
    bench.print_table(list(results.values()), {})
    print("\ntargets (issues 12 and 13):")

    def r(key: str) -> bench.StageResult | None:
        return results.get(key)

    def line(label: str, value: str, ok: bool | None) -> None:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"  {label:<58} {value}{mark}")

    week, weeks4 = cases[0].name, cases[1].name
    one, four, four8 = r(f"{week}: report"), r(f"{weeks4}: report"), r(f"{weeks4}, last 8 days: report")
    status = r(f"{week}: status")
    if four and four8:
        ratio = four.wall_s / four8.wall_s
        line(f"report {weeks4} / same stores, last 8 days (<= 1.2)", f"{ratio:.2f}", ratio <= 1.2)
    if one and status:
        ratio = status.wall_s / one.wall_s
        line(f"status / report, {week} (<= 1.5)", f"{ratio:.2f}", ratio <= 1.5)
        worst = max(one.max_rss_mb, status.max_rss_mb)
        line(f"peak RSS of report and status, {week} (<= 500 MB)", f"{worst:,.0f} MB", worst <= 500)
    big = cases[-1].name
    if args.scale > 1:
        for stage, limit in (("import", 30.0), ("report", 8.0)):
            res = r(f"{big}: {stage}")
            if res:
                line(
                    f"{big} {stage} (<= {limit:.0f} s, <= 1 GB)",
                    f"{res.wall_s:.2f} s, {res.max_rss_mb:,.0f} MB",
                    res.wall_s <= limit and res.max_rss_mb <= 1024,
                )
    into_big, into_empty = r(f"hourly into {big}"), r("hourly into empty")
    if into_big and into_empty:
        ratio = into_big.wall_s / into_empty.wall_s
        line(f"hourly increment into {big} / into empty (<= 1.3)", f"{ratio:.2f}", ratio <= 1.3)
        line("hourly increment peak RSS (<= 300 MB)", f"{into_big.max_rss_mb:,.0f} MB", into_big.max_rss_mb <= 300)
    folding = r(f"hourly into {big}, folding")
    if folding:
        rss = folding.max_rss_mb
        line(
            "hourly increment that folds: peak RSS (<= 300 MB)",
            f"{folding.wall_s:.2f} s, {rss:,.0f} MB",
            rss <= 300,
        )
    print("  (whole processes on this machine; figures drift with its load: compare runs taken together)")
    sys.stdout.flush()
