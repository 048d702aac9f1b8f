"""Report jobs: the "trigger, then poll" flow, shared by the app and the CLI.

:meth:`ReportJobs.trigger` records a report (status ``Running``) and computes
it in a background thread; :meth:`ReportJobs.get` returns its status and,
once ``Complete``, its CSV. Records live in the database and CSVs under
``<data dir>/reports/<id>.csv`` (written atomically), so both survive
restarts. A report left ``Running`` by a process that died is marked
``Failed: interrupted`` by the next process on the same host.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, overload

from sqlalchemy import Connection, MetaData, Table, select, update
from sqlalchemy.engine import RowMapping

from storemon_tui.atomic_write import write_atomically
from storemon_tui.db.database import Database, get_data_version
from storemon_tui.db.maintenance import earliest_poll_us, latest_poll_us
from storemon_tui.display import format_ts_us
from storemon_tui.errors import Cancelled, NoPollsError, StoremonError
from storemon_tui.paths import reports_dir
from storemon_tui.report import owner

if TYPE_CHECKING:
    from storemon_tui.report.engine import ReportResult
    from storemon_tui.report.workers import WorkerPool

ProgressCallback = Callable[[float], None]

_PROGRESS_STEP = 0.02
"""Store progress in the database at most every 2 %: enough for a live bar."""
COMPUTE_FROM = 0.05
WRITE_FROM = 0.95
"""A report's progress: opening its snapshot takes it to 5 %, reading and computing the chunks
of stores to 95 %, writing the CSV the rest."""


def stage_of(fraction: float) -> str:
    """What a report at ``fraction`` is doing, for a progress line."""
    if fraction < COMPUTE_FROM:
        return "Starting"
    if fraction < WRITE_FROM:
        return "Reading and computing"
    return "Writing the CSV"


class ReportStatus(StrEnum):
    RUNNING = "Running"
    COMPLETE = "Complete"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


@dataclass(frozen=True)
class ReportInfo:
    """A snapshot of one report record."""

    id: str
    status: ReportStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    as_of_us: int | None
    progress: float
    """0–100."""
    error: str | None
    row_count: int | None
    file_path: str | None
    data_version: int

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def is_stale(self, current_data_version: int) -> bool:
        """Data was imported or cleared after this report was computed."""
        return current_data_version != self.data_version

    @property
    def done(self) -> bool:
        return self.status is not ReportStatus.RUNNING

    @classmethod
    def from_record(cls, record: RowMapping) -> ReportInfo:
        return cls(
            id=record["id"],
            status=ReportStatus(record["status"]),
            created_at=_aware(record["created_at"]),
            started_at=_aware(record["started_at"]),
            finished_at=_aware(record["finished_at"]),
            as_of_us=record["as_of_us"],
            progress=record["progress"],
            error=record["error"],
            row_count=record["row_count"],
            file_path=record["file_path"],
            data_version=record["data_version"],
        )


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _utcnow() -> datetime:
    """Now in UTC, stored without a zone (read back as UTC by :func:`_aware`)."""
    return datetime.now(UTC).replace(tzinfo=None)


@functools.cache
def _owner_of(pid: int) -> str:
    return str(owner.current())


def _owner() -> str:
    """This process as a report's owner (``host:pid:start:boot``; see :mod:`~storemon_tui.report.owner`)."""
    return _owner_of(os.getpid())  # keyed by pid: a forked child is another owner


def check_polls_before(conn: Connection, as_of_us: int) -> None:
    """A report (or a status) as of an instant before every poll would be empty: say so instead of writing one."""
    earliest = earliest_poll_us(conn)
    if earliest is None:
        raise NoPollsError()
    if earliest > as_of_us:
        raise StoremonError(
            f"no polls at or before {format_ts_us(as_of_us)} (the first is at {format_ts_us(earliest)})"
        )


