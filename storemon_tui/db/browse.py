"""Paging through any table, as fast at the end of two million rows as at the start.

Windows of rows continue the one a reader holds with keyset queries
(``WHERE (k1, k2) > (?, ?) ORDER BY k1, k2 LIMIT n``): each is one index
range read, independent of how deep into the table it is. ``OFFSET`` is used
only to jump to an arbitrary row, and then from whichever end of the table
is nearer.

Rows come back as display strings (timestamps in ISO form, weekday names,
``active``/``inactive``), ready for a table widget or a terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, text

from storemon_tui.db.database import Database
from storemon_tui.db.poll_sources import POLL_TABLES
from storemon_tui.display import DAY_NAMES, format_time_of_day, format_ts_us
from storemon_tui.paging import Key, Page

MAX_FILTER_STORES = 5_000


def _day(value: int) -> str:
    return f"{value} {DAY_NAMES[value]}" if 0 <= value < 7 else str(value)


def _status(value: int) -> str:
    return "active" if value else "inactive"


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.0f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@dataclass(frozen=True)
class TableSpec:
    """How to page one table: what to select, in which order, how to show it."""

    name: str
    title: str
    columns: tuple[str, ...]
    select: str
    """SELECT list and FROM clause, with the key columns first. ``{rows}`` in it, if any, stands for
    the rows of :attr:`base_tables`, aliased ``t`` (a table held in two tables, see :meth:`Pager._fetch`)."""
    keys: tuple[str, ...]
    """SQL expressions of the keyset, in order."""
    formatters: tuple[Any, ...]
    base_tables: tuple[str, ...] = ()
    """The tables counted (without joins, so the count stays cheap at millions of polls; bench/README.md)."""
    widths: tuple[int | str, ...] = ()
    """Per column, the widest display value: a fixed number, or a query for the widest
    value of a free-text column (store ids, zone names)."""
    store_column: str | None = "t.store_key"
    descending: bool = False


def _utc(ts_us: int | None) -> str:
    """A UTC instant in a column whose name says ``_utc``: no suffix on every row."""
    return format_ts_us(ts_us).removesuffix(" UTC")


STORE_ID_WIDTH = "SELECT max(length(store_id)) FROM store"


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            name="polls",
            base_tables=POLL_TABLES,
            title="Polls",
            columns=("store_id", "timestamp_utc", "status"),
            select="SELECT t.store_key, t.ts_us, s.store_id, t.ts_us, t.active FROM {rows} t "
            "JOIN store s ON s.store_key = t.store_key",
            keys=("t.store_key", "t.ts_us"),
            formatters=(_plain, _utc, _status),
            widths=(STORE_ID_WIDTH, 26, 8),
        ),
        TableSpec(
            name="business_hours",
            base_tables=("business_hours",),
            title="Business hours",
            columns=("store_id", "dayOfWeek", "start_time_local", "end_time_local"),
            select="SELECT t.store_key, t.id, s.store_id, t.day_of_week, t.start_us, t.end_us FROM business_hours t "
            "JOIN store s ON s.store_key = t.store_key",
            keys=("t.store_key", "t.id"),
            formatters=(_plain, _day, format_time_of_day, format_time_of_day),
            widths=(STORE_ID_WIDTH, 5, 15, 15),
        ),
        TableSpec(
            name="time_zones",
            base_tables=("store_timezone",),
            title="Time zones",
            columns=("store_id", "timezone_str"),
            select="SELECT t.store_key, s.store_id, t.timezone_str FROM store_timezone t "
            "JOIN store s ON s.store_key = t.store_key",
            keys=("t.store_key",),
            formatters=(_plain, _plain),
            widths=(STORE_ID_WIDTH, "SELECT max(length(timezone_str)) FROM store_timezone"),
        ),
        TableSpec(
            name="reports",
            base_tables=("report",),
            title="Reports",
            columns=("id", "created_utc", "status", "as_of_utc", "stores", "progress"),
            select="SELECT t.created_at, t.id, t.id, t.created_at, t.status, t.as_of_us, t.row_count, t.progress "
            "FROM report t",
            keys=("t.created_at", "t.id"),
            formatters=(_plain, _plain, _plain, _utc, _plain, _plain),
            widths=(32, 19, 9, 26, 0, 0),
            store_column=None,
            descending=True,
        ),
    )
}


@dataclass
class Pager:
    """Windows of rows of one table, optionally filtered to store ids (a :class:`RowSource`).

    The filter matches a store id exactly, or, when no id matches exactly,
    every id starting with the text (so a user can type the first digits).
    """

    db: Database
    table: str
    page_size: int = 200
    """Rows of :meth:`first`, :meth:`last`, :meth:`after` and :meth:`before` by default."""
    store_filter: str = ""
    _total: int | None = field(default=None, init=False, repr=False)
    _widths: tuple[int, ...] | None = field(default=None, init=False, repr=False)
    _store_keys: list[int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}; choose from {', '.join(TABLES)}")
        if self.page_size < 1:
            raise ValueError("page size must be at least 1")

    @property
    def spec(self) -> TableSpec:
        return TABLES[self.table]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.spec.columns

    @property
    def filtered(self) -> bool:
        """True if the store filter applies to this table (the reports table has no store column)."""
        return bool(self.store_filter.strip()) and self.spec.store_column is not None

    # -- counting and filtering ---------------------------------------------------------

    def refresh(self) -> None:
        """Forget the cached count, widths and filter (after an import or a clear)."""
        self._total = None
        self._widths = None
        self._store_keys = None

    def store_keys(self, conn: Connection | None = None) -> list[int] | None:
        """The stores the filter shows (``None``: no filter applies). One home for what a filter
        matches, so clearing "the rows shown" deletes exactly those."""
        with _maybe(self.db, conn) as c:
            return self._filter_keys(c)

    def _filter_keys(self, conn: Connection) -> list[int] | None:
        if not self.filtered:
            return None
        if self._store_keys is None:
            wanted = self.store_filter.strip()
            exact = conn.execute(text("SELECT store_key FROM store WHERE store_id = :s"), {"s": wanted}).all()
            if not exact:
                exact = conn.execute(
                    text(
                        "SELECT store_key FROM store WHERE store_id >= :lo AND store_id < :hi"
                        " ORDER BY store_key LIMIT :n"
                    ),
                    {"lo": wanted, "hi": wanted + "\U0010ffff", "n": MAX_FILTER_STORES},
                ).all()
            self._store_keys = [key for (key,) in exact]
        return self._store_keys

    def _where(self, conn: Connection) -> tuple[list[str], dict[str, Any]]:
        keys = self._filter_keys(conn)
        if keys is None:
            return [], {}
        if not keys:
            return ["1 = 0"], {}
        marks = ",".join(f":f{i}" for i in range(len(keys)))
        return [f"{self.spec.store_column} IN ({marks})"], {f"f{i}": key for i, key in enumerate(keys)}

    def total(self, conn: Connection | None = None) -> int:
        if self._total is None:
            with _maybe(self.db, conn) as c:
                where, params = self._where(c)
                clause = f" WHERE {' AND '.join(where)}" if where else ""
                self._total = sum(
                    int(c.execute(text(f"SELECT count(*) FROM {table} t{clause}"), params).scalar() or 0)
                    for table in self.spec.base_tables
                )
        return self._total

    def widths(self, conn: Connection | None = None) -> tuple[int, ...]:
        """The widest display value of each column over the whole table (an upper bound; cached)."""
        if self._widths is None:
            with _maybe(self.db, conn) as c:
                self._widths = tuple(
                    width if isinstance(width, int) else int(c.execute(text(width)).scalar() or 0)
                    for width in self.spec.widths
                )
        return self._widths

    # -- windows --------------------------------------------------------------------------

    def first(self, count: int | None = None) -> Page:
        return self.window(0, count or self.page_size)

    def last(self, count: int | None = None) -> Page:
        count = count or self.page_size
        return self.window(max(self.total() - count, 0), count)

    def after(self, page: Page, count: int | None = None) -> Page:
        """The rows that follow ``page`` (keyset: one index range read, however deep)."""
        return self.window(page.end, count or self.page_size, near=page)

    def before(self, page: Page, count: int | None = None) -> Page:
        """The rows that precede ``page``."""
        count = count or self.page_size
        start = max(page.start - count, 0)
        return self.window(start, page.start - start, near=page)

    def window(self, start: int, count: int, near: Page | None = None) -> Page:
        """Rows ``start`` … ``start + count - 1``: by key from ``near``'s edge when the window
        continues it, from the first or last row by key when it touches an end of the table,
        and otherwise by ``OFFSET`` from the nearer end (a jump)."""
        with self.db.connect() as conn:
            total = self.total(conn)
            start = min(max(start, 0), total)
            count = max(min(count, total - start), 0)
            fetch = partial(self._fetch, conn, start=start, limit=count)
            if count == 0:
                return self._page(conn, [], start)
            if near is not None and near.last_key is not None and start == near.end:
                return fetch(after=near.last_key, backwards=False)
            if near is not None and near.first_key is not None and start + count == near.start:
                return fetch(after=near.first_key, backwards=True)
            if start == 0:
                return fetch(after=None, backwards=False)
            from_end = total - start - count
            if from_end < start:
                return fetch(after=None, backwards=True, offset=from_end)
            return fetch(after=None, backwards=False, offset=start)

    def _fetch(
        self,
        conn: Connection,
        *,
        start: int,
        limit: int,
        after: Key | None,
        backwards: bool,
        offset: int = 0,
    ) -> Page:
        spec = self.spec
        where, params = self._where(conn)
        # Reading "backwards" means against the display order.
        against = backwards != spec.descending
        if after is not None:
            row_key = f"({', '.join(spec.keys)})" if len(spec.keys) > 1 else spec.keys[0]
            marks = ", ".join(f":k{i}" for i in range(len(after)))
            marks = f"({marks})" if len(after) > 1 else marks
            where.append(f"{row_key} {'<' if against else '>'} {marks}")
            params.update({f"k{i}": value for i, value in enumerate(after)})
        direction = " DESC" if against else ""
        order = ", ".join(f"{key}{direction}" for key in spec.keys)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        params["limit"] = limit
        params["offset"] = offset
        if "{rows}" in spec.select:
            sql = spec.select.format(rows=self._union(clause, order)) + f" ORDER BY {order} LIMIT :limit OFFSET :offset"
        else:
            sql = f"{spec.select}{clause} ORDER BY {order} LIMIT :limit OFFSET :offset"
        rows = conn.execute(text(sql), params).all()
        if backwards:
            rows = list(reversed(rows))
        return self._page(conn, rows, start)

    def _union(self, clause: str, order: str) -> str:
        """The rows of every base table (aliased ``t``), each read as far as the page can need.

        Each table gives its own first ``offset + limit`` rows in the page's
        order (one index range read each), so the page over their union is
        exact; a union without the limits would be sorted whole.
        """
        arms = [
            f"SELECT * FROM (SELECT * FROM {table} t{clause} ORDER BY {order} LIMIT :limit + :offset) AS {table}_rows"
            for table in self.spec.base_tables
        ]
        return "(" + " UNION ALL ".join(arms) + ")"

    def _page(self, conn: Connection, rows: Sequence[Any], start: int) -> Page:
        spec = self.spec
        width = len(spec.keys)
        display = [tuple(fmt(value) for fmt, value in zip(spec.formatters, row[width:], strict=True)) for row in rows]
        return Page(
            columns=spec.columns,
            rows=display,
            start=start,
            total=self.total(conn),
            keys=[tuple(row[:width]) for row in rows],
            widths=self.widths(conn),
        )


class _maybe:
    """Use the caller's connection, or open one for the duration."""

    def __init__(self, db: Database, conn: Connection | None) -> None:
        self.db, self.conn = db, conn
        self._cm: AbstractContextManager[Connection] | None = None

    def __enter__(self) -> Connection:
        if self.conn is not None:
            return self.conn
        self._cm = self.db.connect()
        return self._cm.__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._cm is not None:
            self._cm.__exit__(exc_type, exc, tb)
