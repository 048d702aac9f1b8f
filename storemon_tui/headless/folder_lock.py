"""One watcher per drop folder: an exclusive ``flock`` on ``DIR/.storemon-watch.lock``.

Two watchers on one folder would race for the same files (both importing
one, both moving it). ``flock`` is released by the kernel when the
process dies, however it dies, so a crash never leaves a stale lock for
an operator to delete. The file holds the owner's pid for the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storemon_tui.errors import StoremonError

LOCK_NAME = ".storemon-watch.lock"


class FolderLock:
    """Held from :meth:`acquire` until :meth:`release` (or the process ends)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise a one-line :class:`StoremonError` naming the watcher that has it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoremonError(f"--watch {self.path.parent}: cannot create {LOCK_NAME}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise StoremonError(
                f"--watch {self.path.parent}: already watched by another storemon (pid {owner}); one watcher per folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
