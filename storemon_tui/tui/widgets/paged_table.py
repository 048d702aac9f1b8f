"""A DataTable that shows one page of a larger result and asks its owner for others.

The widget never holds more than a page: PgUp/PgDn/Home/End post a
:class:`PagedTable.PageRequested` message and the owning pane fetches the page
in a worker, then calls :meth:`show_page`.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable


class PagedTable(DataTable):
    BINDINGS = [
        Binding("pagedown,right_square_bracket", "page('next')", "Next", key_display="PgDn", id="table.next"),
        Binding("pageup,left_square_bracket", "page('previous')", "Prev", key_display="PgUp", id="table.previous"),
        Binding("home", "page('first')", "First page", show=False, id="table.first"),
        Binding("end", "page('last')", "Last page", show=False, id="table.last"),
        Binding("ctrl+home", "scroll_top", "Top of page", show=False),
        Binding("ctrl+end", "scroll_bottom", "Bottom of page", show=False),
    ]

    class PageRequested(Message):
        def __init__(self, table: PagedTable, where: str) -> None:
            super().__init__()
            self.table = table
            self.where = where

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None, cursor_type: str = "row") -> None:
        super().__init__(id=id, classes=classes, cursor_type=cursor_type, zebra_stripes=True)
        self._columns_shown: tuple[str, ...] = ()

    def action_page(self, where: str) -> None:
        self.post_message(self.PageRequested(self, where))

    def show_page(self, columns: Sequence[str], rows: Sequence[Sequence[str]], *, keep_column: bool = True) -> None:
        """Replace the rows (and the columns if they changed); cursor to the top."""
        column = self.cursor_column if keep_column else 0
        if tuple(columns) != self._columns_shown:
            self.clear(columns=True)
            self.add_columns(*columns)
            self._columns_shown = tuple(columns)
        else:
            self.clear()
        self.add_rows(rows)
        if rows:
            self.move_cursor(row=0, column=min(column, len(columns) - 1), animate=False)

    def reset(self) -> None:
        self.clear(columns=True)
        self._columns_shown = ()
