#!/usr/bin/env python
"""End-to-end benchmark of storemon at the size of the original dataset.

Why whole processes: what a user waits for is ``python -m storemon_tui ...``
from start to exit -- interpreter start-up, imports, parsing, database writes,
index builds, commit.  Timing functions in-process would hide most of that, so
every stage runs as a child process and is measured from spawn to exit, with
the child's own peak RSS read exactly via ``os.wait4``.

Stages:

1. fresh import of the three CSVs into an empty database,
2. re-import of the same files into the same database (the upsert path),
3. report export to CSV (skipped with a note if ``--export`` fails, e.g. while
   it is not implemented yet).

With ``--reference``, a yardstick runs first: ``bench/reference_loader.py``,
the bare "tuned loader" for the polls file alone (no validation, no hours or
zones), so figures taken while the machine runs slow can be told apart from
a slower storemon.

The input (14,000 stores x one week by default, ~2 M polls) is generated once
by :mod:`storemon_tui.sample` into ``bench/data/`` and reused while its
parameters match.  Run ``python bench/bench.py --help`` for the options.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "bench" / "data"
MANIFEST = "manifest.json"
TABLES = ("poll", "poll_recent", "business_hours", "store_timezone", "report", "store", "meta")
DEFAULT_END = datetime(2023, 1, 25, tzinfo=UTC)  # same default as storemon_tui.sample
FILE_NAMES = ("store_status.csv", "menu_hours.csv", "timezones.csv")

# This process deliberately imports nothing heavy (no numpy, pandas, pyarrow,
# SQLAlchemy): a child's ru_maxrss starts from the RSS of the process that
# spawned it (fork copies it, vfork shares it), so a fat parent would inflate
# every child's "peak RSS".  Generation and the PostgreSQL reset therefore run
# in child processes too.


@dataclass(frozen=True)
class InputFiles:
    """The three benchmark CSVs and their data-row counts."""

    paths: tuple[Path, Path, Path]
    rows: tuple[int, int, int]
    stores: int

    @property
    def poll_rows(self) -> int:
        return self.rows[0]

    @property
    def total_rows(self) -> int:
        return sum(self.rows)


@dataclass
class StageResult:
    """Outcome of one child process."""

    name: str
    returncode: int
    wall_s: float
    max_rss_mb: float
    rows: int | None = None
    timing_lines: list[str] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.wall_s if self.rows and self.ok and self.wall_s > 0 else None


# ----------------------------------------------------------------------- input


def _params(args: argparse.Namespace) -> dict[str, object]:
    return {"stores": args.stores, "days": args.days, "seed": args.seed, "end": args.end.isoformat()}


def _count_rows(path: Path) -> int:
    """Data rows of a CSV (newlines minus the header), read in 8 MB blocks."""
    lines = 0
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def _existing(data_dir: Path) -> InputFiles | None:
    """The cached files if all three exist, with counts from the manifest (or counted)."""
    paths = tuple(data_dir / name for name in FILE_NAMES)
    if not all(p.is_file() for p in paths):
        return None
    manifest = _read_manifest(data_dir) or {}
    counts = manifest.get("rows")
    if not isinstance(counts, list) or len(counts) != 3:
        counts = [_count_rows(p) for p in paths]
    return InputFiles(paths, tuple(counts), int(manifest.get("stores", 0)))


def _read_manifest(data_dir: Path) -> dict[str, object] | None:
    try:
        return json.loads((data_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def ensure_data(args: argparse.Namespace) -> InputFiles:
    """Reuse ``bench/data`` when it was generated with the same parameters, else regenerate.

    Generation of the default size takes a few seconds, but skipping it keeps
    repeated benchmark runs focused on the app (and the files' page cache warm).
    """
    data_dir: Path = args.data_dir
    cached = _existing(data_dir)
    if args.skip_generate:
        if cached is None:
            sys.exit(f"--skip-generate: no input files in {data_dir}")
        print(f"input: {data_dir} (as is, --skip-generate)")
        return cached
    manifest = _read_manifest(data_dir)
    wanted = _params(args)
    if cached and not args.regenerate and manifest and manifest.get("params") == wanted:
        print(f"input: {data_dir} (cached, {cached.stores:,} stores)")
        return cached
    print(f"generating {args.stores:,} stores x {args.days} days into {data_dir} ...", flush=True)
    t0 = time.perf_counter()
    cmd = [args.python, "-m", "storemon_tui.sample", "--stores", str(args.stores), "--out", str(data_dir)]
    cmd += ["--seed", str(args.seed), "--days", str(args.days), "--end", args.end.isoformat()]
    subprocess.run(cmd, check=True, cwd=REPO, env=_child_env(), stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    paths = tuple(data_dir / name for name in FILE_NAMES)
    counts = [_count_rows(p) for p in paths]
    (data_dir / MANIFEST).write_text(
        json.dumps({"params": wanted, "stores": args.stores, "rows": counts}, indent=2) + "\n"
    )
    print(f"generated in {elapsed:.2f} s (whole process)")
    return InputFiles(paths, tuple(counts), args.stores)


def describe_input(files: InputFiles) -> None:
    for path, rows in zip(files.paths, files.rows, strict=True):
        print(f"  {path.name:<18} {rows:>10,} rows {path.stat().st_size / 1e6:>8.1f} MB")


# -------------------------------------------------------------------- database


def _sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (psycopg2 is not a dependency)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


_DROP_SCRIPT = """
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.begin() as conn:
    for table in sys.argv[2:]:
        conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
print(f"database: {engine.url.render_as_string(hide_password=True)} (tables dropped)")
"""


def reset_database(args: argparse.Namespace) -> str:
    """Empty the target and return the ``--db`` value for the children.

    A fresh import must start from nothing: delete the SQLite file (and its
    WAL/SHM/journal companions), or drop the app's tables in PostgreSQL.
    """
    if args.db_url:
        subprocess.run(
            [args.python, "-c", _DROP_SCRIPT, _sqlalchemy_url(args.db_url), *TABLES], check=True, env=_child_env()
        )
        return args.db_url
    db: Path = args.db
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    print(f"database: {db} (fresh file)")
    return str(db)


def db_size_mb(args: argparse.Namespace) -> float | None:
    """On-disk size of the SQLite database including its WAL, or None for PostgreSQL."""
    if args.db_url:
        return None
    total = sum(Path(f"{args.db}{s}").stat().st_size for s in ("", "-wal") if Path(f"{args.db}{s}").exists())
    return total / 1e6


# ---------------------------------------------------------------------- stages


def _child_env() -> dict[str, str]:
    """The environment for children: the checkout first on PYTHONPATH, so the
    bench measures this working tree even if another version is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["STOREMON_TIMING"] = "1"  # the CLI then prints a per-stage "timing:" line for the report
    env.setdefault("STOREMON_DATA_DIR", str(REPO / "bench" / "data" / "storemon-data"))
    return env


def run_stage(name: str, argv: list[str], rows: int | None = None) -> StageResult:
    """Run one child from spawn to exit and collect wall time, exit code and peak RSS.

    ``os.wait4`` reaps the child and returns *its* rusage, so the peak RSS is
    exact per child (``RUSAGE_CHILDREN`` would only give the maximum so far).
    Output goes to temporary files rather than pipes so a chatty child can
    never block on a full pipe while we wait for it.
    """
    env = _child_env()
    print(f"\n== {name}: {' '.join(argv[1:])}", flush=True)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=REPO, env=env)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped; keep Popen from waiting again
        err.seek(0)
        stderr = err.read().decode(errors="replace").splitlines()
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    rss_mb = usage.ru_maxrss / (1 << 20 if sys.platform == "darwin" else 1 << 10)
    result = StageResult(
        name=name,
        returncode=proc.returncode,
        wall_s=wall,
        max_rss_mb=rss_mb,
        rows=rows,
        timing_lines=[line for line in stderr if line.startswith("timing:")],
        stderr_tail=[line for line in stderr if not line.startswith("timing:")][-8:],
    )
    report_stage(result)
    return result


