"""Writing a file so that readers see the old content or the new, never half of it.

One helper for every file storemon writes whole: report CSVs in the reports
directory, exports (``--export PATH``, the app's export) and rejects files.
What happens depends on what is at the path, because the path is the user's:

* a regular file, or nothing: the new content goes to a temporary file in
  the same directory, is flushed to disk (``fsync``) and renamed over the
  path, so a crash, Ctrl-C or a full disk leaves the old file untouched. A
  replaced file keeps its permission bits (and, where allowed, its owner);
  a new one gets the usual ``0666`` less the umask.
* a symbolic link (relative, absolute, a chain of them): followed, and the
  file it finally names is replaced as above. The link stays a link.
* anything else that exists — a FIFO, a character device such as
  ``/dev/null``, ``/dev/stdout`` (the process's own open file, whatever it
  is) — is opened and written in place: renaming over it would replace a
  device node or a pipe with a regular file (as root, ``/dev/null`` itself).
  It is opened for appending, so ``--export /dev/stdout >> log`` appends.
* a directory, a block device (a disk: a CSV written there would destroy
  it) or a socket is refused with one clear line, before anything is written.

No temporary file is left behind, whatever fails: any exception (a full
disk, no permission, Ctrl-C, a cancelled report) removes it. Only a process
killed outright can leave one; they are named ``.NAME.RANDOM.storemon-tmp``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

from storemon_tui.errors import StoremonError

TEMP_SUFFIX = ".storemon-tmp"
_MAX_LINKS = 40
"""Like the kernel's limit on symbolic links in one lookup."""
_FD_DIR = re.compile(r"/proc/(?:self|thread-self|\d+)(?:/task/\d+)?/fd")
"""Where ``/dev/stdout`` and ``/dev/fd/N`` lead: links to the process's open files, never followed."""
_NAME_KEEP = 40
"""Characters of the target's name kept in a temporary name (a name may be 255 bytes already)."""


class TargetRefused(OSError):
    """``path`` must not or cannot be written; ``strerror`` says why in words (``is a directory``)."""

    def __init__(self, code: int, reason: str, path: str) -> None:
        super().__init__(code, reason, path)


@dataclass(frozen=True)
class Target:
    """Where a write to a path really goes, and how."""

    path: str
    """The file to write: links followed (except into a process's open files)."""
    in_place: bool
    """Write into the existing file (FIFO, device, open file) instead of replacing it."""
    existing: os.stat_result | None
    """The regular file being replaced, whose permissions the new one keeps; None if it is new."""


def resolve_target(path: str | os.PathLike[str]) -> Target:
    """What writing to ``path`` means; raises :class:`TargetRefused` for a path that must not or
    cannot be written (an ``OSError``: one ``except OSError`` handles it and the write's own errors)."""
    name = os.fspath(path)
    if not name or name.endswith(os.sep):
        raise TargetRefused(errno.EISDIR, "not a file name", name)
    current = os.path.abspath(name)
    shown_directory = os.path.dirname(name) or "."  # as the user wrote it, for the message
    for _ in range(_MAX_LINKS):
        directory = os.path.realpath(os.path.dirname(current))
        current = os.path.join(directory, os.path.basename(current))
        if _FD_DIR.fullmatch(directory):
            return Target(current, True, None)
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            if not os.path.isdir(directory):
                raise TargetRefused(errno.ENOENT, f"directory {shown_directory} does not exist", name) from None
            return Target(current, False, None)
        except OSError as exc:
            raise TargetRefused(exc.errno or errno.EIO, exc.strerror or str(exc), name) from None
        if not stat.S_ISLNK(info.st_mode):
            return _target_for(name, current, info)
        current = os.path.join(directory, os.readlink(current))  # an absolute link replaces the directory
        shown_directory = os.path.dirname(current)
    raise TargetRefused(errno.ELOOP, "too many levels of symbolic links", name)


def _target_for(name: str, path: str, info: os.stat_result) -> Target:
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return Target(path, False, info)
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return Target(path, True, None)
    if stat.S_ISDIR(mode):
        raise TargetRefused(errno.EISDIR, "is a directory", name)
    kind = "a block device" if stat.S_ISBLK(mode) else "a socket"
    reason = f"is {kind}; storemon writes only to a file, a FIFO or a character device"
    raise TargetRefused(errno.EINVAL, reason, name)


