"""A table over millions of rows that scrolls like one continuous table.

Stock ``DataTable`` holds and measures every row (about 10 s to first paint
100,000 rows), so a table here is a ``ScrollView`` whose virtual height is the
whole table and which draws only the lines on screen (``render_line``). Its
rows come from a :class:`~storemon_tui.paging.RowSource` through a
:class:`~storemon_tui.paging.RowWindow`: a window of a few hundred rows around
the viewport, read on by key in a worker before the cursor reaches its edge.
To the user it is one table: Down moves one row, PgDn one screen, End goes
to the last row of the whole table, the scroll bar spans all of it.

Every value is shown through :func:`~storemon_tui.safe_text.visible`: user
data is never markup and never raw control characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, on, work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker

from storemon_tui.display import fit_cells
from storemon_tui.paging import Fetch, Page, RowSource, RowWindow
from storemon_tui.safe_text import visible
from storemon_tui.tui.widgets.common import WorkerErrors

MAX_COLUMN_WIDTH = 64
"""Wider values end in ``…`` on screen (the data and exports keep them whole)."""
PENDING = "…"


class Visible(NamedTuple):
    """What a table shows: rows ``top`` … ``bottom - 1`` of ``total`` (None: not counted yet)."""

    top: int
    bottom: int
    total: int | None
    cursor: int


class RowTable(WorkerErrors, ScrollView, can_focus=True, inherit_bindings=False):
    """Rows of one :class:`RowSource`, a header, and a row (or cell) cursor.

    Its own keys only (not ScrollView's scroll keys): each moves the cursor, and the view follows.
    """

    BINDINGS = [
        Binding("up", "move(-1)", "Previous row", show=False),
        Binding("down", "move(1)", "Next row", show=False),
        # Keys every table has stay out of the footer (it must fit 80 columns with the pane's own keys);
        # help's "Keys here" lists them.
        Binding(
            "pagedown,right_square_bracket", "page(1)", "Next screen", key_display="PgDn", show=False, id="table.next"
        ),
        Binding(
            "pageup,left_square_bracket",
            "page(-1)",
            "Previous screen",
            key_display="PgUp",
            show=False,
            id="table.previous",
        ),
        Binding("home", "first", "First row", show=False, id="table.first"),
        Binding("end", "last", "Last row", show=False, id="table.last"),
        Binding("left", "column(-1)", "Left", show=False),
        Binding("right", "column(1)", "Right", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    COMPONENT_CLASSES = {
        "rowtable--header",
        "rowtable--header-cursor",
        "rowtable--cursor",
        "rowtable--even-row",
        "rowtable--odd-row",
        "rowtable--pending",
    }

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        scrollbar-size-vertical: 1;
        &:focus {
            background-tint: $foreground 5%;
            & > .rowtable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .rowtable--header {
                background-tint: $foreground 5%;
            }
        }
        &:dark > .rowtable--even-row {
            background: $surface-darken-1 40%;
        }
        & > .rowtable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .rowtable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .rowtable--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .rowtable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .rowtable--header-cursor {
            background: $accent-darken-1;
            color: $foreground;
        }
        & > .rowtable--pending {
            color: $text-muted;
        }
    }
    """

    cursor_row: var[int] = var(0, init=False)
    cursor_column: var[int] = var(0, init=False)

    class Moved(Message):
        """The rows on screen, their count or the cursor changed (for a status line)."""

        def __init__(self, table: RowTable, shown: Visible) -> None:
            super().__init__()
            self.table, self.shown = table, shown

        @property
        def control(self) -> RowTable:
            return self.table

    class Selected(Message):
        """Enter (or a click on the cursor row) on a loaded row."""

        def __init__(self, table: RowTable, index: int, row: tuple[str, ...], column: int) -> None:
            super().__init__()
            self.table, self.index, self.row, self.column = table, index, row, column

        @property
        def control(self) -> RowTable:
            return self.table

    class HeaderSelected(Message):
        """A click on a column's header."""

        def __init__(self, table: RowTable, column: int) -> None:
            super().__init__()
            self.table, self.column = table, column

        @property
        def control(self) -> RowTable:
            return self.table

    class _Fetched(Message):
        def __init__(self, generation: int, fetch: Fetch, page: Page) -> None:
            super().__init__()
            self.generation, self.fetch, self.page = generation, fetch, page

    def __init__(
        self,
        *,
        cell_cursor: bool = False,
        cell_padding: int = 1,
        block: int = 200,
        keep: int = 1000,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.cell_cursor = cell_cursor
        """Left/Right move a cursor cell (the report's sort column) instead of scrolling."""
        self.cell_padding = cell_padding
        self.source: RowSource | None = None
        self.window = RowWindow(block=block, keep=keep)
        self.labels: tuple[str, ...] = ()
        self.right: frozenset[int] = frozenset()
        self.widths: list[int] = []
        self._generation = 0
        self._pending: Fetch | None = None
        self._asked_meanwhile = False
        """Rows were wanted while a fetch was pending (its result may not cover them)."""
        self._empty: Fetch | None = None
        """A read-on that found nothing: not asked again until the rows change."""
        self._shown: Visible | None = None

    # -- what the owner calls ------------------------------------------------------------

    def show_source(
        self,
        source: RowSource | None,
        *,
        labels: Sequence[str] | None = None,
        widths: Sequence[int] = (),
        right: frozenset[int] = frozenset(),
        keep_position: bool = False,
    ) -> None:
        """Show ``source`` (None: nothing). ``labels`` replace the column names in the header
        (a ``\\n`` makes a second header line); ``widths`` are columns' least widths (they grow
        to fit the values, up to :data:`MAX_COLUMN_WIDTH`); columns in ``right`` are right-aligned.
        ``keep_position`` keeps the cursor and scroll position (the same table, reloaded)."""
        self._generation += 1
        self._pending = self._empty = None
        self._asked_meanwhile = False
        self.window.clear()
        self.source = source
        columns = source.columns if source is not None else ()
        self.labels = tuple(labels) if labels is not None else columns
        self.right = right
        least = list(widths) + [0] * (len(self.labels) - len(widths))
        self.widths = [
            max(max(cell_len(line) for line in label.split("\n")), width)
            for label, width in zip(self.labels, least, strict=False)
        ]
        if not keep_position:
            self.cursor_row = 0
            self.scroll_to(0, 0, animate=False, force=True)
        self._update_virtual_size()
        self.refresh()
        self._request_rows()
        self._post_moved()

    def reload(self) -> None:
        """Read the same source again around the current position (after the data changed)."""
        self.show_source(self.source, labels=self.labels, widths=self.widths, right=self.right, keep_position=True)

    def go_to(self, index: int) -> None:
        """Put the cursor on row ``index`` (clamped) with that row at the top of the screen."""
        self.cursor_row = self._clamp(index)
        self.scroll_to(y=self.cursor_row, animate=False, force=True)

    @property
    def total(self) -> int | None:
        return self.window.total

    @property
    def header_height(self) -> int:
        return max((label.count("\n") + 1 for label in self.labels), default=1)

    @property
    def rows_height(self) -> int:
        """Rows that fit on screen below the header."""
        return max(self.scrollable_content_region.height - self.header_height, 1)

    def row_at(self, index: int) -> tuple[str, ...] | None:
        """Row ``index`` if it is loaded."""
        return self.window.row(index)

    @property
    def cursor_data(self) -> tuple[str, ...] | None:
        return self.window.row(self.cursor_row)

    def shown(self) -> Visible:
        total = self.total
        top = int(self.scroll_y)
        bottom = top + self.rows_height if total is None else min(top + self.rows_height, total)
        return Visible(top, max(bottom, top), total, self.cursor_row)

    # -- fetching rows -------------------------------------------------------------------

    def _request_rows(self) -> None:
        if self.source is None:
            return
        if self._pending is not None:
            self._asked_meanwhile = True  # read after this fetch, even if it fails
            return
        fetch = self.window.wanted(int(self.scroll_y), self.rows_height)
        if fetch is None or fetch == self._empty:
            return
        self._pending = fetch
        self._fetch(self.source, self._generation, fetch)

    @work(thread=True, exit_on_error=False, group="rows", description="Rows")
    def _fetch(self, source: RowSource, generation: int, fetch: Fetch) -> None:
        page = source.window(fetch.start, fetch.count, fetch.near)
        self.post_message(self._Fetched(generation, fetch, page))

    @on(_Fetched)
    def _fetched(self, message: _Fetched) -> None:
        message.stop()
        if message.generation != self._generation:
            return  # rows of a source no longer shown
        self._pending = None
        self._asked_meanwhile = False  # the request at the end reads whatever is still missing
        page = message.page
        self._empty = message.fetch if not page.rows and message.fetch.near is not None else None
        first = self.window.total is None
        self.window.add(page, int(self.scroll_y), self.rows_height)
        self._measure(page)
        self._update_virtual_size()
        clamped = self._clamp(self.cursor_row)
        if clamped != self.cursor_row:
            self.cursor_row = clamped
        elif first:
            self._scroll_to_cursor()  # moved before there were rows (PgDn at start-up): the view follows now
        self.refresh()
        self._post_moved()
        self._request_rows()

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        """A failed read is a notification; the next move of the cursor or the view tries again.

        A move made while the failed read was running is such a next move: it is read now
        (else the table would wait, rows missing, for yet another move).
        """
        self._pending = None
        if self._asked_meanwhile:
            self._asked_meanwhile = False
            self._request_rows()
        return False

    def _measure(self, page: Page) -> None:
        widths = self.widths
        for index in range(len(widths)):
            hint = page.widths[index] if index < len(page.widths) else 0
            measured = max((cell_len(visible(row[index])) for row in page.rows), default=0)
            widths[index] = min(max(widths[index], hint, measured), MAX_COLUMN_WIDTH)

    def _update_virtual_size(self) -> None:
        width = sum(w + 2 * self.cell_padding for w in self.widths)
        self.virtual_size = Size(width, self.header_height + (self.total or 0))

    def _clamp(self, index: int) -> int:
        total = self.total
        return max(min(index, (total or 1) - 1), 0) if total is not None else max(index, 0)

    def _post_moved(self) -> None:
        shown = self.shown()
        if shown != self._shown:
            self._shown = shown
            self.post_message(self.Moved(self, shown))

    # -- moving --------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._request_rows()
        self._post_moved()

    def on_resize(self, event: events.Resize) -> None:
        self._request_rows()
        self._post_moved()

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._request_rows()
        self._post_moved()

    def watch_cursor_column(self, old: int, new: int) -> None:
        self._scroll_to_column()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        top, height = int(self.scroll_y), self.rows_height
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, force=True)

    def _column_span(self, column: int) -> tuple[int, int]:
        pad = 2 * self.cell_padding
        start = sum(w + pad for w in self.widths[:column])
        return start, start + self.widths[column] + pad

    def _scroll_to_column(self) -> None:
        if not self.widths:
            return
        start, end = self._column_span(self.cursor_column)
        width = self.scrollable_content_region.width
        if start < self.scroll_x:
            self.scroll_to(x=start, animate=False, force=True)
        elif end > self.scroll_x + width:
            self.scroll_to(x=end - width, animate=False, force=True)

    def action_move(self, rows: int) -> None:
        self.cursor_row = self._clamp(self.cursor_row + rows)

    def action_page(self, screens: int) -> None:
        """One screen down (up): the view and the cursor move by the rows that fit on screen."""
        height = self.rows_height
        self.scroll_to(y=int(self.scroll_y) + screens * height, animate=False, force=True)
        self.cursor_row = self._clamp(self.cursor_row + screens * height)

    def action_first(self) -> None:
        self.cursor_row = 0
        self.scroll_to(y=0, animate=False, force=True)

    def action_last(self) -> None:
        self.cursor_row = self._clamp((self.total or 1) - 1)
        self.scroll_to(y=self.max_scroll_y, animate=False, force=True)

    def action_column(self, step: int) -> None:
        if self.cell_cursor and self.widths:
            self.cursor_column = max(min(self.cursor_column + step, len(self.widths) - 1), 0)
        else:
            self.scroll_to(x=self.scroll_x + 4 * step, animate=False, force=True)

    def action_select(self) -> None:
        row = self.cursor_data
        if row is not None:
            self.post_message(self.Selected(self, self.cursor_row, row, self.cursor_column))

    def _column_at(self, x: int) -> int | None:
        for column in range(len(self.widths)):
            start, end = self._column_span(column)
            if start <= x < end:
                return column
        return None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        column = self._column_at(offset.x + int(self.scroll_x))
        if offset.y < self.header_height:
            if column is not None:
                self.post_message(self.HeaderSelected(self, column))
            return
        index = int(self.scroll_y) + offset.y - self.header_height
        if self.total is None or index >= self.total:
            return
        again = index == self.cursor_row and (column is None or column == self.cursor_column or not self.cell_cursor)
        self.cursor_row = index
        if self.cell_cursor and column is not None:
            self.cursor_column = column
        if again:
            self.action_select()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # -- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        header = self.header_height
        if y < header:
            strip = self._header_line(y, base)
        else:
            index = int(self.scroll_y) + y - header
            if self.total is None or index >= self.total:
                return Strip.blank(width, base)
            strip = self._row_line(index, base)
        x = int(self.scroll_x)
        return strip.crop(x, x + width).extend_cell_length(width, base)

    def _cell(self, text: str, column: int, style: Style) -> Segment:
        width = self.widths[column]
        text = visible(text)
        if cell_len(text) > width:
            text = fit_cells(text, width)
        elif column in self.right:
            text = " " * (width - cell_len(text)) + text
        else:
            text = set_cell_size(text, width)
        pad = " " * self.cell_padding
        return Segment(pad + text + pad, style)

    def _header_line(self, y: int, base: Style) -> Strip:
        style = base + self.get_component_rich_style("rowtable--header")
        cursor = base + self.get_component_rich_style("rowtable--header-cursor")
        segments = []
        for column, label in enumerate(self.labels):
            lines = label.split("\n")
            text = lines[y] if y < len(lines) else ""
            chosen = cursor if self.cell_cursor and column == self.cursor_column else style
            segments.append(self._cell(text, column, chosen))
        return Strip(segments)

    def row_component(self, row: tuple[str, ...]) -> str | None:
        """A component class styling a whole row by its values (None: the stripes alone).

        Subclasses that colour rows by state declare the class in ``COMPONENT_CLASSES``;
        the colour must never be the only sign of the state (``NO_COLOR``): a cell says it too.
        """
        return None

    def _row_line(self, index: int, base: Style) -> Strip:
        row = self.window.row(index)
        stripe = "rowtable--odd-row" if index % 2 else "rowtable--even-row"
        style = base + self.get_component_rich_style(stripe)
        component = self.row_component(row) if row is not None else None
        if component is not None:
            style += self.get_component_rich_style(component)
        cursor = style + self.get_component_rich_style("rowtable--cursor")
        on_row = index == self.cursor_row
        if row is None:
            pending = style + self.get_component_rich_style("rowtable--pending")
            return Strip([self._cell(PENDING, 0, cursor if on_row else pending)] if self.widths else [])
        segments = []
        for column, value in enumerate(row[: len(self.widths)]):
            chosen = style
            if on_row and (not self.cell_cursor or column == self.cursor_column):
                chosen = cursor
            segments.append(self._cell(value, column, chosen))
        return Strip(segments)
