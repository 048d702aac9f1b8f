"""preview_file: kind, header and first rows from the start of the file; same errors as import."""

from __future__ import annotations

import pytest

from storemon_tui.ingest import FileError, FileKind, import_file
from storemon_tui.ingest.preview import preview_file


def test_preview_first_rows(csv_file) -> None:
    rows = "".join(f"s{i},2023-01-22 12:00:{i:02d} UTC,active\r\n" for i in range(10))
    path = csv_file("p.csv", "\ufeffStore_Id,timestamp_utc,status,note\r\n" + rows.replace("s0,", '"s0",'))
    preview = preview_file(path, rows=3)
    assert preview.kind is FileKind.POLLS
    assert preview.header == ("Store_Id", "timestamp_utc", "status", "note")
    assert preview.ignored_columns == ("note",)
    assert preview.rows == [
        ["s0", "2023-01-22 12:00:00 UTC", "active"],
        ["s1", "2023-01-22 12:00:01 UTC", "active"],
        ["s2", "2023-01-22 12:00:02 UTC", "active"],
    ]
    assert preview.size_bytes == path.stat().st_size


def test_preview_of_a_large_file_reads_only_its_start(csv_file) -> None:
    rows = "".join(f"{i:020d},America/Chicago\n" for i in range(20_000))  # ~700 KB
    # A non-UTF-8 byte far beyond the preview window: preview works, the import would refuse.
    path = csv_file("z.csv", ("store_id,timezone_str\n" + rows).encode() + b"x,\xe9\n")
    preview = preview_file(path, rows=2)
    assert preview.kind is FileKind.ZONES
    assert preview.rows == [["00000000000000000000", "America/Chicago"], ["00000000000000000001", "America/Chicago"]]


@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf", b"id,when\n1,2\n", b"store_id,timezone_str\nS\xe9,UTC\n"],
    ids=["empty", "bom-only", "unknown-header", "latin-1"],
)
def test_preview_errors_match_import_errors(db, csv_file, content: bytes) -> None:
    path = csv_file("f.csv", content)
    with pytest.raises(FileError) as previewed:
        preview_file(path)
    with pytest.raises(FileError) as imported:
        import_file(db, path)
    assert str(previewed.value) == str(imported.value)


def test_preview_missing_and_directory(tmp_path) -> None:
    with pytest.raises(FileError, match="no such file"):
        preview_file(tmp_path / "nope.csv")
    with pytest.raises(FileError, match="is a directory"):
        preview_file(tmp_path)
