"""One page type for every table the app pages through, and the interface of a row source.

A table on screen may stand for millions of rows (the polls) or a few
thousand (a report), but a widget only ever holds a window of them. A
:class:`RowSource` hands out such windows by row position; the database's
keyset :class:`~storemon_tui.db.browse.Pager` and the in-memory report view
(``tui/report_view.py``) both implement it, so one table widget serves both.

Core module: no Textual, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

Key = tuple[Any, ...]
"""A row's position in its source's order (a keyset bookmark), opaque to everyone else."""


@dataclass(frozen=True)
class Page:
    """Consecutive display rows ``rows[i]`` = row ``start + i`` of a table of ``total`` rows.

    ``keys`` holds each row's keyset bookmark when the source pages by key
    (the database), so a window can be cut anywhere and continued from
    either edge; in-memory sources leave it empty. ``widths`` is the widest
    value of each column over the whole table where the source knows it
    cheaply (0 = unknown): a table sizes its columns once, not page by page.
    """

    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    start: int
    total: int
    keys: Sequence[Key] = ()
    widths: tuple[int, ...] = field(default=())

    @property
    def end(self) -> int:
        """One past the last row held."""
        return self.start + len(self.rows)

    @property
    def is_first(self) -> bool:
        return self.start <= 0

    @property
    def is_last(self) -> bool:
        return self.end >= self.total

    @property
    def first_key(self) -> Key | None:
        return self.keys[0] if self.keys else None

    @property
    def last_key(self) -> Key | None:
        return self.keys[-1] if self.keys else None

    def row(self, index: int) -> tuple[str, ...] | None:
        """Row ``index`` of the whole table, if this page holds it."""
        if self.start <= index < self.end:
            return self.rows[index - self.start]
        return None

    def cut(self, start: int, end: int) -> Page:
        """The rows ``start``…``end - 1`` (whole-table positions) that this page holds."""
        lo, hi = max(start, self.start) - self.start, min(end, self.end) - self.start
        hi = max(hi, lo)
        keys = self.keys[lo:hi] if self.keys else ()
        return Page(self.columns, self.rows[lo:hi], self.start + lo, self.total, keys, self.widths)

    def join(self, other: Page) -> Page:
        """This page and one that continues it on either side, as one page (``other``'s total wins)."""
        if other.start == self.end:
            head, tail = self, other
        elif other.end == self.start:
            head, tail = other, self
        else:
            raise ValueError(f"rows {other.start}–{other.end} do not touch rows {self.start}–{self.end}")
        keys = [*head.keys, *tail.keys] if head.keys and tail.keys else ()
        return Page(self.columns, [*head.rows, *tail.rows], head.start, other.total, keys, other.widths)


class RowSource(Protocol):
    """Rows of one table (or one sorted, filtered view of it), by position.

    Called from worker threads; an implementation must not touch the UI.
    A source is a snapshot of one question (a table and its filter, a report
    and its sort): asking another question means another source.
    """

    @property
    def columns(self) -> tuple[str, ...]: ...

    def total(self) -> int:
        """How many rows there are (counted once, then cached)."""
        ...

    def window(self, start: int, count: int, near: Page | None = None) -> Page:
        """Rows ``start`` … ``start + count - 1`` (fewer at the end of the table).

        ``near`` is a page the caller holds that the window continues, on
        either side: a keyset source then reads on from that page's edge
        key instead of counting rows from an end of the table.
        """
        ...


def store_filter_mask(ids: np.ndarray, wanted: str) -> np.ndarray:
    """Which of ``ids`` a store filter shows, in a table held in memory (a report, the fleet status).

    The rule of the database's :class:`~storemon_tui.db.browse.Pager`: the id
    typed exactly, or, when no id is exactly that, every id starting with it
    (so a user can type the first digits).
    """
    import numpy as np

    text = np.asarray(ids, dtype=object).astype(str)
    exact = text == wanted
    return exact if exact.any() else np.char.startswith(text, wanted)  # np.strings needs numpy 2; 1.26 is supported


@dataclass(frozen=True)
class Fetch:
    """A window a :class:`RowWindow` wants: ``source.window(start, count, near)``."""

    start: int
    count: int
    near: Page | None = None


class RowWindow:
    """The rows a table widget holds: one contiguous :class:`Page`, kept around the viewport.

    The widget says where its viewport is (:meth:`wanted`), fetches what this
    asks for in a worker, and hands the result back (:meth:`add`). Rows next
    to the held page are read on by key from its edge, before the viewport
    gets there (``margin``); a viewport far from the held rows (Home, End, a
    jump, a scroll-bar drag) gets a fresh window around it. At most ``keep``
    rows are held, so paging through millions of rows costs constant memory.
    """

    def __init__(self, block: int = 200, keep: int = 1000) -> None:
        if keep < 2 * block:
            raise ValueError("keep at least two blocks: one being read on from, one being added")
        self.block, self.keep = block, keep
        self.page: Page | None = None

    @property
    def total(self) -> int | None:
        """Rows in the whole table (None until the first window arrives)."""
        return None if self.page is None else self.page.total

    def row(self, index: int) -> tuple[str, ...] | None:
        return None if self.page is None else self.page.row(index)

    def wanted(self, top: int, height: int) -> Fetch | None:
        """What to fetch next for a viewport of ``height`` rows from row ``top`` (None: nothing)."""
        page, block = self.page, self.block
        if page is None:
            return Fetch(max(top - (block - height) // 2, 0), block)
        total = page.total
        margin = max(height, block // 4)
        lo, hi = max(top - margin, 0), min(top + height + margin, total)
        if top + height <= page.start - block or top >= page.end + block:
            # Out of reach of the held rows: a window around the viewport (OFFSET, or by key at an end).
            return Fetch(max(min(top - (block - height) // 2, total - block), 0), block)
        if hi > page.end and not page.is_last:
            return Fetch(page.end, block, near=page)
        if lo < page.start:
            start = max(page.start - block, 0)
            return Fetch(start, page.start - start, near=page)
        return None

    def add(self, page: Page, top: int, height: int) -> None:
        """Take a fetched window: join it to the held rows if it continues them, else replace them;
        then drop rows beyond ``keep``, farthest from the viewport first."""
        held = self.page
        if held is not None and page.rows and (page.start == held.end or page.end == held.start):
            page = held.join(page)
        elif held is not None and not page.rows and page.start == held.end:
            # Nothing after the held rows: the table ends there (it shrank since it was counted).
            page = Page(held.columns, held.rows, held.start, held.end, held.keys, page.widths)
        if len(page.rows) > self.keep:
            start = min(max(top + height // 2 - self.keep // 2, page.start), page.end - self.keep)
            page = page.cut(start, start + self.keep)
        self.page = page

    def clear(self) -> None:
        self.page = None
