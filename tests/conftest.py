"""Shared fixtures for the import, storage, report and CLI tests.

Kept deliberately small: a fresh database on each back end, a CSV writer, a
dump of every table (to prove a failed import changed nothing) and a way to
run the real command line in a subprocess.

Back ends: every test that uses ``db`` or ``db_target`` runs twice, on SQLite
and on PostgreSQL (``[sqlite]`` / ``[postgresql]`` in the test id). The
PostgreSQL runs need ``STOREMON_TEST_PG_URL`` (an empty database such as
``postgresql+psycopg://postgres@127.0.0.1:54329/storemon_test``); they are
skipped when it is unset, except under CI (``CI=true``), where that is a
failure. Each PostgreSQL test gets a schema of its own (``t_<hex>``, dropped
afterwards), so tests never see each other's data. A test that is about
SQLite itself pins the back end with
``@pytest.mark.parametrize("backend", ["sqlite"])``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storemon_tui.db import Database, open_database

REPO = Path(__file__).resolve().parent.parent

DUMP_QUERIES = {
    "store": "SELECT store_key, store_id FROM store ORDER BY 1, 2",
    "poll": "SELECT store_key, ts_us, active FROM poll ORDER BY 1, 2",
    "poll_recent": "SELECT store_key, ts_us, active FROM poll_recent ORDER BY 1, 2",
    # Every poll, wherever an import put it (the two tables never share a key: db/poll_sources.py).
    "polls": "SELECT store_key, ts_us, active FROM poll UNION ALL SELECT store_key, ts_us, active FROM poll_recent"
    " ORDER BY 1, 2",
    "business_hours": "SELECT id, store_key, day_of_week, start_us, end_us FROM business_hours ORDER BY 1, 2",
    "store_timezone": "SELECT store_key, timezone_str FROM store_timezone ORDER BY 1, 2",
    "report": "SELECT id, status, data_version FROM report ORDER BY 1, 2",
    # Not the last import's time: two databases given the same files differ only by it.
    "meta": "SELECT key, value FROM meta WHERE key <> 'last_import_us' ORDER BY 1, 2",
}


def dump_database(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table (including meta's data_version), for before/after comparisons."""
    with db.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(sql)).all()] for name, sql in DUMP_QUERIES.items()}


