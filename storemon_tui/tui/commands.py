"""Command palette: the main actions, searchable by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

COMMANDS = (
    ("Import: choose CSV files", "Go to the Import pane", "show_pane('import')"),
    ("Import: bundled sample data", "Import sample_data/ (200 stores, one week)", "import_sample"),
    ("Data: browse tables", "Go to the Data pane", "show_pane('data')"),
    ("Data: clear current table…", "Delete every row of the table shown (asks first)", "clear_current"),
    ("Data: clear everything…", "Delete all data and reports (asks first)", "clear_everything"),
    ("Reports: list", "Go to the Reports pane", "show_pane('reports')"),
    ("Reports: generate report", "Compute uptime/downtime as of the latest poll", "generate"),
    ("Reports: generate report as of…", "Compute the report as of a chosen UTC instant", "generate_as_of"),
    ("Reports: export selected report…", "Write the selected report's CSV to a file", "export"),
    ("Store: open drill-down…", "Zone, hours, latest polls and week timeline of one store", "open_store_prompt"),
    ("Help: keys and how uptime is computed", "Show the help screen", "help"),
    ("Quit", "Leave storemon", "quit"),
)


class StoremonCommands(Provider):
    """Every main action of the app, by name."""

    async def discover(self) -> Hits:
        for name, help_text, action in COMMANDS:
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), partial(self.app.run_action, action), help=help_text)
