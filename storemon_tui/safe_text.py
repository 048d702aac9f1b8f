"""Untrusted text made safe for a terminal: the one place that does it.

Store ids, zones, values, column names and file names come from files
and directories storemon does not control. Written to a terminal as they
are, a crafted one can clear the screen (``ESC[2J``), retitle the
terminal, write the user's clipboard (OSC 52, ``ESC]52;c;…BEL``), move
the cursor back over a line (CR) or make text read in another order
(bidi overrides). Shown in a Textual widget as a string, it is parsed as
markup: ``[/x]`` crashes the app and ``[@click=app.quit]`` runs an
action. So every place that shows such text goes through here:

* :func:`visible` escapes, for one value, every character that a
  terminal acts on or that cannot be seen: C0 and C1 controls (LF, CR
  and TAB included), DEL, Unicode format characters (bidi embeddings,
  overrides and isolates, zero-width characters, the BOM …), line and
  paragraph separators, and lone surrogates (undecodable bytes of a file
  name). Each becomes a visible Python-style escape (``\\x1b``,
  ``\\u202e``), so a user sees that something odd is there.
* :func:`visible_lines` does the same for a whole message whose line
  breaks are storemon's own (a list of problems), keeping ``\\n``.
* :func:`visible_in_place` shows each such character as *one* visible
  character (``␛`` for ESC, ``�`` for a bidi override), for text being
  edited in an input field, whose cursor positions must stay those of
  the value.
* :func:`plain_text` builds a ``rich.text.Text`` from such text: a
  ``Text`` is never parsed as markup, in a cell, a label or a dialog.

Only what is *shown* is escaped: the database and every export keep the
data byte for byte. A backslash is left as it is (escaping it too would
make every ordinary backslash look doubled); so ``\\x1b`` on screen may
be four typed characters or one escaped one. Safety, not reversibility,
is the aim; the exact bytes are in the data.

Escaping is idempotent (an escape is printable), so text escaped where a
message is built can safely be escaped again where it is printed.

Core module: imports ``rich`` (a dependency of Textual, but not Textual).
"""

from __future__ import annotations

import sys
import unicodedata
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import JustifyMethod
    from rich.text import Text

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Controls, format characters (bidi, zero-width, BOM, tags), surrogates, line/paragraph separators."""


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _is_unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def visible(value: object) -> str:
    """``value`` as text with every control, format and separator character escaped (newlines too)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case, in C: nothing to escape
        return text
    return "".join(_escape(c) if _is_unsafe(c) else c for c in text)


def visible_lines(message: object) -> str:
    """Like :func:`visible`, but the message's own line breaks (``\\n``) stay line breaks."""
    text = message if isinstance(message, str) else str(message)
    if "\n" not in text:
        return visible(text)
    return "\n".join(visible(line) for line in text.split("\n"))


def _picture(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures": ␀ … ␛ … ␟
    return "\u2421" if code == 0x7F else "\ufffd"  # ␡, else the replacement character


def visible_in_place(value: str) -> str:
    """``value`` with each unsafe character replaced by one visible one, so positions stay the same."""
    if value.isprintable():
        return value
    return "".join(_picture(c) if _is_unsafe(c) else c for c in value)


def plain_text(value: object, *, style: str = "", justify: JustifyMethod | None = None, lines: bool = False) -> Text:
    """A ``rich.text.Text`` showing ``value`` literally: escaped (:func:`visible`), never markup.

    ``lines`` keeps the message's own line breaks (:func:`visible_lines`).
    """
    from rich.text import Text

    text = visible_lines(value) if lines else visible(value)
    return Text(text, style=style, justify=justify, end="")


def echo(message: object, stream: TextIO | None = None) -> None:
    """Print one message (a line, or lines of storemon's own) to a terminal stream, escaped.

    Default stream: stderr, where every human-readable line of the CLI goes.
    """
    print(visible_lines(message), file=stream if stream is not None else sys.stderr)
