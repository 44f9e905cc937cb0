"""Errors that carry a message meant for the user (one line, no traceback)."""

from __future__ import annotations


class CxfieldError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing sentence.

    Where that sentence says which command to run, ``in_app`` says the same for the
    desktop app (the menu or button to use instead); otherwise the two are the same."""

    exit_code = 1

    def __init__(self, message: str = "", *, in_app: str | None = None) -> None:
        super().__init__(message)
        self.in_app = in_app or message


class NotFoundError(CxfieldError):
    """A record asked for by id does not exist (or was deleted)."""


class ValidationError(CxfieldError):
    """Input that breaks a rule of the domain; nothing was changed."""


class ConflictError(CxfieldError):
    """The change collides with existing data (duplicate name, code, open runner...)."""


class DataDirError(CxfieldError):
    """The data directory or its database cannot be used; nothing was changed."""
