"""Fixtures for the watcher tests: real ``storemon --watch`` processes, always cleaned up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.headless.watch_helpers import FAST, WatcherProcess


@pytest.fixture
def start_watcher(cli_env: dict[str, str]) -> Iterator[Callable[..., WatcherProcess]]:
    """``start_watcher(folder, db, *args, ENV=value...)``: a watcher with the test timings, once it has
    logged ``watch_started``; killed at teardown."""
    started: list[WatcherProcess] = []

    def start(folder: Path, db: Path | str, *args: str, **env: str) -> WatcherProcess:
        watcher = WatcherProcess(folder, db, *args, env=cli_env | FAST | env)
        started.append(watcher)
        watcher.wait_for("watch_started")
        return watcher

    yield start
    for watcher in started:
        watcher.kill()


@pytest.fixture
def drop_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder
