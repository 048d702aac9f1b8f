"""Data pane: page through any table with keyset queries; filter by store; clear."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Label, Select
from textual.worker import get_current_worker

from storemon_tui.db.browse import TABLES, Page, Pager
from storemon_tui.db.database import Database
from storemon_tui.safe_text import plain_text
from storemon_tui.tui.app_api import storemon_app
from storemon_tui.tui.screens.dialogs import PromptScreen
from storemon_tui.tui.widgets.common import TextField, WorkerErrors
from storemon_tui.tui.widgets.paged_table import PagedTable

PAGE_SIZE = 200
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
        Binding("c,delete", "clear_table", "Clear", id="data.clear"),
        Binding("x", "clear_all", "Clear all", show=False, id="data.clear_all"),
        Binding("r,f5", "reload", "Reload", show=False, id="data.reload"),
    ]

    def __init__(self, db: Database, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.db = db
        self.pager = Pager(db, "polls", page_size=PAGE_SIZE)
        self.page: Page | None = None
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
        yield PagedTable(id="data-table")
        yield Label("", id="data-status")

    def on_mount(self) -> None:
        self.load("first")

    def focus_main(self) -> None:
        self.query_one("#data-table", PagedTable).focus()

    # -- loading pages ----------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, exclusive=True, group="page", description="Page")
    def load(self, where: str, number: int = 1) -> None:
        pager, page = self.pager, self.page
        if page is not None and page.table != pager.table:
            page = None
        if where == "last":
            result = pager.last()
        elif where == "goto":
            result = pager.goto(number)
        elif where == "next" and page is not None:
            result = pager.next(page)
        elif where == "previous" and page is not None:
            result = pager.previous(page)
        else:
            result = pager.first()
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, pager, result)

    def show(self, pager: Pager, page: Page) -> None:
        if pager is not self.pager:
            return
        self.page = page
        table = self.query_one("#data-table", PagedTable)
        table.show_page(page.columns, [tuple(v.removesuffix(" UTC") for v in row) for row in page.rows])
        first = (page.number - 1) * PAGE_SIZE + 1 if page.rows else 0
        last = first + len(page.rows) - 1 if page.rows else 0
        flt = f" · store_id {self.pager.store_filter!r}" if self.pager.store_filter else ""
        self.query_one("#data-status", Label).update(
            plain_text(
                f"{TABLES[page.table].title}{flt} · page {page.number:,}/{page.page_count:,} · "
                f"rows {first:,}–{last:,} of {page.total:,}"
            )
        )

    @on(PagedTable.PageRequested, "#data-table")
    def page_requested(self, event: PagedTable.PageRequested) -> None:
        self.load(event.where)

    def reset_pager(self, table: str | None = None, store_filter: str | None = None) -> None:
        self.pager = Pager(
            self.db,
            table or self.pager.table,
            page_size=PAGE_SIZE,
            store_filter=self.pager.store_filter if store_filter is None else store_filter,
        )
        self.page = None
        self.load("first")

    def refresh_data(self) -> None:
        """After an import, a clear or a report: recount and reload the current page."""
        self.pager.refresh()
        number = self.page.number if self.page else 1
        self.page = None
        self.load("goto", number)

    @on(Select.Changed, "#data-table-select")
    def table_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.pager.table:
            self.reset_pager(table=event.value)

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
        if value != self.pager.store_filter:
            self.reset_pager(store_filter=value)

    @on(Input.Submitted, "#data-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        self.apply_filter()
        self.focus_main()

    # -- actions ----------------------------------------------------------------------------

    def action_cycle_table(self) -> None:
        select = self.query_one("#data-table-select", Select)
        index = TABLE_ORDER.index(self.pager.table)
        select.value = TABLE_ORDER[(index + 1) % len(TABLE_ORDER)]

    def action_focus_filter(self) -> None:
        self.query_one("#data-filter", Input).focus()

    def action_reload(self) -> None:
        self.refresh_data()

    def action_jump(self) -> None:
        pages = self.page.page_count if self.page else 1

        def go(value: str | None) -> None:
            if value and value.strip().isdigit():
                self.load("goto", int(value))
                self.focus_main()

        self.app.push_screen(
            PromptScreen("Jump to page", f"Page number (1–{pages:,}):", restrict=r"[0-9]*", placeholder="1"), go
        )

    def selected_store(self) -> str | None:
        table = self.query_one("#data-table", PagedTable)
        if self.pager.table == "reports" or table.row_count == 0:
            return None
        return table.row_values(table.cursor_row)[0]

    def action_open_store(self) -> None:
        store = self.selected_store()
        if store:
            storemon_app(self).open_store(store)

    @on(PagedTable.RowSelected, "#data-table")
    def row_selected(self, event: PagedTable.RowSelected) -> None:
        if self.pager.table == "reports":
            report_id = self.query_one("#data-table", PagedTable).row_values(event.cursor_row)[0]
            storemon_app(self).show_report(report_id)
        else:
            self.action_open_store()

    def action_clear_table(self) -> None:
        storemon_app(self).confirm_clear([self.pager.table])

    def action_clear_all(self) -> None:
        storemon_app(self).confirm_clear(list(TABLE_ORDER))
