"""The events ``--import``/``--export`` and ``--watch`` both log: one wording and one set of fields each.

The text of each line is what storemon has always printed; the fields are
what a log collector filters on (``--log-format json``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storemon_tui.display import counted
from storemon_tui.headless import log

if TYPE_CHECKING:
    from storemon_tui.ingest.importer import ImportSummary
    from storemon_tui.report.retention import PollsPruned, ReportsPruned


def summary_fields(summary: ImportSummary) -> dict[str, Any]:
    """An import summary as log fields."""
    return {
        "path": str(summary.path),
        "kind": summary.kind.value,
        "rows_read": summary.rows_read,
        "inserted": summary.inserted,
        "replaced": summary.replaced,
        "changed": summary.changed,
        "unchanged": summary.unchanged,
        "duplicates": summary.duplicates,
        "rejected": summary.rejected,
        "rejects_path": str(summary.rejects_path) if summary.rejects_path else None,
        "seconds": round(summary.seconds, 3),
    }


def file_imported(summary: ImportSummary, *, then: str = "", **extra: Any) -> None:
    """The summary line of one imported file (``then`` is appended to the text, e.g. where it moved)."""
    log.event("file_imported", summary.describe() + then, **(summary_fields(summary) | extra))


def report_written(report_id: str, stores: int, seconds: float, target: str) -> None:
    where = "stdout" if target == "-" else target
    log.event(
        "report_written",
        f"report {report_id}: {counted(stores, 'store')} written to {where} in {seconds:.2f} s",
        report_id=report_id,
        stores=stores,
        seconds=round(seconds, 3),
        path=target,
    )


def status_written(stores: int, seconds: float, target: str) -> None:
    where = "stdout" if target == "-" else target
    log.event(
        "status_written",
        f"status: {counted(stores, 'store')} written to {where} in {seconds:.2f} s",
        stores=stores,
        seconds=round(seconds, 3),
        path=target,
    )


def polls_pruned(pruned: PollsPruned, dialect: str) -> None:
    from storemon_tui.display import format_ts_us

    where = "database" if dialect == "sqlite" else "poll table (space reusable)"
    size = ""
    if pruned.bytes_before is not None and pruned.bytes_after is not None:
        size = f"; {where} {pruned.bytes_before / 1e6:,.1f} MB → {pruned.bytes_after / 1e6:,.1f} MB"
    cutoff = format_ts_us(pruned.cutoff_us) if pruned.cutoff_us is not None else "(no polls)"
    log.event(
        "polls_pruned",
        f"pruned {counted(pruned.deleted, 'poll')} older than {cutoff} (kept {pruned.kept_before_cutoff:,} that later "
        f"reports need){size} in {pruned.seconds:.2f} s",
        deleted=pruned.deleted,
        kept_before_cutoff=pruned.kept_before_cutoff,
        cutoff_us=pruned.cutoff_us,
        bytes_before=pruned.bytes_before,
        bytes_after=pruned.bytes_after,
        seconds=round(pruned.seconds, 3),
    )


def reports_pruned(pruned: ReportsPruned) -> None:
    log.event(
        "reports_pruned",
        f"pruned {counted(pruned.deleted, 'report')} ({counted(pruned.files, 'file')})",
        deleted=pruned.deleted,
        files=pruned.files,
    )


def timing(label: str, stages: dict[str, float]) -> None:
    """``STOREMON_TIMING``'s seconds per stage, for the benchmark."""
    text = ", ".join(f"{stage} {seconds:.3f} s" for stage, seconds in stages.items())
    log.event("timing", f"timing: {label}{text}", stages={k: round(v, 6) for k, v in stages.items()})
