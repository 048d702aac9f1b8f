"""Reports pane: list, generate (live progress, cancellable), view, export, drill down."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.widgets import DataTable, Input, Label, ProgressBar, Static
from textual.worker import Worker, get_current_worker

from storemon_tui.atomic_write import resolve_target
from storemon_tui.display import counted, format_ts_us
from storemon_tui.errors import StoremonError
from storemon_tui.report.formatting import REPORT_COLUMNS
from storemon_tui.report.jobs import COMPUTE_FROM, ReportInfo, ReportJobs, ReportStatus, stage_of
from storemon_tui.safe_text import plain_text
from storemon_tui.tui.messages import DataChanged, StorePromptRequested, StoreRequested
from storemon_tui.tui.report_view import SHOWN_COLUMNS, UPTIME_PCT
from storemon_tui.tui.screens.dialogs import ConfirmScreen, ExportScreen, PromptScreen
from storemon_tui.tui.widgets.common import TextField, WorkerErrors, copy_store_id
from storemon_tui.tui.widgets.job_progress import BEAT, ProgressSnapshot, ProgressTracker
from storemon_tui.tui.widgets.row_table import RowTable, Visible

if TYPE_CHECKING:
    from storemon_tui.tui.report_view import FleetSummary, ReportFrame, ReportView

COLUMN_LABELS = {
    "uptime_last_hour": "up 1h\n(min)",
    "uptime_last_day": "up 1d\n(h)",
    "uptime_last_week": "up 1w\n(h)",
    "downtime_last_hour": "dn 1h\n(min)",
    "downtime_last_day": "dn 1d\n(h)",
    "downtime_last_week": "dn 1w\n(h)",
    UPTIME_PCT: "up %\n1w",
}
"""Short two-line headers, the unit on the second line (where the sort arrow goes too)."""
COLUMN_WIDTHS = {
    "uptime_last_week": 7,
    "downtime_last_week": 7,
    UPTIME_PCT: 5,
}
"""Number columns are right-aligned with no cell padding: each is one wider than its widest value
(``168.00`` for the week's hours, ``99.9`` for the %, ``60.00`` for the rest, width 6) so values never
touch. A 36-character UUID id and these seven columns take 79 columns (80 less the scroll bar)."""
VALUE_WIDTH = 6
WORST_FIRST = {name: name.startswith("downtime") for name in SHOWN_COLUMNS[1:]}
"""A number column's first sort puts the worst stores first: most downtime, least uptime."""


def _duration(info: ReportInfo) -> str:
    seconds = info.seconds
    if seconds is None:
        return ""
    return f"{seconds:.1f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def as_of_problem(text: str) -> str | None:
    """What is wrong with an as-of instant typed in the dialog (None: nothing)."""
    from storemon_tui.report.as_of import parse_as_of

    if not text.strip():
        return "Type a UTC instant such as 2023-01-25 12:00:00"
    try:
        parse_as_of(text.strip())
    except ValueError as exc:
        return f"{text.strip()!r}: {exc}"
    return None


def export_problem(text: str) -> str | None:
    """What is wrong with an export path typed in the dialog (None: it can be written, maybe over a file)."""
    if not text.strip():
        return "Type a file path"
    path = Path(text.strip()).expanduser()
    if path.is_dir():
        return f"{path} is a directory: add a file name"
    try:
        resolve_target(path)  # where the path leads (links, FIFOs, devices), as the export will write it
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    return None


class ReportsPane(WorkerErrors, Vertical):
    BINDINGS = [
        Binding("g", "generate", "Generate", id="reports.generate"),
        Binding("f5", "generate", "Generate", key_display="F5", id="reports.generate_f5"),
        Binding("G", "generate_as_of", "Generate as of…", show=False, id="reports.generate_as_of"),
        Binding("e", "export", "Export", id="reports.export"),
        Binding("s", "sort", "Sort", id="reports.sort"),
        Binding("slash,f", "focus_filter", "Filter", key_display="/", id="reports.filter"),
        Binding("o", "open_store", "Store", id="reports.store"),
        Binding("y", "copy_id", "Copy store id", show=False, id="reports.copy"),
        Binding("d", "delete_report", "Delete report", show=False, id="reports.delete"),
        Binding("r", "reload", "Reload", show=False, id="reports.reload"),
    ]

    busy: var[bool] = var(False)
    """A report is being generated (the progress line shows; Esc cancels it)."""
    has_view: var[bool] = var(False)
    """A complete report is shown (its table and the fleet summary are visible)."""
    data_version: var[int | None] = var(None, init=False)
    """The database's data version as the app last saw it (bound to the app's): reports of another are stale."""

    # Posted by this pane's workers, from their threads, to the pane itself.

    class ListLoaded(Message, bubble=False):
        def __init__(self, reports: list[ReportInfo], select: str | None) -> None:
            super().__init__()
            self.reports, self.select = reports, select

    class ViewLoaded(Message, bubble=False):
        def __init__(self, info: ReportInfo, frame: ReportFrame, view: ReportView, summary: FleetSummary) -> None:
            super().__init__()
            self.info, self.frame, self.view, self.summary = info, frame, view, summary

    class Started(Message, bubble=False):
        def __init__(self, report_id: str | None) -> None:
            super().__init__()
            self.report_id = report_id
            """None: the report could not even be recorded (the worker's error says why)."""

    class Progress(Message, bubble=False):
        """The running report's progress, posted by its watching worker every beat."""

        def __init__(self, report_id: str, snapshot: ProgressSnapshot) -> None:
            super().__init__()
            self.report_id, self.snapshot = report_id, snapshot

    class Finished(Message, bubble=False):
        def __init__(self, info: ReportInfo) -> None:
            super().__init__()
            self.info = info

    class Exported(Message, bubble=False):
        def __init__(self, rows: int, path: Path, filter: str = "") -> None:
            super().__init__()
            self.rows, self.path, self.filter = rows, path, filter

    class Deleted(Message, bubble=False):
        pass

    def __init__(self, jobs: ReportJobs, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.jobs = jobs
        self.reports: dict[str, ReportInfo] = {}
        self.order: list[str] = []
        self.current: str | None = None
        """The report shown below the list."""
        self.frame: ReportFrame | None = None
        """The current report's rows (None while it is loading, or when it is not complete)."""
        self.view: ReportView | None = None
        """The sort and filter shown."""
        self.running_id: str | None = None
        self.progress: ProgressSnapshot | None = None
        """The running report's progress, as last shown."""
        self._shown: Visible | None = None

    def watch_busy(self, busy: bool) -> None:
        self.set_class(busy, "-running")
        self.refresh_bindings()  # the app's Esc (cancel) shows in the footer while a report runs

    def watch_has_view(self, has_view: bool) -> None:
        self.set_class(has_view, "-has-view")

    def compose(self) -> ComposeResult:
        yield Label("", id="report-stale")
        yield DataTable(id="report-list", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="report-progress"):
            yield Label("", id="report-progress-label")
            yield ProgressBar(total=100, show_eta=False, id="report-bar")
        with Horizontal(id="report-bar-row"):
            yield Label("No report selected. Press g to generate one.", id="report-status")
            yield TextField(placeholder="filter store_id (/)", compact=True, id="report-filter")
        yield RowTable(id="report-table", cell_cursor=True, cell_padding=0)
        with Horizontal(id="fleet"):
            yield Static("", id="fleet-stats")
            yield DataTable(id="fleet-worst", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.status_column = self.query_one("#report-list", DataTable).add_columns(
            "id", "created", "as of (UTC)", "status", "took", "stores"
        )[3]
        self.query_one("#fleet-worst", DataTable).add_columns("#", "worst stores (last week)", "uptime %")
        self.load_list()

    def focus_main(self) -> None:
        self.query_one("#report-list", DataTable).focus()

    def short_id(self, report_id: str) -> str:
        return report_id[:8]

    # -- the list ------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, exclusive=True, group="list", description="Reports")
    def load_list(self, select: str | None = None) -> None:
        self.jobs.reconcile_once()  # reports of processes that died are shown interrupted, never Running
        reports = self.jobs.list()
        if not get_current_worker().is_cancelled:
            self.post_message(self.ListLoaded(reports, select))

    @on(ListLoaded)
    def show_list(self, event: ListLoaded) -> None:
        reports, select = event.reports, event.select
        self.reports = {r.id: r for r in reports}
        self.order = [r.id for r in reports]
        table = self.query_one("#report-list", DataTable)
        newest_complete = next((r.id for r in reports if r.status is ReportStatus.COMPLETE), None)
        self.show_staleness()
        keep = select or self.current or newest_complete or (reports[0].id if reports else None)
        table.clear()
        for info in reports:
            status = info.status.value
            if self.running_id == info.id and info.status is ReportStatus.RUNNING:
                status = self.running_status()
            if info.status is ReportStatus.COMPLETE and self.is_stale(info):
                status = "Complete*"
            table.add_row(
                self.short_id(info.id),
                info.created_at.strftime("%m-%d %H:%M"),
                format_ts_us(info.as_of_us).removesuffix(" UTC"),
                status,
                _duration(info),
                f"{info.row_count:,}" if info.row_count is not None else "",
                key=info.id,
            )
        if keep in self.reports:
            table.move_cursor(row=self.order.index(keep), animate=False)
            self.select_report(keep)
        elif not reports:
            self.current = None
            self.show_empty("No reports yet. Press g to generate one.")

    def is_stale(self, info: ReportInfo | None) -> bool:
        return info is not None and self.data_version is not None and info.is_stale(self.data_version)

    def show_staleness(self) -> None:
        """A line above the list while the newest complete report predates the data."""
        newest = next((r for r in self.reports.values() if r.status is ReportStatus.COMPLETE), None)
        stale = self.is_stale(newest)
        self.set_class(stale, "-stale")
        if newest is not None and stale:
            self.query_one("#report-stale", Label).update(
                f"The data changed after the newest report ({self.short_id(newest.id)}): g generates a new one"
            )

    def watch_data_version(self) -> None:
        """Imported or cleared (here or by another process): mark the reports that predate the data.

        Only the status cells change: rebuilding the list would load the selected report again.
        """
        table = self.query_one("#report-list", DataTable)
        for info in self.reports.values():
            if info.status is ReportStatus.COMPLETE and info.id in table.rows:
                table.update_cell(info.id, self.status_column, "Complete*" if self.is_stale(info) else "Complete")
        self.show_staleness()
        if self._shown is not None:
            self.update_line(self._shown)

    @on(DataTable.RowHighlighted, "#report-list")
    def list_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value in self.reports:
            self.select_report(event.row_key.value)

    @on(DataTable.RowSelected, "#report-list")
    def list_selected(self, event: DataTable.RowSelected) -> None:
        if self.frame is not None:
            self.query_one("#report-table", RowTable).focus()

    def select_report(self, report_id: str, *, force: bool = False) -> None:
        if report_id == self.current and not force and (self.frame is not None or report_id == self.running_id):
            return
        self.current = report_id
        info = self.reports[report_id]
        if info.status is ReportStatus.COMPLETE:
            self.query_one("#report-status", Label).update(plain_text(f"Loading report {self.short_id(report_id)}…"))
            self.load_view(info, self.query_one("#report-filter", Input).value)
        elif info.status is ReportStatus.FAILED:
            self.show_empty(f"Report {self.short_id(report_id)} failed: {info.error or 'unknown error'}", error=True)
        elif info.status is ReportStatus.CANCELLED:
            self.show_empty(f"Report {self.short_id(report_id)} was cancelled. Press g to generate a new one.")
        else:
            self.show_empty(f"Report {self.short_id(report_id)} is running…")

    def show_empty(self, message: str, *, error: bool = False) -> None:
        self.frame = None
        status = self.query_one("#report-status", Label)
        status.update(plain_text(message, lines=True))
        status.set_class(error, "-error")
        self.view = None
        self.query_one("#report-table", RowTable).show_source(None)
        self.query_one("#fleet-stats", Static).update("")
        self.query_one("#fleet-worst", DataTable).clear()
        self.has_view = False

    # -- the report view ------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, exclusive=True, group="view", description="Report view")
    def load_view(self, info: ReportInfo, flt: str = "") -> None:
        from storemon_tui.tui.report_view import ReportFrame

        if not info.file_path:
            raise StoremonError(f"report {info.id[:8]} has no CSV file")
        try:
            frame = ReportFrame(info.file_path)
        except OSError as exc:
            raise StoremonError(f"report {info.id[:8]}: cannot read {info.file_path} ({exc.strerror})") from None
        view = frame.view(filter=flt)
        summary = frame.summary()
        if not get_current_worker().is_cancelled:
            self.post_message(self.ViewLoaded(info, frame, view, summary))

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        if worker.group == "view":
            self.show_empty(str(error), error=True)
        elif worker.group == "report":  # died without posting Finished: nothing runs any more
            self.running_id = None
            self.busy = False
        return False

    @on(ViewLoaded)
    def show_view(self, event: ViewLoaded) -> None:
        if event.info.id != self.current:
            return
        self.frame, summary = event.frame, event.summary
        self.has_view = True
        self.show_rows(event.view)
        up, down = summary.up_week_h, summary.down_week_h
        pct = summary.uptime_pct
        self.query_one("#fleet-stats", Static).update(
            "[b]Fleet[/b] (last week)\n"
            f"Stores {summary.stores:>12,}\n"
            f"Up     {up:>12,.2f} h\n"
            f"Down   {down:>12,.2f} h\n"
            f"Uptime {('—' if pct is None else f'{pct:.2f} %'):>14}"
        )
        worst = self.query_one("#fleet-worst", DataTable)
        worst.clear()
        for rank, (store, p) in enumerate(summary.worst, 1):
            worst.add_row(str(rank), plain_text(store), f"{p:.2f}", key=store)

    def show_rows(self, view: ReportView) -> None:
        """Show one sort and filter of the current report, from its first row."""
        self.view = view
        labels = []
        for name in view.columns:
            short = COLUMN_LABELS.get(name, name)
            if name == view.sort_column:  # the arrow ends the label's last line (the unit's)
                short += ("" if name in COLUMN_LABELS else " ") + ("▼" if view.descending else "▲")
            labels.append(short)
        widths = [view.frame.id_width] + [COLUMN_WIDTHS.get(name, VALUE_WIDTH) for name in view.columns[1:]]
        self.query_one("#report-table", RowTable).show_source(
            view, labels=labels, widths=widths, right=frozenset(range(1, len(labels)))
        )

    @on(RowTable.Moved, "#report-table")
    def moved(self, event: RowTable.Moved) -> None:
        self._shown = event.shown
        self.update_line(event.shown)

    def update_line(self, shown: Visible) -> None:
        if self.view is None or self.frame is None:
            return
        stale = " · stale (data changed)" if self.is_stale(self.reports.get(self.current or "")) else ""
        if shown.total is None:
            rows = "loading…"
        elif shown.total == 0:
            rows = f"no stores match {self.view.filter!r}" if self.view.filter else "no stores"
        else:
            rows = f"rows {shown.top + 1:,}–{shown.bottom:,} of {counted(shown.total, 'store')}"
        status = self.query_one("#report-status", Label)
        status.set_class(False, "-error")
        status.update(plain_text(f"Report {self.short_id(self.current or '')} · {rows}{stale}"))

    def change_view(
        self, sort_column: str | None = None, descending: bool | None = None, flt: str | None = None
    ) -> None:
        """Sorting and filtering 14,000 rows in memory takes milliseconds: done here, not in a worker."""
        view = self.view
        if view is None or self.frame is None:
            return
        self.show_rows(
            self.frame.view(
                sort_column if sort_column is not None else view.sort_column,
                descending if descending is not None else view.descending,
                flt if flt is not None else view.filter,
            )
        )

    @on(Input.Changed, "#report-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.change_view(flt=event.value)

    @on(Input.Submitted, "#report-filter")
    @on(TextField.Left, "#report-filter")
    def filter_done(self) -> None:
        if self.view is not None:
            self.query_one("#report-table", RowTable).focus()
        else:
            self.focus_main()

    def action_focus_filter(self) -> None:
        self.query_one("#report-filter", Input).focus()

    def sort_by(self, column_index: int) -> None:
        """Sort by a column, worst stores first (:data:`WORST_FIRST`); the same column again reverses the order."""
        if self.view is None:
            return
        column = self.view.columns[min(column_index, len(self.view.columns) - 1)]
        same = column == self.view.sort_column
        descending = not self.view.descending if same else WORST_FIRST.get(column, False)
        self.change_view(sort_column=column, descending=descending)

    def action_sort(self) -> None:
        self.sort_by(self.query_one("#report-table", RowTable).cursor_column)

    @on(RowTable.HeaderSelected, "#report-table")
    def header_selected(self, event: RowTable.HeaderSelected) -> None:
        self.sort_by(event.column)

    # -- drill-down -------------------------------------------------------------------------

    def selected_row(self) -> dict[str, str] | None:
        row = self.query_one("#report-table", RowTable).cursor_data
        if self.frame is None or row is None:
            return None
        return dict(zip(REPORT_COLUMNS, row[: len(REPORT_COLUMNS)], strict=True))

    @on(RowTable.Selected, "#report-table")
    def cell_selected(self, event: RowTable.Selected) -> None:
        self.action_open_store()

    @on(DataTable.RowSelected, "#fleet-worst")
    def worst_selected(self, event: DataTable.RowSelected) -> None:
        info = self.reports.get(self.current or "")
        if info is None or self.frame is None or event.row_key.value is None:
            return
        store = str(event.row_key.value)
        self.post_message(
            StoreRequested(
                store,
                as_of_us=info.as_of_us,
                report_row=self.frame.row_for(store),
                report_label=f"report {self.short_id(info.id)}",
            )
        )

    def action_copy_id(self) -> None:
        worst = self.query_one("#fleet-worst", DataTable)
        if self.app.focused is worst:
            store = (
                str(worst.coordinate_to_cell_key(worst.cursor_coordinate).row_key.value) if worst.row_count else None
            )
        else:
            row = self.selected_row()
            store = row["store_id"] if row is not None else None
        copy_store_id(self, store)

    def action_open_store(self) -> None:
        if self.app.focused is self.query_one("#fleet-worst", DataTable):
            table = self.query_one("#fleet-worst", DataTable)
            if table.row_count:
                table.action_select_cursor()
            return
        row = self.selected_row()
        info = self.reports.get(self.current or "")
        if row is None or info is None:
            self.post_message(StorePromptRequested())
            return
        label = f"report {self.short_id(info.id)}"
        self.post_message(StoreRequested(row["store_id"], as_of_us=info.as_of_us, report_row=row, report_label=label))

    # -- generating -----------------------------------------------------------------------

    def action_generate(self, as_of_us: int | None = None) -> None:
        if self.running_id is not None:
            self.app.notify("A report is already running (Esc cancels it)", title="Report", severity="warning")
            return
        self.running_id = "starting"
        self.progress = None
        self.busy = True
        self.query_one("#report-progress-label", Label).update("Starting report…")
        self.query_one("#report-bar", ProgressBar).update(total=100, progress=0)
        self.run_report(as_of_us)

    def action_generate_as_of(self) -> None:
        from storemon_tui.report.as_of import parse_as_of

        def chosen(value: str | None) -> None:
            if value:
                self.action_generate(parse_as_of(value.strip()))

        self.app.push_screen(
            PromptScreen(
                "Generate a report as of",
                "UTC instant (e.g. 2023-01-25 12:00:00):",
                placeholder="2023-01-25 12:00:00",
                check=as_of_problem,
            ),
            chosen,
        )

    @work(thread=True, exit_on_error=False, exclusive=True, group="report", description="Report")
    def run_report(self, as_of_us: int | None) -> ReportInfo:
        """Start a report and watch it: its progress goes out as one message every beat."""
        tracker = ProgressTracker()
        try:
            report_id = self.jobs.trigger(as_of_us, on_progress=tracker.update)
        except Exception:
            self.post_message(self.Started(None))
            raise
        self.post_message(self.Started(report_id))
        while True:
            info = self.jobs.wait(report_id, timeout=BEAT)
            if info.done:
                break
            self.post_message(self.Progress(report_id, tracker.snapshot()))
        self.post_message(self.Finished(info))
        return info

    @on(Started)
    def report_started(self, event: Started) -> None:
        report_id = event.report_id
        if report_id is None:
            self.running_id = None
            self.busy = False
            return
        self.running_id = report_id
        self.current = report_id
        self.query_one("#report-progress-label", Label).update("Starting")
        self.load_list(select=report_id)

    @on(Progress)
    def report_progress(self, event: Progress) -> None:
        """The one place a running report's progress is shown: the bar, its label and the list."""
        if event.report_id != self.running_id:
            return
        self.progress = snapshot = event.snapshot
        stage = stage_of(snapshot.fraction)
        bar = self.query_one("#report-bar", ProgressBar)
        reading = snapshot.fraction < COMPUTE_FROM
        bar.update(total=None if reading else 100, progress=snapshot.percent)
        parts = [stage, f"{snapshot.elapsed:.0f} s" if reading else f"{snapshot.percent}%", snapshot.eta_text()]
        # No "Esc cancels" here: the footer says so while a report runs (room for the ETA at 80 columns).
        self.query_one("#report-progress-label", Label).update(" · ".join(p for p in parts if p))
        table = self.query_one("#report-list", DataTable)
        if event.report_id in table.rows:
            table.update_cell(event.report_id, self.status_column, self.running_status(), update_width=True)

    def running_status(self) -> str:
        return f"Running {self.progress.percent}%" if self.progress is not None else "Running"

    @on(Finished)
    def report_finished(self, event: Finished) -> None:
        info = event.info
        self.running_id = None
        self.busy = False
        self.query_one("#report-bar", ProgressBar).update(progress=100)
        if info.status is ReportStatus.COMPLETE:
            self.app.notify(
                f"Report {info.id[:8]}: {counted(info.row_count or 0, 'store')} in {_duration(info)}", title="Report"
            )
        elif info.status is ReportStatus.CANCELLED:
            self.app.notify("Report cancelled; nothing was written", title="Report", severity="warning")
        else:
            self.app.notify(f"Report failed: {info.error}", title="Report", severity="error")
        self.current = None
        self.load_list(select=info.id)
        self.post_message(DataChanged(reports_only=True))

    def cancel(self) -> bool:
        if self.running_id and self.running_id != "starting" and self.jobs.cancel(self.running_id):
            self.query_one("#report-progress-label", Label).update("Cancelling…")
            return True
        return False

    # -- export and delete ------------------------------------------------------------------

    def current_complete(self) -> ReportInfo | None:
        info = self.reports.get(self.current or "")
        if info is None or info.status is not ReportStatus.COMPLETE:
            self.app.notify("Select a complete report first", title="Report", severity="warning")
            return None
        return info

    def action_export(self) -> None:
        """Export the report: all its stores, or (with a filter active) just the stores shown."""
        info = self.current_complete()
        if info is None:
            return
        view, stores = self.view, info.row_count or 0
        if view is None or not view.filter or view.total() == stores:
            self.ask_export_path(info, None)
            return
        shown = f"the {counted(view.total(), 'store')} the filter {view.filter!r} shows"
        self.app.push_screen(
            ExportScreen(
                f"Export report {self.short_id(info.id)}",
                f"Write all {counted(stores, 'store')} of the report, or just {shown}?",
                {"filtered": f"Just {shown}", "all": f"All {counted(stores, 'store')}"},
            ),
            lambda scope: self.ask_export_path(info, view if scope == "filtered" else None) if scope else None,
        )

    def ask_export_path(self, info: ReportInfo, view: ReportView | None) -> None:
        """Where to write (the default shown absolute); ``view``: just its stores, else the whole report."""
        suffix = "-filtered" if view is not None else ""
        default = str(Path.cwd().absolute() / f"storemon-report-{info.id[:8]}{suffix}.csv")
        what = f"{counted(view.total(), 'store')} (filter {view.filter!r})" if view is not None else "all stores"

        def overwrite(ok: bool | None, path: Path) -> None:
            if ok:
                self.export(info.id, path, view)

        def chosen(value: str | None) -> None:
            if not value:
                return
            path = Path(value.strip()).expanduser().absolute()
            try:
                target = resolve_target(path)
            except OSError as exc:  # checked in the dialog, but the file system may have changed since
                self.app.notify(f"{path}: {exc.strerror or exc}", title="Export", severity="error")
                return
            if target.existing is not None:  # a regular file (or a link to one) would be replaced; a FIFO is not
                self.app.push_screen(
                    ConfirmScreen(
                        "Overwrite?",
                        f"{path} already exists. Replace it with report {self.short_id(info.id)}?",
                        yes="Overwrite",
                        danger=True,
                    ),
                    lambda ok: overwrite(ok, path),
                )
            else:
                self.export(info.id, path, view)

        title = f"Export report {self.short_id(info.id)}: {what}"
        self.app.push_screen(PromptScreen(title, "Write the CSV to:", default, check=export_problem), chosen)

    @work(thread=True, exit_on_error=False, exclusive=True, group="export", description="Export")
    def export(self, report_id: str, path: Path, view: ReportView | None = None) -> None:
        from storemon_tui.report.export import write_export

        if view is None:
            write_export(self.jobs.csv_bytes(report_id), path)
            self.post_message(self.Exported(self.jobs.get(report_id).row_count or 0, path))
        else:
            write_export(view.csv_bytes(), path)
            self.post_message(self.Exported(view.total(), path, view.filter))

    @on(Exported)
    def exported(self, event: Exported) -> None:
        which = f" (filter {event.filter!r})" if event.filter else ""
        self.app.notify(f"Wrote {counted(event.rows, 'store')}{which} to {event.path}", title="Export")

    def action_delete_report(self) -> None:
        info = self.reports.get(self.current or "")
        if info is None or info.id == self.running_id:
            return
        self.app.push_screen(
            ConfirmScreen(
                "Delete report?", f"Delete report {self.short_id(info.id)} and its CSV file?", yes="Delete", danger=True
            ),
            lambda ok: self._delete_if(ok, info.id),
        )

    def _delete_if(self, confirmed: bool | None, report_id: str) -> None:
        if confirmed:
            self.delete(report_id)

    @work(thread=True, exit_on_error=False, group="delete", description="Delete report")
    def delete(self, report_id: str) -> None:
        self.jobs.delete(report_id)
        self.post_message(self.Deleted())

    @on(Deleted)
    def after_delete(self) -> None:
        self.current = None
        self.load_list()

    def action_reload(self) -> None:
        self.load_list()

    def show_report(self, report_id: str) -> None:
        self.current = None
        self.load_list(select=report_id)
