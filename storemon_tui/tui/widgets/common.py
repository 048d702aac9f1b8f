"""Shared bits: one place turning worker failures into notifications, path completion."""

from __future__ import annotations

import glob
import os
import string

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.content import Content
from textual.keys import _character_to_key, key_to_character
from textual.message import Message
from textual.message_pump import MessagePump
from textual.style import Style as VisualStyle
from textual.suggester import Suggester
from textual.widgets import Checkbox, Input
from textual.worker import Worker, WorkerState

from storemon_tui.errors import Cancelled, StoremonError
from storemon_tui.safe_text import visible_in_place


def describe_error(error: BaseException) -> str:
    if isinstance(error, StoremonError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class WorkerErrors(MessagePump):
    """Mixin: a worker that fails becomes an error notification, never a traceback.

    Textual posts ``Worker.StateChanged`` only to the node that started the
    worker, so every pane (and the app) mixes this in; panes that want results
    override :meth:`worker_done` / :meth:`worker_failed`. It derives from
    ``MessagePump``, the common base of widgets and the app, for ``self.app``.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            if isinstance(worker.error, Cancelled):
                self.worker_cancelled(worker)
                return
            handled = self.worker_failed(worker, worker.error)
            if not handled:
                self.app.notify(
                    describe_error(worker.error), title=worker.description or "Error", severity="error", timeout=8
                )
        elif event.state is WorkerState.CANCELLED:
            # Worker.cancel() on a thread worker cancels the task awaiting the thread at once: the
            # state is CANCELLED before the thread notices and raises Cancelled (if it ever does).
            self.worker_cancelled(worker)
        elif event.state is WorkerState.SUCCESS:
            self.worker_done(worker)

    def worker_done(self, worker: Worker) -> None:
        pass

    def worker_failed(self, worker: Worker, error: BaseException) -> bool:
        return False

    def worker_cancelled(self, worker: Worker) -> None:
        """The worker was cancelled (its state CANCELLED) or stopped itself by raising Cancelled."""


def copy_store_id(node: MessagePump, store_id: str | None) -> None:
    """``y``: the selected store's id to the terminal's clipboard (OSC 52, as lazygit and k9s do)."""
    if not store_id:
        node.app.notify("No store selected", title="Copy", severity="warning")
        return
    node.app.copy_to_clipboard(store_id)
    node.app.notify(f"Copied store id {store_id}", title="Copy", timeout=3)


class ClearCheckbox(Checkbox):
    """A checkbox whose off state shows: ``▐ ▌`` off, ``▐✓▌`` on.

    Textual's draws an ``X`` either way and tells the states apart by colour
    only (black on dark blue when off; identical under ``NO_COLOR``).
    """

    @property
    def _button(self) -> Content:
        button_style = self.get_visual_style("toggle--button")
        side_style = VisualStyle(foreground=button_style.background, background=self.background_colors[1])
        return Content.assemble(
            (self.BUTTON_LEFT, side_style),
            ("✓" if self.value else " ", button_style),
            (self.BUTTON_RIGHT, side_style),
        )


class PlainInput(Input):
    """An input field that never draws a control or bidi character raw.

    Its value may come from outside (a file name chosen in the picker, a
    paste): each such character is drawn as one visible character
    (:func:`~storemon_tui.safe_text.visible_in_place`), so the cursor
    positions stay those of the value, which is kept exactly. Overrides
    two private methods of Textual's ``Input`` (how the value is drawn and
    measured); ``tests/tui/test_hostile_text.py`` checks the screen.
    """

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(visible_in_place(self.value), no_wrap=True, overflow="ignore", end="")
        return self.highlighter(text) if self.highlighter is not None else text

    def _position_to_cell(self, position: int) -> int:
        return cell_len(visible_in_place(self.value[:position]))


class TextField(PlainInput):
    """A pane's text field: Esc leaves it (so the one-letter keys work again), and does nothing else.

    Esc here never cancels running work (that is Esc outside a text field):
    a user leaving a field must not lose an import. The field posts
    :class:`TextField.Left` and its pane puts the focus back on its main
    widget. While a text field has focus the main screen hides every binding
    whose key the field would type (see :func:`typed_key`), so the footer
    only shows keys that work there.
    """

    BINDINGS = [
        Binding("escape", "leave", "Leave field", key_display="Esc", id="field.leave"),
    ]

    class Left(Message):
        """The user left the field with Esc: its pane focuses its main widget."""

        def __init__(self, field: TextField) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> TextField:
            return self.field

    def action_leave(self) -> None:
        self.post_message(self.Left(self))


_TYPED_NAMES = frozenset(_character_to_key(character) for character in string.printable if character.isprintable())
"""Key names of printable ASCII characters ("slash", "question_mark", …): key_to_character
does not know all of them."""


def typed_key(key: str) -> bool:
    """True if a focused text field consumes ``key`` as text (a printable character)."""
    if key in _TYPED_NAMES:
        return True
    character = key_to_character(key)
    return character is not None and character.isprintable()


class PathSuggester(Suggester):
    """Inline completion of file system paths (→ or Tab accepts)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or any(ch in value for ch in "*?["):
            return None
        expanded = os.path.expanduser(value)
        try:
            matches = sorted(glob.glob(glob.escape(expanded) + "*"))
        except OSError:
            return None
        # A name with control characters is not offered: the suggestion is drawn as is (F3 shows it escaped).
        matches = [m for m in matches if (os.path.isdir(m) or m.lower().endswith(".csv")) and visible_in_place(m) == m]
        if not matches:
            return None
        common = os.path.commonprefix(matches)
        if len(matches) == 1 and os.path.isdir(common):
            common = common.rstrip(os.sep) + os.sep
        if len(common) <= len(expanded):
            common = matches[0] + (os.sep if os.path.isdir(matches[0]) else "")
        if value.startswith("~"):
            home = os.path.expanduser("~")
            common = "~" + common[len(home) :] if common.startswith(home) else common
        return common if common != value else None
