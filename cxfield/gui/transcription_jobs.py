"""The Qt adapter for transcription: runs the job queue (whose model runs in a worker
process) on a background thread and re-emits its callbacks as signals, so every slot runs
on the GUI thread.  Also a small generic task for model import/verify with progress.

The services know nothing of Qt; this module is the only place the two meet."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from cxfield.app import AppContext
from cxfield.services import transcription


class TranscriptionJobRunner(QObject):
    """Runs queued transcription jobs one at a time, off the GUI thread.

    Signals carry the job id; ``progress`` gives seconds of audio done, the total and the
    estimated seconds left (-1 while unknown)."""

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
            if self.running:
                return
            self._cancel.clear()
            self._thread = threading.Thread(target=self._run, name="transcription", daemon=True)
            self._thread.start()

    def cancel(self) -> None:
        """Cancel the running job at once (its worker process is terminated)."""
        self._cancel.set()

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
            self.failed.emit(str(exc))
            return
        self.succeeded.emit(result)
