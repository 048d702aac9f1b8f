"""``--as-of`` and the app's "Generate as of": the instant a report is computed at, as people write it.

Separate from the poll timestamps of a CSV (``ingest.values``), which follow
the export format: here the common ISO 8601 forms are accepted, as typed on a
command line — a date alone (its midnight), minutes without seconds, a space
or a ``T``, ``Z`` or an offset (converted to UTC); no zone means UTC, and the
CSV's own ``… UTC`` suffix is understood too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UTC_SUFFIX = re.compile(r"\s*UTC$", re.IGNORECASE)
EXAMPLES = "2023-01-25, 2023-01-25 12:00, 2023-01-25T12:00:00Z or 2023-01-25 12:00+05:30"


def parse_as_of(text: str) -> int:
    """Microseconds since the epoch (UTC) of ``text``; ``ValueError`` with the reason for anything else."""
    stripped = _UTC_SUFFIX.sub("Z", text.strip()) if text.strip() else ""
    if not stripped:
        raise ValueError(f"empty; give a UTC instant such as {EXAMPLES}")
    if "\x00" in stripped:
        raise ValueError("contains a NUL character")
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"not a date and time; expected e.g. {EXAMPLES}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)
