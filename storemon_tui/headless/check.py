"""``storemon --check [--max-age HOURS]``: a health check in the Nagios/Icinga plugin convention.

One line on stdout — ``STOREMON OK - …``, ``WARNING``, ``CRITICAL`` or
``UNKNOWN`` — with performance data after ``|``, and exit status 0, 1, 2
or 3. Monitoring systems run it every minute or so, so it must be cheap:
a handful of indexed queries (no full scan but the poll count), and on
SQLite only the ``sqlite3`` module (loading SQLAlchemy alone would cost
more than the whole budget of 0.5 s).

The verdict is a pure function of the facts read (:func:`judge`), tested
without a database.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from storemon_tui.db.summary_sql import (
    HEALTH_META_SQL,
    LAST_IMPORT_KEY,
    LAST_REPORT_SQL,
    POLL_COUNT_SQL,
    STATUS_AT_KEY,
    STATUS_DATA_VERSION_KEY,
    STATUS_DOWN_KEY,
    STORES_AND_LATEST_POLL_SQL,
)
from storemon_tui.display import counted
from storemon_tui.safe_text import echo

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
DEFAULT_MAX_AGE_H = 2.0
_LOCK_WAIT_S = 5.0
"""A check waits this long at most for a writer's commit, not the importer's 30 s."""
_MMAP_BYTES = 1 << 30


@dataclass(frozen=True)
class Health:
    """What the check reads from the database."""

    stores: int
    polls: int
    latest_poll_us: int | None
    last_import_us: int | None
    last_report_failed: str | None
    """The error of the most recent finished report, when it failed."""
    down_now: int | None
    """Open stores down at the last fleet status the watcher (or ``--status``) computed: the status
    of two million polls takes seconds, far over the check's budget, so it is recorded, not computed."""
    down_now_at_us: int | None = None
    """When that status was computed (machine clock)."""
    down_now_current: bool = True
    """No import (or clear) has changed the data since that status was computed."""


