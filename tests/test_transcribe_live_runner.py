"""Ready when the interview ends: the session runner's recorder transcribes finished
stretches while recording (a low-priority child process reading the growing WAV), so at
stop only the last stretch remains; the segments land in the session's Transcript tab on
the recording's clock, also across a pause.  Switched off, or with no model, nothing is
transcribed and recording works as before.  Fake audio backend, a small random Whisper
checkpoint, fast decoding, one torch thread."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("whisper")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import capture, participants, templates, transcript, transcription  # noqa: E402
from cxfield.services.live_transcript import LIVE_SETTINGS_KEY  # noqa: E402
from cxfield.services.sessions import session_detail  # noqa: E402
from cxfield.storage.models import TranscriptionJob  # noqa: E402
from cxfield.transcribe.model_store import ModelStore  # noqa: E402
from tests.audio_support import FakeBackend  # noqa: E402
from tests.transcribe_support import fast_setup, place, speech_like  # noqa: E402

pytestmark = [pytest.mark.qt, pytest.mark.timeout(120)]
GB = 1024**3
SHOTS = os.environ.get("CXFIELD_SCREENSHOTS")
#: short stretches so that a few seconds of recording already hold a finished one
FAST_LIVE = {"min_stretch_s": 2.0, "max_stretch_s": 10.0, "pause_s": 0.5, "poll_s": 0.1}


def _pcm(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1, 1) * 32767).astype(np.int16)


def _interview(ctx: AppContext) -> str:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=True)
    return capture.start_session(ctx.db, study.id, participant_id=person.id).id


def _install_model(ctx: AppContext, checkpoint: Path) -> None:
    ModelStore(ctx.paths.models).import_file(checkpoint, "test")
    fast_setup(ctx)  # fast decoding, model "test", one torch thread
    ctx.db.set_setting(LIVE_SETTINGS_KEY, FAST_LIVE)


def _runner(qtbot: Any, ctx: AppContext, session_id: str, backend: FakeBackend) -> Any:
    from cxfield.gui.runner.session_runner import SessionRunner

    runner = SessionRunner(ctx, session_id, audio_backend=backend)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    runner.recorder.free_space = lambda _p: 10 * GB
    return runner


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def test_stretches_are_transcribed_while_recording_and_stored_at_stop(
    qtbot: Any, ctx: AppContext, whisper_checkpoint: Path
) -> None:
    _install_model(ctx, whisper_checkpoint)
    session_id = _interview(ctx)
    backend = FakeBackend()
    runner = _runner(qtbot, ctx, session_id, backend)
    panel = runner.recorder
    assert panel.live_label.text() == "Live transcript on (test)"

    # bursts of speech-like sound at known places on the recording's clock (seconds)
    bursts = [0.5, 4.5, 8.5]
    first = place(4.0, [(0.5, speech_like(2.0, 0))])
    second = place(4.0, [(0.5, speech_like(2.0, 1))])
    last = place(3.0, [(0.5, speech_like(2.0, 2))])

    clicks = [_timed(panel.record_button.click)]
    run = panel.current_live()
    assert run is not None
    backend.feed(_pcm(first))
    clicks.append(_timed(panel.pause_button.click))
    backend.feed(_pcm(speech_like(2.0, 9)))  # a break: not recorded, not transcribed
    clicks.append(_timed(panel.pause_button.click))
    backend.feed(_pcm(second))
    # the first stretch (cut in the pause after the first burst) is done while recording
    qtbot.waitUntil(lambda: run.transcript is not None and run.transcript.done_s > 0, timeout=60000)
    with ctx.db.session() as db:
        job = db.get(TranscriptionJob, run.transcript.job_id)
        assert job is not None and job.state == "running" and job.recording_id
    run.transcript.poll(transcription.HEARTBEAT_S)  # the heartbeat keeps the job its own
    with ctx.db.session() as db:
        beaten = db.get(TranscriptionJob, job.id)
        assert beaten is not None and beaten.updated_at > job.updated_at
    assert transcription.recover_stale(ctx.db, stale_after_s=30.0) == 0
    assert panel.live_label.text().startswith("Live transcript: 00:00:0")
    if SHOTS:
        runner.resize(1366, 768)
        runner.grab().save(str(Path(SHOTS) / "runner-live-transcript-1366.png"))
    backend.feed(_pcm(last))
    panel.poll()
    done_while_recording = run.transcript.done_s
    assert 2.5 <= done_while_recording <= 11.0

    clicks.append(_timed(panel.stop_button.click))  # the GUI never waits for the model
    assert max(clicks) < 0.5, clicks
    qtbot.waitUntil(lambda: run.done, timeout=60000)
    qtbot.waitUntil(lambda: panel.live_label.text().startswith("Transcript ready"), timeout=5000)
    assert run.outcome is not None and run.outcome.state == "done", run.error

    (recording,) = session_detail(ctx.db, session_id)["recordings"]
    assert recording["duration_s"] == 11.0 and recording["state"] == "complete"
    segments = transcript.segments(ctx.db, session_id)
    assert segments, "the transcript is stored with the session"
    for seg in segments:
        assert seg.recording_id == recording["id"]
        assert 0.0 <= seg.start_s < seg.end_s <= 11.0
        # on the recording's clock: the paused burst is absent, the later ones not shifted
        assert any(b - 0.5 <= seg.start_s and seg.end_s <= b + 2.5 for b in bursts), seg
    (job_row,) = transcription.list_jobs(ctx.db)
    assert job_row.state == "done" and job_row.progress == 1.0
    assert panel.active is None and recording["id"]
    assert "0 input overflows" in panel.info.text()

    # visible in the session view's Transcript tab
    from cxfield.gui.session_view import SessionView

    view = SessionView(ctx, session_id, audio_backend=backend)
    qtbot.addWidget(view)
    texts = [
        view.transcript.table.item(r, 2).text() for r in range(view.transcript.table.rowCount())
    ]
    assert {s.text for s in segments} <= set(texts)
    runner.close()


def test_switched_off_in_the_models_page_nothing_is_transcribed(
    qtbot: Any, ctx: AppContext, whisper_checkpoint: Path
) -> None:
    from cxfield.gui.transcripts.models_page import ModelsPage

    _install_model(ctx, whisper_checkpoint)
    page = ModelsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    assert page.live_check.isChecked() and page.silence_check.isChecked()
    assert page.live_check.accessibleName() and page.silence_check.accessibleName()
    page.live_check.setFocus()
    QTest.keyClick(page.live_check, Qt.Key.Key_Space)  # keyboard: the switch toggles
    QTest.keyClick(page.silence_check, Qt.Key.Key_Space)
    options = transcription.get_options(ctx.db)
    assert options.live is False and options.skip_silence is False
    if SHOTS:
        page.resize(820, 460)
        page.grab().save(str(Path(SHOTS) / "models-page-switches.png"))
    assert options.model == "test"  # the other options are kept

    session_id = _interview(ctx)
    backend = FakeBackend()
    runner = _runner(qtbot, ctx, session_id, backend)
    panel = runner.recorder
    assert panel.live_label.text().startswith("Live transcript off (switch: Transcription")
    panel.record_button.click()
    backend.feed(_pcm(place(4.0, [(0.5, speech_like(2.0))])))
    assert panel.current_live() is None  # no model process is started
    assert panel.live_label.text().startswith("Live transcript off")
    panel.stop_button.click()
    assert panel.live_label.text().startswith("Live transcript off")
    (recording,) = session_detail(ctx.db, session_id)["recordings"]
    assert recording["duration_s"] == 4.0
    assert transcription.list_jobs(ctx.db) == []
    assert transcript.segments(ctx.db, session_id) == []
    runner.close()


def test_no_model_records_as_before_and_says_where_to_install(qtbot: Any, ctx: AppContext) -> None:
    session_id = _interview(ctx)
    backend = FakeBackend()
    runner = _runner(qtbot, ctx, session_id, backend)
    panel = runner.recorder
    assert panel.live_label.text() == (
        "Live transcript off: no model installed (Transcription → Models)"
    )
    panel.record_button.click()
    backend.feed(_pcm(place(2.0, [(0.5, speech_like(1.0))])))
    panel.stop_button.click()
    (recording,) = session_detail(ctx.db, session_id)["recordings"]
    assert recording["state"] == "complete" and recording["duration_s"] == 2.0
    assert transcription.list_jobs(ctx.db) == []
    assert "no model installed" in panel.live_label.text()
    runner.close()


def test_a_failing_model_hands_the_recording_to_the_queue(
    qtbot: Any, ctx: AppContext, whisper_checkpoint: Path
) -> None:
    _install_model(ctx, whisper_checkpoint)
    (ctx.paths.models / "test.pt").write_bytes(b"damaged after it was installed")
    session_id = _interview(ctx)
    backend = FakeBackend()
    runner = _runner(qtbot, ctx, session_id, backend)
    panel = runner.recorder
    queued: list[str] = []
    runner.transcription_queued.connect(queued.append)
    panel.record_button.click()
    backend.feed(_pcm(place(3.0, [(0.5, speech_like(2.0))])))
    run = panel.current_live()
    qtbot.waitUntil(
        lambda: run.transcript is not None and run.transcript.failure is not None, timeout=60000
    )
    assert "Cannot load the model" in (run.transcript.failure or "")
    assert panel.active is not None and panel.status.text() == "● Recording"  # goes on
    panel.stop_button.click()
    qtbot.waitUntil(lambda: queued == [session_id], timeout=10000)
    (recording,) = session_detail(ctx.db, session_id)["recordings"]
    assert recording["state"] == "complete" and recording["duration_s"] == 3.0
    (job,) = transcription.list_jobs(ctx.db)
    assert job.state == "queued" and "Cannot load the model" in (job.error or "")
    assert "queued for transcription" in panel.live_label.text()
    runner.close()


def test_a_study_set_to_ctranslate2_transcribes_live_with_an_imported_ct2_folder(
    qtbot: Any, ctx: AppContext, engine_models: tuple[Path, Path]
) -> None:
    """Only a CTranslate2 folder is installed (no .pt of that name): the runner of a study
    set to ctranslate2 still transcribes while recording, with that engine, and says so."""
    _, folder = engine_models
    ModelStore(ctx.paths.models).import_folder(folder, "test")
    fast_setup(ctx)
    ctx.db.set_setting(LIVE_SETTINGS_KEY, FAST_LIVE)
    session_id = _interview(ctx)
    study_id = session_detail(ctx.db, session_id)["study"]["id"]
    transcription.update_study_options(ctx.db, study_id, engine="ctranslate2")
    backend = FakeBackend()
    runner = _runner(qtbot, ctx, session_id, backend)
    panel = runner.recorder
    assert panel.live_label.text() == "Live transcript on (test, CTranslate2)"
    for size in ((1366, 768), (1920, 1080)) if SHOTS else ():
        runner.resize(*size)
        QTest.qWait(50)
        runner.grab().save(str(Path(SHOTS or ".") / f"runner-live-ct2-{size[0]}x{size[1]}.png"))
    panel.record_button.click()
    run = panel.current_live()
    assert run is not None
    qtbot.waitUntil(lambda: not run.starting, timeout=30000)
    assert run.transcript is not None, run.error  # the model process started
    assert run.transcript.live.engine == "ctranslate2"
    backend.feed(_pcm(place(4.0, [(0.5, speech_like(2.0, 0))])))
    backend.feed(_pcm(place(4.0, [(0.5, speech_like(2.0, 1))])))
    panel.stop_button.click()
    qtbot.waitUntil(lambda: run.done, timeout=90000)
    assert run.outcome is not None and run.outcome.state == "done", run.error
    (job,) = transcription.list_jobs(ctx.db)
    assert job.engine == "ctranslate2" and job.state == "done"
    assert transcript.segments(ctx.db, session_id)
    runner.close()
