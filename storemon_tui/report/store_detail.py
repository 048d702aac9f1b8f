"""One store, explained: zone, hours, latest polls, and *when* it was up or down.

The library behind the app's store drill-down (core: no UI imports, so any
client can draw a store's week). The totals shown
are computed by the engine itself (:func:`compute_report` on this one store's
input, so they are the report row by construction); the timeline is built
from the same business intervals (:func:`business_intervals`) and the
contract's nearest-poll ownership, and :attr:`StoreDetail.timeline_row`
re-derives the totals from the drawn segments so tests can check that the
picture and the numbers agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import text

from storemon_tui.db.database import Database
from storemon_tui.db.maintenance import latest_poll_us
from storemon_tui.db.poll_sources import union_of_polls
from storemon_tui.display import DAY_NAMES, format_time_of_day
from storemon_tui.errors import NoPollsError, StoremonError
from storemon_tui.report.engine import compute_report
from storemon_tui.report.formatting import REPORT_COLUMNS, format_hours, format_minutes
from storemon_tui.report.hours import business_intervals, evidence_mask, normalize_local_spans, resolve_zone
from storemon_tui.report.inputs import DEFAULT_ZONE, ReportInput
from storemon_tui.report.status import ACTIVE, NO_STATUS, compute_status
from storemon_tui.timebase import TICKS_PER_US, WEEK_US, WINDOWS_US

CLOSED, UP, DOWN, NO_DATA, OUTSIDE = range(5)
STATE_NAMES = ("closed", "up", "down", "no data", "outside the week")
SLOT_MINUTES = 5
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES


@dataclass(frozen=True)
class CurrentRun:
    """Where the store stands at now (``spec/status.md`` for this one store): the drill-down's "now" line."""

    open_now: bool
    status: int
    """``ACTIVE``, ``INACTIVE`` or ``NO_STATUS`` (no evidence) of :mod:`storemon_tui.report.status`."""
    since_us: int | None
    """When the current status began (truncated to the µs); None when every evidence poll has it."""
    run_ticks: int
    """Business time in ``[since, now)``."""


@dataclass(frozen=True)
class StoreDetail:
    store_id: str
    zone: str
    zone_is_default: bool
    hours_by_day: list[str]
    """Seven display strings, Monday first."""
    now_us: int
    polls: int
    evidence_polls: int
    latest: list[tuple[str, str, bool]]
    """(local time, status, taken during business hours), newest first."""
    row: dict[str, str] | None
    """The engine's report row for this store (None: no polls at or before now)."""
    timeline_row: dict[str, str] | None
    """The same totals re-derived from the timeline segments."""
    days: list[date]
    """Local dates of the timeline rows, oldest first."""
    slots: np.ndarray
    """``(len(days), SLOTS_PER_DAY, 5)`` seconds per state in each 5-minute local slot."""
    current: CurrentRun | None = None
    """The store's status now and since when (None: no polls at or before now)."""


def load_store_detail(db: Database, store_id: str, as_of_us: int | None = None, latest: int = 12) -> StoreDetail:
    """One store's week as the store screen shows it: its rows are read, computed on, then formatted."""
    rows = _read_store(db, store_id.strip(), as_of_us)
    zone = resolve_zone(rows.zone_name)
    tz = ZoneInfo(zone)
    inp = _report_input(rows)
    row = _report_row(inp, rows)
    week_start = rows.now_us - WEEK_US
    evidence, bounds, states = _ownership(inp, rows, week_start)
    days, slots = _slots(bounds, states, tz, week_start, rows.now_us)
    return StoreDetail(
        store_id=rows.store_id,
        zone=zone,
        zone_is_default=rows.zone_name is None or zone != str(rows.zone_name).strip(),
        hours_by_day=_hours_by_day(rows.hours),
        now_us=rows.now_us,
        polls=len(rows.ts),
        evidence_polls=int(evidence.sum()),
        latest=_latest_polls(rows, evidence, tz, latest),
        row=row,
        timeline_row=_totals(rows.store_id, bounds, states, rows.now_us) if row is not None else None,
        days=days,
        slots=slots,
        current=_current_run(inp, rows),
    )


