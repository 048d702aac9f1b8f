"""The quick check of a segment's quoting agrees with reading every quoted line with ``csv`` (strict).

A file that quotes every field (Arrow's writer, ``csv.QUOTE_ALL``) is checked
in numpy (``_all_fully_quoted``); anything else still goes through the
``csv`` module. The reference below is that whole-``csv`` check, as it was.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storemon_tui.ingest.segments import _line_bounds, _quoting_is_strict


def reference(data: bytes, width: int) -> bool:
    """Every line holding a quote, decoded and read by ``csv`` in strict mode: records of ``width`` fields (or none)."""
    lines = [line for line in data.split(b"\n") if b'"' in line]
    try:
        texts = [line.decode("utf-8").rstrip("\r") for line in lines]
        return all(len(fields) in (0, width) for fields in csv.reader(texts, strict=True))
    except (csv.Error, UnicodeDecodeError):
        return False


def quick(data: bytes, width: int) -> bool:
    array = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _line_bounds(array)
    return _quoting_is_strict(array, starts, ends, width)


field_text = st.text(alphabet=["a", ",", " ", "\r", "é"], max_size=4)
odd_bytes = st.sampled_from([b'"', b",", b"a", b"\r", b" ", b'""', "é".encode(), b"\xff"])


@st.composite
def lines(draw: st.DrawFn, width: int) -> bytes:
    """Mostly fully quoted lines (the fast case, now and then one field too few or too many), some arbitrary."""
    kind = draw(st.sampled_from(["quoted", "quoted", "quoted", "arbitrary", "plain"]))
    if kind == "quoted":
        n = draw(st.sampled_from([width, width, width, width - 1, width + 1]))
        fields = [
            b'"' + draw(field_text).encode() + draw(st.sampled_from([b"", b"", b"\xff"])) + b'"' for _ in range(n)
        ]
        line = draw(st.sampled_from([b"", b"", b"", b"x", b"x,"]))  # text before the first quote: unquoted
        for i, field in enumerate(fields):
            line += (draw(st.sampled_from([b",", b",", b",", b"x", b", ", b",x"])) if i else b"") + field
        return line + draw(st.sampled_from([b"", b"", b"\r", b"\r\r", b" "]))
    if kind == "plain":
        return ",".join("a" for _ in range(width)).encode()
    return b"".join(draw(st.lists(odd_bytes, max_size=8)))


@st.composite
def segments(draw: st.DrawFn) -> tuple[bytes, int]:
    width = draw(st.integers(1, 3))
    body = b"\n".join(draw(st.lists(lines(width), min_size=1, max_size=12)))
    return body + draw(st.sampled_from([b"", b"\n"])), width


@settings(max_examples=500, deadline=None)
@given(segment=segments())
def test_quick_quoting_check_agrees_with_csv(segment: tuple[bytes, int]) -> None:
    data, width = segment
    assert quick(data, width) == reference(data, width)


@pytest.mark.parametrize(
    "line",
    [
        b'x"a,b","c","d"',  # text before the first quote: an unquoted field holding a quote, then 4 fields
        b'"a",x"b,c","d"',  # the second field does not open with its quote: 4 fields
        b'"a"x"b"x"c"',  # no comma after a closing quote
        b'"a","b","c"x',  # text after the last closing quote
        b'"a","b\xff","c"',  # not UTF-8
    ],
    ids=["text-before-first-quote", "field-not-opened-by-quote", "no-comma", "text-after-last-quote", "not-utf8"],
)
def test_six_quotes_in_the_wrong_places_are_not_three_quoted_fields(line: bytes) -> None:
    """Each line has exactly 2 × 3 quotes, the quick check's first test; each of its other rules turns one away."""
    data = b'"s1","2023-01-22 12:00:00 UTC","active"\n' + line + b"\n"
    assert quick(data, 3) == reference(data, 3) == False  # noqa: E712 (both, and the value)


def test_a_fully_quoted_file_passes_and_a_stray_quote_fails() -> None:
    good = b'"s1","2023-01-22 12:00:00 UTC","active"\r\n"s,2","2023-01-22 13:00:00 UTC","inactive"\n'
    assert quick(good, 3) and reference(good, 3)
    bad = good + b'"s3","2023-01-22 14:00:00 UTC"x,"active"\n'  # text after a closing quote
    assert not quick(bad, 3) and not reference(bad, 3)
