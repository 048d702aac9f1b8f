"""Errors meant for a person, not a traceback.

Anything raised as a :class:`StoremonError` is printed as one clear line by the
CLI and shown as a notification by the app.
"""

from __future__ import annotations


class StoremonError(Exception):
    """A problem the user can act on; ``str(err)`` is the whole message."""


class DatabaseError(StoremonError):
    """The database cannot be opened or reached."""


class NoPollsError(StoremonError):
    """A report (or a store's week) needs a "now", and an empty poll table has none."""

    def __init__(self) -> None:
        super().__init__("the database has no polls; import a polls CSV first")


class Cancelled(StoremonError):
    """Long work was cancelled by the user; nothing was written."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)
