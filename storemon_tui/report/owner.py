"""Which process computes a report, and whether it still does.

A report is recorded ``Running`` when it starts and finished by the process
computing it. If that process is killed (kill -9, a crash, a power cut) the
record stays ``Running``; the next process to look must tell such a report
from one another process is computing right now, and must never call a live
report dead. What each case can know:

* **This host** (SQLite, or PostgreSQL from the same machine): the record's
  owner is ``host:pid:start:boot`` — the process id, the process's start time
  (``/proc/PID/stat``, clock ticks since boot) and the kernel's boot id. The
  owner is gone if the machine has rebooted since, if no process has that id,
  or if the process with that id started at another time (the id was reused).
  Where ``/proc`` is missing, the id alone is checked.
* **Another host** (a shared PostgreSQL database): the computing process
  holds a session advisory lock named after the report for as long as it
  runs. PostgreSQL releases it when that session ends — at once when the
  process dies, after the server notices a lost connection otherwise — so a
  lock that can be taken means nobody computes that report any more.
* **Another host, SQLite** (a file on a network share): nothing can be known;
  such a report is left as it is.
"""

from __future__ import annotations

import contextlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection as SAConnection
    from sqlalchemy import Engine

REPORT_LOCK_CLASS = 7231002
"""First key of the two-key advisory lock of a running report (the import lock uses the one-key space)."""

REPORT_LOCK_SQL = "hashtext(current_schema() || ':' || %(id)s)"
"""Second key: the report in this schema (two schemas of one database may both hold report ids)."""


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: str
    """The process's start time in clock ticks since boot ("" where unknown)."""
    boot: str
    """The kernel's boot id ("" where unknown)."""

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.start}:{self.boot}"


def current() -> Owner:
    """This process."""
    pid = os.getpid()
    return Owner(socket.gethostname(), pid, _start_time(pid), _boot_id())


def parse(text: str | None) -> Owner | None:
    """An owner as recorded: ``host:pid:start:boot``, or the older ``host:pid``; ``None`` if unreadable."""
    if not text:
        return None
    parts = text.rsplit(":", 3)
    if len(parts) == 4 and parts[1].isdigit():
        return Owner(parts[0], int(parts[1]), parts[2], parts[3])
    host, _, pid = text.rpartition(":")
    return Owner(host, int(pid), "", "") if host and pid.isdigit() else None


def gone_from_this_host(owner: Owner, here: Owner | None = None) -> bool | None:
    """``True`` if the owner ran on this host and has ended; ``False`` if it still runs; ``None``: not this host."""
    here = here or current()
    if owner.host != here.host:
        return None
    if owner.boot and here.boot and owner.boot != here.boot:
        return True  # the machine has rebooted since: every process of then is gone
    if not _pid_alive(owner.pid):
        return True
    return bool(owner.start) and _start_time(owner.pid) not in ("", owner.start)  # the id now names another process


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


def _start_time(pid: int) -> str:
    """Field 22 of ``/proc/PID/stat`` (after the command name, which may hold spaces and parentheses)."""
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2 :].split()[19]
    return ""


def _boot_id() -> str:
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return ""


class RunningLock:
    """The session advisory lock a report holds on PostgreSQL for as long as it runs.

    Taken before the report's record is written, released after its final
    status is: a process that sees the lock free and the record ``Running``
    knows the computing session has ended. The lock lives on a connection of
    its own, outside any transaction; if releasing fails the connection is
    closed rather than pooled, so the lock can never outlive the report.
    """

    def __init__(self, engine: Engine, report_id: str) -> None:
        self.report_id = report_id
        self._conn: SAConnection | None = engine.connect()
        try:
            self._conn.exec_driver_sql(
                f"SELECT pg_advisory_lock({REPORT_LOCK_CLASS}, {REPORT_LOCK_SQL})", {"id": report_id}
            )
            self._conn.commit()
        except BaseException:
            self._discard()
            raise

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.exec_driver_sql(
                f"SELECT pg_advisory_unlock({REPORT_LOCK_CLASS}, {REPORT_LOCK_SQL})", {"id": self.report_id}
            )
            conn.commit()
            conn.close()
        except Exception:  # the session is gone (and the lock with it), or must go: never pool it locked
            with contextlib.suppress(Exception):
                conn.invalidate()
                conn.close()

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()
                conn.close()


def lock_is_free(conn: SAConnection, report_id: str) -> bool:
    """Nobody holds ``report_id``'s running lock (on PostgreSQL): its computing session has ended."""
    taken = conn.exec_driver_sql(
        f"SELECT pg_try_advisory_lock({REPORT_LOCK_CLASS}, {REPORT_LOCK_SQL})", {"id": report_id}
    ).scalar()
    if taken:
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock({REPORT_LOCK_CLASS}, {REPORT_LOCK_SQL})", {"id": report_id})
    return bool(taken)
