"""Which of the three input files is this? Decided from the header alone.

Operators rename and re-export files, so names are matched trimmed and
case-insensitively, ``dayOfWeek`` has common aliases, and extra columns are
tolerated (and reported) rather than rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storemon_tui.ingest.problems import quoted_columns


class FileKind(StrEnum):
    """The three inputs; the value is the name used in messages and summaries."""

    POLLS = "polls"
    HOURS = "business hours"
    ZONES = "time zones"

    @property
    def columns(self) -> tuple[str, ...]:
        """Canonical column names, in the order the spec lists them."""
        return _CANONICAL[self]


_CANONICAL: dict[FileKind, tuple[str, ...]] = {
    FileKind.POLLS: ("store_id", "timestamp_utc", "status"),
    FileKind.HOURS: ("store_id", "dayOfWeek", "start_time_local", "end_time_local"),
    FileKind.ZONES: ("store_id", "timezone_str"),
}

_ALIASES: dict[str, tuple[str, ...]] = {
    "dayOfWeek": ("dayofweek", "day_of_week", "day"),
}


@dataclass(frozen=True)
class HeaderMatch:
    """A recognised header: the kind, where each canonical column is, what was ignored."""

    kind: FileKind
    positions: dict[str, int]
    """Canonical column name → index of that column in the file."""
    header: tuple[str, ...]
    """The header exactly as written (after BOM removal)."""
    ignored: tuple[str, ...]
    """Extra columns present in the file and not used."""


class UnknownHeaderError(ValueError):
    """The header matches none of the three kinds."""


def expected_headers() -> str:
    """The three accepted headers, one per line, for error messages."""
    return "\n".join(f"  {kind.value:<15} {','.join(kind.columns)}" for kind in FileKind)


def _normalise(name: str) -> str:
    return name.strip().lower()


def detect_kind(header: list[str] | tuple[str, ...]) -> HeaderMatch:
    """Match a header row against the three kinds.

    The kind whose required columns are all present wins; when several match
    (a file with every column of two kinds) the one with most columns wins,
    so a polls file with an extra ``timezone_str`` column is still polls only
    if it lacks the business-hours columns. Raises :class:`UnknownHeaderError`.
    """
    names = [_normalise(h) for h in header]
    best: HeaderMatch | None = None
    nearest: tuple[int, FileKind, list[str]] | None = None
    for kind in FileKind:
        positions: dict[str, int] = {}
        missing: list[str] = []
        for canonical in kind.columns:
            accepted = (_normalise(canonical), *_ALIASES.get(canonical, ()))
            index = next((i for i, name in enumerate(names) if name in accepted), None)
            if index is None:
                missing.append(canonical)
            else:
                positions[canonical] = index
        if not missing:
            if best is None or len(kind.columns) > len(best.kind.columns):
                used = set(positions.values())
                ignored = tuple(header[i] for i in range(len(header)) if i not in used)
                best = HeaderMatch(kind, positions, tuple(header), ignored)
        elif len(positions) >= 2 and (nearest is None or len(positions) > nearest[0]):
            nearest = (len(positions), kind, missing)
    if best is None:
        shown = quoted_columns(header) if any(h.strip() for h in header) else "'(empty)'"
        if nearest is not None:
            _, kind, missing = nearest
            lacking = ", ".join(repr(m) for m in missing)
            raise UnknownHeaderError(
                f"header {shown} looks like a {kind.value} file but is missing column {lacking}; "
                f"expected one of:\n{expected_headers()}"
            )
        raise UnknownHeaderError(f"unrecognised header {shown}; expected one of:\n{expected_headers()}")
    return best
