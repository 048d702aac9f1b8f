"""safe_text: untrusted text is shown escaped, never acted on by a terminal, never parsed as markup."""

from __future__ import annotations

import io

import pytest

from storemon_tui.safe_text import echo, plain_text, visible, visible_in_place, visible_lines

HOSTILE = {
    "clear screen": ("a\x1b[2Jb", "a\\x1b[2Jb"),
    "OSC 52 clipboard write": ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
    "title set": ("\x1b]0;pwned\x1b\\", "\\x1b]0;pwned\\x1b\\"),
    "carriage return": ("good\rEVIL", "good\\x0dEVIL"),
    "line feed in a value": ("a\nb", "a\\x0ab"),
    "tab": ("a\tb", "a\\x09b"),
    "NUL": ("a\x00b", "a\\x00b"),
    "DEL": ("a\x7fb", "a\\x7fb"),
    "C1 CSI": ("a\x9b2Jb", "a\\x9b2Jb"),
    "C1 NEL": ("a\x85b", "a\\x85b"),
    "bidi override": ("abc\u202etxt.exe", "abc\\u202etxt.exe"),
    "bidi isolate": ("\u2066x\u2069", "\\u2066x\\u2069"),
    "LRM/RLM/ALM": ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
    "zero width space": ("a\u200bb", "a\\u200bb"),
    "BOM": ("\ufeffid", "\\ufeffid"),
    "line separator": ("a\u2028b", "a\\u2028b"),
    "tag character": ("a\U000e0041", "a\\U000e0041"),
    "lone surrogate (undecodable file name byte)": ("f\udcffx.csv", "f\\udcffx.csv"),
}


@pytest.mark.parametrize(("raw", "shown"), HOSTILE.values(), ids=HOSTILE.keys())
def test_unsafe_characters_are_escaped_visibly(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert visible(shown) == shown  # idempotent: an escape is printable


@pytest.mark.parametrize(
    "text", ["8419537941919820732", "Ünïcødé ☃ 東京", "[/x]", "[red]x", "America/Chicago", "a b", "back\\slash", ""]
)
def test_printable_text_is_unchanged(text: str) -> None:
    assert visible(text) == text


def test_every_control_character_is_escaped() -> None:
    for code in [*range(0x20), *range(0x7F, 0xA0)]:
        assert visible(chr(code)) == f"\\x{code:02x}"


def test_visible_lines_keeps_line_breaks_only() -> None:
    message = "f.csv:2: value 'a\x1b[2J': bad\nf.csv:3: value 'b\rc': bad"
    assert visible_lines(message) == "f.csv:2: value 'a\\x1b[2J': bad\nf.csv:3: value 'b\\x0dc': bad"


@pytest.mark.parametrize("markup", ["[/x]", "[red]x", "[@click=app.quit]x[/]", "[b]bold[/b]"])
def test_plain_text_is_never_markup(markup: str) -> None:
    text = plain_text(markup)
    assert text.plain == markup
    assert not text.spans


def test_plain_text_escapes_and_styles() -> None:
    text = plain_text("x\x1b[2J", style="bold", justify="right")
    assert text.plain == "x\\x1b[2J"
    assert text.justify == "right"
    assert str(text.style) == "bold"


def test_echo_writes_escaped_lines() -> None:
    stream = io.StringIO()
    echo("storemon: \x1b]52;c;x\x07\nsecond line", stream)
    assert stream.getvalue() == "storemon: \\x1b]52;c;x\\x07\nsecond line\n"


def test_visible_in_place_keeps_one_character_per_character() -> None:
    raw = "a\x1b[2J\x07\r\n\t\x7f\x9b\u202e\udcffz"
    shown = visible_in_place(raw)
    assert shown == "a␛[2J␇␍␊␉␡\ufffd\ufffd\ufffdz"
    assert len(shown) == len(raw)
    assert visible_in_place("[/x] ☃") == "[/x] ☃"
