"""Quitting the app while the runner's live transcript is finishing its last stretch: the
runner closes (the recording is finalised), then the application's ``aboutToQuit`` hands
the job back to the queue at once and stops the model's child process; nothing is stored.
Closing the runner alone lets the transcript finish in the background."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("whisper")

from PySide6.QtCore import QCoreApplication  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import transcript, transcription  # noqa: E402
from cxfield.services.live_transcript import CLOSED_BEFORE_STORED, LIVE_SETTINGS_KEY  # noqa: E402
from tests.audio_support import FakeBackend  # noqa: E402
from tests.test_transcribe_live_runner import _install_model, _interview, _pcm, _runner  # noqa: E402
from tests.transcribe_support import place, speech_like  # noqa: E402

pytestmark = [pytest.mark.qt, pytest.mark.timeout(120)]
#: nothing is cut while recording: at stop the whole recording is the last stretch
WHOLE_AT_STOP = {"min_stretch_s": 100.0, "max_stretch_s": 200.0, "poll_s": 0.1}


def _record_and_close(qtbot: Any, ctx: AppContext, checkpoint: Path) -> tuple[str, Any, Any]:
    """Record 3 s, close the runner at once (the child is still loading the model, so the
    last stretch is still being transcribed): (session id, the live run, its child)."""
    _install_model(ctx, checkpoint)
    ctx.db.set_setting(LIVE_SETTINGS_KEY, WHOLE_AT_STOP)
    session_id = _interview(ctx)
    backend = FakeBackend()
    runner = _runner(qtbot, ctx, session_id, backend)
    panel = runner.recorder
    panel.record_button.click()
    run = panel.current_live()
    assert run is not None
    backend.feed(_pcm(place(3.0, [(0.5, speech_like(2.0))])))
    qtbot.waitUntil(lambda: run.transcript is not None, timeout=10000)
    child = run.transcript.live._process
    runner.close()  # the session runner's close: stops and finalises the recording
    assert panel.active is None and run.finishing
    return session_id, run, child


def test_quitting_while_the_last_stretch_finishes_queues_it(
    qtbot: Any, ctx: AppContext, whisper_checkpoint: Path
) -> None:
    session_id, run, child = _record_and_close(qtbot, ctx, whisper_checkpoint)
    app = QCoreApplication.instance()
    assert app is not None
    app.aboutToQuit.emit()  # what Qt emits when the last window closed and exec() returns

    assert not child.is_alive(), "the model's child process is stopped"
    assert run.done, "the finishing thread has ended before the database is closed"
    assert run.outcome is not None and run.outcome.state == "queued", run.error
    (job,) = transcription.list_jobs(ctx.db)
    assert (job.state, job.error) == ("queued", CLOSED_BEFORE_STORED)
    assert transcript.segments(ctx.db, session_id) == []
    # the next start runs it straight away (the queue's runner does this at start-up)
    (outcome,) = transcription.run_queue(ctx.db, ctx.paths.root, ctx.paths.models)
    assert outcome.state == "done" and outcome.job_id == job.id
    assert len(transcript.segments(ctx.db, session_id)) == outcome.segments


def test_closing_the_runner_alone_lets_the_transcript_finish(
    qtbot: Any, ctx: AppContext, whisper_checkpoint: Path
) -> None:
    session_id, run, _child = _record_and_close(qtbot, ctx, whisper_checkpoint)
    qtbot.waitUntil(lambda: run.done, timeout=60000)
    assert run.outcome is not None and run.outcome.state == "done", run.error
    run.abandon()  # the app quitting later changes nothing
    (job,) = transcription.list_jobs(ctx.db)
    assert (job.state, job.error) == ("done", None)
    assert len(transcript.segments(ctx.db, session_id)) == run.outcome.segments > 0