def run_check(db_target: str | None, max_age_h: float | None) -> int:
    """Print the check's line on stdout and return its exit status."""
    try:
        health = read_health(db_target)
    except Exception as exc:  # any failure to read is UNKNOWN, in one line
        detail = str(exc).strip().splitlines()
        echo(f"STOREMON UNKNOWN - {detail[0] if detail else type(exc).__name__}", sys.stdout)
        return UNKNOWN
    code, line = judge(health, now_us=time.time_ns() // 1000, max_age_h=max_age_h or DEFAULT_MAX_AGE_H)
    echo(line, sys.stdout)  # it may quote a report's error: escaped like every line
    return code


def judge(health: Health, *, now_us: int, max_age_h: float) -> tuple[int, str]:
    """The state and the line: CRITICAL without polls or with the latest older than ``max_age_h``;
    WARNING at half that age or when the last report failed; else OK."""
    max_age_s = max_age_h * 3600
    poll_age = _age_s(health.latest_poll_us, now_us)
    import_age = _age_s(health.last_import_us, now_us)
    problems: list[str] = []
    if poll_age is None:
        code = CRITICAL
        problems.append("no polls in the database")
    elif poll_age > max_age_s:
        code = CRITICAL
        problems.append(f"latest poll {_hours(poll_age)} old (limit {max_age_h:g} h)")
    elif poll_age > max_age_s / 2:
        code = WARNING
        problems.append(f"latest poll {_hours(poll_age)} old (warning at {max_age_h / 2:g} h)")
    else:
        code = OK
    if health.last_report_failed is not None:
        code = max(code, WARNING)
        problems.append(f"last report failed: {_one_line(health.last_report_failed)}")
    facts = [counted(health.stores, "store"), counted(health.polls, "poll")]
    if poll_age is not None and not any(p.startswith("latest poll") for p in problems):
        facts.append(f"latest poll {_hours(poll_age)} ago")
    down_age = _age_s(health.down_now_at_us, now_us)
    if health.down_now is not None:
        facts.append(
            f"{counted(health.down_now, 'open store')} down ({_status_age(down_age, health.down_now_current)})"
        )
    text = "; ".join(problems + [", ".join(facts)])
    ages = {"latest_poll_age": poll_age, "last_import_age": import_age, "down_now_age": down_age}
    return code, f"STOREMON {STATE_NAMES[code]} - {text} | {_perfdata(health, ages, max_age_s)}"


def _status_age(age_s: int | None, current: bool) -> str:
    """How old the recorded down count is, and whether data came in since: it is never passed off as live."""
    age = "status of unknown age" if age_s is None else f"status of {_hours(age_s)} ago"
    return age if current else f"{age}, data imported since"


def _perfdata(health: Health, ages: dict[str, int | None], max_age_s: float) -> str:
    """``label=value[UOM];warn;crit;min`` per the plugin guidelines; ``U`` when unknown."""
    warn, crit = int(max_age_s / 2), int(max_age_s)
    return " ".join(
        [
            f"stores={health.stores}",
            f"polls={health.polls}",
            f"latest_poll_age={_value(ages['latest_poll_age'], 's')};{warn};{crit};0",
            f"last_import_age={_value(ages['last_import_age'], 's')};;;0",
            f"down_now={_value(health.down_now, '')};;;0",
            f"down_now_age={_value(ages['down_now_age'], 's')};;;0",
        ]
    )


def _value(value: int | None, unit: str) -> str:
    return "U" if value is None else f"{value}{unit}"


def _age_s(moment_us: int | None, now_us: int) -> int | None:
    return None if moment_us is None else max((now_us - moment_us) // 1_000_000, 0)


def _hours(seconds: int) -> str:
    """An age a person reads at a glance: minutes under an hour, days past two."""
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 48 * 3600 else f"{seconds / 86400:.1f} days"


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return (lines[0] if lines else "").replace("|", "/")  # '|' would start the perfdata


def read_health(db_target: str | None) -> Health:
    """The facts, through ``sqlite3`` alone for a file, SQLAlchemy for a server."""
    from storemon_tui.db.database import open_database, upgrade_schema

    db = open_database(db_target, create=False)
    if db.sqlite_path is not None:
        if not Path(db.sqlite_path).is_file():
            raise FileNotFoundError(f"database {db.sqlite_path}: no such file")
        upgrade_schema(db)  # once, after storemon itself was upgraded
        conn = sqlite3.connect(f"file:{quote(db.sqlite_path)}?mode=ro", uri=True, timeout=_LOCK_WAIT_S)
        try:
            # Counting polls reads every page of the table: mapped, not copied, it took half the time.
            conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            return _read(lambda sql: conn.execute(sql).fetchall())
        finally:
            conn.close()
    try:
        upgrade_schema(db)
        with db.connect() as sa_conn:
            return _read(lambda sql: [tuple(row) for row in sa_conn.exec_driver_sql(sql)])
    finally:
        db.dispose()


def _read(rows: Callable[[str], list[tuple]]) -> Health:
    def one_row(sql: str) -> tuple | None:
        found = rows(sql)
        return found[0] if found else None

    count = one_row(POLL_COUNT_SQL)
    polls = int(count[0]) if count is not None else 0
    per_store = one_row(STORES_AND_LATEST_POLL_SQL) if polls else None
    stores, latest = per_store if per_store is not None else (0, None)
    report = one_row(LAST_REPORT_SQL)
    meta = {str(key): int(value) for key, value in rows(HEALTH_META_SQL) if value is not None}
    return Health(
        stores=int(stores or 0),
        polls=polls,
        latest_poll_us=int(latest) if latest is not None else None,
        last_import_us=meta.get(LAST_IMPORT_KEY),
        last_report_failed=(report[1] or "failed") if report is not None and report[0] == "Failed" else None,
        down_now=meta.get(STATUS_DOWN_KEY),
        down_now_at_us=meta.get(STATUS_AT_KEY),
        down_now_current=meta.get(STATUS_DATA_VERSION_KEY) == meta.get("data_version"),
    )