class ReportJobs:
    """Create, run, cancel and look up reports of one database."""

    def __init__(self, db: Database, directory: Path | None = None) -> None:
        self.db = db
        self.directory = directory or reports_dir()
        self._cancel: dict[str, threading.Event] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._latest: set[str] = set()
        """Reports whose "now" is the latest poll: read it in the data's own snapshot."""
        self._live: dict[str, float] = {}
        """Progress (0–100) of the reports this object is computing, newer than their records may be."""
        self._lock = threading.Lock()
        self._running_locks: dict[str, owner.RunningLock] = {}
        self._reconciled = False
        self._reconcile_lock = threading.Lock()
        """PostgreSQL: the lock each report this object computes holds while it runs."""
        self._report_table: Table | None = None

    def _table(self, conn: Connection | None = None) -> Table:
        """The ``report`` table, reflected once (SQLAlchemy Core).

        The SQLModel class in ``db/models.py`` defines and creates the table;
        jobs use Core on the reflected table so a headless ``--export`` never
        imports the ORM and pydantic (a cost at start-up; bench/README.md).
        """
        if self._report_table is None:
            if conn is None:
                with self.db.connect() as own:
                    self._report_table = Table("report", MetaData(), autoload_with=own)
            else:
                self._report_table = Table("report", MetaData(), autoload_with=conn)
        return self._report_table

    # -- creating and running --------------------------------------------------------

    def trigger(self, as_of_us: int | None = None, *, on_progress: ProgressCallback | None = None) -> str:
        """Start a report in a background thread and return its id at once.

        If a report for the same as-of instant and data version is already
        running, its id is returned instead of starting a second computation.
        """
        with self._lock:
            report_id, created = self._create(as_of_us)
            if created:
                thread = threading.Thread(
                    target=self._run_quietly, args=(report_id, on_progress), name=f"report-{report_id[:8]}", daemon=True
                )
                self._threads[report_id] = thread
                thread.start()
        return report_id

    def run(
        self,
        as_of_us: int | None = None,
        *,
        progress: ProgressCallback | None = None,
        timings: dict[str, float] | None = None,
        alongside: Callable[[Connection], None] | None = None,
    ) -> ReportInfo:
        """Create a report and compute it in this thread (the CLI's path).

        ``alongside(conn)`` runs in the snapshot the report is read in, right
        after it (e.g. the fleet status of exactly the same data); if an equal
        report was already running here, it gets a snapshot of its own.
        """
        from storemon_tui.report.pipeline import early_workers

        with early_workers(self.db) as workers:  # a large fleet's worker processes start while the record is made
            report_id, created = self._create(as_of_us)
            if created:
                self._compute(report_id, progress, timings, alongside, workers)
        if not created:
            self.wait(report_id)
            if alongside is not None:
                with self.db.snapshot() as conn:
                    alongside(conn)
        return self.get(report_id)

    def _create(self, as_of_us: int | None) -> tuple[str, bool]:
        report_id = secrets.token_hex(16)
        # On PostgreSQL the running lock is taken before the record exists: no other host can
        # ever see this report Running with its lock free while it runs.
        running_lock = owner.RunningLock(self.db.engine, report_id) if self.db.dialect == "postgresql" else None
        try:
            created = self._insert(report_id, as_of_us)
        except BaseException:
            if running_lock is not None:
                running_lock.release()
            raise
        if created != report_id:  # an equal report of this process is running already
            if running_lock is not None:
                running_lock.release()
            return created, False
        if running_lock is not None:
            self._running_locks[report_id] = running_lock
        self._cancel[report_id] = threading.Event()
        if as_of_us is None:
            self._latest.add(report_id)
        return report_id, True

    def _insert(self, report_id: str, as_of_us: int | None) -> str:
        """Record ``report_id`` as Running, or return the id of an equal report this process runs already."""
        with self.db.begin_write() as conn:
            version = get_data_version(conn)
            if as_of_us is None:
                as_of_us = latest_poll_us(conn)
                if as_of_us is None:
                    raise NoPollsError()
            else:
                check_polls_before(conn, as_of_us)
            report = self._table(conn)
            # Only this process's own running reports are shared: a Running record of
            # another process (another host, or one that died) may never finish, and
            # waiting for it would hang this caller.
            running = conn.execute(
                select(report.c.id).where(
                    report.c.status == ReportStatus.RUNNING.value,
                    report.c.as_of_us == as_of_us,
                    report.c.data_version == version,
                    report.c.owner == _owner(),
                )
            ).scalar()
            if running is not None:
                # Nothing was written: roll back, since on SQLite a commit, even an empty one, waits
                # for every open read to end, and the running report reads until it is done.
                conn.rollback()
                return str(running)
            conn.execute(
                report.insert().values(
                    id=report_id,
                    created_at=_utcnow(),
                    started_at=_utcnow(),
                    as_of_us=as_of_us,
                    status=ReportStatus.RUNNING.value,
                    progress=0.0,
                    data_version=version,
                    owner=_owner(),
                )
            )
        return report_id

    def _run_quietly(self, report_id: str, on_progress: ProgressCallback | None) -> None:
        # _compute has recorded the failure as Failed; a thread must not raise.
        with contextlib.suppress(Exception):
            self._compute(report_id, on_progress, None)

    def _compute(
        self,
        report_id: str,
        on_progress: ProgressCallback | None,
        timings: dict[str, float] | None,
        alongside: Callable[[Connection], None] | None = None,
        workers: WorkerPool | None = None,
    ) -> None:
        cancel = self._cancel.setdefault(report_id, threading.Event())
        stored = 0.0
        # The report reads in one snapshot while it computes; on SQLite (rollback journal) no write
        # can commit while a read transaction is open, the report's own included: there the record
        # keeps its progress until the end, and this process's get() and list() show it live.
        store_progress = self.db.dialect != "sqlite"

        def progress(fraction: float) -> None:
            nonlocal stored
            if on_progress is not None:
                on_progress(fraction)
            self._live[report_id] = round(fraction * 100, 1)
            if store_progress and fraction - stored >= _PROGRESS_STEP:
                stored = fraction
                self._update(report_id, progress=round(fraction * 100, 1))

        try:
            result, version = self._read_and_compute(report_id, progress, cancel, timings, alongside, workers)
            progress(WRITE_FROM)
            started = time.perf_counter()
            target = self._write_csv(report_id, result, cancel)
            if timings is not None:
                timings["write"] = time.perf_counter() - started
            self._update(
                report_id,
                status=ReportStatus.COMPLETE.value,
                progress=100.0,
                finished_at=_utcnow(),
                row_count=len(result),
                file_path=str(target),
                as_of_us=result.now_us,
                data_version=version,
            )
            if on_progress is not None:
                on_progress(1.0)
        except Cancelled:
            self._update(report_id, status=ReportStatus.CANCELLED.value, finished_at=_utcnow())
            raise
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self._update(report_id, status=ReportStatus.FAILED.value, finished_at=_utcnow(), error=message)
            raise
        finally:
            self._cancel.pop(report_id, None)
            self._latest.discard(report_id)
            self._live.pop(report_id, None)
            running_lock = self._running_locks.pop(report_id, None)
            if running_lock is not None:  # after the final status is recorded
                running_lock.release()

    def _read_and_compute(
        self,
        report_id: str,
        progress: ProgressCallback,
        cancel: threading.Event,
        timings: dict[str, float] | None,
        alongside: Callable[[Connection], None] | None = None,
        workers: WorkerPool | None = None,
    ) -> tuple[ReportResult, int]:
        """The report's result and the data version it was computed from."""
        from storemon_tui.report.pipeline import run_report

        record = self.get(report_id)
        with self.db.snapshot() as conn:
            # The as-of recorded at creation is the latest poll *then*; an import may have
            # committed since, so "now" must come from the snapshot the data is read in.
            as_of_us = None if report_id in self._latest else record.as_of_us
            version = get_data_version(conn)  # the version of exactly the data read
            result = run_report(
                conn,
                as_of_us,
                progress=lambda f: progress(COMPUTE_FROM + (WRITE_FROM - COMPUTE_FROM) * f),
                should_cancel=cancel.is_set,
                timings=timings,
                workers=workers,
            )
            if alongside is not None:
                alongside(conn)
        return result, version

    def _write_csv(self, report_id: str, result: ReportResult, cancel: threading.Event) -> Path:
        """Write the CSV under the reports directory atomically; nothing is left behind if cancelled."""
        from storemon_tui.report.formatting import write_report_csv

        target = self.directory / f"{report_id}.csv"
        with write_atomically(target) as handle:
            write_report_csv(result, handle)
            if cancel.is_set():
                raise Cancelled()  # the temporary file goes with it
        return target

    def _update(self, report_id: str, **values: object) -> None:
        with self.db.begin_write() as conn:
            report = self._table(conn)
            conn.execute(update(report).where(report.c.id == report_id).values(**values))

    # -- control and queries -----------------------------------------------------------

    def cancel(self, report_id: str) -> bool:
        """Ask a running report of this process to stop; True if it was running here."""
        event = self._cancel.get(report_id)
        if event is None:
            return False
        event.set()
        return True

    def get(self, report_id: str) -> ReportInfo:
        with self.db.connect() as conn:
            report = self._table(conn)
            record = conn.execute(select(report).where(report.c.id == report_id)).mappings().first()
        if record is None:
            raise StoremonError(f"no report with id {report_id!r}")
        return self._with_live_progress(ReportInfo.from_record(record))

    def wait(self, report_id: str, timeout: float | None = None) -> ReportInfo:
        """Block until the report is no longer running (or ``timeout`` passes)."""
        thread = self._threads.get(report_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        if thread is not None:
            thread.join(timeout)
        while True:
            info = self.get(report_id)
            if info.done or (deadline is not None and time.monotonic() >= deadline):
                return info
            time.sleep(0.05)

    def csv_bytes(self, report_id: str) -> bytes:
        """The CSV of a complete report, byte for byte as the engine wrote it.

        Bytes, not text: reading it as text would turn a CRLF (or a bare CR)
        inside a quoted store id into LF, and every export would alter ids.
        """
        info = self.get(report_id)
        if info.status is not ReportStatus.COMPLETE or not info.file_path:
            raise StoremonError(f"report {report_id} is {info.status.value}, not Complete")
        try:
            return Path(info.file_path).read_bytes()
        except OSError as exc:
            raise StoremonError(f"report {report_id}: cannot read {info.file_path} ({exc.strerror})") from None

    def list(self, limit: int = 500) -> list[ReportInfo]:
        """Reports, newest first."""
        with self.db.connect() as conn:
            report = self._table(conn)
            records = conn.execute(select(report).order_by(report.c.created_at.desc()).limit(limit)).mappings().all()
        return [self._with_live_progress(ReportInfo.from_record(r)) for r in records]

    def _with_live_progress(self, info: ReportInfo) -> ReportInfo:
        live = self._live.get(info.id)
        if live is None or info.status is not ReportStatus.RUNNING:
            return info
        return dataclasses.replace(info, progress=max(live, info.progress))

    def delete(self, report_id: str) -> None:
        info = self.get(report_id)
        with self.db.begin_write() as conn:
            report = self._table(conn)
            conn.execute(report.delete().where(report.c.id == report_id))
        if info.file_path:
            Path(info.file_path).unlink(missing_ok=True)

    def delete_all_but_newest(self, keep: int) -> tuple[int, int]:
        """Delete every finished report but the newest ``keep`` (by creation) and their files.

        Returns ``(records, files)`` deleted. Running reports stay (another
        process may be computing one); files go after the commit.
        """
        with self.db.begin_write() as conn:
            report = self._table(conn)
            rows = conn.execute(
                select(report.c.id, report.c.status, report.c.file_path).order_by(
                    report.c.created_at.desc(), report.c.id
                )
            ).all()
            doomed = [r for r in rows[keep:] if r.status != ReportStatus.RUNNING.value]
            if doomed:
                conn.execute(report.delete().where(report.c.id.in_([r.id for r in doomed])))
        files = 0
        for row in doomed:
            if row.file_path and Path(row.file_path).exists():
                Path(row.file_path).unlink(missing_ok=True)
                files += 1
        return len(doomed), files

    def mark_interrupted(self) -> int:
        """Mark reports left Running by processes that have ended as Failed ("interrupted").

        A report is only called dead when that is known (see
        :mod:`~storemon_tui.report.owner`): its process on this host has
        ended (or the host rebooted, or the pid names another process now),
        or, on PostgreSQL, the lock its session held while running is free.
        """
        with self.db.connect() as conn:
            report = self._table(conn)
            rows = conn.execute(
                select(report.c.id, report.c.owner).where(report.c.status == ReportStatus.RUNNING.value)
            ).all()
            here = owner.current()
            dead = [report_id for report_id, who in rows if self._has_ended(conn, report_id, who, here)]
        for report_id in dead:
            # When it stopped is unknown: no finish time, rather than "took" counting until now.
            self._update(report_id, status=ReportStatus.FAILED.value, error="interrupted", finished_at=None)
        return len(dead)

    def reconcile_once(self) -> None:
        """:meth:`mark_interrupted`, the first time only (threads wait for it): the first list shown is true."""
        with self._reconcile_lock:
            if not self._reconciled:
                self.mark_interrupted()
                self._reconciled = True

    def _has_ended(self, conn: Connection, report_id: str, recorded: str | None, here: owner.Owner) -> bool:
        if report_id in self._cancel:  # computed by this very object
            return False
        if not recorded:
            return True  # a record from before owners were recorded
        who = owner.parse(recorded)
        gone = owner.gone_from_this_host(who, here) if who is not None else None
        if gone is None and self.db.dialect == "postgresql":
            gone = owner.lock_is_free(conn, report_id)
        return bool(gone)
