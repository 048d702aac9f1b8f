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
from textual.widgets.data_table import CursorType

from storemon_tui.safe_text import plain_text


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
        self._rows: list[tuple[str, ...]] = []
        """The page's values as given: cells show them escaped (``safe_text``), this keeps them exact."""

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
        wherever they are right-aligned only on screen (as ``Text``). Values are data: shown as
        plain text, control characters escaped (:func:`~storemon_tui.safe_text.plain_text`);
        :meth:`row_values` gives them back exactly."""
        column = self.cursor_column if keep_column else 0
        widths = list(widths) if widths is not None else [None] * len(columns)
        shape = (tuple(columns), tuple(widths), right)
        if shape != self._columns_shown:
            self.clear(columns=True)
            for index, (label, width) in enumerate(zip(columns, widths, strict=True)):
                self.add_column(plain_text(label, justify="right" if index in right else None), width=width)
            self._columns_shown = shape
            self._right = right
        else:
            self.clear()
        self._rows = [tuple(str(v) for v in row) for row in rows]
        self.add_rows(
            [
                tuple(plain_text(v, justify="right" if i in right else None) for i, v in enumerate(row))
                for row in self._rows
            ]
        )
        if rows:
            self.move_cursor(row=0, column=min(column, len(columns) - 1), animate=False)

    def row_values(self, index: int) -> tuple[str, ...]:
        """Row ``index`` of the page as given to :meth:`show_page` (not as escaped on screen)."""
        return self._rows[index]

    def reset(self) -> None:
        self.clear(columns=True)
        self._columns_shown = ()
        self._rows = []
