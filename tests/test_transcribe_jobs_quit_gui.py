"""Quitting the app while the main window's transcription queue runs a batch job: the
application's ``aboutToQuit`` hands the job back to the queue at once (``queued``, with a
message saying so), stops the worker process, stores nothing and starts no further job; the
next start runs it straight away.  A job the user cancelled just before stays cancelled."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("whisper")

from PySide6.QtCore import QCoreApplication  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import transcript, transcription  # noqa: E402
from cxfield.transcribe.model_store import ModelStore  # noqa: E402
from tests.transcribe_support import fast_setup, session_with_recording, speech_like  # noqa: E402

pytestmark = [pytest.mark.qt, pytest.mark.timeout(120)]


def _queued(ctx: AppContext, checkpoint: Path) -> tuple[str, str]:
    """A session whose 5-minute recording (ten windows) is queued: (session id, job id)."""
    ModelStore(ctx.paths.models).import_file(checkpoint, "test")
    fast_setup(ctx)
    session_id, _ = session_with_recording(ctx, speech_like(300.0))
    (job,) = transcription.enqueue(
        ctx.db, ctx.paths.root, ctx.paths.models, session_id, transcription.get_options(ctx.db)
    )
    return session_id, job.id


def _quit() -> float:
    """What Qt emits when the last window closed and exec() returns; seconds it took."""
    app = QCoreApplication.instance()
    assert app is not None
    started = time.monotonic()
    app.aboutToQuit.emit()
    return time.monotonic() - started


def test_quitting_mid_job_hands_it_back_to_the_queue(
    qtbot: Any, ctx: AppContext, whisper_checkpoint: Path
) -> None:
    from cxfield.gui.main_window import MainWindow

    session_id, job_id = _queued(ctx, whisper_checkpoint)
    window = MainWindow(ctx)  # its queue starts at once, as at the app's start
    qtbot.addWidget(window)
    runner = window.transcription_runner
    progress: list[float] = []
    runner.progress.connect(lambda _job, done, _total, _eta: progress.append(done))
    qtbot.waitUntil(lambda: any(done > 0 for done in progress), timeout=60000)
    assert runner.running and runner.current_job == job_id

    assert _quit() < 5.0
    assert not runner.running, "the queue's thread has ended before the database closes"
    assert not multiprocessing.active_children(), "the worker process is stopped"
    (job,) = transcription.list_jobs(ctx.db)
    assert (job.state, job.error, job.progress) == (
        "queued",
        transcription.CLOSED_WHILE_RUNNING,
        0.0,
    )
    assert transcript.segments(ctx.db, session_id) == []
    runner.start()  # e.g. a live transcript given back during the quit: nothing starts
    assert not runner.running and transcription.list_jobs(ctx.db)[0].state == "queued"

    # the next start runs it straight away (the main window's queue does this at start-up)
    (outcome,) = transcription.run_queue(ctx.db, ctx.paths.root, ctx.paths.models)
    assert (outcome.job_id, outcome.state) == (job_id, "done")
    assert len(transcript.segments(ctx.db, session_id)) == outcome.segments > 0


def test_cancel_then_quit_keeps_the_job_cancelled(
    qtbot: Any, ctx: AppContext, whisper_checkpoint: Path
) -> None:
    from cxfield.gui.transcripts.transcription_jobs import TranscriptionJobRunner

    session_id, job_id = _queued(ctx, whisper_checkpoint)
    runner = TranscriptionJobRunner(ctx)
    finished: list[tuple[str, str, str]] = []
    runner.job_finished.connect(lambda *args: finished.append(args))
    runner.start()
    qtbot.waitUntil(lambda: runner.current_job == job_id, timeout=60000)
    runner.cancel()  # the user's Cancel, and the app quits before the thread noticed
    assert _quit() < 5.0
    assert not runner.running and not multiprocessing.active_children()
    (job,) = transcription.list_jobs(ctx.db)
    assert (job.state, job.error) == ("cancelled", None)
    assert transcript.segments(ctx.db, session_id) == []
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert finished == [(job_id, "cancelled", "cancelled")]
