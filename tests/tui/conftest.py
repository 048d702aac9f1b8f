"""Fixtures for the app tests: a tmp database with the bundled sample imported, and helpers.

The sample is imported once per session through the library into a template
file; each test copies it, so every test has its own database and its own
``STOREMON_DATA_DIR`` (reports land there).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tui_helpers import SAMPLE

from storemon_tui.db import open_database


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
