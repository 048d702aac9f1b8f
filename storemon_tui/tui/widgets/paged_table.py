"""A DataTable that shows one page of a larger result and asks its owner for others.

The widget never holds more than a page: PgUp/PgDn/Home/End post a
:class:`PagedTable.PageRequested` message and the owning pane fetches the page
in a worker, then calls :meth:`show_page`.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CursorType


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

    def __init__(
        self,
        *,
        id: str | None = None,
        classes: str | None = None,
        cursor_type: CursorType = "row",
        cell_padding: int = 1,
    ) -> None:
        super().__init__(id=id, classes=classes, cursor_type=cursor_type, zebra_stripes=True, cell_padding=cell_padding)
        self._columns_shown: tuple = ()
        self._right: frozenset[int] = frozenset()

    def action_page(self, where: str) -> None:
        self.post_message(self.PageRequested(self, where))

    def show_page(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        keep_column: bool = True,
        widths: Sequence[int | None] | None = None,
        right: frozenset[int] = frozenset(),
    ) -> None:
        """Replace the rows (and the columns if they changed); cursor to the top.

        ``widths`` fixes column widths (None: fit the content); columns in ``right``
        (indices) are right-aligned, header included. Cells stay the given strings
        wherever they are right-aligned only on screen (as ``Text``)."""
        column = self.cursor_column if keep_column else 0
        widths = list(widths) if widths is not None else [None] * len(columns)
        shape = (tuple(columns), tuple(widths), right)
        if shape != self._columns_shown:
            self.clear(columns=True)
            for index, (label, width) in enumerate(zip(columns, widths, strict=True)):
                self.add_column(Text(label, justify="right") if index in right else label, width=width)
            self._columns_shown = shape
            self._right = right
        else:
            self.clear()
        cells: Sequence[Sequence[str | Text]] = rows
        if right:
            cells = [
                tuple(Text(str(v), justify="right") if i in right else v for i, v in enumerate(row)) for row in rows
            ]
        self.add_rows(cells)
        if rows:
            self.move_cursor(row=0, column=min(column, len(columns) - 1), animate=False)

    def reset(self) -> None:
        self.clear(columns=True)
        self._columns_shown = ()
