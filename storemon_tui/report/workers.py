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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe, wait
from pathlib import Path
from typing import Any

from storemon_tui.errors import StoremonError
from storemon_tui.report.inputs import ReportInput
from storemon_tui.report.source import Chunk, ReportSnapshot, SnapshotJoin
from storemon_tui.report.timing import Check, StageTimer, ignore_progress

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
        )
        theirs.close()
        self.conn: Connection = ours
        self.joined: bool | None = None
        """Whether it joined the snapshot; ``None`` until it says."""
        self.chunks: deque[tuple[int, int]] = deque()
        """The chunks sent to it and not yet answered, in the order it computes them."""

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
    """``count`` worker processes, started at once; a context manager that stops them all.

    Single use: :meth:`offer` them one job, :meth:`hand_out` chunks and
    :meth:`collect` the answers; a worker that cannot join the snapshot
    just never takes a chunk.
    """

    def __init__(self, count: int) -> None:
        self.workers: list[Worker] = []
        self.offered = False
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

    def offer(self, job: Job) -> bool:
        """Send every worker the job (each answers whether it joined the snapshot); ``False`` if already used."""
        if self.offered or not self.workers:
            return False
        self.offered = True
        for worker in self.workers:
            worker.conn.send(job)
        return True

    @property
    def joined(self) -> int:
        return sum(1 for w in self.workers if w.joined)

    @property
    def waiting(self) -> bool:
        """Some worker has yet to say whether it joined, or has chunks to answer."""
        return any(w.joined is None or w.chunks for w in self.workers)

    def hand_out(self, next_chunk: Callable[[], tuple[int, int] | None], depth: int) -> None:
        """Fill each joined worker's queue up to ``depth`` chunks (one computing, the next ones waiting)."""
        for worker in self.workers:
            while worker.joined and len(worker.chunks) < depth:
                chunk = next_chunk()
                if chunk is None:
                    return
                worker.chunks.append(chunk)
                try:
                    worker.conn.send(chunk)
                except OSError:  # it has just stopped: collect() reads why (its error, or that it died)
                    break

    def collect(self, timeout: float) -> list[tuple[int, int, Done]]:
        """The chunks answered within ``timeout`` seconds (0: only those already in), as ``(first, stop, Done)``."""
        listening = [w for w in self.workers if w.joined is None or w.chunks]
        if not listening:
            return []
        by_conn = {id(w.conn): w for w in listening}
        done = []
        for conn in wait([w.conn for w in listening], timeout):
            worker = by_conn[id(conn)]
            answer = worker.receive()
            if worker.joined is None:
                worker.joined = bool(answer)
            else:
                first, stop = worker.chunks.popleft()
                done.append((first, stop, answer))
        return done


def compute_range(
    snap: ReportSnapshot,
    keys: tuple[int, int],
    lo_us: int | None,
    compute: Callable[..., Any],
    timer: StageTimer,
    check: Check,
) -> tuple[Any, ReportInput]:
    """Store keys ``keys`` of ``snap`` read (timed as ``read``) and computed whole; the result and the input read.

    What a worker does with each chunk, and the parent with those it keeps:
    their progress is counted a chunk at a time, by the parent.
    """
    with timer.stage("read"):
        chunk_input, older = snap.read_chunk(*keys, lo_us)
    return compute(Chunk(*keys, chunk_input, older), snap.now_us, timer, check, ignore_progress), chunk_input


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
            timer = StageTimer()
            try:
                part, chunk_input = compute_range(snap, task, job.lo_us, job.compute, timer, _never)
            except Exception as exc:
                conn.send(("error", _portable(exc)))
                return
            conn.send(("ok", Done(part, chunk_input.n_stores, len(chunk_input.poll_store), timer.seconds)))
    finally:
        snap.close()


def _never() -> None:
    """A worker is never cancelled from within: the parent stops it."""


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
