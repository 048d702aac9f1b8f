"""CSV import: kind detection, validation, bulk load, rejects. Never imports Textual.

The names below are loaded on first use (PEP 562), so importing a submodule
such as :mod:`storemon_tui.ingest.prepare` does not drag in the writer and
the database modules: the headless import starts reading its first file sooner.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storemon_tui.ingest.importer import ImportSummary, import_file, import_files
    from storemon_tui.ingest.kinds import FileKind
    from storemon_tui.ingest.problems import FileError, InvalidRowsError, Problem

_HOMES = {
    "ImportSummary": "importer",
    "import_file": "importer",
    "import_files": "importer",
    "FileKind": "kinds",
    "FileError": "problems",
    "InvalidRowsError": "problems",
    "Problem": "problems",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
