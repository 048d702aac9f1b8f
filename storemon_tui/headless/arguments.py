"""The command-line flags of unattended operation: ``--watch``, ``--alert-cmd``, ``--check``, ``--log-format``.

Kept out of ``cli.py`` (shared by several people) so that file only wires
them in; the checks that combine them with the other flags live here too.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from storemon_tui.headless.watch import WatchOptions

LOG_FORMATS = ("text", "json")


def add_unattended_arguments(parser: argparse.ArgumentParser) -> None:
    """--watch, --alert-cmd, --check and --log-format (storemon_tui.headless)."""
    parser.add_argument(
        "--watch",
        metavar="DIR",
        help="import every CSV dropped into DIR until SIGTERM/SIGINT (moved to DIR/imported or DIR/rejected); "
        "with --export and/or --status, regenerate them after each batch",
    )
    parser.add_argument(
        "--alert-cmd",
        metavar="CMD",
        help="with --watch: after each batch, run CMD through the shell when stores went down or recovered "
        "(one JSON object per store on stdin)",
    )
    parser.add_argument(
        "--poll",
        action="store_true",
        help="with --watch: scan DIR every second instead of using inotify (network file systems)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="health check for monitoring (Nagios plugin): one line; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
    )
    parser.add_argument(
        "--max-age",
        metavar="HOURS",
        type=float,
        help="with --check: CRITICAL when the latest poll is older than this (default 2), WARNING at half",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="text",
        help="how headless modes log on stderr: text lines (default) or one JSON object per line",
    )


class _OnlyLogFormat(argparse.ArgumentParser):
    """A parser that knows ``--log-format`` alone and never prints or exits: see :func:`log_format_in`."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def log_format_in(argv: Sequence[str]) -> str:
    """The ``--log-format`` that ``argv`` asks for, found even when the rest of ``argv`` is wrong.

    Why: a usage error, or a Ctrl-C while the arguments are parsed, comes
    before the arguments are known, and a log collector reading
    ``--log-format json`` still wants it as one JSON event. A parser that
    knows only this flag reads it as the full parser does (``--log-format=json``,
    an abbreviation such as ``--log json``, the last one winning) and skips the
    rest; a missing or unknown value means the default, ``text``.
    """
    finder = _OnlyLogFormat(add_help=False)
    finder.add_argument("--log-format", choices=LOG_FORMATS, default="text")
    try:
        found, _rest = finder.parse_known_args(list(argv))
    except ValueError:
        return "text"
    return str(found.log_format)


def log_early(argv: Sequence[str], name: str, message: str, **fields: Any) -> None:
    """Log an event from before the logs were set up (see :func:`log_format_in`), in the format ``argv`` asks for.

    It goes through :mod:`storemon_tui.headless.log`, the one place that writes events.
    """
    from storemon_tui.headless import log

    log.configure(log_format_in(argv))
    log.error(name, message, **fields)


def check_unattended_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.watch is not None:
        if args.import_files or args.as_of is not None or args.check or args.prune:
            parser.error("--watch cannot be combined with --import, --as-of, --check or --prune")
        if args.export == "-" or args.status == "-":
            parser.error("--watch writes --export and --status to files, not stdout")
        if args.alert_cmd is not None and not args.alert_cmd.strip():
            parser.error("--alert-cmd needs a command")
    elif args.poll or args.alert_cmd is not None:
        parser.error("--poll and --alert-cmd only apply to --watch")
    if args.check:
        if args.import_files or args.export or args.status or args.prune:
            parser.error("--check cannot be combined with --import, --export, --status or --prune")
        if args.max_age is not None and not args.max_age > 0:
            parser.error("--max-age must be a positive number of hours")
    elif args.max_age is not None:
        parser.error("--max-age only applies to --check")


def watch_options(args: argparse.Namespace) -> WatchOptions:
    from storemon_tui.headless.watch import WatchOptions

    return WatchOptions(
        folder=Path(args.watch),
        db_target=args.db,
        skip_invalid=args.skip_invalid,
        export=args.export,
        status=args.status,
        alert_cmd=args.alert_cmd,
        force_polling=args.poll,
    )
