"""The fleet status as an operator reads it: each store's state, worst first, and the fleet at a glance.

:mod:`storemon_tui.report.status` computes the spec's columns per store;
this module decides what deserves attention first, which is a matter of
presentation, not of the contract: a store is

* **down**: open now and its status now is ``inactive`` — the longest
  business-hours run first (a store with no earlier status at all, down for
  as long as its history goes back, before every other);
* **silent**: its latest poll is older than the silent threshold (2 h
  unless set otherwise; kept in the database, so every client of a shared
  database uses the same) — the longest silence first;
* **worse**: its last-week uptime % fell by :data:`WORSE_POINTS` points or
  more against the previous week's (the two-decimal values, as shown) —
  the biggest fall first;
* **fine**: the rest, the lowest last-week uptime % first (none last).

A store takes the first state that applies. Ties go by store id. The board
also keeps each column's display text, built once per computation; a new
silent threshold re-ranks without recomputing. Core: no UI imports (the
app's Status pane draws a :class:`StatusBoard`; it is built in a worker).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import Connection

from storemon_tui.db.database import Database, get_data_version
from storemon_tui.db.summary_sql import STATUS_SILENT_KEY, set_meta_sql
from storemon_tui.display import fit_cells
from storemon_tui.paging import Page, store_filter_mask
from storemon_tui.report.status import ACTIVE, INACTIVE, StatusResult, status_rows
from storemon_tui.safe_text import visible
from storemon_tui.timebase import MINUTE_US

DOWN, SILENT, WORSE, FINE = 0, 1, 2, 3
"""A store's state, in the order the board lists them."""
MARKERS = ("DOWN", "SILENT", "WORSE", "ok")
"""Each state as text, in the table's first column: the same without colour (``NO_COLOR``)."""
DEFAULT_SILENT_MINUTES = 120
WORSE_POINTS = 10
"""A fall of this many points of week uptime % (or more) against the previous week makes a store worse."""
BOARD_COLUMNS = ("state", "store_id", "open", "now", "for h", "since UTC", "silent", "week %", "prev %")
"""The table's columns: state, then the spec's columns as an operator reads them (``for h`` is
``run_business_hours``, ``now`` is ``status_now`` as up/down, ``since UTC`` to the minute,
``silent`` is ``silent_hours``). Short, so that a 20-digit store id and every column fit 80 columns."""
RIGHT_ALIGNED = frozenset({4, 5, 6, 7, 8})
ID_COLUMN = 1
NOTHING = "—"
"""A value the spec leaves empty (no earlier status, no business hours with evidence, no poll a week ago)."""
_NOW_WORDS = {ACTIVE: "up", INACTIVE: "down"}


def silent_minutes(conn: Connection) -> int:
    """The silent threshold in minutes, as set in the database (else :data:`DEFAULT_SILENT_MINUTES`)."""
    value = conn.exec_driver_sql(f"SELECT value FROM meta WHERE key = '{STATUS_SILENT_KEY}'").scalar()
    try:
        minutes = int(value) if value is not None else DEFAULT_SILENT_MINUTES
    except ValueError:
        return DEFAULT_SILENT_MINUTES  # written by something else: the default, not a crash
    return minutes if minutes > 0 else DEFAULT_SILENT_MINUTES


def save_silent_minutes(db: Database, minutes: int) -> None:
    """Remember the silent threshold in the database (every client of it uses the same)."""
    if minutes <= 0:
        raise ValueError("the silent threshold must be positive")
    with db.begin_write() as conn:
        conn.exec_driver_sql(set_meta_sql(STATUS_SILENT_KEY, minutes))


