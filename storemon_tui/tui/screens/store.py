"""The store drill-down: zone, hours, latest polls, totals, and a week timeline."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static
from textual.worker import Worker, WorkerState

from storemon_tui.db.database import Database
from storemon_tui.display import DAY_NAMES, counted, format_ts_us
from storemon_tui.report.store_detail import StoreDetail, describe_now, load_store_detail, local_instant
from storemon_tui.safe_text import plain_text
from storemon_tui.tui.widgets.common import copy_store_id
from storemon_tui.tui.widgets.timeline import Timeline


class StoreScreen(Screen[None]):
    HELP_CONTEXT = "Store screen"
    BINDINGS = [
        Binding("escape,q,backspace", "close", "Back", key_display="Esc", id="store.back"),
        Binding("r,f5", "reload", "Reload", id="store.reload"),
        Binding("y", "copy_id", "Copy id", id="store.copy"),
        Binding("question_mark,f1", "app.help", "Help", key_display="?", id="store.help"),
    ]

    def __init__(
        self,
        db: Database,
        store_id: str,
        *,
        as_of_us: int | None = None,
        report_row: dict[str, str] | None = None,
        report_label: str = "",
    ) -> None:
        super().__init__()
        self.db, self.store_id, self.as_of_us = db, store_id, as_of_us
        self.report_row, self.report_label = report_row, report_label
        self.detail: StoreDetail | None = None

    def compose(self) -> ComposeResult:
        yield Label(plain_text(f"Store {self.store_id} · loading…"), id="store-title")
        with Horizontal(id="store-top"):
            yield Static("", id="store-hours")
            yield Static("", id="store-totals")
            yield DataTable(id="store-polls", cursor_type="row", zebra_stripes=True)
        yield Label("", id="store-now")
        yield Timeline(id="store-timeline")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exit_on_error=False, exclusive=True, group="store")
    def load(self) -> StoreDetail:
        return load_store_detail(self.db, self.store_id, self.as_of_us)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "store":
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, StoreDetail):
            self.show(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.query_one("#store-title", Label).update(plain_text(f"Store {self.store_id}: {event.worker.error}"))
            self.app.notify(str(event.worker.error), title="Store", severity="error")

    def show(self, d: StoreDetail) -> None:
        self.detail = d
        zone = f"{d.zone} (default)" if d.zone_is_default else d.zone
        source = self.report_label or "latest poll"
        self.query_one("#store-title", Label).update(plain_text(f"Store {d.store_id} · {zone} · {source}"))
        hours = ["[b]Business hours[/b] (local)"]
        d_hours = [text.replace(", ", " ") for text in d.hours_by_day]
        hours += [f"{DAY_NAMES[i]} {text}" for i, text in enumerate(d_hours)]
        self.query_one("#store-hours", Static).update("\n".join(hours))
        self.query_one("#store-totals", Static).update(self.totals_text(d))
        self.show_polls(d)
        self.query_one("#store-now", Label).update(plain_text(describe_now(d)))
        since = d.current.since_us if d.current is not None else None
        self.query_one(Timeline).set_data(
            d.days,
            d.slots,
            now=local_instant(d, d.now_us),
            since=local_instant(d, since) if since is not None else None,
        )

    def show_polls(self, d: StoreDetail) -> None:
        """The latest polls in local time: the header carries the year (the values too if they span two)."""
        table = self.query_one("#store-polls", DataTable)
        table.clear(columns=True)
        years = {local[4:8] for local, _, _ in d.latest}
        one_year = len(years) == 1
        # Fixed widths: a DataTable widens auto-width columns to their rows only once it is idle,
        # so a screen drawn before that (a busy machine) showed header-wide columns.
        table.add_column(f"{years.pop()} local" if one_year else "local time", width=11 if one_year else 16)
        table.add_column("status", width=len("(inactive)"))
        for local, status, evidence in d.latest:
            table.add_row(local[9:20] if one_year else local[4:20], status if evidence else f"({status})")

    def totals_text(self, d: StoreDetail) -> str:
        as_of = format_ts_us(d.now_us // 1_000_000 * 1_000_000)
        lines = [f"[b]as of {as_of[:10]}[/b]", f"[b]{as_of[11:]}[/b]"]  # 2023-01-25 / 18:12:56 UTC
        if d.row is None:
            return "\n".join([*lines, "no polls at or before", "now: not in the report"])
        r = d.row
        lines.append(f"{'':5}{'up':>6} {'down':>6}")
        lines.append(f"{'hour':5}{r['uptime_last_hour']:>6} {r['downtime_last_hour']:>6} min")
        lines.append(f"{'day':5}{r['uptime_last_day']:>6} {r['downtime_last_day']:>6} h")
        lines.append(f"{'week':5}{r['uptime_last_week']:>6} {r['downtime_last_week']:>6} h")
        lines.append(f"{counted(d.polls, 'poll')}, {d.evidence_polls:,} open")
        if self.report_row is not None:
            same = self.report_row == d.row
            lines.append("[$success]✓ matches report row[/]" if same else "[$error]✗ differs from report[/]")
        return "\n".join(lines)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_id(self) -> None:
        copy_store_id(self, self.store_id)

    def action_reload(self) -> None:
        self.load()
