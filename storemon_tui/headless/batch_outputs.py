"""What the watcher does after each batch: the report (``--export``), the fleet status (``--status``), alerts.

The three come from one computation on one snapshot of the database: the
status is computed in the report's own read transaction
(:func:`~storemon_tui.report.status_export.write_outputs`), and the alerts
compare that same status with the previous batch's, so the report file,
the status file and the alerts of a batch all describe the same data. The
status is computed once per batch however many of them need it.

A destination that cannot be written is logged and left out; the others
are still produced (a full disk under the report must not silence the
pager). A database error propagates: the watcher retries the batch's
outputs with back-off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from storemon_tui.errors import DatabaseError, StoremonError
from storemon_tui.headless import events, log
from storemon_tui.headless.alerts import Alerter

if TYPE_CHECKING:
    from storemon_tui.db import Database
    from storemon_tui.headless.alerts import StatusRows
    from storemon_tui.report.status import StatusResult


class BatchOutputs:
    """The outputs asked for on the command line, and the alerter's memory between batches."""

    def __init__(
        self, export: str | None, status: str | None, alert_cmd: str | None, should_stop: Callable[[], bool]
    ) -> None:
        self.export = export
        self.status = status
        self.alerter = Alerter(alert_cmd, should_stop=should_stop) if alert_cmd else None

    def __bool__(self) -> bool:
        return bool(self.export or self.status or self.alerter)

    def describe(self) -> str:
        """For the ``watch_started`` line: what happens after each batch."""
        outputs = [f"report to {self.export}"] if self.export else []
        outputs += [f"status to {self.status}"] if self.status else []
        outputs += ["alerts to --alert-cmd"] if self.alerter else []
        return ", ".join(outputs)

    def write(self, db: Database) -> None:
        """Produce this batch's outputs; every failure but the database's is logged here.

        Raises :class:`~storemon_tui.errors.DatabaseError` (locked, connection
        lost) for the watcher to retry the whole step later.
        """
        report_target = _usable(self.export, "--export", "report_failed")
        status_target = _usable(self.status, "--status", "status_failed")
        if status_target is None and self.alerter is None:
            if report_target is not None:
                _report_only(db, report_target)
            return
        from storemon_tui.report.status_export import write_outputs

        try:
            written = write_outputs(db, report_target=report_target, status_target=status_target)
        except DatabaseError:
            raise
        except StoremonError as exc:  # e.g. no polls yet: the next batch tries again
            name = "report_failed" if report_target is not None else "status_failed"
            log.error(name, f"storemon: {exc}", error=str(exc))
            return
        if written.report_id is not None and report_target is not None:
            events.report_written(written.report_id, written.report_rows, written.report_seconds, report_target)
        if status_target is not None:
            events.status_written(written.status_rows, written.status_seconds, status_target)
        if self.alerter is not None:
            self.alerter.after_batch(rows_by_store(written.status))


def _usable(target: str | None, flag: str, failed_event: str) -> str | None:
    """``target`` if it can be written now; else ``None``, logged (checked again each batch)."""
    if target is None:
        return None
    from storemon_tui.report.export import check_export_target

    try:
        check_export_target(target, flag)
    except StoremonError as exc:
        log.error(failed_event, f"storemon: {exc}", error=str(exc), path=target)
        return None
    return target


def _report_only(db: Database, target: str) -> None:
    from storemon_tui.report.export import export_report

    try:
        report_id, rows, seconds = export_report(db, target)
    except DatabaseError:
        raise
    except StoremonError as exc:
        log.error("report_failed", f"storemon: {exc}", error=str(exc))
        return
    events.report_written(report_id, rows, seconds, target)


def rows_by_store(status: StatusResult) -> StatusRows:
    """The status table as the alerts compare it: each store's row, by column name, by store id."""
    from storemon_tui.report.status import STATUS_COLUMNS, status_rows

    return {row[0]: dict(zip(STATUS_COLUMNS, row, strict=True)) for row in status_rows(status)}
