"""SQL that summarises a database cheaply, shared by the app's header and ``storemon --check``.

Plain strings that run unchanged on SQLite and PostgreSQL, through
SQLAlchemy or a bare DB-API cursor: the health check runs them on
``sqlite3`` alone so that it never pays for loading SQLAlchemy.
"""

from __future__ import annotations

# A poll is in ``poll`` or in ``poll_recent``, never both (db/poll_sources.py): each query reads both
# (``max`` and ``min`` of an aggregate ignore a NULL, on both back ends).
_STORE_LATEST = (
    "(SELECT max(t) FROM (SELECT max(p.ts_us) AS t FROM poll p WHERE p.store_key = s.store_key"
    " UNION ALL SELECT max(r.ts_us) FROM poll_recent r WHERE r.store_key = s.store_key) AS latest)"
)
LATEST_POLL_SQL = (
    "SELECT max(t) FROM (SELECT max((SELECT max(p.ts_us) FROM poll p WHERE p.store_key = s.store_key)) AS t"
    " FROM store s UNION ALL SELECT max(ts_us) FROM poll_recent) AS latest"
)
"""The newest poll's timestamp: in ``poll`` one primary-key seek per store instead of a full scan
(several times faster; bench/README.md): ``poll`` is ordered by (store, time), not time. The small
``poll_recent`` is read whole (nothing when it is empty: the usual case after a fold)."""

EARLIEST_POLL_SQL = (
    "SELECT min(t) FROM (SELECT min((SELECT min(p.ts_us) FROM poll p WHERE p.store_key = s.store_key)) AS t"
    " FROM store s UNION ALL SELECT min(ts_us) FROM poll_recent) AS earliest"
)
"""The oldest poll's timestamp, the same way (a report as of an earlier instant has nothing to report)."""

STORES_WITH_POLLS_SQL = (
    "SELECT count(*) FROM store s WHERE EXISTS (SELECT 1 FROM poll p WHERE p.store_key = s.store_key)"
    " OR EXISTS (SELECT 1 FROM poll_recent r WHERE r.store_key = s.store_key)"
)
"""How many stores have at least one poll (one seek per store, no scan)."""

STORES_AND_LATEST_POLL_SQL = (
    f"SELECT count(last), max(last) FROM (SELECT s.store_key, {_STORE_LATEST} AS last "
    "FROM store s GROUP BY s.store_key) AS per_store"
)
"""Both of the above in one pass of one seek per store (the health check's budget is tight).

The ``GROUP BY`` (on the key: one row per store, as without it) keeps the
inner query whole: SQLite otherwise flattens it into the outer one and runs
the per-store seek once for ``count`` and again for ``max`` (two correlated
subqueries in its plan: bench/README.md)."""

POLL_COUNT_SQL = "SELECT (SELECT count(*) FROM poll) + (SELECT count(*) FROM poll_recent)"

LAST_IMPORT_KEY = "last_import_us"
"""``meta`` key: when the last import committed (microseconds since the epoch, UTC)."""

STATUS_DOWN_KEY = "status_down_now"
"""``meta`` key: how many stores were open and inactive at the last fleet status computed
headless (a watcher's batch or ``--status`` without ``--as-of``)."""

STATUS_AT_KEY = "status_at_us"
"""``meta`` key: when that status was computed, by the machine's clock (µs since the epoch, UTC)."""

STATUS_DATA_VERSION_KEY = "status_data_version"
"""``meta`` key: the data version that status was computed from (an import since makes it old news)."""

HEALTH_META_SQL = (
    "SELECT key, value FROM meta WHERE key IN "
    f"('{LAST_IMPORT_KEY}', '{STATUS_DOWN_KEY}', '{STATUS_AT_KEY}', '{STATUS_DATA_VERSION_KEY}', 'data_version')"
)
"""Every ``meta`` value the health check reads, in one query."""

STATUS_SILENT_KEY = "status_silent_minutes"
"""``meta`` key: after how many minutes without a poll the fleet status calls a store silent (a setting
of the fleet, so every client of a shared database uses the same; default 120)."""

LAST_REPORT_SQL = "SELECT status, error FROM report WHERE status <> 'Running' ORDER BY created_at DESC LIMIT 1"
"""The most recent finished report's outcome (``Complete``, ``Failed`` or ``Cancelled``)."""


def set_meta_sql(key: str, value: int) -> str:
    """Upsert an integer ``meta`` value (both databases accept ``ON CONFLICT … DO UPDATE``)."""
    return (
        f"INSERT INTO meta (key, value) VALUES ('{key}', '{int(value)}') "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
