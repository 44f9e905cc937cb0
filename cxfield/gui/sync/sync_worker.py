"""Sync on a worker thread: :class:`SyncRunner` runs :func:`cxfield.sync.client.sync_once`
(push, then pull, then audio) and turns its progress, result and trouble into Qt signals,
delivered on the GUI thread (the same shape as the export dialog's runner).

The worker opens its own hub client and uses the database through its own short units of
work (one SQLite connection each), so the runner and the recorder keep writing while a sync
runs.  Cancel sets an event that the sync checks between batches and pages: what was sent
or received so far stays, the rest goes at the next sync."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from cxfield.domain.errors import CxfieldError
from cxfield.storage.database import Database
from cxfield.sync.client import (
    HubAuthError,
    HubThrottled,
    HubUnreachable,
    SyncSummary,
    sync_once,
)
from cxfield.sync.connection import NotConnected, open_client

#: what went wrong, for the person: (kind, one calm line)
UNREACHABLE = "unreachable"
REVOKED = "revoked"
NOT_CONNECTED = "not_connected"
REFUSED = "refused"

UNREACHABLE_TEXT = "Hub not reachable — nothing changed; try again later."
REVOKED_TEXT = (
    "This laptop's access was revoked (the hub no longer accepts its token); connect again "
    "with a new enrolment token: Sync → Connect to hub…. Nothing on this laptop was lost."
)
NOT_CONNECTED_TEXT = "This laptop is not connected to a hub yet: Sync → Connect to hub…."


def explain(exc: BaseException) -> tuple[str, str]:
    """The kind of trouble and one line for the person; never a traceback."""
    if isinstance(exc, HubThrottled):  # its own line: how long, and why
        return UNREACHABLE, str(exc)
    if isinstance(exc, HubUnreachable):
        return UNREACHABLE, UNREACHABLE_TEXT
    if isinstance(exc, HubAuthError):
        return REVOKED, REVOKED_TEXT
    if isinstance(exc, NotConnected):
        return NOT_CONNECTED, NOT_CONNECTED_TEXT
    if isinstance(exc, CxfieldError):
        return REFUSED, str(exc)
    return REFUSED, f"Sync stopped ({type(exc).__name__}: {exc}); nothing on this laptop was lost."


class SyncRunner(QObject):
    """One sync at a time on a worker thread; reports through signals."""

    #: phase ("push", "pull", "upload"), done, total (0: unknown)
    progress = Signal(str, int, int)
    finished = Signal(object)  # SyncSummary (``cancelled`` set when Cancel stopped it)
    failed = Signal(str, str)  # kind, message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def cancelling(self) -> bool:
        return self.running and self._cancel.is_set()

    def start(self, database: Database, data_dir: Path) -> bool:
        """Start a sync; False when one is already running."""
        if self.running:
            return False
        self._cancel.clear()
        job = _sync_job(database, data_dir)
        self._thread = threading.Thread(target=self._run, args=(job,), name="sync", daemon=True)
        self._thread.start()
        return True

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker; True when it has stopped."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self, job: Callable[..., SyncSummary]) -> None:
        try:
            summary = job(self.progress.emit, self._cancel.is_set)
        except Exception as exc:  # shown as one line on the GUI thread
            self.failed.emit(*explain(exc))
        else:
            self.finished.emit(summary)


def _sync_job(database: Database, data_dir: Path) -> Callable[..., SyncSummary]:
    def job(on_progress: Any, cancel: Callable[[], bool]) -> SyncSummary:
        client = open_client(database, data_dir)
        try:
            return sync_once(database, client, on_progress, cancel, data_dir=data_dir)
        finally:
            client.close()

    return job
