"""Counts and ages as people read them (issue 14, wording and the header's data age)."""

from __future__ import annotations

from storemon_tui.display import counted, format_age


def test_counted_agrees_with_its_noun() -> None:
    assert counted(1, "file") == "1 file"
    assert counted(0, "file") == "0 files"
    assert counted(1234, "row") == "1,234 rows"
    assert counted(2, "business hours row", "business hours rows") == "2 business hours rows"


def test_format_age_takes_the_largest_whole_unit() -> None:
    assert format_age(-5) == "0 s"  # a clock behind the data: not a negative age
    assert format_age(59) == "59 s"
    assert format_age(17 * 60 + 59) == "17 min"
    assert format_age(5 * 3600) == "5 h"
    assert format_age(86400 * 3 + 5) == "3 d"
    # 2023-01-24 23:59 to 2026-11-30: 3 years and ten months -> "3 y"
    assert format_age(1_795_000_000 - 1_674_604_740) == "3 y"
