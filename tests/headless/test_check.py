"""``storemon --check``: the verdict (pure), then the real command on real databases."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storemon_tui.headless.check import CRITICAL, OK, UNKNOWN, WARNING, Health, judge

NOW_US = 1_700_000_000_000_000
HOUR_US = 3_600_000_000


def health(**changes: object) -> Health:
    facts: dict[str, object] = {
        "stores": 14_000,
        "polls": 1_900_000,
        "latest_poll_us": NOW_US - 600_000_000,  # 10 minutes ago
        "last_import_us": NOW_US - 300_000_000,  # 5 minutes ago
        "last_report_failed": None,
        "down_now": 3,
        "down_now_at_us": NOW_US - 240_000_000,  # computed 4 minutes ago
        "down_now_current": True,
    }
    facts.update(changes)
    return Health(**facts)


def test_ok_with_perfdata() -> None:
    code, line = judge(health(), now_us=NOW_US, max_age_h=2)
    assert code == OK
    assert line == (
        "STOREMON OK - 14,000 stores, 1,900,000 polls, latest poll 10 min ago, 3 open stores down (status of 4 min ago)"
        " | stores=14000 polls=1900000 latest_poll_age=600s;3600;7200;0 last_import_age=300s;;;0"
        " down_now=3;;;0 down_now_age=240s;;;0"
    )


def test_the_down_count_says_how_old_it_is_and_whether_data_came_in_since() -> None:
    # Recorded 2 h ago (7200 s), before an import of 5 min ago: shown, with both facts.
    stale = health(down_now_at_us=NOW_US - 2 * HOUR_US, down_now_current=False)
    code, line = judge(stale, now_us=NOW_US, max_age_h=2)
    assert code == OK  # a figure's age is information, not a verdict
    assert "3 open stores down (status of 2.0 h ago, data imported since) |" in line
    assert line.endswith(" down_now=3;;;0 down_now_age=7200s;;;0")


def test_warning_at_half_the_max_age_and_when_the_last_report_failed() -> None:
    # 1.5 h old: over half of 2 h, under 2 h.
    code, line = judge(health(latest_poll_us=NOW_US - 3 * HOUR_US // 2), now_us=NOW_US, max_age_h=2)
    assert code == WARNING
    assert line.startswith("STOREMON WARNING - latest poll 1.5 h old (warning at 1 h); 14,000 stores")
    assert "latest_poll_age=5400s;3600;7200;0" in line
    code, line = judge(health(last_report_failed="database is locked\ntrace | more"), now_us=NOW_US, max_age_h=2)
    assert code == WARNING
    assert line.startswith("STOREMON WARNING - last report failed: database is locked; 14,000 stores")
    assert line.count("|") == 1  # a '|' in the error would start the perfdata early


def test_critical_without_polls_or_with_old_polls() -> None:
    empty = health(stores=0, polls=0, latest_poll_us=None, last_import_us=None, down_now=None, down_now_at_us=None)
    code, line = judge(empty, now_us=NOW_US, max_age_h=2)
    assert code == CRITICAL
    assert line == (
        "STOREMON CRITICAL - no polls in the database; 0 stores, 0 polls"
        " | stores=0 polls=0 latest_poll_age=U;3600;7200;0 last_import_age=U;;;0 down_now=U;;;0 down_now_age=U;;;0"
    )
    # --max-age 6: 7 h is critical, whatever else is wrong.
    code, line = judge(health(latest_poll_us=NOW_US - 7 * HOUR_US, last_report_failed="x"), now_us=NOW_US, max_age_h=6)
    assert code == CRITICAL
    assert line.startswith("STOREMON CRITICAL - latest poll 7.0 h old (limit 6 h); last report failed: x;")
    assert "latest_poll_age=25200s;10800;21600;0" in line


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _import_two_stores(cli, db_target: str, tmp_path: Path, now: datetime) -> Path:
    """a polled active 20 min ago, b inactive 50 min ago; no business hours (open all week), so b is down."""
    polls = tmp_path / "polls.csv"
    polls.write_text(
        "store_id,timestamp_utc,status\n"
        f"a,{_iso(now - timedelta(minutes=20))},active\nb,{_iso(now - timedelta(minutes=50))},inactive\n"
    )
    assert cli("--db", db_target, "--import", polls).returncode == 0
    return polls


def test_check_on_a_real_database(cli, db_target: str, tmp_path: Path) -> None:
    _import_two_stores(cli, db_target, tmp_path, datetime.now(UTC))
    result = cli("--db", db_target, "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert re.fullmatch(
        r"STOREMON OK - 2 stores, 2 polls, latest poll (19|20|21) min ago"
        r" \| stores=2 polls=2 latest_poll_age=1\d{3}s;3600;7200;0 last_import_age=\d+s;;;0"
        r" down_now=U;;;0 down_now_age=U;;;0\n",
        result.stdout,
    ), result.stdout
    warning = cli("--db", db_target, "--check", "--max-age", "0.5")  # 20 min > 15 min
    assert warning.returncode == 1 and warning.stdout.startswith("STOREMON WARNING - latest poll 2"), warning.stdout
    critical = cli("--db", db_target, "--check", "--max-age", "0.25")
    assert critical.returncode == 2 and critical.stdout.startswith("STOREMON CRITICAL - latest poll"), critical.stdout


def test_the_down_count_comes_from_the_last_status_of_now(cli, db_target: str, tmp_path: Path) -> None:
    """``--status`` (no ``--as-of``) records its count of open stores down; the check shows it, aged."""
    now = datetime.now(UTC)
    polls = _import_two_stores(cli, db_target, tmp_path, now)
    as_of = (now - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    assert cli("--db", db_target, "--status", tmp_path / "past.csv", "--as-of", as_of).returncode == 0
    assert cli("--db", db_target, "--check").stdout.endswith(" down_now=U;;;0 down_now_age=U;;;0\n")  # not of now

    assert cli("--db", db_target, "--status", tmp_path / "s.csv").returncode == 0
    down_rows = [line for line in (tmp_path / "s.csv").read_text().splitlines() if ",yes,inactive," in line]
    assert [line.split(",")[0] for line in down_rows] == ["b"]
    result = cli("--db", db_target, "--check")
    assert result.returncode == 0, result.stdout
    assert ", 1 open store down (status of 0 min ago) |" in result.stdout
    assert re.search(r" down_now=1;;;0 down_now_age=\d{1,2}s;;;0\n$", result.stdout), result.stdout

    polls.write_text(f"store_id,timestamp_utc,status\nb,{_iso(now - timedelta(minutes=10))},active\n")
    assert cli("--db", db_target, "--import", polls).returncode == 0
    result = cli("--db", db_target, "--check")
    assert ", 1 open store down (status of 0 min ago, data imported since) |" in result.stdout, result.stdout


def test_the_check_upgrades_an_older_storemon_database(cli, db_target: str, tmp_path: Path) -> None:
    """After storemon itself is upgraded, the check may be the first command to open the database."""
    from sqlalchemy import text

    from storemon_tui.db import open_database
    from storemon_tui.db.identity import SCHEMA_VERSION

    _import_two_stores(cli, db_target, tmp_path, datetime.now(UTC))
    db = open_database(db_target)
    with db.begin() as conn:  # as storemon 1 left it: no poll_recent
        conn.execute(text("DROP TABLE poll_recent"))
        conn.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    db.dispose()
    result = cli("--db", db_target, "--check")
    assert result.returncode == 0 and result.stdout.startswith("STOREMON OK - 2 stores, 2 polls"), result.stdout
    db = open_database(db_target, create=False)
    with db.connect() as conn:
        version = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar()
        assert conn.execute(text("SELECT count(*) FROM poll_recent")).scalar() == 0
    db.dispose()
    assert version == str(SCHEMA_VERSION)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_failed_report_warns(cli, db_target: str, tmp_path: Path) -> None:
    polls = tmp_path / "polls.csv"
    polls.write_text(f"store_id,timestamp_utc,status\na,{_iso(datetime.now(UTC))},active\n")
    assert cli("--db", db_target, "--import", polls).returncode == 0
    with sqlite3.connect(db_target) as conn:
        conn.execute(
            "INSERT INTO report (id, created_at, status, progress, error, data_version) "
            "VALUES ('r1', '2030-01-01 00:00:00', 'Failed', 0, 'disk full', 1)"
        )
    result = cli("--db", db_target, "--check")
    assert result.returncode == 1
    assert result.stdout.startswith("STOREMON WARNING - last report failed: disk full; 1 store, 1 poll")


def test_unknown_when_the_database_cannot_be_opened(cli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"
    result = cli("--db", missing, "--check")
    assert (result.returncode, result.stderr) == (UNKNOWN, "")
    assert result.stdout == f"STOREMON UNKNOWN - database {missing}: no such file\n"
    assert not missing.exists()  # a check never creates a database
    not_a_db = tmp_path / "junk.sqlite3"
    not_a_db.write_text("this is not a database " * 100)
    result = cli("--db", not_a_db, "--check")
    assert result.returncode == UNKNOWN
    assert result.stdout == f"STOREMON UNKNOWN - database {not_a_db}: file is not a database\n"
    down = cli("--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "--check")
    assert down.returncode == UNKNOWN and down.stdout.startswith("STOREMON UNKNOWN - ")
    assert len(down.stdout.splitlines()) == 1


def test_check_usage_errors(cli) -> None:
    result = cli("--check", "--max-age", "0")
    assert result.returncode == 2 and "--max-age must be a positive number of hours" in result.stderr
    assert cli("--max-age", "3").returncode == 2
    assert cli("--check", "--export", "-").returncode == 2


def test_the_check_line_quotes_names_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from storemon_tui.headless.check import run_check

    missing = tmp_path / "gone\x1b]0;t\x07.sqlite3"
    assert run_check(str(missing), None) == UNKNOWN
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "gone\\x1b]0;t\\x07.sqlite3" in out


def test_the_check_seeks_each_store_once(tmp_path: Path) -> None:
    """SQLite flattened the per-store query into the outer one and sought every store twice
    (once for ``count``, once for ``max``): two correlated subqueries in the plan."""
    from storemon_tui.db import open_database
    from storemon_tui.db.summary_sql import STORES_AND_LATEST_POLL_SQL

    path = tmp_path / "plan.sqlite3"
    open_database(str(path)).dispose()  # the real schema
    with sqlite3.connect(path) as conn:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + STORES_AND_LATEST_POLL_SQL)]
    assert sum("CORRELATED SCALAR SUBQUERY" in step for step in plan) == 1, plan


def test_the_check_loads_no_library_it_does_not_need(cli, tmp_path: Path) -> None:
    """The whole process must stay under 0.5 s: numpy, pandas, Arrow, SQLAlchemy, SQLModel, Textual,
    Rich or even ``logging`` would each cost a large part of that, and the check needs none of them."""
    import subprocess
    import sys

    _import_two_stores(cli, str(tmp_path / "c.sqlite3"), tmp_path, datetime.now(UTC))
    code = (
        "import sys\n"
        "from storemon_tui.cli import main\n"
        f"code = main(['--db', {str(tmp_path / 'c.sqlite3')!r}, '--check'])\n"
        "heavy = {'numpy', 'pandas', 'pyarrow', 'sqlalchemy', 'sqlmodel', 'pydantic', 'textual', 'rich', 'logging'}\n"
        "print(code, sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines()[-1] == "0 []", result.stdout + result.stderr
