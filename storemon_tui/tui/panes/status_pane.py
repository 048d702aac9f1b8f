"""Status pane: the fleet now — who is down, since when, who went silent, who got worse than last week.

The app's first screen on a database with polls. The fleet status
(``spec/status.md``) is computed in a thread worker with the report's
progress bar and Esc to cancel, and again by itself whenever the data
version changes (an import here or in another process). The ranking and
display text come from :mod:`storemon_tui.report.status_board`; this module
only draws them.
"""

from __future__ import annotations

import re

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Input, Label, ProgressBar
from textual.worker import Worker, get_current_worker

from storemon_tui.db.database import Database
from storemon_tui.display import counted, format_ts_us
from storemon_tui.errors import NoPollsError
from storemon_tui.report.status_board import (
    BOARD_COLUMNS,
    ID_COLUMN,
    MARKERS,
    RIGHT_ALIGNED,
    FleetGlance,
    StatusBoard,
    StatusView,
    column_widths,
    format_pct,
    load_board,
    save_silent_minutes,
)
from storemon_tui.safe_text import plain_text
from storemon_tui.tui.messages import StoreRequested
from storemon_tui.tui.screens.dialogs import PromptScreen
from storemon_tui.tui.widgets.common import TextField, WorkerErrors, copy_store_id
from storemon_tui.tui.widgets.job_progress import BEAT, ProgressTracker
from storemon_tui.tui.widgets.row_table import RowTable, Visible

MAX_SILENT_MINUTES = 30 * 24 * 60
ID_MIN_CELLS = 12
"""A narrow terminal cuts long store ids (UUIDs) to fit every column, but never below this."""
_THRESHOLD = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(h|hours?|m|min|minutes?)?\s*$", re.IGNORECASE)


def parse_silent_threshold(text: str) -> int | str:
    """Minutes for a threshold typed as ``2``, ``1.5 h`` or ``90 min`` (hours by default), or what is wrong."""
    match = _THRESHOLD.match(text)
    if match is None:
        return f"{text.strip()!r}: type hours (2, 1.5) or minutes (90 min)"
    value = float(match.group(1))
    minutes = round(value if (match.group(2) or "h").lower().startswith("m") else value * 60)
    if not 1 <= minutes <= MAX_SILENT_MINUTES:
        return "between 1 minute and 30 days"
    return minutes


def threshold_text(minutes: int) -> str:
    """``2 h``, ``1.5 h``, ``45 min``: how the pane writes the silent threshold."""
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    if minutes % 6 == 0 and minutes > 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes} min"


class StatusTable(RowTable):
    """The status rows, coloured by state (the first column says the state in words too)."""

    COMPONENT_CLASSES = RowTable.COMPONENT_CLASSES | {"statustable--down", "statustable--silent", "statustable--worse"}
    _COMPONENTS = dict(
        zip(MARKERS[:3], ("statustable--down", "statustable--silent", "statustable--worse"), strict=True)
    )

    def row_component(self, row: tuple[str, ...]) -> str | None:
        return self._COMPONENTS.get(row[0])