def report_stage(result: StageResult) -> None:
    for line in result.timing_lines:
        print(f"   {line}")
    rate = f", {result.rows_per_s:,.0f} rows/s" if result.rows_per_s else ""
    print(f"   exit {result.returncode}, {result.wall_s:.2f} s wall{rate}, peak RSS {result.max_rss_mb:,.0f} MB")
    if not result.ok:
        for line in result.stderr_tail:
            print(f"   | {line}")


def print_table(results: list[StageResult], extra: dict[str, str]) -> None:
    """The compact summary: one row per stage."""
    width = max([12, *(len(r.name) for r in results)])
    print("\n" + "-" * (width + 52))
    print(f"{'stage':<{width}} {'exit':>4} {'wall s':>9} {'rows/s':>12} {'peak RSS MB':>12}")
    for r in results:
        rate = f"{r.rows_per_s:,.0f}" if r.rows_per_s else "-"
        print(f"{r.name:<{width}} {r.returncode:>4} {r.wall_s:>9.2f} {rate:>12} {r.max_rss_mb:>12,.0f}")
    for key, value in extra.items():
        print(f"{key}: {value}")
    print("-" * (width + 52))


# ------------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time storemon import, re-import and export as whole processes.")
    parser.add_argument("--stores", type=int, default=14_000, help="stores to generate (default 14000)")
    parser.add_argument("--days", type=int, default=7, help="days of polls (default 7)")
    parser.add_argument("--seed", type=int, default=42, help="generator seed (default 42)")
    parser.add_argument(
        "--end",
        type=datetime.fromisoformat,
        default=DEFAULT_END,
        help="end of the poll window (default 2023-01-25T00:00:00Z)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA_DIR, help="where the input CSVs are cached (default bench/data)"
    )
    parser.add_argument("--regenerate", action="store_true", help="regenerate the input even if cached")
    parser.add_argument("--skip-generate", action="store_true", help="use the files in --data-dir as they are")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--db", type=Path, default=None, help="SQLite file to use (default DATA_DIR/bench.sqlite; deleted first)"
    )
    target.add_argument("--db-url", help="PostgreSQL URL instead of SQLite; the app's tables are dropped first")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the children (default: this one)")
    parser.add_argument("--no-export", action="store_true", help="skip the report export stage")
    parser.add_argument(
        "--reference", action="store_true", help="first time bench/reference_loader.py (bare polls load) as a yardstick"
    )
    parser.add_argument(
        "--series",
        action="store_true",
        help="the scale series instead: 14k x 1 week, 14k x 4 weeks (and its last 8 days), the hourly increment"
        " (with --stores N: N instead of 14k, a quick end-to-end check)",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="with --series: also 14k x SCALE stores x 1 week (e.g. 10: 140k, ~19 M polls)",
    )
    args = parser.parse_args(argv)
    if args.end.tzinfo is None:
        args.end = args.end.replace(tzinfo=UTC)
    if args.db is None:
        args.db = args.data_dir / "bench.sqlite"
    return args


