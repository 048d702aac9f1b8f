"""Command line: headless ``--import``/``--export`` for cron and SSH, else the app.

The headless paths import only the core (no Textual) so they start fast;
the Textual app is imported lazily when no headless flag is given.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from storemon_tui import __version__
from storemon_tui.display import counted
from storemon_tui.errors import Cancelled, StoremonError
from storemon_tui.headless.arguments import (
    add_unattended_arguments,
    check_unattended_usage,
    log_early,
    log_format_in,
    watch_options,
)
from storemon_tui.headless.ctrl_c import CtrlCFlag, HeldCtrlC
from storemon_tui.safe_text import echo, visible, visible_lines

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from storemon_tui.db import Database
    from storemon_tui.ingest.prepare import ReadAhead

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors that quote an argument (``unrecognized arguments: …``) show it escaped,
    and with ``--log-format json`` are one JSON event (``usage_error``) instead of the usage text."""

    argv: Sequence[str] = ()
    """The arguments being parsed (set by :func:`main`): a usage error looks for ``--log-format`` in them."""

    def error(self, message: str) -> NoReturn:
        if log_format_in(self.argv) == "json":
            log_early(self.argv, "usage_error", f"{self.prog}: error: {message}", error=message)
            self.exit(EXIT_USAGE)
        super().error(message)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        super()._print_message(visible_lines(message), file)


