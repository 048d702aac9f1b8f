"""Ctrl-C in the headless CLI: held while it starts, a flag while files are imported.

Why not simply let Ctrl-C raise ``KeyboardInterrupt``: Python raises it in
the main thread wherever that thread happens to be, and the CLI starts by
importing modules (its headless paths import lazily, to start fast). One
landing inside Python's import machinery is not a clean stop: raised in the
weak-reference callback that drops a module lock, it is printed as
"Exception ignored ... KeyboardInterrupt" and lost, and it can leave the
global import lock held, so the import threads started next block forever
on their first import while the main thread waits for them: a hung
``--import`` that has already swallowed its Ctrl-C.

So a Ctrl-C is first *held* (:class:`HeldCtrlC`) while the CLI parses its
arguments and imports, and acted on at a point the CLI chooses: an import
takes it over as its stop flag (:class:`CtrlCFlag`), the other commands
raise it there (:meth:`HeldCtrlC.release`). Neither handler imports
anything or raises: they only set a flag (and the flag prints one line).
This module imports nothing of storemon's at load time, so the CLI can hold
Ctrl-C before its first lazy import.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

_Handler = Callable[[int, FrameType | None], Any] | int | None


def _can_handle() -> bool:
    """Only the main thread may set handlers; SIGINT ignored (a background job) stays ignored."""
    return (
        threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    )


def _restore(handler: _Handler) -> None:
    signal.signal(signal.SIGINT, handler if handler is not None else signal.default_int_handler)


class HeldCtrlC:
    """A Ctrl-C pressed from :meth:`hold` on is remembered instead of raised, until handed on.

    :meth:`release` puts the original handler back and raises the held
    ``KeyboardInterrupt`` there, at a place of the caller's choosing;
    :class:`CtrlCFlag` takes it over as its flag instead. :meth:`restore`
    puts the original handler back without raising (a ``finally``).
    """

    def __init__(self) -> None:
        self.pressed = False
        self.previous: _Handler = None
        self.installed = False

    def hold(self) -> HeldCtrlC:
        if _can_handle():
            self.previous = signal.signal(signal.SIGINT, self._press)
            self.installed = True
        return self

    def _press(self, _signum: int, _frame: object) -> None:
        self.pressed = True

    def restore(self) -> None:
        """The handler found by :meth:`hold` again (Ctrl-C raises again); a held press is dropped."""
        if self.installed:
            self.installed = False
            _restore(self.previous)

    def release(self) -> None:
        """Ctrl-C raises again from here on, and one pressed while held raises now."""
        self.restore()
        if self.pressed:
            self.pressed = False
            raise KeyboardInterrupt

    def hand_over(self) -> tuple[_Handler, bool]:
        """For a successor that has just installed its own handler: the original handler, and
        whether Ctrl-C was pressed meanwhile. This object then restores nothing."""
        pressed, self.pressed = self.pressed, False
        self.installed = False
        return self.previous, pressed


class CtrlCFlag:
    """Ctrl-C as a flag instead of an exception while files are imported.

    Imports read files in background threads that import modules too. A
    ``KeyboardInterrupt`` raised at an arbitrary point of the main thread
    could land inside Python's import machinery (see the module's docstring).
    As a flag it is looked at only where stopping is safe: while waiting for
    a file to be read, and between the writer's batches, whose transaction
    then rolls back. A second Ctrl-C raises at once, e.g. while the database
    itself keeps us waiting on a lock.

    ``held``: a :class:`HeldCtrlC` to take over; a Ctrl-C it held sets the flag at once.
    """

    def __init__(self, held: HeldCtrlC | None = None) -> None:
        self.held = held

    def __enter__(self) -> threading.Event:
        from storemon_tui.headless import log  # here: a held press waits; the handler must not import

        self.log = log
        self.event = threading.Event()
        self.installed = False
        self.previous: _Handler = None
        if self.held is not None and self.held.installed:
            # Swapped with no gap in between: a press now is either held (and handed over) or ours.
            signal.signal(signal.SIGINT, self._first_press)
            self.installed = True
            self.previous, pressed = self.held.hand_over()
            if pressed:
                self.event.set()
        elif _can_handle():
            self.previous = signal.signal(signal.SIGINT, self._first_press)
            self.installed = True
        return self.event

    def _first_press(self, _signum: int, _frame: object) -> None:
        self.event.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # The blank line ends a progress line (text on a terminal only: JSON never shows progress).
        blank = "" if self.log.json_logs() else "\n"
        self.log.warning("stopping", f"{blank}storemon: stopping after the current step (Ctrl-C again to stop at once)")

    def __exit__(self, *exc: object) -> None:
        if self.installed:
            _restore(self.previous)
