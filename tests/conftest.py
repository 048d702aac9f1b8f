"""Shared fixtures for the import, storage and CLI tests.

Kept deliberately small: a fresh on-disk SQLite database, a CSV writer, a
dump of every table (to prove a failed import changed nothing) and a way to
run the real command line in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from storemon_tui.db import Database, open_database

REPO = Path(__file__).resolve().parent.parent

DUMP_QUERIES = {
    "store": "SELECT store_key, store_id FROM store ORDER BY 1, 2",
    "poll": "SELECT store_key, ts_us, active FROM poll ORDER BY 1, 2",
    "business_hours": "SELECT id, store_key, day_of_week, start_us, end_us FROM business_hours ORDER BY 1, 2",
    "store_timezone": "SELECT store_key, timezone_str FROM store_timezone ORDER BY 1, 2",
    "report": "SELECT id, status, data_version FROM report ORDER BY 1, 2",
    "meta": "SELECT key, value FROM meta ORDER BY 1, 2",
}


def dump_database(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table (including meta's data_version), for before/after comparisons."""
    with db.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(sql)).all()] for name, sql in DUMP_QUERIES.items()}


def write_csv(directory: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` byte for byte (str is encoded as UTF-8, newlines untouched)."""
    path = Path(directory) / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def run_cli(*args: str | os.PathLike[str], data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m storemon_tui ARGS`` with its data directory in ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if k != "STOREMON_DB"}
    env["STOREMON_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "storemon_tui", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir,
        timeout=timeout,
    )


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "t.sqlite3")
    yield database
    database.dispose()


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """``csv_file(name, content)`` → path of the written file under ``tmp_path``."""
    return lambda name, content: write_csv(tmp_path, name, content)


@pytest.fixture
def dump() -> Callable[[Database], dict[str, list[tuple]]]:
    return dump_database


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli(*args)`` runs the real CLI in a subprocess with a private data directory."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return lambda *args, **kw: run_cli(*args, data_dir=data_dir, **kw)


@pytest.fixture
def invoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``invoke(*args)`` → (exit code, stdout, stderr) of ``storemon_tui.cli.main`` in-process.

    The same code path as ``python -m storemon_tui`` without paying the
    interpreter start-up per bad input; subprocess tests cover the rest.
    """
    from storemon_tui.cli import main

    monkeypatch.setenv("STOREMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STOREMON_DB", raising=False)

    def _invoke(*args: str | os.PathLike[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _invoke
