"""Import pane: choose CSVs, preview kind and first rows, import with progress."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Checkbox, DataTable, Input, Label, ProgressBar, Static
from textual.worker import Worker, get_current_worker

from storemon_tui.db.database import Database
from storemon_tui.display import counted
from storemon_tui.errors import Cancelled, StoremonError
from storemon_tui.paths import expand_paths
from storemon_tui.safe_text import plain_text, visible
from storemon_tui.tui.messages import DataChanged, SampleRequested
from storemon_tui.tui.screens.dialogs import FilePickerScreen
from storemon_tui.tui.widgets.common import (
    ClearCheckbox,
    PathSuggester,
    TextField,
    WorkerErrors,
    describe_error,
)
from storemon_tui.tui.widgets.job_progress import ProgressSnapshot

if TYPE_CHECKING:
    from storemon_tui.ingest.prepare import PendingFile
    from storemon_tui.ingest.preview import Preview

KIND_NAMES = {"polls": "polls", "business_hours": "business hours", "time_zones": "time zones"}


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


HINT = "Press / to type a path (Enter imports it), F3 to browse. Files are recognized by their header."


class PathInput(TextField):
    """Input whose Tab accepts the inline completion, as in a shell.

    With nothing to complete, Tab stays in the field and says so: moving the
    focus on would send the next typed digit to the pane switcher.
    """

    BINDINGS = [Binding("tab", "complete", "Complete", key_display="Tab", id="path.complete")]

    def action_complete(self) -> None:
        if self._suggestion and self.cursor_at_end and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.app.notify("Nothing to complete here · Esc leaves the field", title="Path", timeout=3)


PreviewResults = list[tuple[Path, "Preview | StoremonError"]]


class ImportPane(WorkerErrors, Vertical, can_focus=True):
    """Focused itself when shown, so its keys work; ``/`` or Enter starts typing a path.

    Its workers report through the messages below (posted from their thread,
    handled here); what the app must know goes up as :mod:`~storemon_tui.tui.messages`.
    """

    BINDINGS = [
        Binding("slash,enter", "edit_path", "Path", key_display="/", id="import.path"),
        Binding("f5,i", "start_import", "Import", key_display="F5", id="import.run"),
        Binding("f3,b", "browse", "Browse", key_display="F3", id="import.browse"),
        Binding("f4,s", "toggle_skip", "Skip invalid", key_display="F4", id="import.skip"),
        # Out of the footer (it must fit 80 columns in the path field, F1 Help included): the empty
        # database's header and offer name F6, and help lists it.
        Binding("f6", "import_sample", "Sample data", key_display="F6", show=False, id="import.sample"),
    ]

    busy: var[bool] = var(False)
    """An import is running (the progress line shows; Esc cancels it)."""

    class PreviewReady(Message, bubble=False):
        def __init__(self, text: str, paths: list[Path], results: PreviewResults) -> None:
            super().__init__()
            self.text, self.paths, self.results = text, paths, results

    class Progress(Message, bubble=False):
        """One file's rows written so far (``total`` 0: still reading and validating it)."""

        def __init__(self, label: str, done: int, total: int, elapsed: float) -> None:
            super().__init__()
            self.label, self.done, self.total, self.elapsed = label, done, total, elapsed

    class Finished(Message, bubble=False):
        def __init__(self, lines: list[str], imported: int, files: int, cancelled: bool) -> None:
            super().__init__()
            self.lines, self.imported, self.files, self.cancelled = lines, imported, files, cancelled

    def __init__(self, db: Database, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.db = db
        self._preview_timer: Timer | None = None
        self._import_worker: Worker | None = None

    def watch_busy(self, busy: bool) -> None:
        self.set_class(busy, "-running")
        self.refresh_bindings()  # the app's Esc (cancel) shows in the footer while an import runs

    def focus_main(self, *, edit: bool = False) -> None:
        if edit:
            self.action_edit_path()
        else:
            self.focus()

    def action_edit_path(self) -> None:
        field = self.query_one("#import-path", Input)
        field.focus()
        field.cursor_position = len(field.value)

    def compose(self) -> ComposeResult:
        with Horizontal(id="import-row"):
            yield PathInput(
                placeholder="CSV file, directory or glob (Tab completes)",
                suggester=PathSuggester(),
                select_on_focus=False,  # the cursor goes to the end (action_edit_path); typing adds to the path
                id="import-path",
            )
            yield ClearCheckbox("Skip invalid rows", id="import-skip")
        yield Static(HINT, id="import-files", markup=False)
        yield DataTable(id="import-preview", cursor_type="none", show_cursor=False)
        with Horizontal(id="import-progress"):
            yield Label("", id="import-progress-label")
            yield ProgressBar(total=100, show_eta=False, id="import-bar")
        with VerticalScroll(id="import-log"):
            yield Static("", id="import-result", markup=False)

    # -- choosing files ------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.busy

    @on(Input.Changed, "#import-path")
    def path_changed(self, event: Input.Changed) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(0.25, self.preview)

    @on(Input.Submitted, "#import-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        self.action_start_import()

    @on(TextField.Left, "#import-path")
    def path_left(self, event: TextField.Left) -> None:
        self.focus()

    def set_path(self, path: str) -> None:
        field = self.query_one("#import-path", Input)
        field.value = path
        field.cursor_position = len(path)
        self.preview()

    @work(thread=True, exit_on_error=False, exclusive=True, group="preview", description="Preview")
    def preview(self) -> None:
        from storemon_tui.ingest.preview import preview_file

        text = self.query_one("#import-path", Input).value
        paths = expand_paths(text)
        results: PreviewResults = []
        for path in paths[:20]:
            try:
                results.append((path, preview_file(path, rows=5)))
            except StoremonError as exc:
                results.append((path, exc))
        if not get_current_worker().is_cancelled:
            self.post_message(self.PreviewReady(text, paths, results))

    @on(PreviewReady)
    def show_preview(self, event: PreviewReady) -> None:
        from storemon_tui.ingest.problems import quoted_columns

        text, paths, results = event.text, event.paths, event.results
        files = self.query_one("#import-files", Static)
        table = self.query_one("#import-preview", DataTable)
        table.clear(columns=True)
        if not text.strip():
            files.update(HINT)
            return
        if not paths:
            files.update(plain_text(f"{text}: no matching CSV files"))
            return
        lines = []
        shown = None
        for path, result in results:
            if isinstance(result, Exception):
                lines.append(f"✗ {describe_error(result)}")
            else:
                kind = KIND_NAMES.get(result.kind.value.replace(" ", "_"), result.kind.value)
                ignored = result.ignored_columns
                extra = f", ignoring {visible(quoted_columns(ignored, each=True))}" if ignored else ""
                lines.append(f"✓ {visible(path.name)}: {kind}, {_size(result.size_bytes)}{extra}")
                shown = shown or result
        if len(paths) > len(results):
            lines.append(f"… and {counted(len(paths) - len(results), 'more file')}")
        files.update(plain_text("\n".join(lines), lines=True))
        if shown is not None:
            table.add_columns(*(plain_text(name) for name in shown.header))
            width = len(shown.header)
            table.add_rows([tuple(plain_text(v) for v in (row + [""] * width)[:width]) for row in shown.rows])

    def action_browse(self) -> None:
        value = self.query_one("#import-path", Input).value.strip()
        start = Path(os.path.expanduser(value)).resolve() if value else Path.cwd()
        while not start.is_dir() and start != start.parent:
            start = start.parent
        self.app.push_screen(FilePickerScreen(start if start.is_dir() else Path.cwd()), self._picked)

    def _picked(self, path: Path | None) -> None:
        if path is not None:
            self.set_path(str(path))
            self.query_one("#import-path", Input).focus()

    def action_toggle_skip(self) -> None:
        self.query_one("#import-skip", Checkbox).toggle()

    def action_import_sample(self) -> None:
        self.post_message(SampleRequested())

    # -- importing -------------------------------------------------------------------------

    def action_start_import(self) -> None:
        text = self.query_one("#import-path", Input).value
        paths = expand_paths(text)
        if not paths:
            self.app.notify("Choose a CSV file, a directory or a glob first", title="Import", severity="warning")
            self.query_one("#import-path", Input).focus()
            return
        self.import_paths(paths)

    def import_paths(self, paths: list[Path]) -> None:
        if self.running:
            self.app.notify("An import is already running (Esc cancels it)", title="Import", severity="warning")
            return
        skip = self.query_one("#import-skip", Checkbox).value
        self.query_one("#import-result", Static).update("")
        self.busy = True
        self.focus()  # out of the path field: keys typed now are commands, not text
        bar = self.query_one("#import-bar", ProgressBar)
        bar.update(total=None, progress=0)
        self.query_one("#import-progress-label", Label).update(
            plain_text(f"Reading {paths[0].name}…" if len(paths) == 1 else f"Reading {len(paths)} files…")
        )
        self._import_worker = self.run_import(paths, skip)

    @work(thread=True, exit_on_error=False, exclusive=True, group="import", description="Import")
    def run_import(self, paths: list[Path], skip_invalid: bool) -> None:
        """Import like ``storemon --import``: files are read ahead and written zones, hours, polls."""
        from storemon_tui.ingest.prepare import ReadAhead

        worker = get_current_worker()
        lines: list[str] = []
        imported = 0
        reached = 0
        with ReadAhead(paths, skip_invalid=skip_invalid, should_cancel=lambda: worker.is_cancelled) as read_ahead:
            try:
                for pending in read_ahead:
                    reached += 1
                    outcome = self._write_one(pending, f"{reached}/{len(paths)}" if len(paths) > 1 else "", worker)
                    if outcome is None:  # cancelled while writing
                        lines.append(f"✗ {visible(pending.path)}: cancelled; nothing from this file was written")
                        break
                    ok, line = outcome
                    imported += ok
                    lines.append(line)
            except Cancelled:
                pass  # cancelled while the next file was being read
            # Cancelled: the files not reached are listed, and none of them is read any further.
            lines += [f"– {visible(path)}: not imported (cancelled)" for path in read_ahead.write_order[reached:]]
        self.post_message(self.Finished(lines, imported, len(paths), worker.is_cancelled))

    def _write_one(self, pending: PendingFile, position: str, worker: Worker[None]) -> tuple[bool, str] | None:
        """Write one prepared file: (imported?, result line), or ``None`` if cancelled."""
        from storemon_tui.ingest import InvalidRowsError, importer

        path = pending.path
        started = time.monotonic()
        last = [0.0]
        label = f"{path.name} ({position})" if position else path.name

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < 0.1 and done < total:
                return
            last[0] = now
            if not worker.is_cancelled:
                self.post_message(self.Progress(label, done, total, now - started))

        self.post_message(self.Progress(label, 0, 0, 0.0))
        try:
            summary = importer.write_prepared(
                self.db, pending.take(), progress=progress, should_cancel=lambda: worker.is_cancelled
            )
        except Cancelled:
            return None
        except InvalidRowsError as exc:
            return False, f"✗ {exc.render()}"
        except StoremonError as exc:
            return False, f"✗ {exc}"
        except Exception as exc:  # shown in the pane, never a traceback
            return False, f"✗ {visible(path)}: {describe_error(exc)}"
        return True, f"✓ {summary.describe()}"

    @on(Progress)
    def show_progress(self, event: Progress) -> None:
        """One file's writing progress (no "Esc cancels": the footer says so while an import runs)."""
        label, done, total, elapsed = event.label, event.done, event.total, event.elapsed
        bar = self.query_one("#import-bar", ProgressBar)
        if total:
            bar.update(total=total, progress=done)
            eta = ProgressSnapshot(done / total, elapsed).eta_text()
            self.query_one("#import-progress-label", Label).update(
                plain_text(f"{label}: {done:,}/{counted(total, 'row')}" + (f" · {eta}" if eta else ""))
            )
        else:
            bar.update(total=None)
            self.query_one("#import-progress-label", Label).update(plain_text(f"{label}: reading and validating"))

    @on(Finished)
    def finish_import(self, event: Finished) -> None:
        lines, imported, files, cancelled = event.lines, event.imported, event.files, event.cancelled
        self.busy = False
        self.query_one("#import-result", Static).update(plain_text("\n".join(lines), lines=True))
        if cancelled:
            self.app.notify(
                f"Import cancelled; {imported} of {counted(files, 'file')} imported before",
                title="Import",
                severity="warning",
            )
        elif imported == files:
            self.app.notify(f"Imported {counted(imported, 'file')}", title="Import")
        else:
            self.app.notify(
                f"{files - imported} of {counted(files, 'file')} not imported; see the Import pane",
                title="Import",
                severity="error",
            )
        if imported:
            self.post_message(DataChanged())

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        if worker.group == "import":  # died without posting Finished: nothing runs any more
            self.busy = False
        return False

    def cancel(self) -> bool:
        if self.running and self._import_worker is not None:
            self._import_worker.cancel()
            self.query_one("#import-progress-label", Label).update("Cancelling…")
            return True
        return False
