"""Data pane: scroll through any table (keyset windows behind the scenes); filter by store; clear."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Label, Select

from storemon_tui.db.browse import TABLES, Pager
from storemon_tui.db.database import Database
from storemon_tui.safe_text import plain_text
from storemon_tui.tui.messages import ClearRequested, ReportRequested, StoreRequested
from storemon_tui.tui.screens.dialogs import PromptScreen
from storemon_tui.tui.widgets.common import TextField, WorkerErrors, copy_store_id
from storemon_tui.tui.widgets.row_table import RowTable, Visible

PAGE_SIZE = 200
"""Rows read at a time (the table holds a few such blocks around the screen)."""
FILTER_DELAY = 0.3
"""Seconds after the last key before the store filter runs (Enter runs it at once): a count
over millions of polls per keystroke would only queue work nobody sees."""
TABLE_ORDER = ("polls", "business_hours", "time_zones", "reports")


class DataPane(WorkerErrors, Vertical):
    BINDINGS = [
        Binding("t", "cycle_table", "Table", id="data.table"),
        Binding("slash,f", "focus_filter", "Filter", key_display="/", id="data.filter"),
        Binding("j", "jump", "Jump", id="data.jump"),
        Binding("o", "open_store", "Store", show=False, id="data.store"),
        Binding("y", "copy_id", "Copy store id", show=False, id="data.copy"),
        Binding("c,delete", "clear_table", "Clear", id="data.clear"),
        Binding("x", "clear_all", "Clear all", show=False, id="data.clear_all"),
        Binding("r,f5", "reload", "Reload", show=False, id="data.reload"),
    ]

    def __init__(self, db: Database, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.db = db
        self.filters: dict[str, str] = dict.fromkeys(TABLE_ORDER, "")
        """Each table's own store filter (switching tables shows the other table's filter)."""
        self.pager = Pager(db, "polls", page_size=PAGE_SIZE)
        self._filter_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="data-controls"):
            yield Select(
                [(TABLES[name].title, name) for name in TABLE_ORDER],
                value="polls",
                allow_blank=False,
                compact=True,
                id="data-table-select",
            )
            yield TextField(placeholder="filter store_id (/)", compact=True, id="data-filter")
        yield RowTable(id="data-table", block=PAGE_SIZE)
        yield Label("", id="data-status")

    def on_mount(self) -> None:
        self.show_table()

    def focus_main(self) -> None:
        self.table.focus()

    @property
    def table(self) -> RowTable:
        return self.query_one("#data-table", RowTable)

    # -- what is shown -------------------------------------------------------------------

    def show_table(self, name: str | None = None) -> None:
        """Show table ``name`` (default: the current one) with its own filter, from its first row."""
        name = name or self.pager.table
        self.pager = Pager(self.db, name, page_size=PAGE_SIZE, store_filter=self.filters[name])
        field = self.query_one("#data-filter", Input)
        has_stores = TABLES[name].store_column is not None
        field.disabled = not has_stores
        field.placeholder = "filter store_id (/)" if has_stores else "no store filter for reports"
        with field.prevent(Input.Changed):
            field.value = self.filters[name]
        self.table.show_source(self.pager)

    @on(RowTable.Moved, "#data-table")
    def moved(self, event: RowTable.Moved) -> None:
        self.query_one("#data-status", Label).update(plain_text(self.status_text(event.shown)))

    def status_text(self, shown: Visible) -> str:
        title = TABLES[self.pager.table].title
        flt = self.pager.store_filter.strip() if self.pager.filtered else ""
        if shown.total == 0:
            return f"{title} · no rows match {flt!r}" if flt else f"{title} · no rows"
        where = f"{title} · store_id {flt!r}" if flt else title
        if shown.total is None:
            return f"{where} · counting…"
        return f"{where} · rows {shown.top + 1:,}–{shown.bottom:,} of {shown.total:,}"

    def refresh_data(self) -> None:
        """After an import, a clear or a report: recount and read the rows around the cursor again."""
        self.pager.refresh()
        self.table.reload()

    @on(Select.Changed, "#data-table-select")
    def table_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.pager.table:
            self.show_table(event.value)

    @on(Input.Changed, "#data-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self.apply_filter)

    def apply_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        value = self.query_one("#data-filter", Input).value.strip()
        if value != self.filters[self.pager.table]:
            self.filters[self.pager.table] = value
            self.show_table()

    @on(Input.Submitted, "#data-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter()
        self.focus_main()

    @on(TextField.Left, "#data-filter")
    def filter_left(self, event: TextField.Left) -> None:
        self.focus_main()

    # -- actions ----------------------------------------------------------------------------

    def action_cycle_table(self) -> None:
        select = self.query_one("#data-table-select", Select)
        index = TABLE_ORDER.index(self.pager.table)
        select.value = TABLE_ORDER[(index + 1) % len(TABLE_ORDER)]

    def action_focus_filter(self) -> None:
        field = self.query_one("#data-filter", Input)
        if field.disabled:
            self.app.notify("The reports table has no store column to filter", title="Filter")
            return
        field.focus()

    def action_reload(self) -> None:
        self.refresh_data()

    def action_jump(self) -> None:
        total = self.table.total or 0

        def go(value: str | None) -> None:
            if value and value.strip().isdigit():
                self.table.go_to(int(value) - 1)
                self.focus_main()

        self.app.push_screen(
            PromptScreen("Jump to row", f"Row number (1–{total:,}):", restrict=r"[0-9]*", placeholder="1"), go
        )

    def selected_store(self) -> str | None:
        row = self.table.cursor_data
        if self.pager.table == "reports" or row is None:
            return None
        return row[0]

    def action_copy_id(self) -> None:
        copy_store_id(self, self.selected_store())

    def action_open_store(self) -> None:
        store = self.selected_store()
        if store:
            self.post_message(StoreRequested(store))

    @on(RowTable.Selected, "#data-table")
    def row_selected(self, event: RowTable.Selected) -> None:
        if self.pager.table == "reports":
            self.post_message(ReportRequested(event.row[0]))
        else:
            self.action_open_store()

    def action_clear_table(self) -> None:
        flt = self.pager.store_filter.strip() if self.pager.filtered else ""
        self.post_message(ClearRequested([self.pager.table], store_filter=flt))

    def action_clear_all(self) -> None:
        self.post_message(ClearRequested(list(TABLE_ORDER)))
