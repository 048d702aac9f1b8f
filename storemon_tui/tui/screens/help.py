"""The help screen: the keys that work where you are first, then every binding and how uptime is computed.

The keys "here" are the active bindings of the screen help was opened from
(as lazygit does), so they are exactly what works there, a text field
included. Then how uptime is computed (``help.md``, Markdown drawn by Rich,
rendered once per width) and every key of the app as plain lists: Textual's
``Markdown`` widget built a widget per block and per table cell and took
seconds to open at 120×40.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources

from rich.markdown import Markdown
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label, Static

KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "colon": ":",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "pagedown": "PgDn",
    "pageup": "PgUp",
    "escape": "Esc",
    "enter": "Enter",
    "home": "Home",
    "end": "End",
    "backspace": "Backspace",
    "delete": "Del",
    "tab": "Tab",
    "shift+tab": "Shift+Tab",
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
}


def key_name(key: str) -> str:
    """How a key is written for people: ``pagedown`` → ``PgDn``, ``ctrl+p`` → ``Ctrl+P``, ``f5`` → ``F5``."""
    key = key.strip()
    if key in KEY_NAMES:
        return KEY_NAMES[key]
    if key.startswith("ctrl+"):
        rest = key[5:]
        return "Ctrl+" + (KEY_NAMES.get(rest) or key_name(rest).upper())
    if len(key) > 1 and key[0] == "f" and key[1:].isdigit():
        return key.upper()
    return key


def key_rows(bindings: Iterable[Binding]) -> list[tuple[str, str]]:
    """(keys, description) per action: a key and its alternatives (``g`` and ``F5``) share a row."""
    rows: dict[tuple[str, str], list[str]] = {}
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        names = rows.setdefault((binding.action or binding.key, binding.description), [])
        for key in binding.key.split(","):
            if key_name(key) not in names:
                names.append(key_name(key))
    return [(", ".join(names), description) for (_, description), names in rows.items()]


def key_list(title: str, bindings: Iterable[Binding]) -> Text:
    """A titled, aligned two-column list of keys and what they do."""
    rows = key_rows(bindings)
    width = max((len(keys) for keys, _ in rows), default=0)
    text = Text(f"{title}\n", style="bold")
    for keys, description in rows:
        text.append(f"  {keys:<{width}}  ", style="bold")
        text.append(f"{description}\n")
    return text


def keys_here(context: str, bindings: Iterable[Binding]) -> Text:
    """The keys that work where help was opened."""
    return key_list(f"Keys here · {context}", bindings)


def all_keys(sections: list[tuple[str, list[Binding]]]) -> Text:
    """Every binding of the app, one list per place it works."""
    text = Text("All keys\n\n", style="bold underline")
    for title, bindings in sections:
        text.append_text(key_list(title, bindings))
        text.append("\n")
    return text


class MarkdownText(Widget):
    """Markdown drawn by Rich, once per width: the help text is long and never changes.

    Rendering it takes Rich a noticeable moment (bench/README.md); a ``Static`` would do that on every
    measure and paint (a second or more when the screen opens), so the lines
    are rendered once for a width and kept (:data:`_RENDERED`).
    """

    DEFAULT_CSS = "MarkdownText { height: auto; }"

    def __init__(self, source: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source

    def lines(self, width: int) -> list[Strip]:
        key = (self.source, width)
        if key not in _RENDERED:
            console = self.app.console
            rendered = console.render_lines(Markdown(self.source), console.options.update_width(width), pad=True)
            if len(_RENDERED) > 8:
                _RENDERED.clear()
            _RENDERED[key] = [Strip(line, width) for line in rendered]
        return _RENDERED[key]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self.lines(width)
        if y >= len(lines):
            return Strip.blank(width, self.rich_style)
        return lines[y].apply_style(self.rich_style)


_RENDERED: dict[tuple[str, int], list[Strip]] = {}
"""Rendered help text by (source, width)."""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", key_display="Esc", id="help.close")]

    def __init__(self, context: str, here: Iterable[Binding], sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__(classes="dialog-screen")
        self.context, self.here, self.sections = context, list(here), sections

    def compose(self) -> ComposeResult:
        prose = resources.files("storemon_tui.tui").joinpath("help.md").read_text(encoding="utf-8")
        with Vertical(classes="dialog help"):
            yield Label("storemon help — Esc to close, arrows/PgDn to scroll", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(keys_here(self.context, self.here), id="help-here")
                yield MarkdownText(prose, id="help-text")
                yield Static(all_keys(self.sections), id="help-keys")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
