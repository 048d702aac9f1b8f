"""Problems found in an input file, and how they are shown to people.

The format is fixed by the product: ``FILE:LINE: column 'NAME': value
'VALUE': reason`` with editor line numbers (the header is line 1), so a user
can jump straight to the spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storemon_tui.display import counted
from storemon_tui.errors import StoremonError
from storemon_tui.safe_text import visible

MAX_SHOWN = 20
"""Problems listed in a message; the rest are counted."""

MAX_KEPT = 1000
"""Problems an :class:`InvalidRowsError` keeps (a file can have millions); the rest are counted."""

SHOWN_CHARS = 80
"""A value or header list in a message is cut after this many characters."""


def shorten(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text``, or its first ``limit`` characters and ``…``: one bad value must not flood a terminal."""
    return text if len(text) <= limit else text[:limit] + "…"


def quoted_columns(names: list[str] | tuple[str, ...], limit: int = SHOWN_CHARS, *, each: bool = False) -> str:
    """Column names for a message, cut after about ``limit`` characters (a header may have 10,000 columns).

    A header line is quoted whole: ``'a,b,c'``, or ``'a,b,…' and 9,997 more columns``;
    with ``each`` every name is quoted: ``'a', 'b'``, or ``'a', 'b' and 9,998 more columns``.
    """
    shown = _fitting(names, limit)
    rest = len(names) - len(shown)
    more = f" and {counted(rest, 'more column')}" if rest else ""
    if each:
        return ", ".join(repr(name) for name in shown) + more
    return repr(",".join(shown) + (",…" if rest else "")) + more


def _fitting(names: list[str] | tuple[str, ...], limit: int) -> list[str]:
    """The first names (each shortened) that fit in ``limit`` characters together, and at least one."""
    shown: list[str] = []
    used = 0
    for name in names:
        piece = shorten(name, limit)
        if shown and used + 1 + len(piece) > limit:
            break
        shown.append(piece)
        used += len(piece) + (1 if len(shown) > 1 else 0)
    return shown


@dataclass(frozen=True, order=True)
class Problem:
    """One reason one row (or the whole file) cannot be imported."""

    line: int
    column: str | None
    value: str | None
    reason: str

    def format(self, file: str | Path) -> str:
        """The problem's line; file, column and value come from the input, so they are shown escaped
        (and the column and value shortened: an ignored column's name may be 128 KiB long)."""
        parts = [f"{visible(file)}:{self.line}:"]
        if self.column is not None:
            parts.append(f" column '{visible(shorten(self.column))}':")
        if self.value is not None:
            parts.append(f" value '{visible(shorten(self.value))}':")
        parts.append(f" {self.reason}")
        return "".join(parts)


class FileError(StoremonError):
    """The file cannot be read at all (missing, a directory, empty, not UTF-8, …)."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{visible(path)}:{line}:" if line is not None else f"{visible(path)}:"
        super().__init__(f"{where} {message}")


class InvalidRowsError(StoremonError):
    """Some rows are invalid and the user did not ask to skip them; nothing was written."""

    def __init__(self, path: str | Path, problems: list[Problem], rows: int, total: int | None = None) -> None:
        self.path = str(path)
        self.problems = problems
        """The first problems, in line order (at most :data:`MAX_KEPT`)."""
        self.bad_rows = rows
        self.total = len(problems) if total is None else total
        """How many problems the file has in all."""
        super().__init__(self.render())

    def render(self, limit: int = MAX_SHOWN) -> str:
        shown = [p.format(self.path) for p in self.problems[:limit]]
        more = self.total - len(shown)
        tail = f"\n... and {counted(more, 'more problem')}" if more > 0 else ""
        summary = (
            f"{visible(self.path)}: {counted(self.bad_rows, 'invalid row')} ({counted(self.total, 'problem')}); "
            "nothing imported "
            "from this file (use --skip-invalid to import the valid rows)"
        )
        return "\n".join(shown) + tail + "\n" + summary
