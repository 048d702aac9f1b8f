"""The storemon terminal app: Status, Import, Data and Reports panes over one database.

Launched by ``storemon`` with no headless flags (``storemon_tui.cli``) as
``StoremonApp(db).run()``. All database, import and report work happens in
thread workers through the core library; the UI thread only draws.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import ActiveBinding, Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, TabbedContent, TabPane
from textual.worker import get_current_worker

from storemon_tui.db.database import Database, get_data_version
from storemon_tui.db.maintenance import DataSummary
from storemon_tui.display import counted, format_age, format_ts_us
from storemon_tui.report.jobs import ReportJobs
from storemon_tui.safe_text import plain_text, visible, visible_lines
from storemon_tui.tui.clearing import ClearFlow
from storemon_tui.tui.commands import StoreCommands, StoremonCommands, without_duplicates
from storemon_tui.tui.messages import (
    DataChanged,
    DataVersionSeen,
    ReportRequested,
    SampleRequested,
    StorePromptRequested,
    StoreRequested,
)
from storemon_tui.tui.panes.data_pane import DataPane
from storemon_tui.tui.panes.import_pane import ImportPane, PathInput
from storemon_tui.tui.panes.reports_pane import ReportsPane
from storemon_tui.tui.panes.status_pane import StatusPane
from storemon_tui.tui.screens.dialogs import ConfirmScreen, FilePickerScreen, PromptScreen
from storemon_tui.tui.screens.help import HelpScreen
from storemon_tui.tui.screens.store import StoreScreen
from storemon_tui.tui.widgets.common import TextField, WorkerErrors, typed_key
from storemon_tui.tui.widgets.pane_tabs import PaneTabs
from storemon_tui.tui.widgets.row_table import RowTable

PANES = ("status", "import", "data", "reports")
QUIT_WAIT = 10.0
"""Seconds quitting waits for a cancelled report to stop before leaving anyway."""
VERSION_POLL_S = 1.0
"""How often the app reads the data version, to notice an import by another process (one indexed
read of the ``meta`` table, whatever the size of the data: bench/README.md)."""


STALE_AFTER_S = 86400
"""Data whose latest poll is older than this (by the clock) shows its age in a warning style."""


class SummaryBar(Horizontal):
    """The header: where the data lives, how much there is and how old it is."""

    stale: var[bool] = var(False)
    """The latest poll is more than a day old: a report's "now" is not today."""

    def compose(self) -> ComposeResult:
        yield Label("", id="db-location")
        yield Label("", id="db-summary")

    def watch_stale(self, stale: bool) -> None:
        self.query_one("#db-summary", Label).set_class(stale, "-stale")


