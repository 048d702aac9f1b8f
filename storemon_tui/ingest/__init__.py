"""CSV import: kind detection, validation, bulk load, rejects. Never imports Textual."""

from storemon_tui.ingest.importer import ImportSummary, import_file, import_files
from storemon_tui.ingest.kinds import FileKind
from storemon_tui.ingest.problems import FileError, InvalidRowsError, Problem

__all__ = ["FileError", "FileKind", "ImportSummary", "InvalidRowsError", "Problem", "import_file", "import_files"]
