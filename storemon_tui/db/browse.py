"""Paging through any table, as fast on the last page of two million rows as on the first.

Pages are fetched with keyset queries (``WHERE (k1, k2) > (?, ?) ORDER BY k1,
k2 LIMIT n``): each page is one index range read, independent of how deep
into the table it is. ``OFFSET`` is used only to jump to an arbitrary page
number, and then from whichever end of the table is nearer.

Rows come back as display strings (timestamps in ISO form, weekday names,
``active``/``inactive``), ready for a table widget or a terminal.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, text

from storemon_tui.db.database import Database
from storemon_tui.display import DAY_NAMES, format_time_of_day, format_ts_us

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
    """SELECT list and FROM clause, with the key columns first, aliased k1, k2…"""
    keys: tuple[str, ...]
    """SQL expressions of the keyset, in order."""
    formatters: tuple[Any, ...]
    base_table: str = ""
    """The table counted (without joins, so counting 2 M polls stays ~30 ms)."""
    store_column: str | None = "t.store_key"
    descending: bool = False


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            name="polls",
            base_table="poll",
            title="Polls",
            columns=("store_id", "timestamp_utc", "status"),
            select="SELECT t.store_key, t.ts_us, s.store_id, t.ts_us, t.active FROM poll t "
            "JOIN store s ON s.store_key = t.store_key",
            keys=("t.store_key", "t.ts_us"),
            formatters=(_plain, format_ts_us, _status),
        ),
        TableSpec(
            name="business_hours",
            base_table="business_hours",
            title="Business hours",
            columns=("store_id", "dayOfWeek", "start_time_local", "end_time_local"),
            select="SELECT t.store_key, t.id, s.store_id, t.day_of_week, t.start_us, t.end_us FROM business_hours t "
            "JOIN store s ON s.store_key = t.store_key",
            keys=("t.store_key", "t.id"),
            formatters=(_plain, _day, format_time_of_day, format_time_of_day),
        ),
        TableSpec(
            name="time_zones",
            base_table="store_timezone",
            title="Time zones",
            columns=("store_id", "timezone_str"),
            select="SELECT t.store_key, s.store_id, t.timezone_str FROM store_timezone t "
            "JOIN store s ON s.store_key = t.store_key",
            keys=("t.store_key",),
            formatters=(_plain, _plain),
        ),
        TableSpec(
            name="reports",
            base_table="report",
            title="Reports",
            columns=("id", "created", "status", "as_of", "stores", "progress"),
            select="SELECT t.created_at, t.id, t.id, t.created_at, t.status, t.as_of_us, t.row_count, t.progress "
            "FROM report t",
            keys=("t.created_at", "t.id"),
            formatters=(_plain, _plain, _plain, format_ts_us, _plain, _plain),
            store_column=None,
            descending=True,
        ),
    )
}


@dataclass
class Page:
    """One page of display rows and where it sits in the table."""

    table: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    number: int
    """1-based page number."""
    page_count: int
    total: int
    first_key: tuple[Any, ...] | None = None
    last_key: tuple[Any, ...] | None = None

    @property
    def is_first(self) -> bool:
        return self.number <= 1

    @property
    def is_last(self) -> bool:
        return self.number >= self.page_count


@dataclass
class Pager:
    """Pages of one table, optionally filtered to store ids.

    The filter matches a store id exactly, or, when no id matches exactly,
    every id starting with the text (so a user can type the first digits).
    """

    db: Database
    table: str
    page_size: int = 200
    store_filter: str = ""
    _total: int | None = field(default=None, init=False, repr=False)
    _store_keys: list[int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.table not in TABLES:
            raise ValueError(f"unknown table {self.table!r}; choose from {', '.join(TABLES)}")
        if self.page_size < 1:
            raise ValueError("page size must be at least 1")

    @property
    def spec(self) -> TableSpec:
        return TABLES[self.table]

    # -- counting and filtering ---------------------------------------------------------

    def refresh(self) -> None:
        """Forget the cached count and filter (after an import or a clear)."""
        self._total = None
        self._store_keys = None

    def _filter_keys(self, conn: Connection) -> list[int] | None:
        if not self.store_filter.strip() or self.spec.store_column is None:
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
                count = f"SELECT count(*) FROM {self.spec.base_table} t{clause}"
                self._total = int(c.execute(text(count), params).scalar() or 0)
        return self._total

    def page_count(self, conn: Connection | None = None) -> int:
        return max(1, -(-self.total(conn) // self.page_size))

    # -- pages ----------------------------------------------------------------------------

    def first(self) -> Page:
        with self.db.connect() as conn:
            return self._fetch(conn, after=None, backwards=False, number=1)

    def last(self) -> Page:
        with self.db.connect() as conn:
            return self._last(conn)

    def next(self, page: Page) -> Page:
        if page.is_last or page.last_key is None:
            return page
        with self.db.connect() as conn:
            return self._fetch(conn, after=page.last_key, backwards=False, number=page.number + 1)

    def previous(self, page: Page) -> Page:
        if page.is_first or page.first_key is None:
            return page
        with self.db.connect() as conn:
            return self._fetch(conn, after=page.first_key, backwards=True, number=page.number - 1)

    def goto(self, number: int) -> Page:
        """Jump to page ``number`` (clamped); OFFSET from the nearer end."""
        with self.db.connect() as conn:
            pages = self.page_count(conn)
            number = min(max(number, 1), pages)
            if number == 1:
                return self._fetch(conn, after=None, backwards=False, number=1)
            if number == pages:
                return self._last(conn)
            offset = (number - 1) * self.page_size
            from_end = self.total(conn) - offset - self.page_size
            if from_end < offset:
                return self._fetch(conn, after=None, backwards=True, number=number, offset=from_end)
            return self._fetch(conn, after=None, backwards=False, number=number, offset=offset)

    def _last(self, conn: Connection) -> Page:
        """The last page holds what is left after the full pages, so numbering stays aligned."""
        pages = self.page_count(conn)
        remainder = self.total(conn) - (pages - 1) * self.page_size
        return self._fetch(conn, after=None, backwards=True, number=pages, limit=max(remainder, 1))

    def _fetch(
        self,
        conn: Connection,
        *,
        after: tuple[Any, ...] | None,
        backwards: bool,
        number: int,
        limit: int | None = None,
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
        params["limit"] = limit or self.page_size
        params["offset"] = offset
        sql = f"{spec.select}{clause} ORDER BY {order} LIMIT :limit OFFSET :offset"
        rows = conn.execute(text(sql), params).all()
        if backwards:
            rows = list(reversed(rows))
        width = len(spec.keys)
        display = [tuple(fmt(value) for fmt, value in zip(spec.formatters, row[width:], strict=True)) for row in rows]
        return Page(
            table=self.table,
            columns=spec.columns,
            rows=display,
            number=number,
            page_count=self.page_count(conn),
            total=self.total(conn),
            first_key=tuple(rows[0][:width]) if rows else None,
            last_key=tuple(rows[-1][:width]) if rows else None,
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