def warm_bytecode(python: str) -> None:
    """Compile storemon's modules once, as any normal install has them compiled.

    This machine sets PYTHONDONTWRITEBYTECODE=1, so an editable checkout would
    otherwise recompile every module in every measured process (~0.08 s each).
    """
    subprocess.run([python, "-m", "compileall", "-q", str(REPO / "storemon_tui")], check=True, env=_child_env())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.series:
        import series  # bench/series.py, beside this script

        return series.run_series(args)
    files = ensure_data(args)
    describe_input(files)
    db = reset_database(args)
    warm_bytecode(args.python)
    app = [args.python, "-m", "storemon_tui", "--db", db]
    imports = [*app, "--import", *map(str, files.paths)]
    rows = files.total_rows

    results = []
    if args.reference:
        with tempfile.TemporaryDirectory() as scratch:
            loader = [args.python, str(REPO / "bench" / "reference_loader.py"), str(Path(scratch) / "reference.sqlite")]
            results.append(run_stage("reference", [*loader, str(files.paths[0])], files.poll_rows))
    results.append(run_stage("import", imports, rows))
    extra: dict[str, str] = {"input rows": f"{rows:,} ({files.poll_rows:,} polls)"}
    if results[-1].ok:
        results.append(run_stage("re-import", imports, rows))
    else:
        print("   import failed; skipping the remaining stages")
    size = db_size_mb(args)
    if size is not None:
        extra["sqlite size"] = f"{size:,.1f} MB"

    if results[-1].ok and not args.no_export:
        out = args.data_dir / "report.csv"
        out.unlink(missing_ok=True)
        export = run_stage("export", [*app, "--export", str(out)])
        results.append(export)
        if export.ok and out.exists():
            extra["report rows"] = f"{_count_rows(out):,} ({out})"
        elif not export.ok:
            print("   export failed (not implemented yet?); continuing")

    print_table(results, extra)
    imports_ok = all(r.ok for r in results if r.name in {"import", "re-import"})
    return 0 if imports_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