@dataclass(frozen=True)
class _StoreRows:
    """What the database holds for one store, up to now."""

    store_id: str
    now_us: int
    ts: np.ndarray
    """int64 poll instants at or before now, ascending."""
    active: np.ndarray
    """bool status of each poll."""
    hours: list[tuple[int, int, int]]
    """(day_of_week, start_us, end_us) rows, by day and start."""
    zone_name: str | None


_STORE_POLLS = union_of_polls("store_key = :k AND ts_us <= :n", columns="ts_us, active")


def _read_store(db: Database, store_id: str, as_of_us: int | None) -> _StoreRows:
    """The query: the store's polls up to now, its hours and its zone, in one connection."""
    with db.connect() as conn:
        key = conn.execute(text("SELECT store_key FROM store WHERE store_id = :s"), {"s": store_id}).scalar()
        if key is None:
            raise StoremonError(f"no store with id {store_id!r}")
        now_us = as_of_us if as_of_us is not None else latest_poll_us(conn)
        if now_us is None:
            raise NoPollsError()
        polls = conn.execute(
            text(f"SELECT ts_us, active FROM ({_STORE_POLLS}) AS u ORDER BY ts_us"),
            {"k": key, "n": now_us},
        ).all()
        hours = conn.execute(
            text(
                "SELECT day_of_week, start_us, end_us FROM business_hours WHERE store_key = :k"
                " ORDER BY day_of_week, start_us"
            ),
            {"k": key},
        ).all()
        zone_name = conn.execute(
            text("SELECT timezone_str FROM store_timezone WHERE store_key = :k"), {"k": key}
        ).scalar()
    return _StoreRows(
        store_id=store_id,
        now_us=int(now_us),
        ts=np.array([p[0] for p in polls], dtype=np.int64),
        active=np.array([bool(p[1]) for p in polls], dtype=bool),
        hours=[(int(d), int(s), int(e)) for d, s, e in hours],
        zone_name=zone_name,
    )


def _report_input(rows: _StoreRows) -> ReportInput:
    """The engine's input for this one store (store index 0)."""
    return ReportInput(
        store_ids=np.array([rows.store_id], dtype=object),
        poll_store=np.zeros(len(rows.ts), dtype=np.int64),
        poll_ts_us=rows.ts,
        poll_active=rows.active,
        hours_store=np.zeros(len(rows.hours), dtype=np.int64),
        hours_day=np.array([h[0] for h in rows.hours], dtype=np.int64),
        hours_start_us=np.array([h[1] for h in rows.hours], dtype=np.int64),
        hours_end_us=np.array([h[2] for h in rows.hours], dtype=np.int64),
        zone_store=np.zeros(1 if rows.zone_name is not None else 0, dtype=np.int64),
        zone_name=np.array([rows.zone_name] if rows.zone_name is not None else [], dtype=object),
    )


def _current_run(inp: ReportInput, rows: _StoreRows) -> CurrentRun | None:
    """The fleet status computed for this one store (so it is the Status pane's row by construction)."""
    if not len(rows.ts):
        return None
    status = compute_status(inp, rows.now_us)
    has_since = bool(status.has_since[0])
    return CurrentRun(
        open_now=bool(status.open_now[0]),
        status=int(status.status_now[0]),
        since_us=int(status.since_ticks[0]) // TICKS_PER_US if has_since else None,
        run_ticks=int(status.run_ticks[0]),
    )


def describe_now(detail: StoreDetail) -> str:
    """``Closed now · down for 1.3 business hours since 10:44 (15:44 UTC)``: the drill-down's "now" line.

    ``since`` is in the store's local time, as on the timeline (which marks
    now itself), with its date when it is not now's, its year when it is not
    now's year, and its UTC time, as the Status pane lists it in UTC.
    """
    run = detail.current
    if run is None:
        return "No polls at or before now"
    head = "Open now" if run.open_now else "Closed now"
    if run.status == NO_STATUS:
        return f"{head} · no poll during business hours yet"
    word = "up" if run.status == ACTIVE else "down"
    if run.since_us is None:
        return f"{head} · {word} in all its history"
    now = local_instant(detail, detail.now_us)
    since = local_instant(detail, run.since_us)
    day = "" if since.date() == now.date() else f"{since:%a %m-%d} " if since.year == now.year else f"{since:%Y-%m-%d} "
    utc = since.astimezone(UTC)
    return f"{head} · {word} for {run_text(run.run_ticks)} since {day}{since:%H:%M} ({utc:%H:%M} UTC)"


