"""Being woken when a folder changes: inotify on Linux, a timer elsewhere.

Why inotify through ``ctypes`` rather than ``watchfiles``: the watcher
must tell a file *renamed* into the folder (complete, take it at once)
from one being *written* there (wait until it stops changing).
``watchfiles`` reports both as "added" — it folds a create and its first
write into one change — so it cannot make that distinction; inotify's
``IN_MOVED_TO`` can. The three system calls need no dependency.

Events only say *when* to look and which names were renamed in: the
watcher always rescans the folder, so a lost event (a full inotify queue)
or polling (no inotify, or ``--poll`` for network file systems, where
another host's writes raise no events) costs latency, never a file.

A signal handler writes a byte to :attr:`FolderEvents.wake_fd`, which
ends any wait at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from pathlib import Path

from storemon_tui.headless.drop_folder import RENAMED, WRITTEN

_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x01000000
_IN_ISDIR = 0x40000000
_WATCH_MASK = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE_SELF | _IN_MOVE_SELF
_WRITES = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_CREATE
_GONE = _IN_DELETE_SELF | _IN_MOVE_SELF | _IN_IGNORED
_HEADER = struct.Struct("iIII")


class FolderEvents:
    """Waits for changes in one folder; :attr:`mode` is ``"inotify"`` or ``"polling"``."""

    def __init__(self, folder: Path, *, poll_s: float, force_polling: bool = False) -> None:
        self.folder = folder
        self.poll_s = poll_s
        self._wake_read, self.wake_fd = os.pipe()
        for fd in (self._wake_read, self.wake_fd):
            os.set_blocking(fd, False)
        self._inotify: int | None = None
        self.fallback_reason = "--poll" if force_polling else ""
        if not force_polling:
            try:
                self._inotify = _inotify_watch(folder)
            except OSError as exc:
                self.fallback_reason = f"inotify unavailable: {exc.strerror or exc}"

    @property
    def mode(self) -> str:
        return "inotify" if self._inotify is not None else "polling"

    def wait(self, timeout: float) -> list[tuple[str, str]]:
        """Wait up to ``timeout`` seconds (polling: at most the poll interval) for a change or a wake-up.

        Returns ``(name, RENAMED|WRITTEN)`` for each inotify event, in order.
        """
        fds = [self._wake_read] + ([self._inotify] if self._inotify is not None else [])
        if self._inotify is None:
            timeout = min(timeout, self.poll_s)
        readable, _, _ = select.select(fds, [], [], max(timeout, 0.0))
        if self._wake_read in readable:
            _drain(self._wake_read)
        if self._inotify is not None and self._inotify in readable:
            return self._read_events()
        return []

    def _read_events(self) -> list[tuple[str, str]]:
        assert self._inotify is not None
        data = _drain(self._inotify)
        events: list[tuple[str, str]] = []
        offset = 0
        while offset + _HEADER.size <= len(data):
            _wd, mask, _cookie, length = _HEADER.unpack_from(data, offset)
            raw = data[offset + _HEADER.size : offset + _HEADER.size + length]
            offset += _HEADER.size + length
            if mask & _GONE:  # the folder itself was removed or moved: keep going by polling
                self._close_inotify()
                self.fallback_reason = "the watched folder was moved or deleted"
                return events
            if mask & (_IN_ISDIR | _IN_Q_OVERFLOW) or not raw:
                continue
            name = os.fsdecode(raw.rstrip(b"\0"))
            if mask & _IN_MOVED_TO:
                events.append((name, RENAMED))
            elif mask & _WRITES:
                events.append((name, WRITTEN))
        return events

    def _close_inotify(self) -> None:
        if self._inotify is not None:
            os.close(self._inotify)
            self._inotify = None

    def close(self) -> None:
        self._close_inotify()
        for fd in (self._wake_read, self.wake_fd):
            os.close(fd)


def _inotify_watch(folder: Path) -> int:
    """An inotify descriptor watching ``folder`` (not its subfolders); ``OSError`` where there is none."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    if not hasattr(libc, "inotify_init1"):
        raise OSError("not supported on this system")
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    if libc.inotify_add_watch(fd, os.fsencode(folder), _WATCH_MASK | _IN_ONLYDIR) < 0:
        errno = ctypes.get_errno()
        os.close(fd)
        raise OSError(errno, os.strerror(errno))
    return fd


def _drain(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
