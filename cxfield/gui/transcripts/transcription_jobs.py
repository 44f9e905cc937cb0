"""The Qt adapter for transcription: runs the job queue (whose model runs in a worker
process) on a background thread and re-emits its callbacks as signals, so every slot runs
on the GUI thread.  Also a small generic task for model import/verify with progress.

The services know nothing of Qt; this module is the only place the two meet."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Signal

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.services import transcription

#: how long quitting waits for the runner's thread to stop the worker process; the job is
#: handed back before this wait (SIGTERM ends the child at once, SIGKILL follows after 2 s)
QUIT_WAIT_S = 5.0


class TranscriptionJobRunner(QObject):
    """Runs queued transcription jobs one at a time, off the GUI thread.

    Signals carry the job id; ``progress`` gives seconds of audio done, the total and the
    estimated seconds left (-1 while unknown).

    When the application quits (``aboutToQuit``) while a job runs, the job goes back to the
    queue at once and its worker process is stopped (:meth:`abandon`), so the next start
    runs it instead of waiting a minute for its heartbeat to go stale."""

    job_started = Signal(str, str)  # job id, session id
    progress = Signal(str, float, float, float)
    job_finished = Signal(str, str, str)  # job id, state, message
    idle = Signal()

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self.current_job: str | None = None
        #: set by abandon(): the running job's message; no job starts after it
        self._given_back: str | None = None
        app = QCoreApplication.instance()
        if app is not None:
            # Qt drops this connection when the runner is destroyed
            app.aboutToQuit.connect(self.abandon)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def enqueue_session(
        self, session_id: str, options: transcription.TranscriptionOptions | None = None
    ) -> list[str]:
        """Queue a session's recordings and make sure the queue runs.  Raises the
        service's one-line errors (no model, no recording) for the caller to show."""
        opts = options or transcription.get_options(self.ctx.db)
        jobs = transcription.enqueue(
            self.ctx.db, self.ctx.paths.root, self.ctx.paths.models, session_id, opts
        )
        self.start()
        return [j.id for j in jobs]

    def start(self) -> None:
        """Run whatever is queued (including jobs a previous run of the app left)."""
        with self._lock:
            if self.running or self._given_back is not None:
                return
            self._cancel.clear()
            self._thread = threading.Thread(target=self._run, name="transcription", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        """Cancel the running job at once (its worker process is terminated)."""
        self._cancel.set()

    def abandon(self, reason: str = transcription.CLOSED_WHILE_RUNNING) -> None:
        """The app is quitting: the running job goes back to the queue now (``queued``, with
        ``reason`` as its message), its worker process is stopped and nothing is stored; no
        job starts after this.  A job the user cancelled stays ``cancelled``.  Waits at most
        :data:`QUIT_WAIT_S` for the worker, so the database is not closed under it."""
        with self._lock:
            if self._given_back is not None:
                return
            self._given_back = reason
            thread = self._thread
            job_id = self.current_job
        if thread is None or not thread.is_alive():
            return
        if job_id is not None and not self._cancel.is_set():
            # at once, from here: the quit must not depend on the thread getting there.
            # A job taken but not announced yet is given back by the thread itself.
            with contextlib.suppress(Exception):  # never block the quit; the thread retries
                transcription.give_back_job(self.ctx.db, job_id, reason)
        thread.join(QUIT_WAIT_S)

    def cancel_queued(self, job_id: str) -> None:
        transcription.cancel_job(self.ctx.db, job_id)

    def wait(self, timeout_s: float | None = None) -> bool:
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
        return not self.running

    def _run(self) -> None:
        started: dict[str, float] = {}

        def on_job(job: Any) -> None:
            self.current_job = job.id
            started[job.id] = time.monotonic()
            self.job_started.emit(job.id, job.session_id or "")

        def on_progress(job: Any, done: float, total: float) -> None:
            elapsed = time.monotonic() - started.get(job.id, time.monotonic())
            share = done / total if total else 0.0
            eta = elapsed / share - elapsed if share > 0.02 else -1.0
            self.progress.emit(job.id, float(done), float(total), float(eta))

        try:
            outcomes = transcription.run_queue(
                self.ctx.db,
                self.ctx.paths.root,
                self.ctx.paths.models,
                on_progress=on_progress,
                should_cancel=self._cancel.is_set,
                on_job=on_job,
                give_back=lambda: self._given_back,
            )
            for outcome in outcomes:
                message = outcome.error or (
                    f"{outcome.segments} segments" if outcome.state == "done" else outcome.state
                )
                self.job_finished.emit(outcome.job_id, outcome.state, message)
        except Exception as exc:  # the database went away: report, never crash the GUI
            self.job_finished.emit(self.current_job or "", "failed", str(exc))
        finally:
            self.current_job = None
            self.idle.emit()


class ProgressTask(QObject):
    """Runs ``work(on_progress)`` on a thread; ``progress(done, total)``, then
    ``succeeded(result)`` or ``failed(message)``, all delivered on the GUI thread."""

    #: floats: model files pass 2 GiB, more than a Qt int holds
    progress = Signal(float, float)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self, work: Callable[[Callable[[int, int], None]], object], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._thread = threading.Thread(target=self._run, name="progress-task", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wait(self, timeout_s: float | None = None) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        last = [0.0]

        def on_progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.05 or done >= total:  # do not flood the event queue
                last[0] = now
                self.progress.emit(float(done), float(total))

        try:
            result = self._work(on_progress)
        except Exception as exc:
            # what the CLI says, with the app's menus instead of commands
            in_app = getattr(exc, "in_app", "") if isinstance(exc, CxfieldError) else ""
            self.failed.emit(str(in_app or exc))
            return
        self.succeeded.emit(result)