def run_text(ticks: int) -> str:
    """A run's length in words: ``3.5 business hours``, ``45 business minutes``."""
    minutes = ticks / TICKS_PER_US / 60_000_000
    if round(minutes) < 60:
        return f"{minutes:.0f} business minute{'' if round(minutes) == 1 else 's'}"
    return f"{minutes / 60:.1f} business hours"


def local_instant(detail: StoreDetail, ts_us: int) -> datetime:
    """An instant (to the second) in the store's zone, where the timeline draws it."""
    return datetime.fromtimestamp(ts_us // 1_000_000, tz=UTC).astimezone(ZoneInfo(detail.zone))


def _report_row(inp: ReportInput, rows: _StoreRows) -> dict[str, str] | None:
    """The report row, computed by the engine itself (None: no polls at or before now)."""
    if not len(rows.ts):
        return None
    result = compute_report(inp, rows.now_us)
    return _format_row(rows.store_id, result.uptime_ticks[0], result.downtime_ticks[0])


def _ownership(inp: ReportInput, rows: _StoreRows, week_start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which polls are evidence, and the week cut into closed/up/down/no-data pieces.

    All history is evidence, as in the engine: each poll is tested on its own
    (only the dates around it are generated, so a poll from 1970 costs one
    poll, not 50 years of dates); the timeline needs business intervals for
    the week only. Returns ``(evidence mask, bounds, states)``.
    """
    ts, act = rows.ts, rows.active
    evidence = evidence_mask(inp, np.zeros(len(ts), dtype=np.int64), ts)
    iv = business_intervals(inp, np.array([week_start], dtype=np.int64), rows.now_us + 1, np.array([True]))
    bounds, states = _segments(iv.start_us, iv.end_us, ts[evidence], act[evidence], rows.now_us)
    return evidence, bounds, states


def _latest_polls(rows: _StoreRows, evidence: np.ndarray, tz: ZoneInfo, count: int) -> list[tuple[str, str, bool]]:
    """The newest ``count`` polls, newest first, in the store's local time."""
    polls = zip(rows.ts.tolist(), rows.active.tolist(), evidence.tolist(), strict=True)
    return [(_local(int(t), tz), "active" if a else "inactive", bool(e)) for t, a, e in list(polls)[::-1][:count]]


def _format_row(store_id: str, up: np.ndarray, down: np.ndarray) -> dict[str, str]:
    values = [store_id]
    values.append(str(format_minutes(np.array([up[0]]))[0]))
    values.extend(str(v) for v in format_hours(np.array(up[1:])))
    values.append(str(format_minutes(np.array([down[0]]))[0]))
    values.extend(str(v) for v in format_hours(np.array(down[1:])))
    return dict(zip(REPORT_COLUMNS, values, strict=True))


def _segments(
    starts: np.ndarray, ends: np.ndarray, e_ts: np.ndarray, e_act: np.ndarray, now_us: int
) -> tuple[np.ndarray, np.ndarray]:
    """Partition the week window into (closed / up / down / no data) pieces, in ticks.

    Returns ``bounds`` (n+1 tick instants from the week start to now) and
    ``states`` (n). A business instant takes the status of the nearest
    evidence poll: poll ``i`` owns ``[mid(i-1, i), mid(i, i+1))``.
    """
    nt = TICKS_PER_US * now_us
    w0 = nt - TICKS_PER_US * WINDOWS_US[2]
    mids = e_ts[:-1] + e_ts[1:]  # midpoints in ticks
    cuts = [w0, nt]
    open_a = np.clip(TICKS_PER_US * starts, w0, nt)
    open_b = np.clip(TICKS_PER_US * ends, w0, nt)
    cuts.extend(open_a.tolist())
    cuts.extend(open_b.tolist())
    cuts.extend(mids[(mids > w0) & (mids < nt)].tolist())
    bounds = np.unique(np.array(cuts, dtype=np.int64))
    bounds = bounds[(bounds >= w0) & (bounds <= nt)]
    piece_start = bounds[:-1]
    k = np.searchsorted(open_a, piece_start, side="right") - 1
    kc = np.maximum(k, 0)
    is_open = (k >= 0) & (piece_start < open_b[kc]) if len(open_a) else np.zeros(len(piece_start), dtype=bool)
    states = np.full(len(piece_start), CLOSED, dtype=np.int8)
    if len(e_ts):
        owner = np.searchsorted(mids, piece_start, side="right")
        states[is_open] = np.where(e_act[owner[is_open]], UP, DOWN)
    else:
        states[is_open] = NO_DATA
    return bounds, states


def _totals(store_id: str, bounds: np.ndarray, states: np.ndarray, now_us: int) -> dict[str, str]:
    nt = TICKS_PER_US * now_us
    up = np.zeros(3, dtype=np.int64)
    down = np.zeros(3, dtype=np.int64)
    for w, window in enumerate(WINDOWS_US):
        ws = nt - TICKS_PER_US * window
        length = np.maximum(0, bounds[1:] - np.maximum(bounds[:-1], ws))
        up[w] = int(length[states == UP].sum())
        down[w] = int(length[states == DOWN].sum())
    return _format_row(store_id, up, down)


def _local(ts_us: int, tz: ZoneInfo) -> str:
    moment = datetime.fromtimestamp(ts_us // 1_000_000, tz=UTC).astimezone(tz)
    return moment.strftime("%a %Y-%m-%d %H:%M:%S")


def _hours_by_day(rows: Sequence[Sequence[int]]) -> list[str]:
    if not rows:
        return ["open 24 h"] * 7
    per_day: list[list[str]] = [[] for _ in range(7)]
    for day, start, end in rows:
        s, e = normalize_local_spans(np.array([start]), np.array([end]))
        end_us = int(e[0])
        label = format_time_of_day(end_us % 86_400_000_000) if end_us != 86_400_000_000 else "24:00"
        start_label = format_time_of_day(int(s[0]))
        next_day = "+1" if end_us > 86_400_000_000 else ""
        if 0 <= day < 7:
            per_day[day].append(f"{_hm(start_label)}–{_hm(label)}{next_day}")
    return [", ".join(items) if items else "closed" for items in per_day]


def _hm(clock: str) -> str:
    return clock[:5] if clock.endswith(":00") and "." not in clock else clock


def _slots(
    bounds: np.ndarray, states: np.ndarray, tz: ZoneInfo, week_start_us: int, now_us: int
) -> tuple[list[date], np.ndarray]:
    """Seconds in each state per 5-minute local slot, one row per local date of the week."""
    first = datetime.fromtimestamp(week_start_us / 1e6, tz=UTC).astimezone(tz).date()
    last = datetime.fromtimestamp((now_us - 1) / 1e6, tz=UTC).astimezone(tz).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    # UTC instant of every slot boundary (wall clock, earlier occurrence), in µs.
    edges = np.empty((len(days), SLOTS_PER_DAY + 1), dtype=np.float64)
    for i, day in enumerate(days):
        for k in range(SLOTS_PER_DAY + 1):
            if k == SLOTS_PER_DAY:
                wall = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
            else:
                hour, minute = divmod(SLOT_MINUTES * k, 60)
                wall = datetime.combine(day, time(hour, minute), tzinfo=tz)
            edges[i, k] = wall.timestamp() * 1e6
    xs = bounds.astype(np.float64) / TICKS_PER_US
    lengths = np.diff(xs)
    slots = np.zeros((len(days), SLOTS_PER_DAY, 5), dtype=np.float64)
    flat = edges.reshape(-1)
    for state in (CLOSED, UP, DOWN, NO_DATA):
        cum = np.concatenate([[0.0], np.cumsum(np.where(states == state, lengths, 0.0))])
        at = np.interp(flat, xs, cum).reshape(edges.shape) if len(xs) > 1 else np.zeros(edges.shape)
        slots[:, :, state] = np.diff(at, axis=1) / 1e6
    span = np.diff(edges, axis=1) / 1e6
    slots[:, :, OUTSIDE] = np.maximum(0.0, span - slots[:, :, :4].sum(axis=2))
    return days, slots


def day_label(day: date) -> str:
    return f"{DAY_NAMES[day.weekday()]} {day:%m-%d}"


__all__ = ["DEFAULT_ZONE", "STATE_NAMES", "CurrentRun", "StoreDetail", "day_label", "describe_now", "load_store_detail"]
