"""Command palette: the main actions, searchable by name and showing their keys; stores by id prefix."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from functools import partial

from sqlalchemy import text
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from storemon_tui.db.database import Database
from storemon_tui.safe_text import visible
from storemon_tui.tui.messages import StoreRequested

COMMANDS = (
    ("Status: fleet now", "Go to the Status pane: who is down, silent or worse now", "show_pane('status')", "0"),
    ("Import: choose CSV files", "Go to the Import pane", "show_pane('import')", "1"),
    ("Import: bundled sample data", "Import sample_data/ (200 stores, one week)", "import_sample", "F6"),
    ("Data: browse tables", "Go to the Data pane", "show_pane('data')", "2"),
    ("Data: clear current table…", "Delete rows of the table shown, or prune it (asks first)", "clear_current", "c"),
    ("Data: clear everything…", "Delete all data and reports (asks first)", "clear_everything", "x"),
    ("Reports: list", "Go to the Reports pane", "show_pane('reports')", "3"),
    ("Reports: generate report", "Compute uptime/downtime as of the latest poll", "generate", "g"),
    ("Reports: generate report as of…", "Compute the report as of a chosen UTC instant", "generate_as_of", "G"),
    ("Reports: export selected report…", "Write the selected report's CSV to a file", "export", "e"),
    ("Store: open drill-down…", "Zone, hours, latest polls and week timeline of one store", "open_store_prompt", "o"),
    ("Help: keys and how uptime is computed", "Show the help screen", "help", "?"),
    ("Quit", "Leave storemon (asks first while work runs)", "quit", "q"),
)
"""(name, what it does, action, key)."""

DUPLICATED_SYSTEM_COMMANDS = frozenset({"Quit", "Keys"})
"""Textual's palette entries that ours replace: its Quit exits at once (ours asks while an import
or a report runs), its Keys panel is our help."""
STORE_HITS = 8
"""Stores listed for an id prefix typed in the palette."""


def without_duplicates(commands: Iterable) -> Iterator:
    """Textual's system commands, less those :data:`DUPLICATED_SYSTEM_COMMANDS` names."""
    return (command for command in commands if command.title not in DUPLICATED_SYSTEM_COMMANDS)


def _display(name: str, key: str, highlighted: Content | None = None) -> Content:
    """``Reports: generate report   g``: the name, then its key (dim)."""
    return Content.assemble(highlighted or name, "  ", (key, "dim"))


class StoremonCommands(Provider):
    """Every main action of the app, by name, with its key."""

    async def discover(self) -> Hits:
        for name, help_text, action, key in COMMANDS:
            yield DiscoveryHit(_display(name, key), partial(self.app.run_action, action), text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action, key in COMMANDS:
            score = matcher.match(name)
            if score > 0:
                display = _display(name, key, matcher.highlight(name))
                yield Hit(score, display, partial(self.app.run_action, action), text=name, help=help_text)


def stores_starting(db: Database, prefix: str, limit: int = STORE_HITS) -> list[str]:
    """Store ids starting with ``prefix``, in order (an index range scan, not a table scan)."""
    with db.connect() as conn:
        rows = conn.execute(
            text("SELECT store_id FROM store WHERE store_id >= :lo AND store_id < :hi ORDER BY store_id LIMIT :n"),
            {"lo": prefix, "hi": prefix + "\U0010ffff", "n": limit},
        ).all()
    return [store_id for (store_id,) in rows]


class StoreCommands(Provider):
    """A store found by the first characters of its id: typing ``1031`` offers ``Store 10311121533259807379``."""

    async def search(self, query: str) -> Hits:
        prefix = query.strip()
        db = getattr(self.app, "db", None)
        if len(prefix) < 2 or " " in prefix or not isinstance(db, Database):
            return
        for store_id in await asyncio.to_thread(stores_starting, db, prefix):
            shown = visible(store_id)  # user data: never markup, never raw control characters
            yield Hit(
                1.0,
                Content.assemble("Store ", (visible(prefix), "bold underline"), visible(store_id[len(prefix) :])),
                partial(self.app.post_message, StoreRequested(store_id)),
                text=f"Store {shown}",
                help="Open its drill-down: zone, hours, latest polls and week timeline",
            )
