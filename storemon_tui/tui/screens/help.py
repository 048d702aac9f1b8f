"""The help screen: every binding (generated from the code) and how uptime is computed."""

from __future__ import annotations

from importlib import resources

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown


def _key_name(keys: str, display: str | None) -> str:
    if display:
        return display
    names = []
    for key in keys.split(","):
        key = key.strip()
        names.append(
            {
                "question_mark": "?",
                "slash": "/",
                "left_square_bracket": "[",
                "right_square_bracket": "]",
                "pagedown": "PgDn",
                "pageup": "PgUp",
                "escape": "Esc",
                "enter": "Enter",
                "home": "Home",
                "end": "End",
                "backspace": "Backspace",
                "colon": ":",
            }.get(key, key)
        )
    return " / ".join(names)


def bindings_markdown(sections: list[tuple[str, list]]) -> str:
    """One Markdown table per context, from the widgets' BINDINGS."""
    out = []
    for title, bindings in sections:
        out.append(f"### {title}\n\n| Key | Action |\n|---|---|")
        # One row per (action, description): a key and its F-key alternative share a row.
        rows: dict[tuple[str, str], list[str]] = {}
        for b in bindings:
            if not isinstance(b, Binding) or not b.description:
                continue
            names = rows.setdefault((b.action or b.key, b.description), [])
            for name in _key_name(b.key, None).split(" / "):
                if name not in names:
                    names.append(name)
        for (_, description), names in rows.items():
            out.append(f"| `{' / '.join(names)}` | {description} |")
        out.append("")
    return "\n".join(out)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", key_display="Esc", id="help.close")]

    def __init__(self, sections: list[tuple[str, list]]) -> None:
        super().__init__(classes="dialog-screen")
        self.sections = sections

    def compose(self) -> ComposeResult:
        intro = resources.files("storemon_tui.tui").joinpath("help.md").read_text(encoding="utf-8")
        text = intro.replace("{{BINDINGS}}", bindings_markdown(self.sections))
        with Vertical(classes="dialog help"):
            yield Label("storemon help — Esc to close, arrows/PgDn to scroll", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Markdown(text)

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
