"""Import messages agree in number: ``1 row read``, ``2 rows read``; never ``problem(s)`` (issue 14)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from storemon_tui.ingest import InvalidRowsError, import_file
from storemon_tui.ingest.problems import Problem

PACKAGE = Path(__file__).resolve().parents[2] / "storemon_tui"


def test_one_of_each_is_singular_in_the_summary_line(db, csv_file) -> None:
    zones = import_file(db, csv_file("z.csv", "store_id,timezone_str,extra\na,UTC,x\n")).describe()
    assert (
        ": time zones, 1 row read, 1 inserted, 0 changed, 0 unchanged, 0 rejected, ignored column: 'extra', " in zones
    )
    hours = import_file(db, csv_file("h.csv", "store_id,dayOfWeek,start_time_local,end_time_local\na,0,09:00,17:00\n"))
    assert ": business hours, 1 row read, 1 row for 1 store (1 new, 0 changed, 0 unchanged), 0 rejected" in (
        hours.describe()
    )


def test_a_duplicate_row_is_singular(db, csv_file) -> None:
    path = csv_file(
        "p.csv", "store_id,timestamp_utc,status\na,2023-01-22 12:00:00 UTC,active\na,2023-01-22T12:00:00Z,inactive\n"
    )
    line = import_file(db, path).describe()
    assert (
        ": polls, 2 rows read, 1 inserted, 0 replaced (0 changed status), 1 duplicate row in file (last wins)" in line
    )


def test_one_invalid_row_one_problem_one_more_problem_one_field() -> None:
    one = InvalidRowsError("f.csv", [Problem(2, "status", "x", "not a status")], rows=1)
    assert str(one).endswith(
        "f.csv: 1 invalid row (1 problem); nothing imported from this file "
        "(use --skip-invalid to import the valid rows)"
    )
    problems = [Problem(line, "status", "x", "not a status") for line in range(2, 5)]
    more = InvalidRowsError("f.csv", problems, rows=3).render(limit=2)
    assert "\n... and 1 more problem\n" in more and "f.csv: 3 invalid rows (3 problems);" in more


def test_a_line_of_one_field_says_1_field(db, csv_file) -> None:
    with pytest.raises(InvalidRowsError) as raised:
        import_file(db, csv_file("z.csv", "store_id,timezone_str\na,UTC\nb\n"))
    assert "missing value: line has 1 field, the header has 2 (truncated line?)" in str(raised.value)


def _string_literals(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string) for t in tokens if t.type == tokenize.STRING and not t.string.startswith('"""')]


def test_no_message_in_the_package_writes_a_plural_as_noun_s() -> None:
    """``file(s)``, ``column(s)``: display.counted says ``1 file``/``2 files`` instead."""
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {text}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, text in _string_literals(path)
        if re.search(r"[A-Za-z]\((s|es)\)", text)
    ]
    assert found == []
