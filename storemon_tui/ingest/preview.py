"""A quick look at a CSV before importing it: its kind and first rows.

Reads only the start of the file, so previewing a 130 MB polls export is
instant; problems (unknown header, not UTF-8, …) come back as the same
:class:`~storemon_tui.ingest.problems.FileError` the import would raise.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from storemon_tui.ingest.kinds import FileKind
from storemon_tui.ingest.problems import FileError
from storemon_tui.ingest.reader import BOM, check_utf8, file_size, read_header

_PREVIEW_BYTES = 64 * 1024


@dataclass(frozen=True)
class Preview:
    path: Path
    kind: FileKind
    header: tuple[str, ...]
    rows: list[list[str]]
    ignored_columns: tuple[str, ...]
    size_bytes: int


def preview_file(path: str | Path, rows: int = 5) -> Preview:
    """Kind, header and the first ``rows`` data rows of a CSV file."""
    path = Path(path)
    try:
        if path.is_dir():
            raise FileError(path, "is a directory, not a CSV file")
        with open(path, "rb") as handle:
            head = handle.read(_PREVIEW_BYTES)
    except FileNotFoundError:
        raise FileError(path, "no such file") from None
    except PermissionError:
        raise FileError(path, "permission denied") from None
    except IsADirectoryError:
        raise FileError(path, "is a directory, not a CSV file") from None
    if not head.removeprefix(BOM).strip():  # a lone BOM is empty too, as for the import
        raise FileError(path, "is empty (expected a header line and data rows)")
    # Cut at the last complete line so a multi-byte character is never split.
    cut = head.rfind(b"\n")
    if cut > 0 and len(head) == _PREVIEW_BYTES:
        head = head[: cut + 1]
    check_utf8(path, head)
    match, offset = read_header(path, head)
    reader = csv.reader(io.StringIO(head[offset:].decode("utf-8"), newline=""))
    sample = []
    for row in reader:
        if row:
            sample.append(row)
        if len(sample) >= rows:
            break
    return Preview(path, match.kind, match.header, sample, match.ignored, file_size(path))
