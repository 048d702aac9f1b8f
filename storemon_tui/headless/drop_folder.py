"""Which files of a drop folder are complete and may be imported: pure bookkeeping, no I/O.

A file is taken only once it is complete. A file renamed into the folder
is complete the moment it appears (a rename is atomic), so it is taken at
once; a file written in place is taken once its size and modification
time have stayed the same for ``stable_s`` seconds (2 s by default). Only
inotify tells a rename from a write (``IN_MOVED_TO``); without it every
file waits for the stable time. An empty file renamed in still waits: a
writer that creates a file and fills it later looks exactly like that at
first.

The watcher feeds this class what it saw (a directory scan and, with
inotify, the names renamed in or written to) with the time, so its rules
are tested with a hand-driven clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

REJECTS_SUFFIX = ".rejects.csv"
IGNORED_PREFIXES = (".",)
IGNORED_SUFFIXES = (".tmp", ".part", REJECTS_SUFFIX)
"""Files still being written by convention (``.tmp``, ``.part``, dot files such as
rsync's), and the rejects files ``--skip-invalid`` writes next to an input."""

TOLD_WHY = {
    REJECTS_SUFFIX: f"its name ends in {REJECTS_SUFFIX}, the name of the rows --skip-invalid rejects, which the "
    "watcher never imports (its own rejects file must not go in again)",
}
"""Ignored names worth a log line, and why: they never become another name by themselves, so such a
file would sit in the folder unexplained. Names still being written (dot files, ``.tmp``, ``.part``)
are not: they are renamed once complete."""

RENAMED = "renamed"
WRITTEN = "written"


def is_ignored(name: str) -> bool:
    """Names the watcher never takes."""
    return name.startswith(IGNORED_PREFIXES) or name.endswith(IGNORED_SUFFIXES)


def ignored_because(name: str) -> str | None:
    """Why ``name`` is ignored, when that is worth telling (see ``TOLD_WHY``); else None."""
    for suffix, why in TOLD_WHY.items():
        if name.endswith(suffix) and not name.startswith(IGNORED_PREFIXES):
            return why
    return None


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    first_seen: float
    changed_at: float
    """When the size or modification time last changed (monotonic seconds)."""
    renamed: bool = False
    """Arrived by a rename and not written to since."""
    held: bool = False
    """Done with, but could not be moved away: not taken again until it changes."""


class DropFolder:
    """The files of the folder not yet imported, and when each becomes ready."""

    def __init__(self, stable_s: float) -> None:
        self.stable_s = stable_s
        self._files: dict[str, _Seen] = {}
        self._hints: dict[str, str] = {}
        """The last event of each name not scanned yet."""
        self._told: set[str] = set()
        """Ignored names already told about (:meth:`notice_ignored`) and still in the folder."""

    def note_events(self, events: Iterable[tuple[str, str]]) -> None:
        """Apply inotify's ``(name, RENAMED|WRITTEN)`` events in the order they happened."""
        for name, kind in events:
            seen = self._files.get(name)
            if seen is None:
                self._hints[name] = kind
            else:
                seen.renamed = kind == RENAMED

    def observe(self, entries: Mapping[str, tuple[int, int]], now: float) -> list[str]:
        """Record a scan: ``{name: (size, mtime_ns)}`` of every regular file; returns the names new to us.

        Files gone since the last scan are forgotten. A file whose size or
        modification time changed starts its stable time again and is no
        longer treated as renamed in (something wrote to it).
        """
        new: list[str] = []
        for name in list(self._files):
            if name not in entries:
                del self._files[name]
        for name, (size, mtime_ns) in entries.items():
            if is_ignored(name):
                continue
            seen = self._files.get(name)
            if seen is None:
                seen = self._files[name] = _Seen(size, mtime_ns, now, now)
                seen.renamed = self._hints.get(name) == RENAMED
                new.append(name)
            elif (seen.size, seen.mtime_ns) != (size, mtime_ns):
                seen.size, seen.mtime_ns, seen.changed_at = size, mtime_ns, now
                seen.renamed = seen.held = False
        self._hints.clear()
        return new

    def notice_ignored(self, names: Iterable[str]) -> list[tuple[str, str]]:
        """The ignored names of a scan worth telling about and not told yet, with why (``ignored_because``).

        Once per name while it stays in the folder, not at every scan; told
        again if it goes away and comes back.
        """
        present = set(names)
        self._told &= present
        new: list[tuple[str, str]] = []
        for name in sorted(present - self._told):
            why = ignored_because(name)
            if why is not None:
                self._told.add(name)
                new.append((name, why))
        return new

    def ready(self, now: float) -> list[str]:
        """Complete files, oldest first (by modification time, then name)."""
        done = [name for name, seen in self._files.items() if self._is_ready(seen, now)]
        return sorted(done, key=lambda name: (self._files[name].mtime_ns, name))

    def _is_ready(self, seen: _Seen, now: float) -> bool:
        if seen.held:
            return False
        return (seen.renamed and seen.size > 0) or now - seen.changed_at >= self.stable_s

    def waiting(self) -> int:
        """Files seen but not complete yet."""
        return len(self._files)

    def next_deadline(self, now: float) -> float | None:
        """When the next file not ready yet becomes ready if nothing writes to it."""
        times = [
            s.changed_at + self.stable_s for s in self._files.values() if not s.held and not self._is_ready(s, now)
        ]
        return min(times) if times else None

    def hold(self, name: str) -> None:
        """Processed, but it could not be moved out of the folder: never take it again as it is
        (an unmovable file would otherwise be imported again every few seconds)."""
        if name in self._files:
            self._files[name].held = True

    def forget(self, name: str) -> None:
        """The file was imported, rejected or moved away: a new file of that name starts afresh."""
        self._files.pop(name, None)
