"""Clearing tables, the data version, and summarize()."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storemon_tui.db import get_data_version
from storemon_tui.db.browse import Pager
from storemon_tui.db.maintenance import (
    clear_all,
    clear_filtered,
    clear_tables,
    describe_clear,
    describe_filtered,
    summarize,
)
from storemon_tui.db.models import Report
from storemon_tui.ingest import InvalidRowsError, import_file

POLLS = "store_id,timestamp_utc,status\n"
T0 = 1674388800000000  # 2023-01-22 12:00:00 UTC


def version(db) -> int:
    with db.connect() as conn:
        return get_data_version(conn)


@pytest.fixture
def full_db(db, csv_file, tmp_path: Path):
    import_file(
        db,
        csv_file(
            "p.csv",
            POLLS + "a,2023-01-22 12:00:00 UTC,active\nb,2023-01-22 11:00:00 UTC,inactive\n"
            "a,2023-01-22 10:00:00 UTC,active\n",
        ),
    )
    import_file(
        db,
        csv_file(
            "h.csv",
            "store_id,dayOfWeek,start_time_local,end_time_local\na,0,09:00,17:00\na,1,09:00,17:00\nc,2,09:00,17:00\n",
        ),
    )
    import_file(db, csv_file("z.csv", "store_id,timezone_str\na,UTC\nd,Asia/Tokyo\n"))
    report_file = tmp_path / "r1.csv"
    report_file.write_text("store_id\n")
    with db.begin_write() as conn:
        for i, path in enumerate([str(report_file), None]):
            conn.execute(
                Report.__table__.insert().values(
                    id=f"r{i}",
                    created_at=datetime(2024, 1, 1, i, tzinfo=UTC),
                    status="Complete",
                    progress=100.0,
                    file_path=path,
                    data_version=3,
                )
            )
    return db, report_file


def test_data_version_bumps_on_each_changing_import_but_not_on_a_failed_one(db, csv_file) -> None:
    assert version(db) == 0
    import_file(db, csv_file("p.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n"))
    assert version(db) == 1
    import_file(db, csv_file("p.csv", POLLS + "a,2023-01-22 12:00:00 UTC,active\n"))  # a no-op re-import
    assert version(db) == 1
    import_file(db, csv_file("p.csv", POLLS + "a,2023-01-22 12:00:00 UTC,inactive\n"))  # status changed
    assert version(db) == 2
    with pytest.raises(InvalidRowsError):
        import_file(db, csv_file("bad.csv", POLLS + "a,2023-01-22 12:00:00 UTC,nope\n"))
    assert version(db) == 2


def test_summarize_counts(full_db) -> None:
    db, _ = full_db
    summary = summarize(db)
    assert summary.stores == 2  # stores with polls: a, b (c and d only have hours/zones)
    assert summary.polls == 3
    assert summary.latest_poll_us == T0
    assert summary.hours_rows == 3
    assert summary.zones == 2
    assert summary.reports == 2
    assert summary.data_version == 3


def test_summarize_empty(db) -> None:
    summary = summarize(db)
    assert (
        summary.stores,
        summary.polls,
        summary.latest_poll_us,
        summary.hours_rows,
        summary.zones,
        summary.reports,
        summary.data_version,
    ) == (0, 0, None, 0, 0, 0, 0)


def test_clear_one_table(full_db, dump) -> None:
    db, report_file = full_db
    before = dump(db)
    assert describe_clear(db, ["polls"]) == "3 polls"
    assert clear_tables(db, ["polls"]) == {"polls": 3}
    after = dump(db)
    assert after["poll"] == []
    for table in ("store", "business_hours", "store_timezone", "report"):
        assert after[table] == before[table], table
    assert version(db) == 4
    assert report_file.exists()
    assert summarize(db).stores == 0


def test_clear_all_keeps_reports(full_db, dump) -> None:
    db, report_file = full_db
    assert describe_clear(db, ["polls", "business_hours", "time_zones"]) == (
        "3 polls, 3 business hours rows, 2 time zones"
    )
    deleted = clear_all(db)
    assert deleted == {"polls": 3, "business_hours": 3, "time_zones": 2}
    after = dump(db)
    assert after["store"] == after["poll"] == after["business_hours"] == after["store_timezone"] == []
    assert [r[0] for r in after["report"]] == ["r0", "r1"]
    assert report_file.exists()
    assert version(db) == 4


def test_clear_all_deletes_reports_and_their_files(full_db, dump) -> None:
    db, report_file = full_db
    deleted = clear_all(db, keep_reports=False)
    assert deleted == {"polls": 3, "business_hours": 3, "time_zones": 2, "reports": 2}
    assert dump(db)["report"] == []
    assert not report_file.exists()
    assert version(db) == 4


def test_clear_reports_only_does_not_change_data_version(full_db, dump) -> None:
    db, report_file = full_db
    assert clear_tables(db, ["reports"]) == {"reports": 2}
    assert not report_file.exists()
    assert version(db) == 3
    assert len(dump(db)["poll"]) == 3


def test_clear_unknown_table_deletes_nothing(full_db, dump) -> None:
    db, _ = full_db
    before = dump(db)
    with pytest.raises(ValueError, match="unknown table"):
        clear_tables(db, ["polls", "poll"])
    assert dump(db) == before


def test_reimport_after_clear_all(full_db, csv_file, dump) -> None:
    db, _ = full_db
    clear_all(db)
    import_file(db, csv_file("p2.csv", POLLS + "b,2023-01-22 12:00:00 UTC,active\n"))
    tables = dump(db)
    assert [sid for _, sid in tables["store"]] == ["b"]
    assert tables["poll"] == [(tables["store"][0][0], T0, 1)]


def shown_stores(db, table: str) -> list[str]:
    return sorted({row[0] for row in Pager(db, table).first(100).rows})


def test_clear_filtered_deletes_just_the_rows_the_filter_shows(full_db, dump, csv_file) -> None:
    db, _ = full_db
    more = (
        "ab1,2023-01-22 09:00:00 UTC,active\nab2,2023-01-22 09:00:00 UTC,active\nab2,2023-01-22 08:00:00 UTC,active\n"
    )
    import_file(db, csv_file("p2.csv", POLLS + more))  # data version 4
    before = dump(db)
    # "a" is a whole id: just store a's 2 polls, not those of ab1, ab2 (nor b).
    exact = describe_filtered(db, "polls", " a ")
    assert exact is not None and exact.describe() == "2 polls of store a"
    assert clear_filtered(db, "polls", " a ") == 2
    assert shown_stores(db, "polls") == ["ab1", "ab2", "b"]
    assert dump(db)["business_hours"] == before["business_hours"]  # other tables untouched, a's hours too
    assert version(db) == 5
    # "ab" is no id: the ids starting with it, as the Data pane shows them.
    prefix = describe_filtered(db, "polls", "ab")
    assert prefix is not None and prefix.describe() == "3 polls of the 2 stores whose id starts with 'ab'"
    assert clear_filtered(db, "polls", "ab") == 3
    assert shown_stores(db, "polls") == ["b"]
    assert describe_filtered(db, "time_zones", "d").describe() == "1 time zone of store d"
    # Nothing shown, nothing deleted, no new data version.
    assert describe_filtered(db, "polls", "x").describe() == "0 polls of the 0 stores whose id starts with 'x'"
    assert clear_filtered(db, "time_zones", "x") == 0
    assert version(db) == 6
    assert describe_filtered(db, "reports", "a") is None  # reports have no store column
    with pytest.raises(ValueError, match="no store filter"):
        clear_filtered(db, "reports", "a")
