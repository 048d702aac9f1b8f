"""Moving a processed file out of the drop folder: ``imported/`` or ``rejected/`` (with its error text).

Names are kept; a name already taken there gets a numeric suffix
(``polls.csv`` → ``polls.1.csv``), so an hourly file of the same name
never overwrites yesterday's. Both folders are inside the drop folder, so
a move is a rename on one file system: atomic, and never a half-copied
file.
"""

from __future__ import annotations

import os
from pathlib import Path

IMPORTED = "imported"
REJECTED = "rejected"
ERROR_SUFFIX = ".error.txt"


def free_name(folder: Path, name: str, *, also_free: str = "") -> Path:
    """``folder/name``, or ``folder/STEM.N.SUFFIX`` for the first N that is free (with ``also_free`` appended too)."""
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        stem, dot, suffix = name, "", ""
    candidate = folder / name
    number = 0
    while candidate.exists() or (also_free and candidate.with_name(candidate.name + also_free).exists()):
        number += 1
        candidate = folder / f"{stem}.{number}{dot}{suffix}"
    return candidate


def move_imported(path: Path) -> Path:
    """Move an imported file into ``imported/`` beside it; returns where it went."""
    target_dir = path.parent / IMPORTED
    target_dir.mkdir(exist_ok=True)
    target = free_name(target_dir, path.name)
    os.rename(path, target)
    return target


def move_rejected(path: Path, message: str) -> tuple[Path, Path]:
    """Move a rejected file into ``rejected/`` with ``NAME.error.txt`` beside it holding ``message``.

    The error file is written first, so whoever finds the file also finds why.
    """
    target_dir = path.parent / REJECTED
    target_dir.mkdir(exist_ok=True)
    target = free_name(target_dir, path.name, also_free=ERROR_SUFFIX)
    error_file = target.with_name(target.name + ERROR_SUFFIX)
    error_file.write_text(message.rstrip("\n") + "\n", encoding="utf-8")
    os.rename(path, target)
    return target, error_file