def check_writable(path: str | os.PathLike[str]) -> Target:
    """Fail now, with one line (``PATH: reason``), if ``path`` cannot be written (before a long computation)."""
    try:
        target = resolve_target(path)
    except OSError as exc:
        raise StoremonError(f"{os.fspath(path)}: {exc.strerror or exc}") from None
    where = target.path if target.in_place or target.existing is not None else os.path.dirname(target.path)
    if not os.access(where, os.W_OK) or (target.existing is not None and not os.access(target.path, os.W_OK)):
        raise StoremonError(f"{os.fspath(path)}: permission denied")
    return target


class AtomicFile:
    """A file being written that takes the place of ``path`` only when committed.

    For writers that cannot put all their work in one ``with`` block (the
    rejects file is filled while its input is read and published just before
    the import commits). Open it, write to :attr:`handle`, then
    :meth:`commit`, or :meth:`discard` on failure. Raises ``OSError``: the
    system's, or :class:`TargetRefused` for a path that must not be written;
    :func:`write_atomically` turns either into one clear line.
    """

    def __init__(self, path: str | os.PathLike[str], *, encoding: str | None = None) -> None:
        self.target = resolve_target(path)
        self._temp: str | None = None
        if self.target.in_place:
            fd = _open_in_place(self.target.path)
        else:
            directory, name = os.path.split(self.target.path)
            self._temp = os.path.join(directory, f".{name[:_NAME_KEEP]}.{os.urandom(4).hex()}{TEMP_SUFFIX}")
            fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)  # umask applies
        self._fd = fd
        try:
            self.handle: IO = _file(fd, encoding)
        except BaseException:
            self.discard()
            raise

    def finish(self) -> None:
        """Everything written is on disk (flushed, ``fsync``); only :meth:`commit`'s rename is left."""
        if self.handle.closed:
            return
        self.handle.flush()
        if self._temp is not None:
            if self.target.existing is not None:
                _keep_permissions(self._fd, self.target.existing)
            os.fsync(self._fd)
        self.handle.close()

    def commit(self) -> None:
        """Put the new content in place: rename the temporary file over the target (in place: just finish)."""
        self.finish()
        if self._temp is not None:
            os.replace(self._temp, self.target.path)
            self._temp = None
            _sync_directory(os.path.dirname(self.target.path))

    def discard(self) -> None:
        """Give up: close, and remove the temporary file. Never raises; safe to call twice."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.handle.close()
        if self._temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
            self._temp = None


@contextmanager
def write_atomically(path: str | os.PathLike[str], *, encoding: str | None = None) -> Iterator[IO]:
    """A file object whose content replaces ``path`` when the block ends without an exception.

    Binary, or text in ``encoding`` (no newline translation). See the module
    docstring for links, FIFOs and devices. A path that must not be written
    raises :class:`StoremonError` (``PATH: reason``) before anything is
    done; a failure to write raises it as ``cannot write PATH: reason``.
    Either way nothing is left behind.
    """
    try:
        file = AtomicFile(path, encoding=encoding)
    except OSError as exc:
        raise _one_line(path, exc) from None
    try:
        yield file.handle
        file.commit()
    except BaseException as exc:
        file.discard()
        if isinstance(exc, OSError):
            raise _one_line(path, exc) from None
        raise


def _one_line(path: str | os.PathLike[str], exc: OSError) -> StoremonError:
    """``PATH: reason`` for a refused path, ``cannot write PATH: reason`` for a failed write."""
    if isinstance(exc, TargetRefused):
        return StoremonError(f"{os.fspath(path)}: {exc.strerror}")
    return StoremonError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}")


def _open_in_place(path: str) -> int:
    """A descriptor for writing into ``path`` as it is: never created, truncated or replaced.

    ``/dev/stdout`` (``/proc/self/fd/1``) is this process's own descriptor 1: it is
    duplicated, so the CSV goes exactly where printing would (a pipe, a socket, a
    file opened by ``>`` or ``>>``). Anything else is opened for appending.
    """
    directory, name = os.path.split(path)
    own = {f"/proc/{os.getpid()}/fd", "/proc/self/fd", "/proc/thread-self/fd"}
    if name.isdigit() and directory in own:
        return os.dup(int(name))
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOCTTY | os.O_CLOEXEC)


def _file(fd: int, encoding: str | None) -> IO:
    """The descriptor as a file object that owns (and closes) it."""
    try:
        raw = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
    return raw if encoding is None else io.TextIOWrapper(raw, encoding=encoding, newline="")


def _keep_permissions(fd: int, old: os.stat_result) -> None:
    """The replaced file's permission bits (setuid/setgid/sticky dropped) and, where allowed, its owner."""
    with contextlib.suppress(OSError):  # only root may give a file away; a group only to a member
        os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode) & 0o777)  # after the owner: a chown may clear mode bits


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (some file systems cannot: then it is as durable as they allow)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
