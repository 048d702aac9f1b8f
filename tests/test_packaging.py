"""What an installed package holds: every module, and the sample data the app offers (issue 14, bug 4).

The sample ships inside the package as ``storemon_tui/sample_data/``, mapped
from the repository's ``sample_data/`` (which the README's commands use), so
the data exists once in the repository and an installed app finds it with no
checkout around. Building the package's files with setuptools' ``build_py``
from a copy of the tree shows exactly what a wheel would contain.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

from storemon_tui import paths

REPO = Path(__file__).resolve().parent.parent
SAMPLE_FILES = ("menu_hours.csv", "store_status.csv", "timezones.csv")


def test_the_package_list_names_every_package() -> None:
    """The packages are listed by hand (a mapped sample_data rules out automatic discovery): none missing."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = set(find_packages(where=str(REPO), include=["storemon_tui", "storemon_tui.*"]))
    assert set(config["packages"]) == found | {"storemon_tui.sample_data"}
    assert config["package-dir"] == {"storemon_tui.sample_data": "sample_data"}


def test_a_built_package_holds_the_sample_data(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, tree / name)
    shutil.copytree(REPO / "storemon_tui", tree / "storemon_tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "sample_data", tree / "sample_data")
    built = tmp_path / "built"
    subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", str(built)],
        cwd=tree,
        check=True,
        capture_output=True,
    )
    packaged = built / "storemon_tui" / "sample_data"
    for name in SAMPLE_FILES:
        assert filecmp.cmp(packaged / name, REPO / "sample_data" / name, shallow=False), name
    assert (built / "storemon_tui" / "tui" / "app.tcss").is_file()


def test_the_sample_is_found_in_the_package_first(tmp_path: Path, monkeypatch) -> None:
    """Installed: ``<package>/sample_data``. From a checkout (editable install): the repository's folder."""
    package = tmp_path / "site-packages" / "storemon_tui"
    (package / "sample_data").mkdir(parents=True)
    for name in SAMPLE_FILES:
        (package / "sample_data" / name).write_text("x")
    monkeypatch.setattr(paths, "PACKAGE_DIR", package)
    assert paths.bundled_sample_dir() == package / "sample_data"
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path / "nowhere" / "storemon_tui")
    assert paths.bundled_sample_dir() is None
    monkeypatch.undo()
    assert paths.bundled_sample_dir() == REPO / "sample_data"
