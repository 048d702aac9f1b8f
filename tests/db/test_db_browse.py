"""The keyset Pager: windows by key and by OFFSET, counts, filters, widths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from storemon_tui.db.browse import Pager
from storemon_tui.db.models import Report
from storemon_tui.display import format_time_of_day, format_ts_us
from storemon_tui.ingest import import_file
from storemon_tui.paging import Page

T0 = 1674388800000000  # 2023-01-22 12:00:00 UTC
# Store ids chosen to make prefix/exact filtering and text ordering interesting.
STORES = ["12", "0012", "123", "1234", "12345678901234567890", "9", "b3f1c2d4-0000-4000-8000-000000000001"]


@pytest.fixture
def browse_db(db, csv_file):
    # Polls: store i gets 3*i+2 polls (2..20), imported in an order that differs from key order.
    rows = []
    for i, sid in enumerate(STORES):
        for k in range(3 * i + 2):
            minute = (k * 7) % 60
            status = "active" if k % 3 else "inactive"
            rows.append(f"{sid},2023-01-22 {12 + k // 60:02d}:{minute:02d}:{k % 60:02d}.{k:06d} UTC,{status}")
    rows.reverse()
    import_file(db, csv_file("p.csv", "store_id,timestamp_utc,status\n" + "\n".join(rows) + "\n"))
    hours = [f"{sid},{d},09:00,{'24:00:00' if d == 6 else '17:30:15.5'}" for sid in STORES[:4] for d in range(7)]
    import_file(db, csv_file("h.csv", "store_id,dayOfWeek,start_time_local,end_time_local\n" + "\n".join(hours) + "\n"))
    import_file(db, csv_file("z.csv", "store_id,timezone_str\n" + "".join(f"{sid},Asia/Tokyo\n" for sid in STORES)))
    return db


def expected_rows(db, table: str, where: str = "") -> list[tuple[str, ...]]:
    """The whole table in display form, ordered like the pager (computed independently)."""
    queries = {
        "polls": "SELECT s.store_id, p.ts_us, p.active FROM poll p JOIN store s USING (store_key) {w} "
        "ORDER BY p.store_key, p.ts_us",
        "business_hours": "SELECT s.store_id, h.day_of_week, h.start_us, h.end_us FROM business_hours h "
        "JOIN store s USING (store_key) {w} ORDER BY h.store_key, h.id",
        "time_zones": "SELECT s.store_id, z.timezone_str FROM store_timezone z JOIN store s USING (store_key) {w} "
        "ORDER BY z.store_key",
    }
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    with db.connect() as conn:
        rows = conn.execute(text(queries[table].format(w=where))).all()
    if table == "polls":
        return [(sid, format_ts_us(ts).removesuffix(" UTC"), "active" if a else "inactive") for sid, ts, a in rows]
    if table == "business_hours":
        return [(sid, f"{d} {days[d]}", format_time_of_day(s), format_time_of_day(e)) for sid, d, s, e in rows]
    return [tuple(r) for r in rows]


def walk_forward(pager: Pager, count: int | None = None) -> list[Page]:
    page = pager.first(count)
    pages = [page]
    while not page.is_last:
        page = pager.after(page, count)
        pages.append(page)
    return pages


def walk_backward(pager: Pager, count: int | None = None) -> list[Page]:
    page = pager.last(count)
    pages = [page]
    while not page.is_first:
        page = pager.before(page, count)
        pages.append(page)
    return pages[::-1]


@pytest.mark.parametrize("table", ["polls", "business_hours", "time_zones"])
@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 10, 77, 500])
def test_keyset_walks_equal_the_ordered_table(browse_db, table: str, page_size: int) -> None:
    whole = expected_rows(browse_db, table)
    pager = Pager(browse_db, table, page_size=page_size)
    total = len(whole)
    assert pager.total() == total

    forward = walk_forward(pager)
    assert [p.start for p in forward] == list(range(0, total, page_size))
    assert [row for p in forward for row in p.rows] == whole
    assert all(len(p.rows) == page_size for p in forward[:-1])
    assert all(p.total == total for p in forward)

    # Backwards from the last row: windows end where the next one starts, down to row 0.
    backward = walk_backward(pager)
    assert [row for p in backward for row in p.rows] == whole
    assert [p.end for p in backward] == [p.start for p in backward[1:]] + [total]
    assert all(len(p.rows) == page_size for p in backward[1:])


@pytest.mark.parametrize("table", ["polls", "business_hours", "time_zones"])
def test_any_window_equals_the_slice(browse_db, table: str) -> None:
    """Jumps (OFFSET from the nearer end) and continuations (keyset from a held page) alike."""
    whole = expected_rows(browse_db, table)
    total = len(whole)
    pager = Pager(browse_db, table)
    for start in range(-2, total + 3):
        for count in (1, 3, 10, total):
            page = pager.window(start, count)
            lo = min(max(start, 0), total)
            assert page.start == lo and list(page.rows) == whole[lo : lo + count], (start, count)
            assert len(page.keys) == len(page.rows)
            if not page.is_last:
                assert list(pager.after(page, 4).rows) == whole[page.end : page.end + 4]
            if not page.is_first:
                before = pager.before(page, 4)
                assert list(before.rows) == whole[max(page.start - 4, 0) : page.start]
                assert before.end == page.start


def test_window_edges(browse_db) -> None:
    pager = Pager(browse_db, "polls", page_size=10)
    first = pager.first()
    total = sum(3 * i + 2 for i in range(len(STORES)))
    assert (first.start, first.end, first.total) == (0, 10, total)
    assert first.is_first and not first.is_last
    assert pager.before(first).rows == []
    last = pager.last()
    assert last.is_last and (last.start, last.end) == (total - 10, total)
    assert pager.after(last).rows == [] and pager.after(last).start == total
    assert pager.window(10_000, 5).rows == [] and pager.window(10_000, 5).start == total
    assert first.columns == ("store_id", "timestamp_utc", "status")
    assert first.row(3) == first.rows[3] and first.row(10) is None


def test_joined_and_cut_pages_continue_by_key(browse_db) -> None:
    """A window held by a table is joined from pieces and cut at either end; it still continues."""
    whole = expected_rows(browse_db, "polls")
    pager = Pager(browse_db, "polls", page_size=5)
    held = pager.first().join(pager.after(pager.first()))
    assert list(held.rows) == whole[:10]
    held = held.cut(3, 8)
    assert (held.start, list(held.rows)) == (3, whole[3:8])
    assert list(pager.after(held).rows) == whole[8:13]
    assert list(pager.before(held).rows) == whole[0:3]
    with pytest.raises(ValueError, match="do not touch"):
        held.join(pager.window(20, 5))


def test_display_formats(browse_db) -> None:
    poll = Pager(browse_db, "polls", page_size=2, store_filter="12").first()
    assert poll.rows == [
        ("12", "2023-01-22 12:00:00", "inactive"),
        ("12", "2023-01-22 12:07:01.000001", "active"),
    ]
    hours = Pager(browse_db, "business_hours", page_size=7, store_filter="0012").first().rows
    assert hours[0] == ("0012", "0 Mon", "09:00:00", "17:30:15.500000")
    assert hours[6] == ("0012", "6 Sun", "09:00:00", "24:00:00")
    # Widths: the widest value of every column, store ids over the whole store table.
    assert poll.widths == (36, 26, 8)
    assert Pager(browse_db, "time_zones").first().widths == (36, len("Asia/Tokyo"))


@pytest.mark.parametrize(
    ("text_filter", "ids"),
    [
        ("12", ["12"]),  # exact match wins over the prefix
        (" 12 ", ["12"]),  # typed with spaces
        ("0012", ["0012"]),
        ("00", ["0012"]),  # prefix
        ("123", ["123"]),
        ("1234", ["1234"]),
        ("12345", ["12345678901234567890"]),
        ("b3f1", ["b3f1c2d4-0000-4000-8000-000000000001"]),
        ("nomatch", []),
        ("", STORES),
    ],
)
def test_store_filter(browse_db, text_filter: str, ids: list[str]) -> None:
    pager = Pager(browse_db, "polls", page_size=4, store_filter=text_filter)
    rows = [row for p in walk_forward(pager) for row in p.rows]
    assert sorted({row[0] for row in rows}) == sorted(ids)
    assert pager.total() == len(rows) == sum(3 * STORES.index(i) + 2 for i in ids)
    assert [row for p in walk_backward(pager) for row in p.rows] == rows
    assert pager.filtered == bool(text_filter.strip())
    if not ids:
        assert pager.first().rows == [] and pager.last().rows == []


def test_prefix_filter_matches_many_stores(browse_db) -> None:
    pager = Pager(browse_db, "time_zones", page_size=2, store_filter="1")
    rows = [row for p in walk_forward(pager) for row in p.rows]
    assert sorted(r[0] for r in rows) == ["12", "123", "1234", "12345678901234567890"]


def test_empty_tables(db) -> None:
    for table in ("polls", "business_hours", "time_zones", "reports"):
        pager = Pager(db, table, page_size=5)
        for page in (pager.first(), pager.last(), pager.window(3, 5)):
            assert page.rows == [] and page.start == 0 and page.total == 0
            assert page.is_first and page.is_last


def test_refresh_sees_new_rows(browse_db, csv_file) -> None:
    pager = Pager(browse_db, "time_zones", page_size=100)
    assert pager.total() == len(STORES)
    import_file(browse_db, csv_file("z2.csv", "store_id,timezone_str\nnew-store,America/Argentina/Buenos_Aires\n"))
    assert pager.total() == len(STORES)  # cached until refreshed
    pager.refresh()
    assert pager.total() == len(STORES) + 1
    assert ("new-store", "America/Argentina/Buenos_Aires") in pager.first().rows
    assert pager.first().widths[1] == len("America/Argentina/Buenos_Aires")


def test_bad_arguments(db) -> None:
    with pytest.raises(ValueError, match="unknown table"):
        Pager(db, "poll")
    with pytest.raises(ValueError, match="page size"):
        Pager(db, "polls", page_size=0)


def add_reports(db, count: int) -> list[tuple[datetime, str]]:
    """Reports with some equal creation times (ties broken by id)."""
    base = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    records = []
    with db.begin_write() as conn:
        for i in range(count):
            created = base + timedelta(seconds=i // 3)  # three reports per second
            report_id = f"{(i * 7919) % 1000:04d}{i:028d}"
            conn.execute(
                Report.__table__.insert().values(
                    id=report_id,
                    created_at=created,
                    status="Complete",
                    progress=100.0,
                    row_count=i,
                    as_of_us=T0 + i,
                    data_version=1,
                )
            )
            records.append((created, report_id))
    return records


@pytest.mark.parametrize("page_size", [1, 4, 5, 40])
def test_reports_table_pages_newest_first(db, page_size: int) -> None:
    records = add_reports(db, 23)
    newest_first = [rid for _, rid in sorted(records, reverse=True)]
    pager = Pager(db, "reports", page_size=page_size)
    forward = walk_forward(pager)
    ids = [row[0] for p in forward for row in p.rows]
    assert ids == newest_first
    assert [row for p in walk_backward(pager) for row in p.rows] == [row for p in forward for row in p.rows]
    for p in forward:
        assert pager.window(p.start, page_size).rows == p.rows
    first_row = forward[0].rows[0]
    newest = [rid for _, rid in records].index(newest_first[0])  # ties on created_at: larger id first
    assert newest == 21
    assert (
        first_row[2] == "Complete"
        and first_row[3] == format_ts_us(T0 + newest).removesuffix(" UTC")
        and first_row[4] == str(newest)
    )
    # The reports table has no store column: a store filter does not apply.
    assert Pager(db, "reports", page_size=100, store_filter="12").total() == 23
