"""A quick look at a CSV before importing it: its kind and first rows.

Reads only the start of the file, so previewing a polls export of any size is
instant; problems (unknown header, not UTF-8, …) come back as the same
:class:`~storemon_tui.ingest.problems.FileError` the import would raise.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from storemon_tui.ingest.kinds import FileKind
from storemon_tui.ingest.reader import HEAD_BYTES, check_utf8, file_size, read_head, read_header


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
    head = read_head(path)  # same one-line errors as the import
    # Cut at the last complete line so a multi-byte character is never split.
    cut = head.rfind(b"\n")
    if cut > 0 and len(head) >= HEAD_BYTES:
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
