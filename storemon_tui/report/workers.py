"""Worker processes for a large report: each joins the report's snapshot and reads *and* computes whole chunks.

Why processes: at 140,000 stores the report is CPU-bound on both cores,
and in one process its reader threads and the computing thread take turns
holding Python's GIL (bench/README.md). A worker has an interpreter of its
own: it opens its own connection in the parent's snapshot
(:meth:`~storemon_tui.report.source.ReportSnapshot.joined`), reads a chunk
of stores, computes it, look-back queries included, and sends back only the
chunk's result (a few arrays, one row per store).

How the workers start: as fresh interpreters (``python -m`` this module,
the *spawn* method: never ``fork``, since the app and the reader threads run
threads), talking over one socket pair each, messages pickled by
:mod:`multiprocessing.connection`. They start before the parent knows
anything but the fleet's size, so their imports overlap the parent's work.

Stopping: :meth:`WorkerPool.close` asks each worker to stop, and terminates
(then kills) any that does not exit promptly — after a cancel, an error or
a KeyboardInterrupt alike. A worker whose parent dies (killed outright)
notices the closed socket, or its parent's exit within a fraction of a
second, and exits: no orphans.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe, wait
from pathlib import Path
from typing import Any

from storemon_tui.errors import StoremonError
from storemon_tui.report.source import Chunk, ReportSnapshot, SnapshotJoin
from storemon_tui.report.timing import Check, StageTimer

_STOP_GRACE_S = 2.0
"""How long a worker asked to stop may take before it is killed."""
_PARENT_WATCH_S = 0.2


@dataclass(frozen=True)
class Job:
    """What every worker computes: its chunks of the snapshot ``spec``, polls read from ``lo_us``.

    ``compute`` is a module-level function (pickled by name) taking
    ``(Chunk, now_us, timer, check, progress)``, as in ``pipeline.py``.
    """

    spec: SnapshotJoin
    lo_us: int | None
    compute: Callable[..., Any]


@dataclass(frozen=True)
class Done:
    """A worker's answer for one chunk: its result, its size (to size later chunks), seconds per stage."""

    part: Any
    stores: int
    polls: int
    seconds: dict[str, float]


class Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self) -> None:
        ours, theirs = Pipe(duplex=True)
        # The worker must import this very storemon_tui and its libraries, wherever the parent
        # found them: the parent's import path, as is (-S: no site-packages hooks, e.g. an
        # editable install's, may point elsewhere; -P: not the working directory either), behind
        # this package's own root.
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([package_root, *(p for p in sys.path if p)])}
        fd = theirs.fileno()
        self.process = subprocess.Popen(
            [sys.executable, "-S", "-P", "-m", "storemon_tui.report.workers", str(fd)],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=False,
        )
        theirs.close()
        self.conn: Connection = ours
        self.chunk: tuple[int, int, int] | None = None
        """The chunk it computes: its index, first and stop key."""

    def receive(self) -> Any:
        """The worker's next message; a worker's error is raised here, as it was raised there."""
        try:
            kind, payload = self.conn.recv()
        except (EOFError, OSError) as exc:
            code = self.process.poll()
            raise StoremonError(f"a report worker process stopped unexpectedly (exit code {code})") from exc
        if kind == "error":
            raise payload
        return payload

    def ask_to_stop(self) -> None:
        """Tell it to stop (it exits at once between chunks) and close this end."""
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.conn.close()

    def wait(self) -> None:
        """Wait for it to exit; terminate, then kill it, if it takes too long (busy with a chunk)."""
        try:
            self.process.wait(_STOP_GRACE_S / 2)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(_STOP_GRACE_S / 2)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class WorkerPool:
    """``count`` worker processes, started at once; a context manager that stops them all."""

    def __init__(self, count: int) -> None:
        self.workers: list[Worker] = []
        try:
            for _ in range(count):
                self.workers.append(Worker())
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker: all asked first, so they exit side by side."""
        for worker in self.workers:
            worker.ask_to_stop()
        for worker in self.workers:
            worker.wait()
        self.workers = []

    def join(self, job: Job, check: Check) -> list[Worker]:
        """The workers that joined the snapshot (SQLite refuses a worker while a writer is committing)."""
        for worker in self.workers:
            worker.conn.send(job)
        joined: list[Worker] = []
        waiting = list(self.workers)
        while waiting:
            check()
            for worker in _ready(waiting, 0.1):
                waiting.remove(worker)
                if worker.receive():
                    joined.append(worker)
        return joined

    def results(
        self, workers: list[Worker], chunks: Iterator[tuple[int, int]], check: Check
    ) -> Iterator[tuple[int, int, Done]]:
        """Each chunk's ``(first, stop, Done)``, in the order they finish (not key order).

        ``chunks`` is drawn from only when a worker is free, so it may
        learn from the chunks done so far (their sizes).
        """
        busy: list[Worker] = []
        idle = list(workers)
        source = iter(chunks)
        exhausted = False
        index = 0
        while True:
            while idle and not exhausted:
                nxt = next(source, None)
                if nxt is None:
                    exhausted = True
                    break
                worker = idle.pop()
                worker.chunk = (index, *nxt)
                worker.conn.send(nxt)
                busy.append(worker)
                index += 1
            if not busy:
                return
            check()
            for worker in _ready(busy, 0.1):
                done = worker.receive()
                assert worker.chunk is not None
                _, first, stop = worker.chunk
                busy.remove(worker)
                idle.append(worker)
                yield first, stop, done


def _ready(workers: list[Worker], timeout: float) -> list[Worker]:
    """The workers with a message (or a closed socket) within ``timeout`` seconds."""
    by_conn = {id(w.conn): w for w in workers}
    return [by_conn[id(c)] for c in wait([w.conn for w in workers], timeout)]


# ------------------------------------------------------------------------------ the worker's side


def _serve(conn: Connection) -> None:
    """Join the snapshot the first message describes, then compute each chunk asked for until told to stop."""
    job: Job = conn.recv()
    try:
        snap = ReportSnapshot.joined(job.spec)
    except Exception:  # e.g. PostgreSQL refused the connection: the parent reads without this worker
        snap = None
    conn.send(("ok", snap is not None))
    if snap is None:
        return
    try:
        while (task := conn.recv()) is not None:
            first, stop = task
            timer = StageTimer()
            try:
                with timer.stage("read"):
                    chunk_input, older = snap.read_chunk(first, stop, job.lo_us)
                chunk = Chunk(first, stop, chunk_input, older)
                part = job.compute(chunk, snap.now_us, timer, _never, _ignore)
            except Exception as exc:
                conn.send(("error", _portable(exc)))
                return
            conn.send(("ok", Done(part, chunk_input.n_stores, len(chunk_input.poll_store), timer.seconds)))
    finally:
        snap.close()


def _never() -> None:
    """A worker is never cancelled from within: the parent stops it."""


def _ignore(fraction: float) -> None:
    """A worker's progress is the parent's to count, a chunk at a time."""


def _portable(exc: Exception) -> Exception:
    """``exc`` as the parent can unpickle it: the same one if it survives the trip, else its message."""
    if isinstance(exc, StoremonError):
        return StoremonError(str(exc))
    try:
        back = pickle.loads(pickle.dumps(exc))
    except Exception:
        return StoremonError(f"{type(exc).__name__}: {exc}")
    return back if isinstance(back, Exception) else StoremonError(str(exc))


def _exit_with_parent() -> None:
    """Exit as soon as the parent is gone, even in the middle of a chunk (no orphan outlives a killed parent)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    """A worker process: ``python -m storemon_tui.report.workers FD``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    _exit_with_parent()
    conn = Connection(int(argv[0]))
    try:
        _serve(conn)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return 1  # the parent went away
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    # Run under the module's own name, so what it pickles unpickles in the parent (not as __main__.Done).
    from storemon_tui.report import workers

    code = workers.main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Its connection is closed and nothing is left to save: skipping the interpreter's tear-down
    # (~0.2 s of freeing numpy and SQLAlchemy) lets the parent go on at once.
    os._exit(code)
