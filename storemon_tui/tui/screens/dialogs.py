"""Small modal dialogs: confirm, prompt for a value, pick a CSV file.

Each has a footer of its own: the keys shown are the dialog's, not those of
the pane behind it (which do nothing while the dialog is up)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Footer, Input, Label, Static
from textual.widgets._button import ButtonVariant

from storemon_tui.safe_text import plain_text
from storemon_tui.tui.widgets.common import PlainInput


class ConfirmScreen(ModalScreen[bool]):
    """Ask a yes/no question; ``y``/Enter confirm, ``n``/Esc cancel."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", key_display="n/Esc", id="confirm.no"),
    ]

    def __init__(self, title: str, message: str, *, yes: str = "Yes", no: str = "Cancel", danger: bool = False) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.message, self.yes, self.no, self.danger = title, message, yes, no, danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(plain_text(self.title_text), classes="dialog-title")
            yield Static(plain_text(self.message, lines=True), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="error" if self.danger else "primary")
                yield Button(f"{self.no} (n)", id="no")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#no" if self.danger else "#yes", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class ChoiceScreen(ModalScreen[str | None]):
    """Choose one of a few named options, each with its key (a subclass's ``BINDINGS`` and ``KEYS``).

    Only the ``options`` given are offered (their keys show in the footer); the
    answer is the chosen option's name, or None (``n``/Esc). Options in
    ``DANGER`` are drawn as destructive.
    """

    KEYS: dict[str, str] = {}
    DANGER: frozenset[str] = frozenset()

    def __init__(self, title: str, message: str, options: dict[str, str]) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.message, self.options = title, message, options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(plain_text(self.title_text), classes="dialog-title")
            yield Static(plain_text(self.message, lines=True), classes="dialog-body")
            with Vertical(classes="dialog-choices"):
                for name, label in self.options.items():
                    variant: ButtonVariant = "error" if name in self.DANGER else "default"
                    yield Button(f"{label} ({self.KEYS[name]})", id=f"choice-{name}", variant=variant, compact=True)
                yield Button("Cancel (n)", id="choice-cancel", compact=True)
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#choice-cancel", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "choose" or parameters[0] == "" or parameters[0] in self.options

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        name = (event.button.id or "").removeprefix("choice-")
        self.dismiss(name if name in self.options else None)

    def action_choose(self, name: str) -> None:
        self.dismiss(name or None)


class ClearScreen(ChoiceScreen):
    """What to clear from one table: the rows the store filter shows, the whole table, or
    (the retention of ``storemon --prune``) polls older than N days or all but the newest N reports."""

    BINDINGS = [
        Binding("s", "choose('store')", "Filtered rows", id="clear.store"),
        Binding("a", "choose('all')", "Whole table", id="clear.all"),
        Binding("p", "choose('prune')", "Keep N days", id="clear.prune"),
        Binding("k", "choose('keep_reports')", "Keep N reports", id="clear.keep_reports"),
        Binding("n,escape", "choose('')", "Cancel", key_display="n/Esc", id="clear.cancel"),
    ]
    KEYS = {"store": "s", "all": "a", "prune": "p", "keep_reports": "k"}
    DANGER = frozenset({"store", "all"})


class ExportScreen(ChoiceScreen):
    """Export all of a report or just the stores its filter shows."""

    BINDINGS = [
        Binding("f", "choose('filtered')", "Filtered stores", id="export.filtered"),
        Binding("a", "choose('all')", "All stores", id="export.all"),
        Binding("n,escape", "choose('')", "Cancel", key_display="n/Esc", id="export.cancel"),
    ]
    KEYS = {"filtered": "f", "all": "a"}


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; Enter accepts, Esc cancels.

    ``check`` (optional) looks at the text on Enter and returns what is wrong
    with it, or None: the dialog then stays open, shows the problem under the
    field and keeps what was typed, instead of closing and losing it.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", key_display="Esc", id="prompt.cancel")]

    def __init__(
        self,
        title: str,
        label: str,
        value: str = "",
        *,
        placeholder: str = "",
        restrict: str | None = None,
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.label, self.value = title, label, value
        self.placeholder, self.restrict, self.check = placeholder, restrict, check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(plain_text(self.title_text), classes="dialog-title")
            yield Label(plain_text(self.label), classes="dialog-body")
            yield PlainInput(self.value, placeholder=self.placeholder, restrict=self.restrict, id="prompt-input")
            yield Static("", id="prompt-error", classes="dialog-error", markup=False)
            yield Label("Enter to accept · Esc to cancel", classes="dialog-hint")
        yield Footer(show_command_palette=False)

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        problem = self.check(event.value) if self.check is not None else None
        error = self.query_one("#prompt-error", Static)
        if problem:
            error.update(plain_text(problem))
            error.display = True
            return
        self.dismiss(event.value)

    @on(Input.Changed)
    def changed(self) -> None:
        self.query_one("#prompt-error", Static).display = False

    def action_cancel(self) -> None:
        self.dismiss(None)


class CsvTree(DirectoryTree):
    """Directories and CSV files only; names shown escaped (a file name may hold control characters)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() == ".csv")]

    def process_label(self, label: str | Text) -> Text:
        return plain_text(label.plain if isinstance(label, Text) else label)


class FilePickerScreen(ModalScreen[Path | None]):
    """Browse for a CSV file (or choose the whole directory) with the keyboard."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", key_display="Esc", id="picker.cancel"),
        Binding("backspace,u", "up", "Parent dir", id="picker.up"),
        Binding("d", "choose_dir", "Import dir", id="picker.dir"),
    ]

    def __init__(self, start: Path) -> None:
        super().__init__(classes="dialog-screen")
        self.start = start if start.is_dir() else Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker"):
            yield Label("Choose a CSV file", classes="dialog-title")
            yield Label(plain_text(self.start), id="picker-root", classes="dialog-hint")
            yield CsvTree(self.start, id="picker-tree")
            yield Label("Enter opens/chooses · u parent · d this dir · Esc cancel", classes="dialog-hint")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(CsvTree).focus()

    @on(DirectoryTree.FileSelected)
    def file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(Path(event.path))

    def action_up(self) -> None:
        tree = self.query_one(CsvTree)
        parent = Path(tree.path).resolve().parent
        tree.path = parent
        self.query_one("#picker-root", Label).update(plain_text(parent))

    def action_choose_dir(self) -> None:
        tree = self.query_one(CsvTree)
        node = tree.cursor_node
        if node is not None and node.data is not None and Path(node.data.path).is_dir():
            self.dismiss(Path(node.data.path))
        else:
            self.dismiss(Path(tree.path))

    def action_cancel(self) -> None:
        self.dismiss(None)
