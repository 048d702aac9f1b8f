"""Clearing, as the app offers it: a whole table, just the rows the store filter shows, or
retention (``storemon --prune --keep-days N`` / ``--keep-reports N``) under the same key.

A mixin of the app (it needs the app's database, report jobs and screens): the
Data pane posts :class:`~storemon_tui.tui.messages.ClearRequested`; what would
go is counted in a worker, the user chooses in a dialog that says it, and the
deleting worker reports back with :class:`ClearFlow.Cleared`.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.message import Message
from textual.message_pump import MessagePump

from storemon_tui.db.database import Database
from storemon_tui.db.maintenance import ROW_NOUNS, FilteredRows
from storemon_tui.display import counted
from storemon_tui.report.jobs import ReportJobs
from storemon_tui.tui.messages import ClearRequested, DataChanged
from storemon_tui.tui.screens.dialogs import ClearScreen, ConfirmScreen, PromptScreen

DEFAULT_KEEP_DAYS = "35"
DEFAULT_KEEP_REPORTS = "100"


def whole_number(text: str) -> str | None:
    """What is wrong with a typed count of days or reports (None: nothing)."""
    return None if text.strip().isdigit() else "Type a whole number, e.g. 35"


class ClearFlow(MessagePump):
    """The clear dialogs and their workers (mixed into the app)."""

    db: Database
    jobs: ReportJobs

    class ClearDescribed(Message):
        def __init__(self, tables: list[str], description: str, filtered: FilteredRows | None) -> None:
            super().__init__()
            self.tables, self.description, self.filtered = tables, description, filtered

    class Cleared(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    @on(ClearRequested)
    def confirm_clear(self, event: ClearRequested) -> None:
        self.describe_clear(event.tables, event.store_filter)

    @work(thread=True, exit_on_error=False, exclusive=True, group="clear", description="Clear")
    def describe_clear(self, tables: list[str], store_filter: str) -> None:
        from storemon_tui.db.maintenance import describe_clear, describe_filtered

        filtered = describe_filtered(self.db, tables[0], store_filter) if store_filter and len(tables) == 1 else None
        self.post_message(self.ClearDescribed(tables, describe_clear(self.db, tables), filtered))

    @on(ClearDescribed)
    def ask_clear(self, event: ClearDescribed) -> None:
        tables, description = event.tables, event.description
        what = "everything" if len(tables) > 1 else tables[0].replace("_", " ")
        extra = ""
        if "reports" in tables:
            extra = "\nReport CSV files are deleted with their records."
        if set(tables) & {"polls", "business_hours", "time_zones"}:
            extra += "\nExisting reports will be marked stale."
        if len(tables) == 1:
            self.ask_clear_table(tables[0], description, event.filtered, extra)
            return
        self.app.push_screen(
            ConfirmScreen(
                f"Clear {what}?",
                f"This permanently deletes {description}.{extra}\n\nThis cannot be undone.",
                yes="Delete",
                no="Cancel",
                danger=True,
            ),
            lambda ok: self.then(ok, lambda: self.clear(tables)),
        )

    def ask_clear_table(self, table: str, description: str, filtered: FilteredRows | None, extra: str) -> None:
        """One table: the filtered rows (when a filter shows some), all of it, or its retention."""
        options: dict[str, str] = {}
        shown = ""
        if filtered is not None:
            options["store"] = f"Delete the {filtered.describe()}"
            shown = f"\nThe filter shows the {filtered.describe()}."
        options["all"] = f"Delete all {description}"
        if table == "polls":
            options["prune"] = "Keep the last N days of polls (storemon --prune)…"
        if table == "reports":
            options["keep_reports"] = "Keep the newest N reports (--keep-reports)…"
        name = table.replace("_", " ")
        message = f"The {name} table holds {description}.{shown}{extra}\n\nDeleting cannot be undone."
        self.app.push_screen(
            ClearScreen(f"Clear {name}?", message, options),
            lambda choice: self.cleared_choice(choice, table, filtered),
        )

    def cleared_choice(self, choice: str | None, table: str, filtered: FilteredRows | None) -> None:
        if choice == "store" and filtered is not None:
            self.clear_filtered(table, filtered.store_filter)
        elif choice == "all":
            self.clear([table])
        elif choice == "prune":
            self.app.push_screen(
                PromptScreen(
                    "Prune polls",
                    "Keep the polls of the last N days before the latest poll\n"
                    "(every report 7 days or more after that stays the same):",
                    DEFAULT_KEEP_DAYS,
                    restrict=r"[0-9]*",
                    check=whole_number,
                ),
                lambda days: self.then(days, lambda: self.prune_polls(int(days or 0))),
            )
        elif choice == "keep_reports":
            self.app.push_screen(
                PromptScreen(
                    "Prune reports",
                    "Keep the newest N reports (and their CSV files):",
                    DEFAULT_KEEP_REPORTS,
                    restrict=r"[0-9]*",
                    check=whole_number,
                ),
                lambda keep: self.then(keep, lambda: self.prune_reports(int(keep or 0))),
            )
        else:
            self.nothing_deleted()

    def then(self, answer: object, start: Callable[[], object]) -> None:
        """After a dialog: ``start`` the work if it was answered (yes, a number), else say nothing went."""
        if answer:
            start()
        else:
            self.nothing_deleted()

    def nothing_deleted(self) -> None:
        self.app.notify("Nothing was deleted", title="Clear")

    @work(thread=True, exit_on_error=False, exclusive=True, group="clear", description="Clear")
    def clear(self, tables: list[str]) -> None:
        from storemon_tui.db.maintenance import clear_tables

        deleted = clear_tables(self.db, tables)
        self.post_message(self.Cleared(", ".join(counted(n, *ROW_NOUNS[t]) for t, n in deleted.items())))

    @work(thread=True, exit_on_error=False, exclusive=True, group="clear", description="Clear")
    def clear_filtered(self, table: str, store_filter: str) -> None:
        from storemon_tui.db.maintenance import clear_filtered

        deleted = clear_filtered(self.db, table, store_filter)
        self.post_message(self.Cleared(f"{counted(deleted, *ROW_NOUNS[table])} matching {store_filter!r}"))

    @work(thread=True, exit_on_error=False, exclusive=True, group="clear", description="Prune polls")
    def prune_polls(self, keep_days: int) -> None:
        from storemon_tui.report.retention import prune_polls

        pruned = prune_polls(self.db, keep_days)
        kept = f"; {counted(pruned.kept_before_cutoff, 'older poll')} kept for later reports"
        self.post_message(self.Cleared(f"{counted(pruned.deleted, 'poll')} older than {keep_days} days{kept}"))

    @work(thread=True, exit_on_error=False, exclusive=True, group="clear", description="Prune reports")
    def prune_reports(self, keep: int) -> None:
        from storemon_tui.report.retention import prune_reports

        pruned = prune_reports(self.db, keep, directory=self.jobs.directory)
        self.post_message(self.Cleared(f"{counted(pruned.deleted, 'report')}; the newest {keep} kept"))

    @on(Cleared)
    def after_clear(self, event: Cleared) -> None:
        self.app.notify(f"Deleted {event.text}", title="Clear")
        self.post_message(DataChanged())
