"""When a dropped file is complete: the rules of :class:`DropFolder`, on a hand-driven clock."""

from __future__ import annotations

from storemon_tui.headless.drop_folder import RENAMED, WRITTEN, DropFolder, is_ignored


def test_a_file_renamed_in_is_ready_at_once() -> None:
    folder = DropFolder(stable_s=2)
    folder.note_events([("polls.csv", RENAMED)])
    assert folder.observe({"polls.csv": (100, 1)}, now=10.0) == ["polls.csv"]
    assert folder.ready(10.0) == ["polls.csv"]


def test_a_file_written_in_place_waits_until_unchanged_for_the_stable_time() -> None:
    folder = DropFolder(stable_s=2)
    folder.note_events([("polls.csv", WRITTEN)])
    folder.observe({"polls.csv": (10, 1)}, now=10.0)
    assert folder.ready(11.9) == []
    assert folder.next_deadline(11.9) == 12.0
    folder.observe({"polls.csv": (20, 2)}, now=11.9)  # grew: the clock starts again
    assert folder.ready(13.8) == []
    assert folder.next_deadline(13.8) == 13.9
    folder.observe({"polls.csv": (20, 2)}, now=13.9)
    assert folder.ready(13.9) == ["polls.csv"]


def test_without_events_polling_every_file_waits_for_the_stable_time() -> None:
    folder = DropFolder(stable_s=2)
    folder.observe({"a.csv": (10, 1)}, now=0.0)
    assert folder.ready(1.0) == []
    assert folder.ready(2.0) == ["a.csv"]


def test_a_renamed_file_written_to_afterwards_waits_again() -> None:
    folder = DropFolder(stable_s=2)
    folder.note_events([("a.csv", RENAMED), ("a.csv", WRITTEN)])
    folder.observe({"a.csv": (10, 1)}, now=0.0)
    assert folder.ready(0.0) == []
    folder.note_events([("b.csv", RENAMED)])
    folder.observe({"a.csv": (10, 1), "b.csv": (5, 1)}, now=0.5)
    folder.note_events([("b.csv", WRITTEN)])  # something appends to it after the rename
    folder.observe({"a.csv": (10, 1), "b.csv": (9, 2)}, now=0.6)
    assert folder.ready(0.6) == []
    assert folder.ready(2.6) == ["a.csv", "b.csv"]


def test_an_empty_file_renamed_in_is_not_taken_at_once() -> None:
    """A writer that creates a file and fills it later looks like this at first."""
    folder = DropFolder(stable_s=2)
    folder.note_events([("a.csv", RENAMED)])
    folder.observe({"a.csv": (0, 1)}, now=0.0)
    assert folder.ready(0.0) == []
    assert folder.ready(2.0) == ["a.csv"]  # still empty after the stable time: taken (and rejected as empty)


def test_ready_files_come_oldest_first_and_ignored_names_never() -> None:
    folder = DropFolder(stable_s=0)
    entries = {
        "new.csv": (1, 300),
        "old.csv": (1, 100),
        "mid.csv": (1, 200),
        ".hidden.csv": (1, 1),
        "x.csv.tmp": (1, 1),
        "y.part": (1, 1),
        "z.csv.rejects.csv": (1, 1),
    }
    assert sorted(folder.observe(entries, now=0.0)) == ["mid.csv", "new.csv", "old.csv"]
    assert folder.ready(0.0) == ["old.csv", "mid.csv", "new.csv"]
    assert all(is_ignored(n) for n in (".x", "a.tmp", "a.part", "a.csv.rejects.csv"))
    assert not is_ignored("polls.csv")


def test_forgotten_and_vanished_files_start_afresh() -> None:
    folder = DropFolder(stable_s=2)
    folder.observe({"a.csv": (1, 1), "b.csv": (1, 1)}, now=0.0)
    folder.forget("a.csv")
    folder.observe({"a.csv": (1, 1)}, now=5.0)  # b.csv vanished; a.csv is a new file of the same name
    assert folder.ready(5.0) == []
    assert folder.ready(7.0) == ["a.csv"]
    assert folder.waiting() == 1


def test_a_held_file_is_not_taken_again_until_it_changes() -> None:
    """Imported but impossible to move away: importing it again every 2 s would help nobody."""
    folder = DropFolder(stable_s=2)
    folder.observe({"a.csv": (5, 1)}, now=0.0)
    assert folder.ready(2.0) == ["a.csv"]
    folder.hold("a.csv")
    folder.observe({"a.csv": (5, 1)}, now=3.0)
    assert folder.ready(100.0) == [] and folder.next_deadline(100.0) is None
    folder.observe({"a.csv": (6, 2)}, now=101.0)  # replaced by a new delivery
    assert folder.ready(103.0) == ["a.csv"]


def test_a_rejects_file_is_ignored_and_told_once_per_name() -> None:
    """``*.rejects.csv`` never goes in (the watcher's own rejects must not be re-imported), and the
    watcher says so once per name, not at every scan; names still being written are not worth a line."""
    folder = DropFolder(stable_s=2)
    names = ["polls.csv.rejects.csv", "a.csv.part", "b.tmp", ".hidden", "c.csv"]
    told = folder.notice_ignored(names)
    assert [name for name, _reason in told] == ["polls.csv.rejects.csv"]
    assert "rejects" in told[0][1]
    assert folder.notice_ignored(names) == []  # the next scan: nothing new to tell
    assert folder.notice_ignored(["c.csv"]) == []  # it went away (renamed to import it) ...
    assert [n for n, _ in folder.notice_ignored(["polls.csv.rejects.csv"])] == ["polls.csv.rejects.csv"]  # ... back
    assert folder.observe({"polls.csv.rejects.csv": (10, 1)}, now=0.0) == []  # still never taken
