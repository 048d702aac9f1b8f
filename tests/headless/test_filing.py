"""Moving processed files: names kept, clashes numbered, the error text beside a rejected file."""

from __future__ import annotations

from pathlib import Path

from storemon_tui.headless.filing import move_imported, move_rejected


def test_clashing_names_get_a_numeric_suffix(tmp_path: Path) -> None:
    moved = []
    for content in ("one", "two", "three"):
        (tmp_path / "polls.csv").write_text(content)
        moved.append(move_imported(tmp_path / "polls.csv"))
    assert [p.name for p in moved] == ["polls.csv", "polls.1.csv", "polls.2.csv"]
    assert [p.read_text() for p in moved] == ["one", "two", "three"]
    assert all(p.parent == tmp_path / "imported" for p in moved)
    (tmp_path / "README").write_text("x")
    assert move_imported(tmp_path / "README").name == "README"
    (tmp_path / "README").write_text("y")
    assert move_imported(tmp_path / "README").name == "README.1"


def test_a_rejected_file_has_its_messages_beside_it(tmp_path: Path) -> None:
    (tmp_path / "rejected").mkdir()
    (tmp_path / "rejected" / "bad.csv.error.txt").write_text("an older error whose file was deleted")
    (tmp_path / "bad.csv").write_text("junk")
    moved, error_file = move_rejected(tmp_path / "bad.csv", "bad.csv:2: nope\n")
    assert moved == tmp_path / "rejected" / "bad.1.csv"  # bad.csv is free, but its error file name is not
    assert error_file == tmp_path / "rejected" / "bad.1.csv.error.txt"
    assert error_file.read_text() == "bad.csv:2: nope\n"
    assert moved.read_text() == "junk"
    assert not (tmp_path / "bad.csv").exists()
