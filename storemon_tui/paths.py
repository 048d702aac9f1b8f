"""Where storemon keeps its database and finished reports.

Everything lives under one per-user data directory (``platformdirs``) so that
the app, the headless CLI and cron jobs all agree without configuration.
``STOREMON_DATA_DIR`` overrides it, which tests and shared setups use.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "storemon"


def data_dir() -> Path:
    """The directory holding the default database and the ``reports/`` folder."""
    override = os.environ.get("STOREMON_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_db_path() -> Path:
    """The SQLite file used when neither ``--db`` nor ``STOREMON_DB`` is given."""
    return data_dir() / "storemon.sqlite3"


def reports_dir() -> Path:
    """Finished report CSVs, one ``<id>.csv`` per report."""
    path = data_dir() / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_FILES = ("timezones.csv", "menu_hours.csv", "store_status.csv")


def bundled_sample_dir() -> Path | None:
    """The sample data the app offers: 200 stores, one week (``sample_data/README.md``).

    An installed package holds it as ``storemon_tui/sample_data/`` (see
    ``pyproject.toml``); a checkout, editable installs included, has it as the
    repository's ``sample_data/`` next to the package. None if neither is whole.
    """
    for candidate in (PACKAGE_DIR / "sample_data", PACKAGE_DIR.parent / "sample_data"):
        if all((candidate / name).is_file() for name in SAMPLE_FILES):
            return candidate
    return None