def summary_text(summary: DataSummary, now_s: float) -> tuple[str, bool]:
    """The header's data summary, and whether the data is stale.

    The report's "now" is the latest poll, not the clock: the header says how
    old that is (``data up to 2023-01-24 23:59 UTC · 3 y old``).
    """
    if not summary.polls or summary.latest_poll_us is None:
        return "no polls yet · F6 imports sample data", False
    age_s = now_s - summary.latest_poll_us / 1_000_000
    latest = format_ts_us(summary.latest_poll_us // 60_000_000 * 60_000_000).removesuffix(":00 UTC")
    counts = f"{counted(summary.stores, 'store')} · {counted(summary.polls, 'poll')}"
    text = f"{counts} · data up to {latest} UTC · {format_age(age_s)} old"
    return text, age_s > STALE_AFTER_S


class MainScreen(Screen):
    """The panes' screen. No auto-focus: show_pane places the focus once the summary is known."""

    AUTO_FOCUS = ""
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    """Tall terminals get a taller fleet summary (all ten worst stores)."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """While a text field has focus, keys it types (``?``, ``q``, ``1``, ``/`` …) are not bindings:
        leave them out so the footer shows only keys that work there (F-keys, Esc)."""
        bindings = super().active_bindings
        if isinstance(self.focused, Input):
            bindings = {key: active for key, active in bindings.items() if not typed_key(key)}
        return bindings


class StoremonApp(ClearFlow, WorkerErrors, App[None]):
    """The panes ask for things with :mod:`~storemon_tui.tui.messages` (handled here with ``@on``);
    the app's own workers report with the messages nested below."""

    clock = staticmethod(time.time)
    """The wall clock, for the header's data age (snapshot tests pin it)."""
    CSS_PATH = "app.tcss"
    TITLE = "storemon"
    COMMANDS = App.COMMANDS | {StoremonCommands, StoreCommands}
    BINDINGS = [
        Binding("0", "show_pane('status')", "Status pane", show=False, id="app.status"),
        Binding("1", "show_pane('import')", "Import pane", show=False, id="app.import"),
        Binding("2", "show_pane('data')", "Data pane", show=False, id="app.data"),
        Binding("3", "show_pane('reports')", "Reports pane", show=False, id="app.reports"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("f1", "help", "Help", key_display="F1", id="app.help_f1"),
        Binding("ctrl+p", "command_palette", "Command palette", show=False, priority=True, id="app.palette"),
        Binding("colon,f2", "command_palette", "Command palette", show=False, id="app.palette_alt"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit_anywhere"),
        Binding("escape", "cancel", "Cancel", key_display="Esc", id="app.cancel"),
    ]

    data_version: var[int | None] = var(None, init=False)
    """The data version last seen (summary or poll): the Status and Reports panes are bound to it."""

    class SummaryReady(Message):
        def __init__(self, summary: DataSummary, startup: bool) -> None:
            super().__init__()
            self.summary, self.startup = summary, startup

    class ReadyToQuit(Message):
        """The running work was cancelled and has stopped (or stopped waiting)."""

    def __init__(
        self,
        db: Database,
        *,
        reports_dir: Path | None = None,
        offer_sample: bool = True,
    ) -> None:
        super().__init__()
        self.db = db
        self.jobs = ReportJobs(db, directory=reports_dir)
        self.offer_sample = offer_sample
        self.summary: DataSummary | None = None
        self._offered = False
        self._focus_target: str | None = None
        self._focus_edit = False
        """The last focus_pane request: a focus that strays is put back where it asked."""
        self.pane_chosen = False
        """The user picked a pane (0–3, a click, the palette): start-up no longer picks one."""
        self._seen_version: int | None = None

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's palette entries, less those ours replace (its Quit would skip the quit question)."""
        return without_duplicates(super().get_system_commands(screen))

    def get_default_screen(self) -> Screen:
        return MainScreen(id="_default")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is plain text with control characters escaped.

        Messages carry user data (store ids, file names, typed values, error
        text quoting them): as markup, ``[/x]`` would crash the app, and raw,
        an escape sequence would reach the terminal. ``markup`` is accepted
        for Textual's signature and ignored.
        """
        super().notify(visible_lines(message), title=visible(title), severity=severity, timeout=timeout, markup=False)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield SummaryBar(id="summary-bar")
        with PaneTabs(initial="status", id="panes"):
            with TabPane("0 Status", id="status"):
                yield StatusPane(self.db, id="status-pane").data_bind(StoremonApp.data_version)
            with TabPane("1 Import", id="import"):
                yield ImportPane(self.db, id="import-pane")
            with TabPane("2 Data", id="data"):
                yield DataPane(self.db, id="data-pane")
            with TabPane("3 Reports", id="reports"):
                yield ReportsPane(self.jobs, id="reports-pane").data_bind(StoremonApp.data_version)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#db-location", Label).update(plain_text(self.location_text()))
        self.query_one("#db-summary", Label).update("counting…")
        self.main_screen = self.screen
        self.watch(self.main_screen, "focused", self.keep_focus_in_pane, init=False)
        # The Status pane is shown first: its table takes keys from the first frame, before the
        # summary is known (a key pressed meanwhile is never lost).
        self.call_after_refresh(self.focus_pane, "status")
        self.refresh_summary(startup=True)
        self.set_interval(VERSION_POLL_S, self.poll_data_version)

    def keep_focus_in_pane(self, focused: object) -> None:
        """Never leave the main screen with nothing focused.

        Switching panes hides the widget that had focus (e.g. the report table
        just after a store screen closes); Textual then clears the focus, and
        with nothing focused no pane key works until the user presses Tab.
        """
        if focused is None:
            tabs = self.main_screen.query_one("#panes", TabbedContent)
            self.call_after_refresh(self._refocus, tabs.active)

    def _refocus(self, name: str) -> None:
        if self.screen is self.main_screen and self.main_screen.focused is None:
            self.focus_pane(name)

    def location_text(self) -> str:
        location = self.db.location
        home = str(Path.home())
        return "~" + location[len(home) :] if location.startswith(home + os.sep) else location

    @property
    def status_pane(self) -> StatusPane:
        return self.main_screen.query_one(StatusPane)

    @property
    def import_pane(self) -> ImportPane:
        return self.main_screen.query_one(ImportPane)

    @property
    def data_pane(self) -> DataPane:
        return self.main_screen.query_one(DataPane)

    @property
    def reports_pane(self) -> ReportsPane:
        return self.main_screen.query_one(ReportsPane)

    # -- summary -----------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, exclusive=True, group="summary", description="Summary")
    def refresh_summary(self, startup: bool = False) -> DataSummary:
        from storemon_tui.db.maintenance import summarize

        if startup:
            self.jobs.reconcile_once()
        summary = summarize(self.db)
        if not get_current_worker().is_cancelled:
            self.post_message(self.SummaryReady(summary, startup))
        return summary

    @on(SummaryReady)
    def show_summary(self, event: SummaryReady) -> None:
        # The first summary shown is the start-up's, whichever worker read it: a data change during
        # start-up starts another summary, which cancels the start-up one (one group, exclusive), and
        # the empty database then stayed on Status instead of the Import pane.
        first = self.summary is None
        self.summary = event.summary
        with contextlib.suppress(NoMatches):  # the app is shutting down: its widgets are already gone
            self._show_summary(event.summary, event.startup or first)

    def _show_summary(self, summary: DataSummary, startup: bool) -> None:
        self._seen_version = self.data_version = summary.data_version
        text, stale = summary_text(summary, self.clock())
        self.main_screen.query_one("#db-summary", Label).update(text)
        self.main_screen.query_one(SummaryBar).stale = stale
        empty = not (summary.polls or summary.hours_rows or summary.zones)
        if startup and empty:
            if not self.pane_chosen:
                self.show_pane("import", edit=True)
            if self.offer_sample and not self._offered:
                self._offered = True
                self.offer_sample_data()

    def offer_sample_data(self) -> None:
        from storemon_tui.paths import bundled_sample_dir

        sample = bundled_sample_dir()
        if sample is None:
            return
        # Focus nothing in a pane meanwhile: focus restored after the dialog must not switch tabs.
        self.main_screen.set_focus(None)
        self.push_screen(
            ConfirmScreen(
                "The database is empty",
                f"Import the bundled sample data now?\n\n{sample}\n"
                "About 200 stores: one week of polls, business hours and time zones.\n\n"
                "Press y to import, n or Esc to choose your own files.",
                yes="Import sample",
                no="Not now",
            ),
            self.sample_offer_answered,
        )

    def sample_offer_answered(self, ok: bool | None) -> None:
        if ok:
            self.action_import_sample()
        elif not self.pane_chosen:
            self.show_pane("import", edit=True)  # typing a path is the thing to do now

    @on(DataChanged)
    def data_changed(self, event: DataChanged) -> None:
        """Something was imported, cleared or computed: refresh what depends on it."""
        self.refresh_summary()
        with contextlib.suppress(NoMatches):  # the app is shutting down: its panes are already gone
            self.data_pane.refresh_data()
            if not event.reports_only:
                self.reports_pane.load_list()

    # -- noticing other processes' imports ------------------------------------------------------

    def poll_data_version(self) -> None:
        """Every second: read the data version in a worker (never two at once: a locked database
        makes one wait, and the next tick must not pile another on)."""
        if not any(w.group == "version" and not w.is_finished for w in self.workers):
            self.read_data_version()

    @work(thread=True, exit_on_error=False, group="version", description="Data version")
    def read_data_version(self) -> None:
        """One indexed read; a failure (the database locked or gone a moment) is retried by the next tick,
        without a notification every second."""
        try:
            with self.db.connect() as conn:
                version = get_data_version(conn)
        except SQLAlchemyError:
            return
        self.post_message(DataVersionSeen(version))

    @on(DataVersionSeen)
    def data_version_seen(self, event: DataVersionSeen) -> None:
        """Another process imported or cleared: refresh the header, the tables, the status, the report list."""
        if self._seen_version is not None and event.version != self._seen_version:
            self._seen_version = event.version
            self.post_message(DataChanged())

    # -- navigation --------------------------------------------------------------------------

    def show_pane(self, name: str, *, edit: bool = False) -> None:
        """Show a pane. Focus goes to its table/list (or the Import pane itself), never into a
        text field, so the one-key bindings keep working; ``edit`` focuses the path field
        (the empty-database flow, where typing a path is the only thing to do)."""
        tabs = self.main_screen.query_one("#panes", TabbedContent)
        if tabs.active != name:
            # Let go of the old pane's widget first: once hidden, Textual would move
            # the focus to whatever is next (or nowhere), racing focus_pane below.
            self.main_screen.set_focus(None)
        tabs.active = name
        self.call_after_refresh(self.focus_pane, name, edit)

    def focus_pane(self, name: str, edit: bool = False) -> None:
        if self.main_screen.query_one("#panes", TabbedContent).active != name:
            return
        self._focus_target, self._focus_edit = name, edit
        if name == "status":
            self.status_pane.focus_main()
        elif name == "import":
            self.import_pane.focus_main(edit=edit)
        elif name == "data":
            self.data_pane.focus_main()
        else:
            self.reports_pane.focus_main()

    def action_show_pane(self, name: str) -> None:
        self.pane_chosen = True
        self.show_pane(name)

    @on(PaneTabs.FocusStrayed)
    def focus_strayed(self, event: PaneTabs.FocusStrayed) -> None:
        """A late focus landed in a hidden pane (see PaneTabs): put it back in the pane shown."""
        self.call_after_refresh(self.refocus_shown_pane)

    def refocus_shown_pane(self) -> None:
        tabs = self.main_screen.query_one("#panes", TabbedContent)
        name, focused = tabs.active, self.main_screen.focused
        if self.screen is not self.main_screen or name not in PANES:
            return  # a dialog is up: the main screen's focus comes back when it closes
        if focused is not None and tabs.get_pane(name) in focused.ancestors:
            return
        self.focus_pane(name, edit=self._focus_target == name and self._focus_edit)

    @on(TabbedContent.TabActivated, "#panes")
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tabs = self.main_screen.query_one("#panes", TabbedContent)
        if tabs.active != event.pane.id or event.pane.id not in PANES:
            return  # a stale event: the tab shown has changed since
        self.call_after_refresh(self.focus_unless_inside, event.pane.id)

    def focus_unless_inside(self, name: str) -> None:
        """A tab was activated (click, or 0–3): focus its pane unless show_pane already did."""
        focused = self.main_screen.focused
        pane = self.main_screen.query_one(f"#panes #{name}")
        if self._focus_target == name:
            return  # show_pane placed the focus (it may still be pending)
        if focused is None or pane not in focused.ancestors:
            self.focus_pane(name)

    # -- quitting ------------------------------------------------------------------------------

    def running_work(self) -> list[str]:
        """What would be lost by quitting now: ``["an import", "a report"]`` or less."""
        running = []
        if self.import_pane.running:
            running.append("an import")
        if self.reports_pane.running_id is not None:
            running.append("a report")
        return running

    async def action_quit(self) -> None:
        """Quit; while an import or a report runs, ask first (the default answer is No)."""
        running = self.running_work()
        if not running:
            self.exit()
            return
        what = " and ".join(running)
        question = f"{what[0].upper()}{what[1:]} {'is' if len(running) == 1 else 'are'} running. "
        question += f"Quit and cancel {'it' if len(running) == 1 else 'them'}?"
        self.push_screen(
            ConfirmScreen("Quit storemon?", question, yes="Quit", no="Keep working", danger=True), self.quit_answered
        )

    def quit_answered(self, ok: bool | None) -> None:
        if ok:
            self.notify("Cancelling, then quitting…", title="Quit")
            self.import_pane.cancel()  # it rolls back; the process waits for its thread at exit
            self.stop_report_and_quit(self.reports_pane.running_id)

    @work(thread=True, exit_on_error=False, group="quit", description="Quit")
    def stop_report_and_quit(self, report_id: str | None) -> None:
        """Cancel the running report and wait until it is recorded ``Cancelled`` with the time it
        actually ran: its thread is a daemon and would otherwise die with the process, leaving it
        ``Running`` for the next start to call ``Failed``."""
        if report_id not in (None, "starting"):
            self.jobs.cancel(report_id)
            self.jobs.wait(report_id, timeout=QUIT_WAIT)
        self.post_message(self.ReadyToQuit())

    @on(ReadyToQuit)
    def ready_to_quit(self) -> None:
        self.exit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc cancels running work, and shows in the footer only while there is some."""
        if action == "cancel":
            return self.import_pane.running or self.reports_pane.running_id is not None or self.status_pane.computing
        return True

    def action_cancel(self) -> None:
        """Esc outside a text field: cancel the running import, else the running report, else the fleet status."""
        if not self.import_pane.cancel() and not self.reports_pane.cancel():
            self.status_pane.cancel()

    # -- actions used by panes and the command palette ---------------------------------------

    def action_help(self) -> None:
        """Help, starting with the keys that work where the user is (the active bindings here)."""
        screen = self.screen
        active = [active for active in screen.active_bindings.values() if active.enabled]
        # The pane's own keys first, then the focused widget's (a table's arrows), then the app's.
        active.sort(key=lambda a: 2 if a.node in (self, screen) else 1 if a.node is screen.focused else 0)
        self.push_screen(HelpScreen(self.help_context(), [a.binding for a in active], help_sections()))

    def help_context(self) -> str:
        """Where help was asked for: ``Data pane``, ``Import pane, path field``, ``Store screen``…"""
        screen = self.screen
        if screen is not self.main_screen:
            return str(getattr(screen, "HELP_CONTEXT", "this screen"))
        active = self.main_screen.query_one("#panes", TabbedContent).active
        context = f"{active.capitalize()} pane"
        focused = screen.focused
        if isinstance(focused, Input):
            context += ", path field" if focused.id == "import-path" else ", store filter"
        return context

    @on(SampleRequested)
    def action_import_sample(self) -> None:
        from storemon_tui.paths import bundled_sample_dir

        sample = bundled_sample_dir()
        if sample is None:
            self.notify("The sample data is missing from this installation", title="Sample data", severity="error")
            return
        self.show_pane("import")
        pane = self.import_pane
        pane.query_one("#import-path", Input).value = str(sample)
        pane.import_paths(sorted(sample.glob("*.csv")))

    def action_generate(self) -> None:
        self.show_pane("reports")
        self.reports_pane.action_generate()

    def action_generate_as_of(self) -> None:
        self.show_pane("reports")
        self.reports_pane.action_generate_as_of()

    def action_export(self) -> None:
        self.show_pane("reports")
        self.reports_pane.action_export()

    def action_clear_current(self) -> None:
        self.show_pane("data")
        self.data_pane.action_clear_table()

    def action_clear_everything(self) -> None:
        self.show_pane("data")
        self.data_pane.action_clear_all()

    @on(ReportRequested)
    def show_report(self, event: ReportRequested) -> None:
        self.show_pane("reports")
        self.reports_pane.show_report(event.report_id)

    @on(StoreRequested)
    def open_store(self, event: StoreRequested) -> None:
        self.push_screen(
            StoreScreen(
                self.db,
                event.store_id,
                as_of_us=event.as_of_us,
                report_row=event.report_row,
                report_label=event.report_label,
            )
        )

    @on(StorePromptRequested)
    def action_open_store_prompt(self) -> None:
        def chosen(value: str | None) -> None:
            if value and value.strip():
                self.post_message(StoreRequested(value.strip()))

        self.push_screen(PromptScreen("Open a store", "store_id:", placeholder="e.g. 8419537941919820732"), chosen)


def help_sections() -> list[tuple[str, list]]:
    """Every binding of the app, grouped by where it applies (for the help screen)."""
    extra_global = [
        Binding("tab", "focus_next", "Next control"),
        Binding("shift+tab", "focus_previous", "Previous control"),
    ]
    table_keys = [
        Binding("up,down", "", "Move the cursor"),
        Binding("enter", "", "Open the store (report table: drill-down; reports list: open report)"),
    ]
    return [
        ("Everywhere", StoremonApp.BINDINGS + extra_global),
        ("Text fields (path, store filters)", TextField.BINDINGS),
        ("Status pane", StatusPane.BINDINGS + RowTable.BINDINGS + table_keys),
        ("Import pane", ImportPane.BINDINGS + PathInput.BINDINGS),
        ("Data pane", DataPane.BINDINGS + RowTable.BINDINGS + table_keys),
        ("Reports pane", ReportsPane.BINDINGS + RowTable.BINDINGS),
        ("Store screen", StoreScreen.BINDINGS),
        ("Dialogs", ConfirmScreen.BINDINGS + PromptScreen.BINDINGS + FilePickerScreen.BINDINGS),
    ]