def build_parser() -> _Parser:
    parser = _Parser(
        prog="storemon",
        description=(
            "Business-hours uptime and downtime of every store, from raw status polls. "
            "With no --import/--export, opens the interactive terminal app."
        ),
        epilog=(
            "Examples:\n"
            "  storemon --import sample_data/*.csv          import three CSVs into the default database\n"
            "  storemon --export report.csv                 compute the report and write it\n"
            "  storemon --db /srv/storemon.sqlite3 --import polls.csv --export - > report.csv\n"
            "  storemon --db postgresql+psycopg://user:pw@host/storemon\n"
            "\nThe database is --db, else $STOREMON_DB, else storemon.sqlite3 in the user data directory."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"storemon {__version__}")
    parser.add_argument(
        "--db",
        metavar="DB",
        help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://...); default $STOREMON_DB or the user data dir",
    )
    parser.add_argument(
        "--import",
        dest="import_files",
        nargs="+",
        metavar="FILE",
        help="import polls, business-hours and/or time-zone CSVs (kind detected from the header); "
        "a directory means its CSV files, a quoted glob its matches, as in the app",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows of a file with bad rows; write the bad ones to FILE.rejects.csv",
    )
    parser.add_argument(
        "--export",
        metavar="PATH",
        help="compute the uptime report and write its CSV to PATH ('-' for stdout)",
    )
    parser.add_argument(
        "--status",
        metavar="PATH",
        help="write the fleet status (down now, since when, silent, week vs previous week) to PATH ('-' for stdout)",
    )
    parser.add_argument(
        "--as-of",
        metavar="TIMESTAMP",
        help="report (and status) as of this UTC instant instead of the latest poll (e.g. '2023-01-25 12:00:00')",
    )
    _add_retention_arguments(parser)
    add_unattended_arguments(parser)
    return parser


def _add_retention_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prune",
        action="store_true",
        help="delete old data that no later report needs: with --keep-days N and/or --keep-reports N",
    )
    parser.add_argument(
        "--keep-days",
        type=_count,
        metavar="N",
        help="with --prune: keep the polls of the last N days before the latest poll (and what later reports need)",
    )
    parser.add_argument(
        "--keep-reports",
        type=_count,
        metavar="N",
        help="with --prune: keep the newest N reports (records and files), delete the rest",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; Ctrl-C is held from the first line on (see ``headless/ctrl_c.py``)
    until the command is set to stop safely: an import takes it over as its stop flag,
    the other commands raise it once their start-up imports are done."""
    held = HeldCtrlC().hold()
    try:
        return _main(argv, held)
    finally:
        held.restore()


def _main(argv: Sequence[str] | None, held: HeldCtrlC) -> int:
    parser = build_parser()
    parser.argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    headless = bool(args.import_files or args.export or args.status or args.prune)
    check_unattended_usage(parser, args)
    if args.as_of is not None and not (args.export or args.status):
        parser.error("--as-of only applies to --export and --status")
    if (args.keep_days is not None or args.keep_reports is not None) and not args.prune:
        parser.error("--keep-days and --keep-reports only apply to --prune")
    if args.prune and args.keep_days is None and args.keep_reports is None:
        parser.error("--prune needs --keep-days N and/or --keep-reports N")
    if args.export == "-" and args.status == "-":
        parser.error("--export - and --status - cannot both write to stdout")
    # An empty --as-of (e.g. `--as-of "$T"` with T unset in cron) is a usage error, not "latest".
    args.as_of_us = _parse_as_of(parser, args.as_of) if args.as_of is not None else None
    if args.skip_invalid and not (args.import_files or args.watch):
        parser.error("--skip-invalid only applies to --import")
    if args.check:
        from storemon_tui.headless.check import run_check

        held.release()
        return run_check(args.db, args.max_age)
    from storemon_tui.headless import log

    log.configure(args.log_format)
    try:
        if not args.import_files:
            held.release()  # a Ctrl-C during start-up raises here, outside any import
        if args.watch is not None:
            from storemon_tui.headless.watch import run_watch

            return run_watch(watch_options(args))
        if not headless:
            if not _on_a_terminal():
                log.error("usage_error", f"{parser.prog}: {NO_TERMINAL}", error=NO_TERMINAL)
                return EXIT_USAGE
            return _run_app(args.db)
        return _run_headless(args, held)
    except KeyboardInterrupt:
        log.error("interrupted", "storemon: interrupted; the database is unchanged by the interrupted step")
        return EXIT_INTERRUPTED
    except StoremonError as exc:
        log.error("failed", f"storemon: {exc}", error=str(exc))
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: one line, no traceback
        if os.environ.get("STOREMON_DEBUG"):
            raise
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        log.error(
            "unexpected_error",
            f"storemon: unexpected error: {type(exc).__name__}: {detail} (set STOREMON_DEBUG=1 for details)",
            error=f"{type(exc).__name__}: {detail}",
        )
        return EXIT_FAILED


def _run_headless(args: argparse.Namespace, held: HeldCtrlC) -> int:
    from storemon_tui.headless import log

    as_of_us: int | None = args.as_of_us
    db = None
    try:
        code = EXIT_OK
        if args.import_files:
            with CtrlCFlag(held) as interrupted:
                # Imported while Ctrl-C is a flag, before any reading thread starts (module docstring).
                from storemon_tui.ingest.prepare import ReadAhead
                from storemon_tui.paths import import_arguments

                if interrupted.is_set():  # pressed while the CLI started: start nothing
                    log.error("interrupted", "storemon: interrupted; nothing was imported")
                    return EXIT_INTERRUPTED
                with ReadAhead(
                    import_arguments(args.import_files),
                    skip_invalid=args.skip_invalid,
                    should_cancel=interrupted.is_set,
                ) as files:
                    # The files are being read in the background already, while the
                    # database opens and (when new) gets its schema.
                    from storemon_tui.db import open_database

                    try:
                        db = open_database(args.db, should_cancel=interrupted.is_set)
                    except Cancelled:  # Ctrl-C while a new database waited for another writer
                        log.error("interrupted", "storemon: interrupted; nothing was imported")
                        return EXIT_INTERRUPTED
                    code = _import(db, files, interrupted)
        if args.prune and code == EXIT_OK:
            from storemon_tui.db import open_database

            db = db or open_database(args.db)
            _prune(db, args.keep_days, args.keep_reports)
        if args.export or args.status:
            if code != EXIT_OK:
                if code == EXIT_FAILED:
                    log.error("export_skipped", "storemon: not exporting because an import failed")
                return code
            from storemon_tui.db import open_database

            db = db or open_database(args.db)
            if args.status:
                _export_with_status(db, args.export, args.status, as_of_us)
            else:
                _export(db, args.export, as_of_us)
        return code
    finally:
        if db is not None:
            db.dispose()


def _parse_as_of(parser: argparse.ArgumentParser, text: str) -> int:
    from storemon_tui.report.as_of import parse_as_of

    try:
        return parse_as_of(text)
    except ValueError as exc:
        parser.error(f"--as-of {text!r}: {exc}")


NO_TERMINAL = (
    "the app needs a terminal (stdin and stdout); in scripts and cron use --import FILE ... "
    "and/or --export PATH (see storemon --help)"
)


def _on_a_terminal() -> bool:
    """The app draws on stdout and reads keys from stdin: without a terminal it would hang writing escape codes."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def _import(db: Database, files: ReadAhead, interrupted: threading.Event) -> int:
    """Write each file in the read-ahead's order; a failed file is reported and the rest still go in."""
    from storemon_tui.headless import events, log
    from storemon_tui.ingest.importer import write_prepared

    ok = True
    pending_files = iter(files)
    for name in files.write_order:
        line = _ProgressLine(sys.stderr, f"importing {name}")
        try:
            summary = write_prepared(
                db, next(pending_files).take(), progress=line.update, should_cancel=interrupted.is_set
            )
        except StoremonError as exc:
            line.clear()
            if not isinstance(exc, Cancelled):
                log.error("file_failed", f"storemon: {exc}", path=str(name), error=str(exc))
            if interrupted.is_set():  # Cancelled, or e.g. "database is locked" after waiting through Ctrl-C
                log.error("interrupted", f"storemon: interrupted; nothing from {name} was written", path=str(name))
                return EXIT_INTERRUPTED
            ok = False
            continue
        line.clear()
        events.file_imported(summary)
        if os.environ.get("STOREMON_TIMING"):
            events.timing(f"{Path(name).name}: ", summary.stages)
        if interrupted.is_set():  # Ctrl-C during the commit: this file is in, the rest is not
            log.error("interrupted", "storemon: interrupted; the files above were imported, the rest were not")
            return EXIT_INTERRUPTED
    return EXIT_OK if ok else EXIT_FAILED


def _export(db: Database, target: str, as_of_us: int | None) -> None:
    from storemon_tui.headless import events
    from storemon_tui.report.export import export_report

    line = _ProgressLine(sys.stderr, "computing report")
    timings: dict[str, float] | None = {} if os.environ.get("STOREMON_TIMING") else None
    try:
        report_id, rows, seconds = export_report(db, target, as_of_us=as_of_us, progress=line.fraction, timings=timings)
    finally:
        line.clear()
    events.report_written(report_id, rows, seconds, target)
    if timings:
        events.timing("", timings)


def _count(text: str) -> int:
    """A whole number ≥ 0 for ``--keep-days`` and ``--keep-reports``."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got {text!r}")
    return int(text)


def _prune(db: Database, keep_days: int | None, keep_reports: int | None) -> None:
    from storemon_tui.headless import events
    from storemon_tui.report.retention import prune_polls, prune_reports

    if keep_days is not None:
        line = _ProgressLine(sys.stderr, "pruning polls")
        try:
            with CtrlCFlag() as interrupted:
                pruned = prune_polls(db, keep_days, progress=line.fraction, should_cancel=interrupted.is_set)
        finally:
            line.clear()
        events.polls_pruned(pruned, db.dialect)
    if keep_reports is not None:
        events.reports_pruned(prune_reports(db, keep_reports))


def _export_with_status(db: Database, report_target: str | None, status_target: str, as_of_us: int | None) -> None:
    from storemon_tui.headless import events
    from storemon_tui.report.status_export import write_outputs

    line = _ProgressLine(sys.stderr, "computing report and status" if report_target else "computing status")
    timings: dict[str, float] | None = {} if os.environ.get("STOREMON_TIMING") else None
    try:
        written = write_outputs(
            db,
            report_target=report_target,
            status_target=status_target,
            as_of_us=as_of_us,
            progress=line.fraction,
            timings=timings,
        )
    finally:
        line.clear()
    if written.report_id is not None and report_target is not None:
        events.report_written(written.report_id, written.report_rows, written.report_seconds, report_target)
    events.status_written(written.status_rows, written.status_seconds, status_target)
    if timings:
        events.timing("", timings)


class _ProgressLine:
    """A single self-overwriting progress line on stderr, only on a terminal."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = visible(label)
        from storemon_tui.headless.log import progress_allowed

        self.enabled = progress_allowed(stream)
        self.last = 0.0
        self.shown = False

    def update(self, done: int, total: int) -> None:
        if not self.enabled or (time.monotonic() - self.last < 0.1 and done < total):
            return
        self.last = time.monotonic()
        percent = 100 * done / total if total else 100
        self.stream.write(f"\r{self.label}: {done:,} / {counted(total, 'row')} ({percent:.0f}%)\x1b[K")
        self.stream.flush()
        self.shown = True

    def fraction(self, value: float) -> None:
        if not self.enabled or time.monotonic() - self.last < 0.1:
            return
        self.last = time.monotonic()
        self.stream.write(f"\r{self.label}: {value * 100:.0f}%\x1b[K")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


def _run_app(db_target: str | None) -> int:
    from storemon_tui.db import open_database

    db = open_database(db_target)
    from storemon_tui.tui.app import StoremonApp

    StoremonApp(db).run()
    return EXIT_OK


def entry_point() -> None:
    """The ``storemon`` command: run :func:`main`, then leave at once.

    By the time ``main`` returns every file is closed and every transaction
    committed or rolled back; what is left is the interpreter freeing a
    report's or an import's hundreds of megabytes object by object, a
    measurable share of a headless run (bench/README.md). So flush the standard
    streams and exit without that teardown. (Tests call :func:`main`.)
    """
    try:
        code = main()
    except KeyboardInterrupt:  # Ctrl-C before main's own handling began, e.g. while it parsed the arguments
        log_early(sys.argv[1:], "interrupted", "storemon: interrupted")
        code = EXIT_INTERRUPTED
    except SystemExit as exc:  # --help, --version and usage errors (argparse has printed them)
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        if isinstance(exc.code, str):
            echo(exc.code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # e.g. `--export - | head -1`
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry_point()
