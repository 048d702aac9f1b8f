"""Where storemon keeps its database and finished reports.

Everything lives under one per-user data directory (``platformdirs``) so that
the app, the headless CLI and cron jobs all agree without configuration.
``STOREMON_DATA_DIR`` overrides it, which tests and shared setups use.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import platformdirs

from storemon_tui.errors import StoremonError

APP_NAME = "storemon"
DATA_DIR_ENV_VAR = "STOREMON_DATA_DIR"


def data_dir() -> Path:
    """The directory holding the default database and the ``reports/`` folder."""
    override = os.environ.get(DATA_DIR_ENV_VAR)
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    return _directory(path, f"{DATA_DIR_ENV_VAR} {path}" if override else f"data directory {path}")


def default_db_path() -> Path:
    """The SQLite file used when neither ``--db`` nor ``STOREMON_DB`` is given."""
    return data_dir() / "storemon.sqlite3"


def reports_dir() -> Path:
    """Finished report CSVs, one ``<id>.csv`` per report."""
    path = data_dir() / "reports"
    return _directory(path, f"reports directory {path}")


def _directory(path: Path, what: str) -> Path:
    """``path``, made if missing; one clear line if it is a file (``/dev/null``) or cannot be made."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoremonError(f"{what}: is not a directory") from None
    except OSError as exc:
        raise StoremonError(f"{what}: cannot be made ({exc.strerror or exc})") from None
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


def expand_paths(text: str) -> list[Path]:
    """A file, a directory (its CSVs) or a glob → the CSV files to import, in order.

    The app's path field and ``storemon --import`` both take what a user types
    here, so a folder or a quoted glob works in either.
    """
    text = text.strip()
    if not text:
        return []
    expanded = os.path.expanduser(text)
    if any(ch in expanded for ch in "*?["):
        return [Path(p) for p in sorted(glob.glob(expanded)) if os.path.isfile(p)]
    path = Path(expanded)
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if p.is_file()
            and p.suffix.lower() == ".csv"
            and not p.name.startswith(".")
            and not p.name.endswith(".rejects.csv")
        )
    return [path]


def import_arguments(arguments: list[str]) -> list[Path]:
    """``--import`` arguments → files: each expanded as :func:`expand_paths`; one that names no file
    (an empty folder, a glob matching nothing) stays as given, so its import fails saying which."""
    return [path for argument in arguments for path in (expand_paths(argument) or [Path(argument)])]
