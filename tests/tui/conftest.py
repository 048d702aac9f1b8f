"""Fixtures for the app tests: databases, the app started and settled, a stable screen for snapshots.

The sample is imported once per session through the library into a template
file; each test copies it, so every test has its own database and its own
``STOREMON_DATA_DIR`` (reports land there).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot

from storemon_tui.db import Database, open_database
from storemon_tui.tui.app import StoremonApp
from tests.tui.tui_helpers import REPO, SAMPLE, SIZE, settle


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from storemon_tui.ingest import import_file

    path = tmp_path_factory.mktemp("template") / "sample.sqlite3"
    db = open_database(str(path))
    try:
        for csv_path in sorted(SAMPLE.glob("*.csv")):
            import_file(db, csv_path)
    finally:
        db.dispose()
    return path


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    monkeypatch.setenv("STOREMON_DATA_DIR", str(directory))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return directory


@pytest.fixture
def sample_db(sample_template: Path, data_dir: Path):
    path = data_dir / "storemon.sqlite3"
    shutil.copy(sample_template, path)
    db = open_database(str(path))
    yield db
    db.dispose()


@pytest.fixture
def empty_db(data_dir: Path):
    db = open_database(str(data_dir / "storemon.sqlite3"))
    yield db
    db.dispose()


@pytest.fixture
def start_app(data_dir: Path) -> Callable[..., AbstractAsyncContextManager[Pilot]]:
    """``async with start_app(db, **options) as pilot:`` runs ``StoremonApp(db, **options)`` at 80×24 (or ``size``).

    It yields once the start-up is over (:func:`~tests.tui.tui_helpers.settle`):
    the summary is shown, the first rows are read, and on an empty database the
    sample offer is up. ``pilot.app`` is the app.
    """

    @asynccontextmanager
    async def start(db: Database, *, size: tuple[int, int] = SIZE, **options: Any) -> AsyncIterator[Pilot]:
        app = StoremonApp(db, **options)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            yield pilot

    return start


SNAPSHOT_NOW = datetime(2023, 1, 25, 18, 30, tzinfo=UTC)
"""The clock of snapshot tests: report creation and finish times."""


@pytest.fixture
def stable_screen(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What changes from run to run, pinned, so a screen can be compared with its snapshot.

    Paths: ``HOME`` is the test's directory, so the header shows the database as
    ``~/data/storemon.sqlite3``; the bundled sample is ``sample_data`` relative to
    the checkout (the working directory). Clock: reports are created and finish at
    :data:`SNAPSHOT_NOW`, and the header's data age is measured from it. Ids: reports get
    ids ``00000001…``, ``00000002…`` in order.
    """
    from storemon_tui import paths
    from storemon_tui.report import jobs

    monkeypatch.setenv("HOME", str(data_dir.parent))
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(paths, "bundled_sample_dir", lambda: Path("sample_data"))
    monkeypatch.setattr(jobs, "_utcnow", lambda: SNAPSHOT_NOW)
    monkeypatch.setattr(StoremonApp, "clock", staticmethod(SNAPSHOT_NOW.timestamp))
    numbers = itertools.count(1)
    ids = SimpleNamespace(token_hex=lambda nbytes: f"{next(numbers):08x}".ljust(2 * nbytes, "0"))
    monkeypatch.setattr(jobs, "secrets", ids)