def state_masks(result: StatusResult, silent_us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which stores are down, silent and worse (a store may be several)."""
    down = result.open_now & (result.status_now == INACTIVE)
    silent = result.silent_us > silent_us
    week = result.uptime_pct_hundredths()
    prev = result.uptime_pct_hundredths(previous=True)
    worse = (week >= 0) & (prev >= 0) & (prev - week >= 100 * WORSE_POINTS)
    return down, silent, worse


def store_states(masks: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Each store's state (:data:`DOWN` … :data:`FINE`): the first that applies."""
    return np.select(list(masks), [DOWN, SILENT, WORSE], default=FINE).astype(np.int8)


def worst_first(result: StatusResult, states: np.ndarray) -> np.ndarray:
    """Row positions, worst first: by state, then the state's own measure, then store id (the result's order)."""
    n = len(result)
    week = result.uptime_pct_hundredths()
    prev = result.uptime_pct_hundredths(previous=True)
    forever = np.iinfo(np.int64).min  # a down store without an earlier status: down as long as history goes
    measure = np.select(
        [states == DOWN, states == SILENT, states == WORSE, week >= 0],
        [
            np.where(result.has_since, -result.run_ticks, forever),
            -result.silent_us,
            week - prev,
            week,
        ],
        default=np.iinfo(np.int64).max,
    )
    return np.lexsort((np.arange(n), measure, states))


@dataclass(frozen=True)
class FleetGlance:
    """The fleet in one look: the Status pane's header."""

    stores: int
    open_now: int
    down_now: int
    """Open stores whose status now is inactive."""
    silent: int
    worse: int
    silent_minutes: int
    week_pct: int | None
    """Fleet uptime % of the last week in hundredths: all stores' uptime over all their business hours."""
    previous_pct: int | None
    """The same for the week before (stores with a poll by then)."""

    @property
    def trend(self) -> str:
        """``↑``, ``↓`` or ``→`` comparing the two values as shown; empty when one is missing."""
        if self.week_pct is None or self.previous_pct is None:
            return ""
        return "↑" if self.week_pct > self.previous_pct else "↓" if self.week_pct < self.previous_pct else "→"


def fleet_glance(result: StatusResult, masks: tuple[np.ndarray, np.ndarray, np.ndarray], minutes: int) -> FleetGlance:
    """The counts of each kind of trouble (a store down and silent counts in both) and the fleet's uptime."""
    down, silent, worse = masks
    prev = result.prev_reported
    return FleetGlance(
        stores=len(result),
        open_now=int(result.open_now.sum()),
        down_now=int(down.sum()),
        silent=int(silent.sum()),
        worse=int(worse.sum()),
        silent_minutes=minutes,
        week_pct=_fleet_pct(result.week_up_ticks, result.week_down_ticks),
        previous_pct=_fleet_pct(result.prev_up_ticks[prev], result.prev_down_ticks[prev]),
    )


def _fleet_pct(up: np.ndarray, down: np.ndarray) -> int | None:
    """``100 × Σup / Σ(up + down)`` in hundredths, half to even, in Python integers (no int64 overflow)."""
    total_up, total = int(up.sum()), int(up.sum()) + int(down.sum())
    if total == 0:
        return None
    q, r = divmod(10_000 * total_up, total)
    return q + (2 * r > total or (2 * r == total and q % 2 == 1))


def format_pct(hundredths: int | None) -> str:
    return NOTHING if hundredths is None else f"{hundredths // 100}.{hundredths % 100:02d}"


def _display_columns(result: StatusResult) -> list[np.ndarray]:
    """Every column but the state, as display text (object arrays, the result's row order)."""
    n = len(result)
    rows = status_rows(result)
    spec = [np.array([row[i] for row in rows], dtype=object) if n else np.zeros(0, dtype=object) for i in range(9)]
    now_words = np.array([_NOW_WORDS.get(int(s), NOTHING) for s in result.status_now], dtype=object)
    since = np.full(n, NOTHING, dtype=object)
    if result.has_since.any():
        year = datetime.fromtimestamp(result.now_us // 1_000_000, tz=UTC).strftime("%Y-")
        text = spec[3][result.has_since]
        since[result.has_since] = [t[5:16] if t.startswith(year) else t[:16] for t in text]
    columns = [spec[0], spec[1], now_words, spec[4], since, spec[6], spec[7], spec[8]]
    for column in (columns[3], columns[6], columns[7]):
        column[column == ""] = NOTHING
    return columns


class StatusBoard:
    """One fleet status, ranked and ready to draw; ``version`` is the data version it was computed from."""

    def __init__(
        self,
        result: StatusResult,
        minutes: int = DEFAULT_SILENT_MINUTES,
        version: int | None = None,
        *,
        columns: list[np.ndarray] | None = None,
    ) -> None:
        self.result, self.silent_minutes, self.version = result, minutes, version
        self.columns = columns if columns is not None else _display_columns(result)
        masks = state_masks(result, minutes * MINUTE_US)
        self.states = store_states(masks)
        self.order = worst_first(result, self.states)
        self.glance = fleet_glance(result, masks, minutes)

    @property
    def now_us(self) -> int:
        return self.result.now_us

    def with_silent_minutes(self, minutes: int) -> StatusBoard:
        """The same status ranked with another silent threshold (no recomputation)."""
        return StatusBoard(self.result, minutes, self.version, columns=self.columns)

    def view(self, store_filter: str = "", *, id_cells: int | None = None) -> StatusView:
        """Worst first, filtered by store id; ids wider than ``id_cells`` are cut (``…``) on screen."""
        return StatusView(self, store_filter.strip(), id_cells)

    def row(self, position: int) -> tuple[str, ...]:
        """Row ``position`` of the result (store id order) as the table shows it."""
        return (MARKERS[self.states[position]], *(str(column[position]) for column in self.columns))


class StatusView:
    """The board worst first, filtered by store id: a :class:`~storemon_tui.paging.RowSource` held in memory."""

    def __init__(self, board: StatusBoard, store_filter: str, id_cells: int | None = None) -> None:
        self.board, self.filter, self.id_cells = board, store_filter, id_cells
        order = board.order
        if store_filter:
            order = order[store_filter_mask(board.result.store_ids[order], store_filter)]
        self._order = order

    @property
    def columns(self) -> tuple[str, ...]:
        return BOARD_COLUMNS

    def total(self) -> int:
        return len(self._order)

    def store_id(self, index: int) -> str:
        """The whole id of row ``index`` (the table may show it cut)."""
        return str(self.board.result.store_ids[self._order[index]])

    def window(self, start: int, count: int, near: Page | None = None) -> Page:
        start = min(max(start, 0), self.total())
        rows = [self.board.row(int(p)) for p in self._order[start : start + max(count, 0)]]
        if self.id_cells is not None:
            rows = [(r[0], fit_cells(visible(r[1]), self.id_cells), *r[2:]) for r in rows]
        return Page(BOARD_COLUMNS, rows, start, self.total())


def column_widths(board: StatusBoard) -> list[int]:
    """Each column's width on screen: its widest value or label (escaped, in cells) and one space.

    Measured once over the whole board, so scrolling never widens a column.
    """
    from rich.cells import cell_len

    ids = board.result.store_ids
    widest_id = max((cell_len(visible(s)) for s in ids), default=0)
    widths = [max(len(m) for m in MARKERS), widest_id]
    widths += [max((len(str(v)) for v in column), default=0) for column in board.columns[1:]]
    return [max(w, len(label)) + 1 for w, label in zip(widths, BOARD_COLUMNS, strict=True)]


def load_board(
    db: Database,
    *,
    progress: Callable[[float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> StatusBoard:
    """The fleet status as of the latest poll, with the threshold and data version of the same snapshot."""
    from storemon_tui.report.pipeline import run_status

    with db.snapshot() as conn:
        version = get_data_version(conn)
        minutes = silent_minutes(conn)
        result = run_status(conn, None, progress=progress, should_cancel=should_cancel)
    return StatusBoard(result, minutes, version)
