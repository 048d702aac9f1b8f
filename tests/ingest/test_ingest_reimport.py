"""Re-imports are safe: keyed polls, last row wins, hours replaced per store, zones upserted.

Also: store ids are opaque text, byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from storemon_tui.db.browse import Pager
from storemon_tui.ingest import FileKind, import_file, import_files

REPO = Path(__file__).resolve().parents[2]

POLLS = "store_id,timestamp_utc,status\n"
HOURS = "store_id,dayOfWeek,start_time_local,end_time_local\n"
ZONES = "store_id,timezone_str\n"
T0 = 1674388800000000  # 2023-01-22 12:00:00 UTC
H = 3_600_000_000


def tables_without_meta(tables: dict) -> dict:
    return {name: rows for name, rows in tables.items() if name != "meta"}


def data_version(tables: dict) -> int:
    return int(dict(tables["meta"])["data_version"])


def test_importing_polls_twice_changes_nothing(db, csv_file, dump) -> None:
    path = csv_file(
        "p.csv",
        POLLS
        + "a,2023-01-22 12:00:00 UTC,active\nb,2023-01-22 12:00:00 UTC,inactive\na,2023-01-22 13:00:00 UTC,inactive\n",
    )
    first = import_file(db, path)
    assert (first.inserted, first.replaced, first.changed) == (3, 0, 0)
    before = dump(db)
    second = import_file(db, path)
    assert (second.inserted, second.replaced, second.changed) == (0, 3, 0)
    after = dump(db)
    assert tables_without_meta(after) == tables_without_meta(before)
    # Nothing changed, so existing reports must not be flagged stale.
    assert data_version(after) == data_version(before)


def test_later_import_replaces_status_of_same_key(db, csv_file, dump) -> None:
    import_file(db, csv_file("p1.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\na,2023-01-22 13:00:00 UTC,active\n"))
    summary = import_file(
        db, csv_file("p2.csv", POLLS + "a,2023-01-22T12:00:00Z,inactive\na,2023-01-22 14:00:00 UTC,active\n")
    )
    assert (summary.inserted, summary.replaced, summary.changed) == (1, 1, 1)
    assert dump(db)["polls"] == [(1, T0, 0), (1, T0 + H, 1), (1, T0 + 2 * H, 1)]


def test_last_row_wins_within_one_file(db, csv_file, dump) -> None:
    path = csv_file(
        "p.csv",
        POLLS
        + "a,2023-01-22 12:00:00 UTC,active\n"
        + "b,2023-01-22 12:00:00 UTC,inactive\n"
        + "a,2023-01-22T12:00:00+00:00,inactive\n"  # same instant, other spelling
        + "b,2023-01-22T17:30:00+05:30,active\n"  # same instant via an offset
        + "a,2023-01-22 12:00:00.000000 UTC,active\n",
    )
    summary = import_file(db, path)
    assert summary.duplicates == 3 and summary.inserted == 2
    assert "3 duplicate rows in file (last wins)" in summary.describe()
    assert dump(db)["polls"] == [(1, T0, 1), (2, T0, 1)]


def test_last_row_wins_with_a_huge_time_span(db, csv_file, dump) -> None:
    """Fifty years apart: the last row of each key wins, and the first poll of 1970 is a valid one."""
    path = csv_file(
        "p.csv",
        POLLS
        + "a,1970-01-01 00:00:00 UTC,active\n"
        + "a,2023-01-01 00:00:00 UTC,active\n"
        + "a,2023-01-01 00:00:00 UTC,inactive\n"
        + "a,1970-01-01 00:00:00 UTC,inactive\n",
    )
    summary = import_file(db, path)
    assert summary.duplicates == 2
    assert [active for _, _, active in dump(db)["polls"]] == [0, 0]


def test_keys_and_times_too_wide_to_pack_take_the_stable_lexsort_path() -> None:
    """A store key near 2**31 and fifty years of polls do not fit one int64: the last row still wins."""
    from storemon_tui.ingest.polls import PollPacking, sort_last_wins

    keys = np.array([2**31 - 1, 2**31 - 1, 5, 2**31 - 1], dtype=np.int64)
    ts_us = np.array([0, 1_672_531_200_000_000, 7, 0], dtype=np.int64)
    active = np.array([1, 1, 0, 0], dtype=np.int8)
    assert PollPacking.fit(keys, ts_us) is None
    polls = sort_last_wins(keys, ts_us, active)
    assert polls.packing is None and polls.duplicates == 1
    assert list(zip(polls.keys.tolist(), polls.ts_us.tolist(), polls.active.tolist(), strict=True)) == [
        (5, 7, 0),
        (2**31 - 1, 0, 0),
        (2**31 - 1, 1_672_531_200_000_000, 1),
    ]


def test_last_row_wins_many_duplicates(db, csv_file, dump) -> None:
    """Thousands of rows over few keys, in shuffled order: the final occurrence of each key wins."""
    import random

    rng = random.Random(7)
    rows = [(f"s{rng.randrange(5)}", rng.randrange(20), rng.choice(["active", "inactive"])) for _ in range(3000)]
    expected: dict[tuple[str, int], int] = {}
    for sid, minute, status in rows:
        expected[(sid, minute)] = int(status == "active")
    text = POLLS + "".join(f"{sid},2023-01-22 12:{minute:02d}:00 UTC,{status}\n" for sid, minute, status in rows)
    summary = import_file(db, csv_file("p.csv", text))
    assert summary.inserted == len(expected)
    assert summary.duplicates == len(rows) - len(expected)
    tables = dump(db)
    ids = dict(tables["store"])
    got = {(ids[k], (ts - T0) // 60_000_000): a for k, ts, a in tables["polls"]}
    assert got == expected


def test_hours_file_replaces_hours_of_mentioned_stores_only(db, csv_file, dump) -> None:
    import_file(db, csv_file("h1.csv", HOURS + "a,0,09:00,17:00\na,1,09:00,17:00\nb,0,10:00,12:00\nb,2,10:00,12:00\n"))
    summary = import_file(db, csv_file("h2.csv", HOURS + "a,5,08:00,09:00\nc,6,00:00,24:00:00\n"))
    assert summary.kind is FileKind.HOURS
    assert (summary.inserted, summary.replaced, summary.stores) == (2, 2, 2)
    tables = dump(db)
    ids = dict(tables["store"])
    rows = sorted((ids[k], d, s // H, e // H) for _, k, d, s, e in tables["business_hours"])
    assert rows == [("a", 5, 8, 9), ("b", 0, 10, 12), ("b", 2, 10, 12), ("c", 6, 0, 24)]


def test_hours_file_reimported_twice_is_identical(db, csv_file, dump) -> None:
    path = csv_file("h.csv", HOURS + "a,0,09:00,17:00\na,0,18:00,20:00\nb,3,10:00,12:00\n")
    import_file(db, path)
    first = sorted(r[1:] for r in dump(db)["business_hours"])
    summary = import_file(db, path)
    assert (summary.inserted, summary.replaced) == (3, 3)
    assert sorted(r[1:] for r in dump(db)["business_hours"]) == first


def test_reimporting_the_same_hours_says_nothing_changed_and_leaves_reports_fresh(db, csv_file, dump) -> None:
    """Every old row is deleted and inserted again, but no store's hours changed: `0 changed`, not stale."""
    first = import_file(db, csv_file("h.csv", HOURS + "a,0,09:00,17:00\na,0,18:00,20:00\nb,3,10:00,12:00\n"))
    assert (first.stores, first.changed, first.unchanged) == (2, 0, 0) and first.changed_data
    assert "3 rows for 2 stores (2 new, 0 changed, 0 unchanged)" in first.describe()
    before = dump(db)
    # The same rows in another order: the same hours.
    again = import_file(db, csv_file("h2.csv", HOURS + "b,3,10:00,12:00\na,0,18:00,20:00\na,0,09:00,17:00\n"))
    assert (again.replaced, again.changed, again.unchanged) == (3, 0, 2)
    assert "3 rows for 2 stores (0 new, 0 changed, 2 unchanged)" in again.describe()
    assert not again.changed_data
    assert data_version(dump(db)) == data_version(before)
    # a: one block moved by an hour (changed); b: the same; c: new; a row of b twice is another multiset.
    other = import_file(
        db, csv_file("h3.csv", HOURS + "a,0,10:00,17:00\na,0,18:00,20:00\nb,3,10:00,12:00\nc,1,09:00,10:00\n")
    )
    assert (other.stores, other.changed, other.unchanged) == (3, 1, 1)
    assert "4 rows for 3 stores (1 new, 1 changed, 1 unchanged)" in other.describe()
    assert data_version(dump(db)) == data_version(before) + 1
    doubled = import_file(db, csv_file("h4.csv", HOURS + "b,3,10:00,12:00\nb,3,10:00,12:00\n"))
    assert (doubled.changed, doubled.unchanged) == (1, 0)


