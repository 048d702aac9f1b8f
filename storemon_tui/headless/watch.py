"""``storemon --watch DIR``: import every CSV dropped into a folder, unattended, until stopped.

The loop: wait for the folder to change (:mod:`folder_events`), rescan it,
import the files that are complete (:mod:`drop_folder`) exactly as
``--import`` does — :class:`~storemon_tui.ingest.prepare.ReadAhead` for the
kind order and read-ahead, :func:`~storemon_tui.ingest.importer.write_prepared`
for one transaction per file — then move each to ``imported/`` or
``rejected/`` (:mod:`filing`). Once no file has arrived for ``batch_s``
seconds the batch is over and the outputs (``--export``, ``--status``,
``--alert-cmd``) are produced once for the whole batch (:mod:`batch_outputs`).

It never dies on a bad file (rejected), a locked or unreachable database
(logged, retried with back-off doubling up to 60 s, the files stay where
they are) or a failed output. SIGTERM or SIGINT stops it: the file being
written is cancelled (its transaction rolls back, the file stays in the
folder for next time) and it exits 0.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from storemon_tui.display import counted
from storemon_tui.errors import Cancelled, DatabaseError, StoremonError
from storemon_tui.headless import events, filing, log
from storemon_tui.headless.batch_outputs import BatchOutputs
from storemon_tui.headless.drop_folder import REJECTS_SUFFIX, DropFolder
from storemon_tui.headless.folder_events import FolderEvents
from storemon_tui.headless.folder_lock import FolderLock

if TYPE_CHECKING:
    from storemon_tui.db import Database
    from storemon_tui.ingest.importer import ImportSummary
    from storemon_tui.ingest.prepare import PendingFile


def _env_seconds(name: str, default: float) -> float:
    """A delay from the environment (tests shorten them); the default otherwise."""
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass
class WatchOptions:
    """What ``storemon --watch`` was asked to do, and its timings.

    The timings default to the documented values; the ``STOREMON_WATCH_*``
    environment variables shorten them for tests.
    """

    folder: Path
    db_target: str | None = None
    skip_invalid: bool = False
    export: str | None = None
    status: str | None = None
    alert_cmd: str | None = None
    force_polling: bool = False
    stable_s: float = field(default_factory=lambda: _env_seconds("STOREMON_WATCH_STABLE_S", 2.0))
    """A file written in place is taken once unchanged this long."""
    batch_s: float = field(default_factory=lambda: _env_seconds("STOREMON_WATCH_BATCH_S", 5.0))
    """Files arriving within this long of each other are one batch: one report."""
    poll_s: float = field(default_factory=lambda: _env_seconds("STOREMON_WATCH_POLL_S", 1.0))
    """Without inotify, how often the folder is scanned."""
    retry_first_s: float = field(default_factory=lambda: _env_seconds("STOREMON_WATCH_RETRY_S", 1.0))
    retry_max_s: float = 60.0
    rescan_s: float = 30.0
    """Even with inotify, rescan this often (a lost event costs at most this long)."""


def run_watch(options: WatchOptions) -> int:
    """Watch until SIGTERM/SIGINT and return 0; 1 (one logged line) when it cannot start."""
    try:
        folder = options.folder.expanduser().resolve()
        if not folder.is_dir():
            raise StoremonError(f"--watch {options.folder}: not a directory")
        options.folder = folder
        lock = FolderLock(folder)
        lock.acquire()
    except StoremonError as exc:
        log.error("watch_failed", f"storemon: {exc}", error=str(exc))
        return 1
    try:
        return _watch_locked(options, lock)
    except DatabaseError as exc:  # the database cannot be opened at all: let the service manager restart us
        log.error("watch_failed", f"storemon: {exc}", error=str(exc))
        return 1


def _watch_locked(options: WatchOptions, lock: FolderLock) -> int:
    folder = options.folder
    events = FolderEvents(folder, poll_s=options.poll_s, force_polling=options.force_polling)
    stop = _Stop(events.wake_fd)
    try:
        with stop.on_signals():
            from storemon_tui.db import open_database

            try:
                db = open_database(options.db_target, should_cancel=stop.is_set)
            except Cancelled:
                return 0
            try:
                Watcher(options, db, events, stop).run()
            finally:
                db.dispose()
    finally:
        events.close()
        lock.release()
    return 0


class _Stop:
    """SIGTERM and SIGINT as a flag that also wakes the folder wait; a second SIGINT interrupts at once."""

    def __init__(self, wake_fd: int) -> None:
        self.event = threading.Event()
        self.signal_name = ""
        self._wake_fd = wake_fd

    def is_set(self) -> bool:
        return self.event.is_set()

    def _handle(self, signum: int, _frame: object) -> None:
        self.signal_name = signal.Signals(signum).name
        self.event.set()
        if signum == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        with suppress(OSError):  # the pipe is full: the loop is being woken already
            os.write(self._wake_fd, b"\0")

    @contextmanager
    def on_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@dataclass
class _Tally:
    imported: int = 0
    rejected: int = 0


class Watcher:
    """The watch loop over one folder and one open database."""

    def __init__(self, options: WatchOptions, db: Database, events: FolderEvents, stop: _Stop) -> None:
        self.options = options
        self.db = db
        self.events = events
        self.stop = stop
        self.folder = DropFolder(options.stable_s)
        self.tally = _Tally()
        self.retry_at = 0.0
        self.attempt = 0
        self.last_arrival = 0.0
        self.batch_files = 0
        self.batch_changed = False
        self.outputs = BatchOutputs(options.export, options.status, options.alert_cmd, stop.is_set)
        self.outputs_written = False
        self.mode = events.mode
        self.first_seen: dict[str, float] = {}

    def run(self) -> None:
        self._log_start()
        changes: list[tuple[str, str]] = []
        while not self.stop.is_set():
            self._note_mode_change()
            self.folder.note_events(changes)
            self._step(time.monotonic())
            changes = self.events.wait(self._timeout())
        log.event(
            "watch_stopped",
            f"stopped watching {self.options.folder}"
            + (f" ({self.stop.signal_name})" if self.stop.signal_name else "")
            + f": {counted(self.tally.imported, 'file')} imported, {self.tally.rejected:,} rejected",
            folder=str(self.options.folder),
            signal=self.stop.signal_name,
            imported=self.tally.imported,
            rejected=self.tally.rejected,
        )

    def _step(self, now: float) -> None:
        """Rescan; import what is complete; or, when the batch is over, write its outputs."""
        if not self._scan(now) or now < self.retry_at or self.stop.is_set():
            return
        ready = self.folder.ready(now)
        if ready:
            self._import_round(ready)
        elif self._batch_due(time.monotonic()):
            self._finish_batch()

    def _log_start(self) -> None:
        outputs = self.outputs.describe()
        log.event(
            "watch_started",
            f"watching {self.options.folder} ({self.mode}) for files to import into {self.db.location}"
            + (f"; after each batch: {outputs}" if outputs else ""),
            folder=str(self.options.folder),
            db=self.db.location,
            mode=self.mode,
            export=self.options.export,
            status=self.options.status,
            alerts=self.outputs.alerter is not None,  # not the command: it may hold a webhook's secret
            pid=os.getpid(),
        )
        if self.events.fallback_reason and self.options.force_polling is False:
            log.warning(
                "watch_polling",
                f"storemon: polling every {self.options.poll_s:g} s: {self.events.fallback_reason}",
                reason=self.events.fallback_reason,
            )

    def _note_mode_change(self) -> None:
        if self.events.mode != self.mode:
            self.mode = self.events.mode
            log.warning(
                "watch_polling",
                f"storemon: polling every {self.options.poll_s:g} s: {self.events.fallback_reason}",
                reason=self.events.fallback_reason,
            )

    def _timeout(self) -> float:
        """Until the next moment something may become due: a file stable, a retry, a batch's end."""
        now = time.monotonic()
        moments = [now + self.options.rescan_s]
        deadline = self.folder.next_deadline(now)
        if deadline is not None:
            moments.append(deadline)
        if self.retry_at > now:
            moments.append(self.retry_at)
        if self.batch_files:
            moments.append(self.last_arrival + self.options.batch_s)
        return max(min(moments) - now, 0.0) + 0.01

    def _scan(self, now: float) -> bool:
        """Rescan the folder; ``False`` (logged, retried later) when it cannot be read."""
        try:
            entries = {}
            with os.scandir(self.options.folder) as listing:
                for entry in listing:
                    with suppress(FileNotFoundError):  # gone since it was listed
                        if entry.is_file():
                            info = entry.stat()
                            entries[entry.name] = (info.st_size, info.st_mtime_ns)
        except OSError as exc:
            self._retry_later(f"--watch {self.options.folder}: {exc.strerror or exc}")
            return False
        for name in self.folder.observe(entries, now):
            self.first_seen[name] = now
            self.last_arrival = now
        for name, why in self.folder.notice_ignored(entries):
            path = self.options.folder / name
            base = name.removesuffix(REJECTS_SUFFIX).removesuffix(".csv")
            hint = f"rename it to import it (e.g. to {base}.fixed.csv)"
            log.warning(
                "file_ignored", f"storemon: {path}: ignored: {why}; {hint}", path=str(path), reason=why, hint=hint
            )
        return True

    def _retry_later(self, message: str) -> None:
        self.attempt += 1
        delay = min(self.options.retry_first_s * 2 ** (self.attempt - 1), self.options.retry_max_s)
        self.retry_at = time.monotonic() + delay
        log.warning(
            "retry",
            f"storemon: {message}; retrying in {delay:g} s",
            error=message,
            attempt=self.attempt,
            delay_s=delay,
        )

    def _succeeded(self) -> None:
        self.attempt = 0
        self.retry_at = 0.0

    # -- importing ------------------------------------------------------------------

    def _import_round(self, names: list[str]) -> None:
        """Import the complete files: kind order, read ahead, one transaction each, as ``--import``."""
        from storemon_tui.ingest.prepare import ReadAhead

        paths = [self.options.folder / name for name in names]
        with ReadAhead(paths, skip_invalid=self.options.skip_invalid, should_cancel=self.stop.is_set) as files:
            pending_files = iter(files)
            for path in files.write_order:
                try:
                    pending = next(pending_files)
                except Cancelled:  # stopped while the file was being read
                    self._cancelled(path)
                    return
                if not self._write(path, pending):
                    return

    def _write(self, path: Path, pending: PendingFile) -> bool:
        """Write one file read ahead; ``False`` when the round must stop (stopped, or the database failed)."""
        from storemon_tui.ingest.importer import write_prepared

        try:
            prepared = pending.take()
        except Exception as exc:  # a file that cannot be read is rejected, never fatal
            self._reject(path, _message(exc))
            return True
        log.event(
            "file_importing",
            f"importing {path.name} ({prepared.kind.value}, {counted(prepared.rows_read, 'row')})",
            path=str(path),
            kind=prepared.kind.value,
            rows=prepared.rows_read,
        )
        try:
            summary = write_prepared(self.db, prepared, should_cancel=self.stop.is_set)
        except Cancelled:
            if self.stop.is_set():
                self._cancelled(path)
                return False
            self._reject(path, "import cancelled")
            return True
        except DatabaseError as exc:
            self._retry_later(str(exc))
            return False
        except Exception as exc:  # rolled back: the database is unchanged, the file kept aside
            self._reject(path, _message(exc))
            return True
        self._succeeded()
        self._imported(path, summary)
        return True

    def _imported(self, path: Path, summary: ImportSummary) -> None:
        waited = time.monotonic() - self.first_seen.pop(path.name, time.monotonic())
        try:
            moved = filing.move_imported(path)
            rejects = _move_rejects(summary)
        except OSError as exc:
            self._cannot_move(path, f"imported, but cannot move it to {filing.IMPORTED}/", exc)
            moved, rejects = path, None
        else:
            self.folder.forget(path.name)
        self.tally.imported += 1
        self.batch_files += 1
        self.batch_changed = self.batch_changed or summary.changed_data
        self.last_arrival = time.monotonic()
        events.file_imported(
            summary,
            then=f"; moved to {filing.IMPORTED}/{moved.name}" if moved != path else "",
            rejects_path=str(rejects) if rejects else None,
            moved_to=str(moved),
            waited_s=round(waited, 3),
        )

    def _reject(self, path: Path, message: str) -> None:
        self.first_seen.pop(path.name, None)
        if not path.exists():  # gone before it could be read: nothing to move
            self.folder.forget(path.name)
            log.warning("file_vanished", f"storemon: {message}", path=str(path), error=message)
            return
        try:
            moved, error_file = filing.move_rejected(path, message)
            self.folder.forget(path.name)
        except OSError as exc:
            log.error("file_failed", f"storemon: {message}", path=str(path), error=message)
            self._cannot_move(path, f"not imported; cannot move it to {filing.REJECTED}/", exc)
            return
        self.tally.rejected += 1
        log.error(
            "file_rejected",
            f"storemon: {message}\nstoremon: {path.name}: not imported; moved to "
            f"{filing.REJECTED}/{moved.name} (reasons in {error_file.name})",
            path=str(path),
            error=message,
            moved_to=str(moved),
            error_file=str(error_file),
        )

    def _cannot_move(self, path: Path, what: str, exc: OSError) -> None:
        """Log it, and hold the file: taking it again as it is would only fail again."""
        self.folder.hold(path.name)
        log.error("move_failed", f"storemon: {path}: {what}: {exc.strerror or exc}", path=str(path), error=str(exc))

    def _cancelled(self, path: Path) -> None:
        log.event(
            "import_cancelled",
            f"storemon: stopping; nothing from {path} was written (it stays in the folder)",
            path=str(path),
        )

    # -- batches ----------------------------------------------------------------------

    def _batch_due(self, now: float) -> bool:
        return bool(self.batch_files) and now - self.last_arrival >= self.options.batch_s

    def _finish_batch(self) -> None:
        """Produce the outputs once for the batch, if it changed the data (or none were produced yet)."""
        if not (self.batch_changed or not self.outputs_written) or not self.outputs:
            self._end_batch()
            return
        try:
            self.outputs.write(self.db)
        except DatabaseError as exc:
            self._retry_later(str(exc))
            return
        self._succeeded()
        self.outputs_written = True
        self._end_batch()

    def _end_batch(self) -> None:
        self.batch_files = 0
        self.batch_changed = False


def _move_rejects(summary: ImportSummary) -> Path | None:
    """``--skip-invalid``'s ``FILE.rejects.csv`` goes to ``rejected/`` too."""
    if summary.rejects_path is None or not summary.rejects_path.exists():
        return None
    target_dir = summary.rejects_path.parent / filing.REJECTED
    target_dir.mkdir(exist_ok=True)
    target = filing.free_name(target_dir, summary.rejects_path.name)
    os.rename(summary.rejects_path, target)
    return target


def _message(exc: BaseException) -> str:
    """What a person reads about a failure: a storemon error's own words, else its type and first line."""
    if isinstance(exc, StoremonError):
        return str(exc)
    detail = str(exc).strip().splitlines()
    return f"unexpected error: {type(exc).__name__}: {detail[0] if detail else ''}".rstrip(": ")