def write_csv(directory: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` byte for byte (str is encoded as UTF-8, newlines untouched)."""
    path = Path(directory) / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def storemon_env(data_dir: Path) -> dict[str, str]:
    """The environment of a storemon subprocess: its own data directory, no inherited ``STOREMON_DB``."""
    env = {k: v for k, v in os.environ.items() if k != "STOREMON_DB"}
    env["STOREMON_DATA_DIR"] = str(data_dir)
    return env


def run_cli(*args: str | os.PathLike[str], data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m storemon_tui ARGS`` with its data directory in ``data_dir``."""
    return subprocess.run(
        [sys.executable, "-m", "storemon_tui", *map(str, args)],
        capture_output=True,
        text=True,
        env=storemon_env(data_dir),
        cwd=data_dir,
        timeout=timeout,
    )


@dataclass
class RunningCli:
    """A ``python -m storemon_tui`` started by the ``start_cli`` fixture."""

    proc: subprocess.Popen[str]

    def stderr_within(self, timeout: float, failure: str) -> str:
        """Its stderr once it has exited; kill it and fail the test with ``failure`` if it takes longer."""
        try:
            return self.proc.communicate(timeout=timeout)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            err = self.proc.communicate()[1]
            pytest.fail(f"{failure}:\n{err}")


PG_URL_ENV = "STOREMON_TEST_PG_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def pg_test_url() -> str:
    """The PostgreSQL test database URL; skip (or, under CI, fail) when it is not configured."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        if in_ci():
            pytest.fail(f"{PG_URL_ENV} is not set, but CI=true: the PostgreSQL tests must run in CI", pytrace=False)
        pytest.skip(f"{PG_URL_ENV} not set")
    return url


def schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with every connection's ``search_path`` set to ``schema``."""
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[object]:
    """An autocommit engine on the PostgreSQL test database (creates and drops test schemas)."""
    url = pg_test_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # a configured but unreachable server is an error, never a skip
        engine.dispose()
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()
        pytest.fail(f"{PG_URL_ENV}={url}: cannot connect: {detail[0] if detail else exc!r}", pytrace=False)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``; the PostgreSQL run needs ``STOREMON_TEST_PG_URL``."""
    if request.param == "postgresql":
        pg_test_url()
    return request.param


@pytest.fixture
def new_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[str], str]]:
    """``new_target(name)`` → a fresh, empty database on this test's back end.

    SQLite: a file path under ``tmp_path``. PostgreSQL: the test URL scoped
    to a new schema, dropped at teardown (dispose every Database opened on it
    first; the ``db`` fixture does so itself).
    """
    schemas: list[str] = []
    admin = request.getfixturevalue("pg_admin") if backend == "postgresql" else None

    def _new(name: str = "t") -> str:
        if admin is None:
            return str(tmp_path / f"{name}.sqlite3")
        schema = f"t_{uuid.uuid4().hex}"
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        schemas.append(schema)
        return schema_url(str(admin.url.render_as_string(hide_password=False)), schema)

    yield _new
    for schema in schemas:
        try:
            with admin.connect() as conn:
                conn.execute(text("SET lock_timeout = '20s'"))
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        except Exception as exc:  # a leftover schema must not fail the test that made it
            warnings.warn(f"could not drop test schema {schema}: {exc}", stacklevel=1)


@pytest.fixture
def db_target(new_target: Callable[[str], str]) -> str:
    """Where this test's database lives: an SQLite file path or a schema-scoped PostgreSQL URL."""
    return new_target("t")


@pytest.fixture
def db(db_target: str) -> Iterator[Database]:
    database = open_database(db_target)
    yield database
    database.dispose()


@pytest.fixture
def csv_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """``csv_file(name, content)`` → path of the written file under ``tmp_path``."""
    return lambda name, content: write_csv(tmp_path, name, content)


@pytest.fixture
def dump() -> Callable[[Database], dict[str, list[tuple]]]:
    return dump_database


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment for a storemon subprocess started by hand (data in ``tmp_path/data``)."""
    return storemon_env(tmp_path / "data")


CLI_READY = "storemon-test: cli loaded"
"""The first stderr line of a ``start_cli`` child: its interpreter is up and the CLI is imported."""

_START_CLI = (
    "import sys\n"
    "from storemon_tui.cli import entry_point\n"
    f"print({CLI_READY!r}, file=sys.stderr, flush=True)\n"
    "entry_point()\n"
)
"""What ``python -m storemon_tui`` runs (``__main__.py``), announcing when the CLI code takes over.

Before that a Ctrl-C lands in the interpreter's own start-up, where no program can
handle it; how long start-up takes depends on the machine's load, so tests wait for
the announcement instead of guessing a delay.
"""


@pytest.fixture
def start_cli(cli_env: dict[str, str]) -> Callable[..., RunningCli]:
    """``start_cli(*args)`` starts the real CLI and returns once its code runs; stderr is captured.

    "Runs" means the CLI module is loaded and ``entry_point()`` is being
    called (the child announces it with ``CLI_READY`` on stderr, which is
    consumed here). Ctrl-C keeps its default meaning in it, even where the
    tests run with SIGINT ignored (a background job), so tests can send it.
    """

    def start(*args: str | os.PathLike[str]) -> RunningCli:
        proc = subprocess.Popen(
            [sys.executable, "-c", _START_CLI, *map(str, args)],
            env=cli_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        assert proc.stderr is not None
        first = proc.stderr.readline()  # "" only if the child died first
        if first.rstrip("\n") != CLI_READY:
            proc.kill()
            pytest.fail(f"the CLI did not start: {first}{proc.communicate()[1]}")
        return RunningCli(proc)

    return start


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli(*args)`` runs the real CLI in a subprocess with a private data directory."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return lambda *args, **kw: run_cli(*args, data_dir=data_dir, **kw)


@pytest.fixture
def invoke(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """``invoke(*args)`` → (exit code, stdout, stderr) of ``storemon_tui.cli.main`` in-process.

    The same code path as ``python -m storemon_tui`` without paying the
    interpreter start-up per bad input; subprocess tests cover the rest.
    """
    from storemon_tui.cli import main

    monkeypatch.setenv("STOREMON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STOREMON_DB", raising=False)

    def _invoke(*args: str | os.PathLike[str]) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _invoke


HOSTILE_TEXTS = {
    "clear screen": "\x1b[2J",
    "OSC 52 clipboard write": "\x1b]52;c;cHduZWQ=\x07",
    "title set": "\x1b]0;pwned\x07",
    "carriage return": "good\rEVIL",
    "bidi override": "abc\u202etxt",
    "markup close": "[/x]",
    "markup style": "[red]x",
    "markup action": "[@click=app.quit]x",
}
"""Store ids (and other values) a crafted CSV may hold: terminal escapes, CR, bidi, Rich/Textual markup."""

HOSTILE_SHOWN = {
    "\x1b[2J": "\\x1b[2J",
    "\x1b]52;c;cHduZWQ=\x07": "\\x1b]52;c;cHduZWQ=\\x07",
    "\x1b]0;pwned\x07": "\\x1b]0;pwned\\x07",
    "good\rEVIL": "good\\x0dEVIL",
    "abc\u202etxt": "abc\\u202etxt",
    "[/x]": "[/x]",
    "[red]x": "[red]x",
    "[@click=app.quit]x": "[@click=app.quit]x",
}
"""How each of :data:`HOSTILE_TEXTS` is shown on a terminal: escaped, literally."""


def hostile_polls_text() -> str:
    """A valid polls CSV (quoted fields) with one store per entry of :data:`HOSTILE_TEXTS`."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["store_id", "timestamp_utc", "status"])
    for index, store_id in enumerate(HOSTILE_TEXTS.values()):
        writer.writerow([store_id, f"2023-01-22 12:0{index}:00 UTC", "active"])
    return out.getvalue()


@pytest.fixture
def hostile_polls(tmp_path: Path) -> Path:
    """A polls CSV whose store ids are :data:`HOSTILE_TEXTS` (and whose name holds an escape sequence)."""
    return write_csv(tmp_path, "polls\x1b[2J\x07.csv", hostile_polls_text())


def assert_terminal_safe(text: str) -> None:
    """``text`` holds no character a terminal acts on or hides: only printable ones and line breaks."""
    unsafe = sorted({c for c in text if c != "\n" and not c.isprintable()})
    assert not unsafe, f"raw control/format characters reached the terminal: {unsafe!r} in {text!r}"


@pytest.fixture
def terminal_safe() -> Callable[[str], None]:
    """``terminal_safe(text)`` fails the test if ``text`` holds raw control, bidi or other invisible characters."""
    return assert_terminal_safe


@pytest.fixture
def hostile_shown() -> dict[str, str]:
    """:data:`HOSTILE_SHOWN`: each hostile value, and how a terminal must show it."""
    return dict(HOSTILE_SHOWN)


def insert_running_report(db: Database, owner: str | None) -> str:
    """A ``Running`` report record as another process would have left it (``owner`` as recorded)."""
    import secrets
    from datetime import UTC, datetime

    from storemon_tui.db import get_data_version
    from storemon_tui.db.models import Report

    report_id = secrets.token_hex(16)
    with db.begin_write() as conn:
        conn.execute(
            Report.__table__.insert().values(
                id=report_id,
                created_at=datetime.now(UTC),
                started_at=datetime.now(UTC),
                as_of_us=1,
                status="Running",
                progress=42.0,
                data_version=get_data_version(conn),
                owner=owner,
            )
        )
    return report_id


@pytest.fixture
def leave_running() -> Callable[[Database, str | None], str]:
    """``leave_running(db, owner)`` → the id of a report left ``Running`` by ``owner``."""
    return insert_running_report


@pytest.fixture
def gone_pid() -> Callable[[], int]:
    """``gone_pid()`` → the pid of a process that has exited (and been reaped)."""

    def exited() -> int:
        proc = subprocess.Popen(["true"])
        proc.wait()
        return proc.pid

    return exited
