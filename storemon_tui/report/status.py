"""Fleet status now, and the week-over-week trend: the contract is ``shared/spec/status.md``.

Who is down right now, since when, who went silent, who got worse than last
week — per store, vectorized like the engine, from the same pieces: a
chunk's business intervals, evidence and nearest-poll ownership
(``engine.report_parts``), run twice — at ``now`` and at ``now − 168 h``
(the previous week's report, with its own polls-up-to rule). A chunk holds
the polls of ``[now − 168 h − 192 h, now]``, so both reports read the same
arrays; anything older is asked of the look-back source, per store.

When the current status began (``since``) is the midpoint between the last
evidence poll of the other status and the evidence poll after it. The
evidence of the chunk's range is complete, so most stores find both there;
a store whose every evidence poll in it has one status looks further back
for the latest evidence poll of the other status (``lookback.py``: a few
polls at a time, filtered by status in the database), then for the first
evidence poll after that one. Never all history.

API for clients (the CLI's ``--status``, the app's Status pane, the
watcher's alerts): :func:`run_status` (a database snapshot) or
:func:`compute_status` (an input in memory) return a :class:`StatusResult`
— per-store arrays sorted by store id — and :func:`status_rows` turns it
into the spec's text columns (:data:`STATUS_COLUMNS`), :func:`status_text`
into the CSV.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np

from storemon_tui.report.engine import (
    CHUNK_STORES,
    LOOKBACK_US,
    STAGES,
    memory_chunks,
    ownership,
    polls_inside,
    read_start,
    window_sums,
)
from storemon_tui.report.formatting import csv_field, format_hours, format_hundredths, round_half_even
from storemon_tui.report.hours import Intervals, Ranges, intervals_in
from storemon_tui.report.inputs import Polls, ReportInput
from storemon_tui.report.lookback import MemoryOlder, OlderPolls, first_evidence_after, latest_evidence_before
from storemon_tui.report.segments import first_per_store, last_per_store, seg_searchsorted, unique_sorted
from storemon_tui.report.timing import Check, Progress, StageTimer, cancel_check, clamped_progress
from storemon_tui.timebase import SECOND_US, TICKS_PER_US, WEEK_US

STATUS_COLUMNS = (
    "store_id",
    "open_now",
    "status_now",
    "since_utc",
    "run_business_hours",
    "last_poll_utc",
    "silent_hours",
    "uptime_pct_last_week",
    "uptime_pct_previous_week",
)
STATUS_HEADER = ",".join(STATUS_COLUMNS)
NO_STATUS, INACTIVE, ACTIVE = -1, 0, 1
"""Values of :attr:`StatusResult.status_now`."""
_STATUS_NAMES = {NO_STATUS: "none", INACTIVE: "inactive", ACTIVE: "active"}


@dataclass(frozen=True)
class StatusResult:
    """The status of every store with a poll at or before ``now_us``, one entry per store in each array.

    Rows are sorted by ``store_ids`` (plain string order) once assembled by
    :meth:`from_chunks`. Durations are exact, in ticks of ½ µs.
    """

    now_us: int
    store_ids: np.ndarray  # object array of str
    open_now: np.ndarray  # bool: now lies inside the store's business hours
    status_now: np.ndarray  # int8: ACTIVE, INACTIVE or NO_STATUS (no evidence)
    has_since: np.ndarray  # bool: the store's evidence has both statuses
    since_ticks: np.ndarray  # int64, where has_since: when the current status began (×2 µs)
    run_ticks: np.ndarray  # int64: business time in [since, now) (0 without since)
    last_poll_us: np.ndarray  # int64: latest poll at or before now, evidence or not
    week_up_ticks: np.ndarray  # int64: the report's last-week uptime at now
    week_down_ticks: np.ndarray  # int64
    prev_reported: np.ndarray  # bool: a poll at or before now − 168 h
    prev_up_ticks: np.ndarray  # int64: the report's last-week uptime at now − 168 h
    prev_down_ticks: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.store_ids)

    def down_now(self) -> int:
        """How many stores are open now and inactive now: the state an operator is paged for
        (``headless.alerts.is_down`` is the same rule over a status row's text)."""
        return int(np.count_nonzero(self.open_now & (self.status_now == INACTIVE)))

    @property
    def silent_us(self) -> np.ndarray:
        """How long since each store's latest poll, in µs."""
        return self.now_us - self.last_poll_us

    def uptime_pct_hundredths(self, previous: bool = False) -> np.ndarray:
        """``100 × up / (up + down)`` in hundredths, rounded half to even; −1 where the spec leaves it empty."""
        up = self.prev_up_ticks if previous else self.week_up_ticks
        total = up + (self.prev_down_ticks if previous else self.week_down_ticks)
        known = total > 0
        if previous:
            known &= self.prev_reported
        out = np.full(len(up), -1, dtype=np.int64)
        out[known] = round_half_even(10_000 * up[known], total[known])
        return out

    @classmethod
    def from_chunks(cls, parts: Sequence[StatusResult], now_us: int) -> StatusResult:
        """All chunks' rows, sorted by store id."""
        if not parts:
            return cls.empty(now_us)
        ids = np.concatenate([p.store_ids for p in parts])
        order = np.argsort(ids.astype(str), kind="stable")
        arrays = {f.name: np.concatenate([getattr(p, f.name) for p in parts])[order] for f in fields(cls)[1:]}
        return cls(now_us=now_us, **arrays)

    @classmethod
    def empty(cls, now_us: int) -> StatusResult:
        z = np.zeros(0, dtype=np.int64)
        b = np.zeros(0, dtype=bool)
        return cls(now_us, np.zeros(0, dtype=object), b, z.astype(np.int8), b, z, z, z, z, z, b, z, z)


# ------------------------------------------------------------------------------- computing


def compute_status(
    inp: ReportInput,
    now_us: int,
    *,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    chunk_stores: int = CHUNK_STORES,
) -> StatusResult:
    """The status table at ``now_us`` of an input held in memory (all history), per the spec."""
    check, report = cancel_check(should_cancel), clamped_progress(progress)
    timer = StageTimer(STAGES)
    count, chunks = memory_chunks(inp, chunk_stores)
    parts = []
    for index, chunk in enumerate(chunks):
        check()
        parts.append(status_chunk(chunk, int(now_us), timer=timer, check=check))
        report((index + 1) / count)
    return StatusResult.from_chunks(parts, int(now_us))


def status_read_start(now_us: int) -> int:
    """The polls a status chunk holds start here: the previous week's report reads from it."""
    return read_start(now_us - WEEK_US)


def status_chunk(
    chunk: ReportInput,
    now_us: int,
    *,
    older: OlderPolls | None = None,
    timer: StageTimer | None = None,
    check: Check | None = None,
) -> StatusResult:
    """The status of one chunk's stores (rows unsorted): a pure function of its input and ``now``.

    Without ``older`` the chunk's polls are all there is; with it, the chunk
    needs only the polls of ``[status_read_start(now), now]`` and ``older``
    answers for anything before.
    """
    timer = timer if timer is not None else StageTimer(STAGES)
    check = check if check is not None else cancel_check(None)
    lo, prev_now = status_read_start(now_us), now_us - WEEK_US
    polls = chunk.polls_up_to(now_us)
    rest = older if older is not None else MemoryOlder(polls.take(polls.ts_us < lo))
    ev = _status_evidence(chunk, polls.take(polls.ts_us >= lo), lo, now_us, rest, timer, check)
    if len(ev.stores) == 0:
        return StatusResult.empty(now_us)
    now_up, now_down = _week(ev.stores, ev.known, ev.intervals, now_us, timer)
    prev_up, prev_down = _week(ev.stores, ev.known.take(ev.known.ts_us <= prev_now), ev.intervals, prev_now, timer)
    with timer.stage("status"):
        last = ev.known.take(last_per_store(ev.known.store))
        status = np.full(len(ev.stores), NO_STATUS, dtype=np.int8)
        status[np.searchsorted(ev.stores, last.store)] = last.active
        since_store, since = _since(chunk, ev.known, rest, lo, check)
        at = np.searchsorted(ev.stores, since_store)
        has_since = np.zeros(len(ev.stores), dtype=bool)
        has_since[at] = True
        since_ticks = np.zeros(len(ev.stores), dtype=np.int64)
        since_ticks[at] = since
        run_ticks = np.zeros(len(ev.stores), dtype=np.int64)
        run_ticks[at] = _run_ticks(chunk, since_store, since, ev.intervals, ev.covered_from[at], now_us, check)
        open_now = _open_at(chunk, ev.stores, ev.intervals, now_us, check)
    return StatusResult(
        now_us=now_us,
        store_ids=np.asarray(chunk.store_ids[ev.stores], dtype=object),
        open_now=open_now,
        status_now=status,
        has_since=has_since,
        since_ticks=since_ticks,
        run_ticks=run_ticks,
        last_poll_us=ev.last_poll_us,
        week_up_ticks=now_up,
        week_down_ticks=now_down,
        prev_reported=ev.prev_reported,
        prev_up_ticks=prev_up,
        prev_down_ticks=prev_down,
    )


@dataclass(frozen=True)
class _StatusEvidence:
    """A chunk's evidence for both weeks, found once.

    ``known`` is a complete suffix of each store's evidence: every evidence
    poll of ``[lo, now]`` and, for stores with none in the first day of that
    range, their latest one before ``lo``. ``intervals`` cover
    ``[covered_from, now]`` of each store with evidence.
    """

    stores: np.ndarray  # with a poll at or before now
    last_poll_us: np.ndarray
    prev_reported: np.ndarray  # bool: a poll at or before now − 168 h
    covered_from: np.ndarray  # µs, per store: where its intervals begin
    known: Polls
    intervals: Intervals


def _status_evidence(
    chunk: ReportInput, memory: Polls, lo: int, now_us: int, rest: OlderPolls, timer: StageTimer, check: Check
) -> _StatusEvidence:
    """Intervals and evidence of ``[lo, now]``, and the latest evidence before ``lo`` where the weeks need it.

    One pass serves both reports: the previous week's window starts a day
    after ``lo`` (its own look-back), this week's a week later still.
    """
    mem_stores = unique_sorted(memory.store)
    with timer.stage("business_hours"):
        iv = intervals_in(chunk, _same_range(mem_stores, lo, now_us + 1), check)
    check()
    with timer.stage("evidence"):
        inside = polls_inside(iv, memory)
        owned = unique_sorted(inside.store[inside.ts_us < lo + LOOKBACK_US])
        pending = np.setdiff1d(np.arange(chunk.n_stores, dtype=np.int64), owned, assume_unique=True)
    with timer.stage("lookback"):
        back = latest_evidence_before(chunk, rest, pending, np.full(len(pending), lo, dtype=np.int64), check)
    newcomers = np.setdiff1d(back.evidence.store, mem_stores, assume_unique=True)
    early = now_us - 2 * WEEK_US  # the previous week's start: where newcomers' intervals must begin
    if len(newcomers):
        with timer.stage("business_hours"):
            extra = intervals_in(chunk, _same_range(newcomers, early, now_us + 1), check)
        iv = Intervals(*(np.concatenate(p) for p in zip(_columns(iv), _columns(extra), strict=True)))
        iv = iv.take(np.argsort(iv.store, kind="stable"))
    stores = np.union1d(mem_stores, back.polled)
    last_poll = np.zeros(len(stores), dtype=np.int64)
    last_poll[np.searchsorted(stores, back.polled)] = back.latest_ts_us
    latest = memory.take(last_per_store(memory.store))
    last_poll[np.searchsorted(stores, latest.store)] = latest.ts_us  # memory polls are later
    covered = np.full(len(stores), now_us + 1, dtype=np.int64)
    covered[np.searchsorted(stores, newcomers)] = early
    covered[np.searchsorted(stores, mem_stores)] = lo
    prev_polled = unique_sorted(memory.store[memory.ts_us <= now_us - WEEK_US])
    prev_reported = np.isin(stores, np.union1d(prev_polled, back.polled))
    return _StatusEvidence(stores, last_poll, prev_reported, covered, Polls.regrouped([back.evidence, inside]), iv)


def _columns(iv: Intervals) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return iv.store, iv.start_us, iv.end_us, iv.range


def _same_range(stores: np.ndarray, lo_us: int, hi_us: int) -> Ranges:
    n = len(stores)
    return Ranges(stores, np.full(n, lo_us, dtype=np.int64), np.full(n, hi_us, dtype=np.int64))


def _week(
    stores: np.ndarray, evidence: Polls, iv: Intervals, now_us: int, timer: StageTimer
) -> tuple[np.ndarray, np.ndarray]:
    """Last-week uptime and downtime ticks per store of the report at ``now_us`` (0 without evidence)."""
    up = np.zeros(len(stores), dtype=np.int64)
    down = np.zeros(len(stores), dtype=np.int64)
    if len(evidence) == 0:
        return up, down
    with timer.stage("ownership"):
        owner = ownership(evidence, now_us)
    with timer.stage("sums"):
        sums = window_sums(owner, iv)
    at = np.searchsorted(stores, sums.stores)
    up[at] = sums.uptime[:, 2]
    down[at] = sums.downtime[:, 2]
    return up, down


def _since(chunk: ReportInput, known: Polls, rest: OlderPolls, lo: int, check: Check) -> tuple[np.ndarray, np.ndarray]:
    """Stores whose evidence has both statuses, and when the current one began (ticks).

    ``D`` is the last evidence poll whose status differs from the last one,
    ``F`` the evidence poll after it; ``since = (D + F) / 2``, i.e. ``D + F``
    in ticks. ``known`` is a complete suffix of the evidence: a store whose
    known evidence all has one status finds ``D`` before the first of it,
    and before ``lo``, where ``rest`` answers.
    """
    last = known.take(last_per_store(known.store))
    current = np.repeat(last.active, np.diff(np.append(first_per_store(known.store), len(known.store))))
    differs = np.flatnonzero(known.active != current)
    d_index = differs[last_per_store(known.store[differs])]  # the last differing one of each store
    found_store = known.store[d_index]
    found = known.ts_us[d_index] + known.ts_us[d_index + 1]  # F is the next known evidence poll
    first = known.take(first_per_store(known.store))
    todo = ~np.isin(first.store, found_store)
    stores, x, want = first.store[todo], first.ts_us[todo], ~first.active[todo]
    d = latest_evidence_before(chunk, rest, stores, np.minimum(x, lo), check, active=want).evidence
    x_of_d = x[np.searchsorted(stores, d.store)]
    f = first_evidence_after(chunk, rest, d.store, d.ts_us, np.minimum(x_of_d + 1, lo), check)
    f_ts = x_of_d.copy()  # none before lo: F is the first known evidence poll
    f_ts[np.searchsorted(d.store, f.store)] = f.ts_us
    all_store = np.concatenate([found_store, d.store])
    order = np.argsort(all_store, kind="stable")
    return all_store[order], np.concatenate([found, d.ts_us + f_ts])[order]


def _run_ticks(
    chunk: ReportInput,
    stores: np.ndarray,
    since_ticks: np.ndarray,
    iv: Intervals,
    covered_from: np.ndarray,
    now_us: int,
    check: Check,
) -> np.ndarray:
    """Business time in ``[since, now)`` per store, in ticks (``since`` may fall on a half µs).

    The chunk's intervals cover each store from ``covered_from``; a run that
    began earlier gets the intervals of the rest generated (only for it).
    """
    slot = np.minimum(np.searchsorted(stores, iv.store), max(len(stores) - 1, 0))
    mine = stores[slot] == iv.store if len(stores) else np.zeros(len(iv), dtype=bool)
    total = _clipped_sums(iv.take(mine), slot[mine], since_ticks, now_us, len(stores))
    earlier = np.flatnonzero(since_ticks < TICKS_PER_US * covered_from)
    if len(earlier):
        lo = since_ticks[earlier] // TICKS_PER_US
        iv_early = intervals_in(chunk, Ranges(stores[earlier], lo, covered_from[earlier]), check)
        early_since = since_ticks[earlier]
        total[earlier] += _clipped_sums(iv_early, iv_early.range, early_since, now_us, len(earlier))
    return total


def _clipped_sums(iv: Intervals, slot: np.ndarray, since_ticks: np.ndarray, now_us: int, n: int) -> np.ndarray:
    """Per slot, the length of its intervals inside ``[since_ticks[slot], now)`` (exact int64; slots grouped)."""
    start = np.maximum(TICKS_PER_US * iv.start_us, since_ticks[slot])
    end = np.minimum(TICKS_PER_US * iv.end_us, TICKS_PER_US * now_us)
    total = np.concatenate([[0], np.cumsum(np.maximum(end - start, 0))])
    bounds = np.searchsorted(slot, np.arange(n + 1))
    return total[bounds[1:]] - total[bounds[:-1]]


def _open_at(chunk: ReportInput, stores: np.ndarray, iv: Intervals, now_us: int, check: Check) -> np.ndarray:
    """Whether ``now`` lies inside each store's business hours (half-open intervals).

    The chunk's intervals reach ``now`` for every store with evidence; the
    others (polled, never in business hours) get an interval lookup of their own.
    """
    k = seg_searchsorted(iv.store, iv.start_us, stores, np.full(len(stores), now_us), side="right") - 1
    kc = np.maximum(k, 0)
    open_now = (
        (k >= 0) & (iv.store[kc] == stores) & (iv.end_us[kc] > now_us) if len(iv) else np.zeros(len(stores), bool)
    )
    unknown = ~np.isin(stores, iv.store)
    if unknown.any():
        n = int(unknown.sum())
        own = intervals_in(chunk, Ranges(stores[unknown], np.full(n, now_us), np.full(n, now_us + 1)), check)
        found = np.zeros(n, dtype=bool)
        found[own.range] = True
        open_now[unknown] = found
    return open_now


# ------------------------------------------------------------------------------- formatting


def format_utc(us: np.ndarray) -> np.ndarray:
    """Instants (µs) as ``YYYY-MM-DD HH:MM:SS`` UTC, truncated to the whole second."""
    seconds = np.asarray(us, dtype=np.int64) // SECOND_US
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return np.char.replace(text, "T", " ").astype(object)


def status_rows(result: StatusResult) -> list[tuple[str, ...]]:
    """The spec's columns (:data:`STATUS_COLUMNS`) as text, one tuple per store (ids as they are)."""
    n = len(result)
    if n == 0:
        return []
    since = np.full(n, "", dtype=object)
    run = np.full(n, "", dtype=object)
    if result.has_since.any():
        since[result.has_since] = format_utc(result.since_ticks[result.has_since] // TICKS_PER_US)
        run[result.has_since] = format_hours(result.run_ticks[result.has_since])
    columns = [
        [str(s) for s in result.store_ids],
        np.where(result.open_now, "yes", "no").tolist(),
        [_STATUS_NAMES[int(s)] for s in result.status_now],
        since.tolist(),
        run.tolist(),
        format_utc(result.last_poll_us).tolist(),
        format_hours(TICKS_PER_US * result.silent_us).tolist(),
        _pct(result.uptime_pct_hundredths()),
        _pct(result.uptime_pct_hundredths(previous=True)),
    ]
    return list(zip(*columns, strict=True))


def _pct(hundredths: np.ndarray) -> list[str]:
    text = np.full(len(hundredths), "", dtype=object)
    known = hundredths >= 0
    if known.any():
        text[known] = format_hundredths(hundredths[known])
    return list(text)


def status_text(result: StatusResult) -> str:
    """The status CSV: header and one line per store, ``\\n`` line endings."""
    lines = [",".join((csv_field(row[0]), *row[1:])) for row in status_rows(result)]
    return "\n".join([STATUS_HEADER, *lines]) + "\n"
