"""CSV import: kind detection, validation, bulk load, rejects. Never imports Textual.

The names below are loaded on first use (PEP 562), so importing a submodule
such as :mod:`storemon_tui.ingest.prepare` does not drag in the writer and
the database modules: the headless import starts reading its first file sooner.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers only; "X as X" marks an explicit re-export
    from storemon_tui.ingest.importer import ImportSummary as ImportSummary
    from storemon_tui.ingest.importer import import_file as import_file
    from storemon_tui.ingest.importer import import_files as import_files
    from storemon_tui.ingest.kinds import FileKind as FileKind
    from storemon_tui.ingest.problems import FileError as FileError
    from storemon_tui.ingest.problems import InvalidRowsError as InvalidRowsError
    from storemon_tui.ingest.problems import Problem as Problem

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