class StatusPane(WorkerErrors, Vertical):
    BINDINGS = [
        Binding("slash,f", "focus_filter", "Filter", key_display="/", id="status.filter"),
        Binding("o", "open_store", "Store", id="status.store"),
        Binding("y", "copy_id", "Copy store id", show=False, id="status.copy"),
        Binding("h", "silent_threshold", "Silent after…", id="status.silent"),
        Binding("r,f5", "refresh", "Refresh", id="status.refresh"),
    ]

    data_version: var[int | None] = var(None, init=False)
    """The database's data version as the app last saw it (bound to the app's)."""
    computing: var[bool] = var(False, init=False)

    class Computed(Message):
        """A fleet status is ready (posted by the worker)."""

        def __init__(self, board: StatusBoard | None, widths: list[int]) -> None:
            super().__init__()
            self.board, self.widths = board, widths
            """None: the database has no polls (yet)."""

    def __init__(self, db: Database, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.db = db
        self.board: StatusBoard | None = None
        self.view: StatusView | None = None
        self.widths: list[int] = []
        """Each column's width for the whole board (ids uncut)."""
        self.tracker = ProgressTracker()
        self._beat: Timer | None = None
        self._shown: Visible | None = None
        self._note = "Computing the fleet status…"
        """What the status line says when there are no rows to count (computing, no polls, an error)."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="status-glance"):
            yield Label("", id="glance-open")
            yield Label("", id="glance-down")
            yield Label("", id="glance-silent")
            yield Label("", id="glance-worse")
        yield Label("", id="glance-uptime")
        with Horizontal(id="status-progress"):
            yield Label("", id="status-progress-label")
            yield ProgressBar(total=100, show_eta=False, id="status-bar")
        with Horizontal(id="status-bar-row"):
            yield Label("", id="status-line")
            yield TextField(placeholder="filter store_id (/)", compact=True, id="status-filter")
        yield StatusTable(id="status-table", cell_padding=0)

    def on_mount(self) -> None:
        self.query_one("#status-line", Label).update(self._note)
        self.start()

    def focus_main(self) -> None:
        self.table.focus()

    @property
    def table(self) -> StatusTable:
        return self.query_one("#status-table", StatusTable)

    # -- computing --------------------------------------------------------------------------

    def start(self) -> None:
        """Compute the fleet status in the background (one at a time: a change meanwhile recomputes after)."""
        if self.computing:
            return
        self.tracker = ProgressTracker()
        self.computing = True
        self._beat = self.set_interval(BEAT, self.show_progress)
        self.show_progress()
        self._run_status(self.tracker)

    @work(thread=True, exit_on_error=False, exclusive=True, group="status", description="Status")
    def _run_status(self, tracker: ProgressTracker) -> None:
        worker = get_current_worker()
        try:
            board = load_board(self.db, progress=tracker.update, should_cancel=lambda: worker.is_cancelled)
        except NoPollsError:
            self.post_message(self.Computed(None, []))  # an empty database is a state, not a failure
            return
        self.post_message(self.Computed(board, column_widths(board)))

    def watch_computing(self, computing: bool) -> None:
        self.set_class(computing, "-running")
        if not computing and self._beat is not None:
            self._beat.stop()
            self._beat = None
        self.app.refresh_bindings()  # Esc cancels while it runs: the footer says so

    def watch_data_version(self, version: int | None) -> None:
        """The data changed: compute again, unless this version is shown (or being computed: see status_ready)."""
        if version is not None and not self.computing and (self.board is None or self.board.version != version):
            self.start()

    def show_progress(self) -> None:
        snapshot = self.tracker.snapshot()
        parts = ["Computing the fleet status", f"{snapshot.percent}%", snapshot.eta_text()]
        self.query_one("#status-progress-label", Label).update(" · ".join(p for p in parts if p))
        self.query_one("#status-bar", ProgressBar).update(total=100, progress=snapshot.percent)

    @on(Computed)
    def status_ready(self, event: Computed) -> None:
        self.computing = False
        if event.board is None:
            self.show_no_polls()
            return
        self.widths = event.widths
        self.show_board(event.board, keep_position=True)  # a key pressed before the rows came is kept
        if self.data_version is not None and event.board.version != self.data_version:
            self.start()  # the data changed while this was computed

    def show_no_polls(self) -> None:
        self.board = self.view = None
        self.show_note("No polls yet: import data in the Import pane (1), or F6 for the sample")
        self.table.show_source(None)
        self.show_glance(None)

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        if worker.group != "status":
            return False
        self.computing = False
        self.show_note(f"The fleet status failed: {error}", error=True)
        return False

    def worker_cancelled(self, worker: Worker) -> None:
        if worker.group == "status":
            self.computing = False
            self.show_note("Cancelled · r computes the fleet status again")

    def cancel(self) -> bool:
        """Esc: cancel a running computation (the rows shown stay)."""
        if not self.computing:
            return False
        self.workers.cancel_group(self, "status")
        self.query_one("#status-progress-label", Label).update("Cancelling…")
        return True

    # -- showing ------------------------------------------------------------------------------

    def show_board(self, board: StatusBoard, *, keep_position: bool = False) -> None:
        self.board = board
        self.show_glance(board.glance)
        self.show_rows(keep_position=keep_position)
        self.update_line()

    def show_rows(self, *, keep_position: bool = False) -> None:
        """The board's rows, filtered, with the id column fitted to the table's width."""
        if self.board is None:
            return
        widths, id_cells = self.fitted_widths()
        self.view = self.board.view(self.query_one("#status-filter", Input).value, id_cells=id_cells)
        self.table.show_source(
            self.view, labels=BOARD_COLUMNS, widths=widths, right=RIGHT_ALIGNED, keep_position=keep_position
        )

    def fitted_widths(self) -> tuple[list[int], int | None]:
        """Column widths with the id column narrowed so that every column fits, and the id cells (None: uncut).

        At 80 columns a UUID (36 characters) would push the last columns off screen.
        """
        widths = list(self.widths)
        room = self.table.size.width - 1  # the vertical scroll bar's column, there or not yet
        if not widths or room <= 0:
            return widths, None
        id_room = room - (sum(widths) - widths[ID_COLUMN]) - 1  # one space after the id
        if widths[ID_COLUMN] - 1 <= id_room:
            return widths, None
        cells = max(id_room, ID_MIN_CELLS)
        widths[ID_COLUMN] = cells + 1
        return widths, cells

    def on_resize(self) -> None:
        if self.view is not None and self.fitted_widths()[1] != self.view.id_cells:
            self.show_rows(keep_position=True)

    def show_glance(self, glance: FleetGlance | None) -> None:
        """The fleet at a glance; numbers that need attention get a class (colour) as well as their words."""
        labels = {name: self.query_one(f"#glance-{name}", Label) for name in ("open", "down", "silent", "worse")}
        uptime = self.query_one("#glance-uptime", Label)
        if glance is None:
            for label in (*labels.values(), uptime):
                label.update("")
            return
        labels["open"].update(f"{glance.open_now:,} of {glance.stores:,} open now")
        labels["down"].update(f"{glance.down_now:,} of them down")
        labels["silent"].update(f"{glance.silent:,} silent > {threshold_text(glance.silent_minutes)}")
        labels["worse"].update(f"{glance.worse:,} worse")
        for name, count in (("down", glance.down_now), ("silent", glance.silent), ("worse", glance.worse)):
            labels[name].set_class(count > 0, "-alert")
        week = " ".join(p for p in (f"{format_pct(glance.week_pct)} %", glance.trend) if p)
        previous = "no data" if glance.previous_pct is None else f"{format_pct(glance.previous_pct)} %"
        uptime.update(f"Fleet uptime last week {week} (the week before: {previous})")
        uptime.set_class(glance.trend == "↓", "-worse")
        uptime.set_class(glance.trend == "↑", "-better")

    def show_note(self, note: str, *, error: bool = False) -> None:
        self._note = note
        line = self.query_one("#status-line", Label)
        line.set_class(error, "-error")
        if self.board is None or error:
            line.update(plain_text(note))
        else:
            self.update_line()

    @on(RowTable.Moved, "#status-table")
    def moved(self, event: RowTable.Moved) -> None:
        self._shown = event.shown
        self.update_line()

    def update_line(self) -> None:
        board, shown = self.board, self._shown
        line = self.query_one("#status-line", Label)
        if board is None or shown is None or shown.total is None:
            return
        flt = self.query_one("#status-filter", Input).value.strip()
        if shown.total == 0:
            rows = f"no stores match {flt!r}" if flt else "no stores"
        else:
            rows = f"rows {shown.top + 1:,}–{shown.bottom:,} of "
            rows += f"{shown.total:,} · store_id {flt!r}" if flt else counted(shown.total, "store")
        as_of = format_ts_us(board.now_us // 60_000_000 * 60_000_000).removesuffix(":00 UTC")
        suffix = " · updating…" if self.computing else ""
        line.set_class(False, "-error")
        line.update(plain_text(f"{rows} · as of {as_of} UTC{suffix}"))

    # -- filter -------------------------------------------------------------------------------

    @on(Input.Changed, "#status-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        """Filtering some thousand rows in memory takes milliseconds: done here, as in the report."""
        self.show_rows()

    @on(Input.Submitted, "#status-filter")
    @on(TextField.Left, "#status-filter")
    def filter_done(self) -> None:
        self.focus_main()

    def action_focus_filter(self) -> None:
        self.query_one("#status-filter", Input).focus()

    # -- actions ------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.computing:
            self.app.notify("The fleet status is being computed (Esc cancels)", title="Status")
            return
        self.start()

    @on(RowTable.Selected, "#status-table")
    def row_selected(self, event: RowTable.Selected) -> None:
        self.request_store(event.index)

    def action_open_store(self) -> None:
        if self.table.cursor_data is not None:
            self.request_store(self.table.cursor_row)

    def selected_store(self) -> str | None:
        """The whole id of the store under the cursor (the cell may show it cut), or None."""
        index = self.table.cursor_row
        if self.view is None or self.table.cursor_data is None or index >= self.view.total():
            return None
        return self.view.store_id(index)

    def action_copy_id(self) -> None:
        copy_store_id(self, self.selected_store())

    def request_store(self, index: int) -> None:
        """The store's drill-down, as of the status's now (its numbers are the row's)."""
        if self.view is not None and index < self.view.total():
            store_id = self.view.store_id(index)
            self.post_message(StoreRequested(store_id, as_of_us=self.view.board.now_us, report_label="fleet status"))

    def action_silent_threshold(self) -> None:
        minutes = self.board.silent_minutes if self.board is not None else None
        current = "" if minutes is None else str(minutes // 60) if minutes % 60 == 0 else f"{minutes} min"

        def problem(text: str) -> str | None:
            parsed = parse_silent_threshold(text)
            return parsed if isinstance(parsed, str) else None

        def chosen(value: str | None) -> None:
            parsed = parse_silent_threshold(value or "")
            if value is not None and isinstance(parsed, int):
                self.set_silent_minutes(parsed)

        self.app.push_screen(
            PromptScreen(
                "Silent after",
                "Hours without a poll before a store counts as silent (2, 1.5 or 90 min). "
                "Kept in the database, so everyone using it sees the same.",
                current,
                placeholder="2",
                check=problem,
            ),
            chosen,
        )

    def set_silent_minutes(self, minutes: int) -> None:
        if self.board is not None:
            self.show_board(self.board.with_silent_minutes(minutes))
        self.save_silent(minutes)

    @work(thread=True, exit_on_error=False, group="status-setting", description="Silent threshold")
    def save_silent(self, minutes: int) -> int:
        save_silent_minutes(self.db, minutes)
        return minutes

    def worker_done(self, worker: Worker) -> None:
        if worker.group == "status-setting" and isinstance(worker.result, int):
            self.app.notify(f"Stores are silent after {threshold_text(worker.result)} without a poll", title="Status")
