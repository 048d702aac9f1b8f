"""The rejects file: invalid rows, verbatim, with the reason each was refused.

Written next to the input as ``FILE.rejects.csv`` so a user can fix the rows
and import just that file again (its extra ``reason`` column is ignored).
"""

from __future__ import annotations

import csv
import os
from collections import defaultdict
from pathlib import Path

from storemon_tui.ingest.problems import Problem
from storemon_tui.ingest.reader import fetch_lines, fetch_records


def rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


def write_rejects(
    path: Path, header: tuple[str, ...], rejected: dict[int, list[Problem]], *, one_line_records: bool = False
) -> Path:
    """Write every rejected record (by record number) with its reasons; atomically.

    With ``one_line_records`` each record is the line its first problem names,
    fetched by a streaming pass over the lines; otherwise by record number,
    which parses the whole file as CSV (records may span lines).
    """
    if one_line_records:
        line_of = {record: min(p.line for p in problems) for record, problems in rejected.items()}
        by_line = fetch_lines(path, set(line_of.values()))
        records = {record: by_line[line] for record, line in line_of.items() if line in by_line}
    else:
        records = fetch_records(path, set(rejected))
    target = rejects_path(path)
    temp = target.with_name(target.name + ".tmp")
    reasons: dict[int, str] = defaultdict(str)
    for record, problems in rejected.items():
        reasons[record] = "; ".join(
            f"line {p.line}: " + (f"column '{p.column}': " if p.column else "") + p.reason for p in problems
        )
    with open(temp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*header, "reason"])
        for record in sorted(rejected):
            fields = records.get(record, [])
            # A short (truncated) record is padded so its reason lands in the reason column.
            fields = fields + [""] * (len(header) - len(fields))
            writer.writerow([*fields, reasons[record]])
    os.replace(temp, target)
    return target
