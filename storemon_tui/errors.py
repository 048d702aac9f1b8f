"""Errors meant for a person, not a traceback.

Anything raised as a :class:`StoremonError` is printed as one clear line by the
CLI and shown as a notification by the app.
"""

from __future__ import annotations


class StoremonError(Exception):
    """A problem the user can act on; ``str(err)`` is the whole message."""


class DatabaseError(StoremonError):
    """The database cannot be opened or reached."""


class Cancelled(StoremonError):
    """Long work was cancelled by the user; nothing was written."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)