def test_hours_of_one_store_spread_over_spool_blocks_compare_as_one_set(
    db, csv_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store's rows in several blocks of the file: its old rows are compared with all of its new ones."""
    from storemon_tui.ingest import segments, spool

    monkeypatch.setattr(segments, "SEGMENT_BYTES", 2048)
    monkeypatch.setattr(spool, "MEMORY_BYTES", 0)
    rows = [f"s{i % 7},{i % 7},{i // 7:02d}:00,{i // 7:02d}:30" for i in range(7 * 24)]
    path = csv_file("h.csv", HOURS + "\n".join(rows) + "\n")
    import_file(db, path)
    again = import_file(db, csv_file("h2.csv", HOURS + "\n".join(reversed(rows)) + "\n"))
    assert (again.stores, again.changed, again.unchanged) == (7, 0, 7)
    rows[-1] = rows[-1].replace(":30", ":45")  # one block of one store
    changed = import_file(db, csv_file("h3.csv", HOURS + "\n".join(rows) + "\n"))
    assert (changed.stores, changed.changed, changed.unchanged) == (7, 1, 6)


def test_zone_file_upserts_per_store(db, csv_file, dump) -> None:
    import_file(db, csv_file("z1.csv", ZONES + "a,America/Chicago\nb,America/Denver\n"))
    summary = import_file(db, csv_file("z2.csv", ZONES + "b,Europe/Paris\nc,Asia/Tokyo\nc,Asia/Kolkata\n"))
    assert (summary.inserted, summary.replaced, summary.duplicates) == (1, 1, 1)
    assert (summary.changed, summary.unchanged) == (1, 0)  # b: Denver → Paris
    tables = dump(db)
    ids = dict(tables["store"])
    assert sorted((ids[k], z) for k, z in tables["store_timezone"]) == [
        ("a", "America/Chicago"),
        ("b", "Europe/Paris"),
        ("c", "Asia/Kolkata"),
    ]


def test_reimporting_the_same_zones_says_0_changed_and_leaves_reports_fresh(db, csv_file, dump) -> None:
    """Issue 14: an identical zones file said "181 replaced"; it changes nothing, so it says so."""
    path = csv_file("z.csv", ZONES + "a,America/Chicago\nb,America/Denver\nc,UTC\n")
    import_file(db, path)
    before = dump(db)
    again = import_file(db, path)
    assert (again.inserted, again.replaced, again.changed, again.unchanged) == (0, 3, 0, 3)
    assert "0 inserted, 0 changed, 3 unchanged" in again.describe() and "replaced" not in again.describe()
    assert not again.changed_data
    assert data_version(dump(db)) == data_version(before)
    # One store re-zoned, one new: 1 inserted, 1 changed, 1 unchanged of the two that were there.
    other = import_file(db, csv_file("z2.csv", ZONES + "a,America/Chicago\nb,Europe/Paris\nd,UTC\n"))
    assert (other.inserted, other.changed, other.unchanged) == (1, 1, 1)
    assert "1 inserted, 1 changed, 1 unchanged" in other.describe()
    assert data_version(dump(db)) == data_version(before) + 1


STORE_IDS = [
    "12345678901234567890",  # > 2**64
    "18446744073709551616",  # 2**64 exactly
    "9223372036854775808",  # 2**63
    "0012",
    "12",
    "8b5c1e3e-7d5f-4c43-9a2f-1b0f6f3f7e2a",
    "8B5C1E3E-7D5F-4C43-9A2F-1B0F6F3F7E2A",
    "1e5",
    "Ünïcode-store",
]


def test_store_ids_are_text_byte_for_byte(db, csv_file, dump) -> None:
    polls = POLLS + "".join(f'"{sid}",2023-01-22 12:00:00 UTC,active\n' for sid in STORE_IDS)
    zones = ZONES + "".join(f"{sid},UTC\n" for sid in STORE_IDS)
    hours = HOURS + "".join(f"{sid},0,09:00,17:00\n" for sid in STORE_IDS)
    import_files(db, [csv_file("p.csv", polls), csv_file("z.csv", zones), csv_file("h.csv", hours)])
    tables = dump(db)
    assert sorted(sid for _, sid in tables["store"]) == sorted(STORE_IDS)
    assert len(tables["store"]) == len(STORE_IDS)  # 0012 and 12 are two stores
    assert len(tables["polls"]) == len(tables["store_timezone"]) == len(tables["business_hours"]) == len(STORE_IDS)
    for table in ("polls", "time_zones", "business_hours"):
        pager = Pager(db, table, page_size=100)
        shown = [row[0] for row in pager.first().rows]
        assert sorted(shown) == sorted(STORE_IDS), table
    # Filtering by the exact id finds exactly that store (0012 is not 12).
    for sid in STORE_IDS:
        page = Pager(db, "polls", store_filter=sid).first()
        assert [row[0] for row in page.rows] == [sid]


def test_sample_data_imported_twice_is_identical(db, tmp_path: Path, dump) -> None:
    sample = REPO / "sample_data"
    files = sorted(sample.glob("*.csv"))
    assert len(files) == 3
    copies = []
    for f in files:  # copy: importing never writes next to the input, but be sure
        shutil.copy(f, tmp_path / f.name)
        copies.append(tmp_path / f.name)
    summaries = import_files(db, copies)
    assert {s.kind for s in summaries} == set(FileKind)
    assert all(s.rejected == 0 for s in summaries)
    first = dump(db)
    assert first["polls"] and first["business_hours"] and first["store_timezone"]
    again = import_files(db, copies)
    assert [s.inserted for s in again if s.kind is FileKind.POLLS] == [0]
    second = dump(db)
    if db.dialect == "postgresql":
        # A replaced hours row gets a new surrogate id from PostgreSQL's sequence (SQLite reuses
        # freed ids); the id is never shown, only its order is (within a store), so compare the
        # rows in id order without it.
        for tables in (first, second):
            tables["business_hours"] = [row[1:] for row in tables["business_hours"]]
    assert tables_without_meta(second) == tables_without_meta(first)
    # None of the three files changes anything again (hours and zones rewrite rows, but the
    # same ones), so the version stays: reports computed before are not stale.
    assert data_version(second) == data_version(first)
    assert [(s.changed, s.unchanged > 0) for s in again] == [(0, True)] * 3
    assert not list(tmp_path.glob("*.rejects.csv"))


def test_a_file_sorted_in_runs_on_disk_writes_like_one_sorted_in_memory(
    db, csv_file, dump, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny runs and an always-spilling spool force the external sort's path on both back ends:
    many chunks reach the writer, duplicates across runs keep the last row, counts stay exact."""
    from storemon_tui.ingest import importer, poll_runs, segments, spool

    rows = [
        f"s{i % 13},2023-01-22 {i % 24:02d}:{i % 7:02d}:00 UTC,{'active' if i % 3 else 'inactive'}" for i in range(600)
    ]
    path = csv_file("p.csv", POLLS + "\n".join(rows) + "\n")
    expected: dict[tuple[str, int], int] = {}
    for i in range(600):
        expected[(f"s{i % 13}", T0 + ((i % 24) - 12) * H + (i % 7) * 60_000_000)] = int(i % 3 != 0)

    monkeypatch.setattr(segments, "SEGMENT_BYTES", 2048)  # ~55 rows a segment, so a spool block each
    monkeypatch.setattr(poll_runs, "RUN_ROWS", 50)
    monkeypatch.setattr(poll_runs, "MERGE_ROWS", 40)
    monkeypatch.setattr(spool, "MEMORY_BYTES", 0)
    chunks: list[int] = []
    real_sorted_polls = poll_runs.sorted_polls

    def counting(*args, **kwargs):
        for chunk in real_sorted_polls(*args, **kwargs):
            chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(importer, "sorted_polls", counting)
    summary = import_file(db, path)

    assert len(chunks) > 5  # really merged from many runs
    assert (summary.rows_read, summary.inserted, summary.duplicates) == (600, len(expected), 600 - len(expected))
    tables = dump(db)
    ids = dict(tables["store"])
    assert {(ids[k], ts): active for k, ts, active in tables["polls"]} == expected

    again = import_file(db, path)  # the upsert path, in many chunks too
    assert (again.inserted, again.replaced, again.changed) == (0, len(expected), 0)
