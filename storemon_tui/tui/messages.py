"""What the panes ask of the app: typed messages, handled by the app with ``@on(...)``.

A pane never calls the app's methods: it posts one of these, which bubbles up
to ``StoremonApp``. The pane needs no knowledge of the app (nor type-checker
exceptions for its methods), and each request has one handler (``app.py``).
Messages a pane's own workers post to the pane itself are nested in the
pane's class.
"""

from __future__ import annotations

from textual.message import Message


class StoreRequested(Message):
    """Open the store screen for a store (from a table row, the fleet summary or the palette)."""

    def __init__(
        self,
        store_id: str,
        *,
        as_of_us: int | None = None,
        report_row: dict[str, str] | None = None,
        report_label: str = "",
    ) -> None:
        super().__init__()
        self.store_id, self.as_of_us = store_id, as_of_us
        self.report_row, self.report_label = report_row, report_label


class StorePromptRequested(Message):
    """Ask which store to open (no store row under the cursor)."""


class ReportRequested(Message):
    """Show a report in the Reports pane (Enter on a row of the Data pane's reports table)."""

    def __init__(self, report_id: str) -> None:
        super().__init__()
        self.report_id = report_id


class ClearRequested(Message):
    """Delete rows of these tables, after a dialog that says what goes.

    With a ``store_filter`` (one table, filtered in the Data pane) the dialog
    offers just the rows the filter shows, as well as the whole table.
    """

    def __init__(self, tables: list[str], *, store_filter: str = "") -> None:
        super().__init__()
        self.tables, self.store_filter = tables, store_filter


class SampleRequested(Message):
    """Import the bundled sample data (F6)."""


class DataChanged(Message):
    """Rows were imported, cleared or a report computed: refresh what shows them."""

    def __init__(self, *, reports_only: bool = False) -> None:
        super().__init__()
        self.reports_only = reports_only


class DataVersionSeen(Message):
    """The database's data version as just read by the app's poll (another process may have imported)."""

    def __init__(self, version: int) -> None:
        super().__init__()
        self.version = version
