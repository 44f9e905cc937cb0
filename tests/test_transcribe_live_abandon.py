"""The app closing (or Ctrl-C) while a live transcript is not stored yet: the job goes back
to the queue at once with a clear message, the child process is stopped, nothing is stored,
and the next queue run picks the job up without waiting for its heartbeat to go stale.
When this races with ``finish()`` on another thread, the job ends exactly once: ``done``
with all its segments, or ``queued`` with none.

Real worker processes with a small random Whisper checkpoint (tests/transcribe_support.py),
fast decoding, one torch thread."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("whisper")

from cxfield.app import AppContext  # noqa: E402
from cxfield.domain.ids import new_id  # noqa: E402
from cxfield.services import transcript, transcription  # noqa: E402
from cxfield.services.live_transcript import (  # noqa: E402
    CLOSED_BEFORE_STORED,
    LIVE_SETTINGS_KEY,
    LiveTranscript,
)
from cxfield.storage.models import Recording, TranscriptionJob  # noqa: E402
from cxfield.transcribe.model_store import ModelStore  # noqa: E402
from cxfield.transcribe.pipeline import Segment, TranscriptResult  # noqa: E402
from tests.transcribe_support import (  # noqa: E402
    SR,
    fast_setup,
    place,
    session_with_recording,
    speech_like,
    write_wav,
)

pytestmark = pytest.mark.timeout(120)
#: nothing is cut while recording: at stop the whole recording is the last stretch
WHOLE_AT_STOP = {"min_stretch_s": 100.0, "max_stretch_s": 200.0, "poll_s": 0.1}


def _recorded(ctx: AppContext, checkpoint: Path) -> tuple[str, str, np.ndarray]:
    """A session with a recording that live transcription follows; the audio is written
    and the recording stopped: (session id, recording id, samples)."""
    ModelStore(ctx.paths.models).import_file(checkpoint, "test")
    fast_setup(ctx)
    ctx.db.set_setting(LIVE_SETTINGS_KEY, WHOLE_AT_STOP)
    session_id, _ = session_with_recording(ctx, speech_like(1.0))
    rec_id = new_id()
    relative = f"recordings/{rec_id}.wav"
    with ctx.db.session() as db:
        db.add(Recording(id=rec_id, session_id=session_id, path=relative, state="recording"))
    audio = place(8.0, [(0.5, speech_like(3.0, 1)), (4.5, speech_like(3.0, 2))])
    return session_id, rec_id, audio


def _stop_recording(ctx: AppContext, rec_id: str, audio: np.ndarray) -> None:
    with ctx.db.session() as db:
        rec = db.get(Recording, rec_id)
        assert rec is not None
        write_wav(ctx.paths.root / rec.path, audio)
        rec.state, rec.duration_s = "complete", len(audio) / SR
        db.add(rec)


def _job(ctx: AppContext, job_id: str) -> TranscriptionJob:
    with ctx.db.session() as db:
        job = db.get(TranscriptionJob, job_id)
        assert job is not None
        return job


def _segments_of(ctx: AppContext, session_id: str, rec_id: str) -> list[object]:
    return [s for s in transcript.segments(ctx.db, session_id) if s.recording_id == rec_id]


def _finish_in_thread(live: LiveTranscript) -> tuple[threading.Thread, list[object]]:
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(live.finish()), daemon=True)
    thread.start()
    return thread, box


def test_closing_while_the_last_stretch_finishes_queues_the_job_at_once(
    ctx: AppContext, whisper_checkpoint: Path
) -> None:
    session_id, rec_id, audio = _recorded(ctx, whisper_checkpoint)
    live = LiveTranscript.start(ctx.db, ctx.paths.root, ctx.paths.models, rec_id)
    assert live is not None
    _stop_recording(ctx, rec_id, audio)
    child = live.live._process
    finisher, box = _finish_in_thread(live)
    time.sleep(0.3)  # finish() waits: the child is still loading the model
    assert finisher.is_alive(), "the race under test: finish() has not returned yet"

    started = time.monotonic()
    outcome = live.abandon()
    assert time.monotonic() - started < 3.0  # quitting is not held up by the model
    assert (outcome.state, outcome.error) == ("queued", CLOSED_BEFORE_STORED)
    assert not child.is_alive(), "the child process is stopped"
    finisher.join(10)
    assert not finisher.is_alive()
    (finished,) = box
    # finish() saw its child die; it neither stored anything nor replaced the message
    assert isinstance(finished, transcription.JobOutcome)
    assert (finished.state, finished.error) == ("queued", CLOSED_BEFORE_STORED)
    job = _job(ctx, live.job_id)
    assert (job.state, job.error, job.progress) == ("queued", CLOSED_BEFORE_STORED, 0.0)
    assert _segments_of(ctx, session_id, rec_id) == []
    assert live.poll(transcription.HEARTBEAT_S) == []  # abandoned: no more heartbeats
    assert _job(ctx, live.job_id).updated_at == job.updated_at

    # the next start (or `cxfield transcribe --queue`) takes it at once: no stale wait
    outcomes = transcription.run_queue(ctx.db, ctx.paths.root, ctx.paths.models)
    assert [(o.job_id, o.state) for o in outcomes] == [(live.job_id, "done")], outcomes
    stored = _segments_of(ctx, session_id, rec_id)
    assert stored and len(stored) == outcomes[0].segments
    assert _job(ctx, live.job_id).error is None


def test_closing_after_the_transcript_is_stored_changes_nothing(
    ctx: AppContext, whisper_checkpoint: Path
) -> None:
    session_id, rec_id, audio = _recorded(ctx, whisper_checkpoint)
    live = LiveTranscript.start(ctx.db, ctx.paths.root, ctx.paths.models, rec_id)
    assert live is not None
    _stop_recording(ctx, rec_id, audio)
    finished = live.finish()
    assert finished.state == "done" and finished.segments > 0
    stored = _segments_of(ctx, session_id, rec_id)

    outcome = live.abandon()
    assert (outcome.state, outcome.segments) == ("done", finished.segments)
    job = _job(ctx, live.job_id)
    assert (job.state, job.error, job.progress) == ("done", None, 1.0)
    assert _segments_of(ctx, session_id, rec_id) == stored
    assert transcription.run_queue(ctx.db, ctx.paths.root, ctx.paths.models) == []


def test_closing_before_finish_queues_and_a_late_finish_only_reports(
    ctx: AppContext, whisper_checkpoint: Path
) -> None:
    session_id, rec_id, audio = _recorded(ctx, whisper_checkpoint)
    live = LiveTranscript.start(ctx.db, ctx.paths.root, ctx.paths.models, rec_id)
    assert live is not None
    _stop_recording(ctx, rec_id, audio)
    child = live.live._process
    reason = "Stopped before the live transcript was stored."
    outcome = live.abandon(reason)
    assert (outcome.state, outcome.error) == ("queued", reason)
    assert not child.is_alive()
    late = live.finish()  # a GUI thread that started late: no error, nothing stored
    assert (late.state, late.error) == ("queued", reason)
    assert live.abandon().error == reason  # a second abandon keeps the first message
    assert _job(ctx, live.job_id).state == "queued"
    assert _segments_of(ctx, session_id, rec_id) == []


def test_ctrl_c_while_record_finishes_queues_the_job(
    ctx: AppContext,
    whisper_checkpoint: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    """`cxfield record --live-transcribe`: Ctrl-C while the last stretch is transcribed
    (the recording is already saved) gives the job back instead of leaving it running."""
    from cxfield.cli import audio as audio_cli

    # a `cxfield` process starts with Python's own Ctrl-C handler, whatever an earlier
    # test in this process left behind (one run of the whole suite found it swallowed)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    session_id, rec_id, audio = _recorded(ctx, whisper_checkpoint)
    live = LiveTranscript.start(ctx.db, ctx.paths.root, ctx.paths.models, rec_id)
    assert live is not None
    _stop_recording(ctx, rec_id, audio)
    child = live.live._process
    # the child is still loading the model 0.3 s from now, so finish() is waiting
    ctrl_c = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    ctrl_c.start()
    with pytest.raises(KeyboardInterrupt):
        audio_cli._finish_live(live, discarded=False)
    assert not child.is_alive()
    assert "the recording is queued (`cxfield transcribe --queue`)" in capsys.readouterr().err
    job = _job(ctx, live.job_id)
    assert (job.state, job.error) == ("queued", audio_cli.INTERRUPTED_BEFORE_STORED)
    assert _segments_of(ctx, session_id, rec_id) == []
    assert signal.getsignal(signal.SIGTERM) is not audio_cli._interrupt  # handler restored


def _running_live_job(ctx: AppContext) -> tuple[str, str, TranscriptionJob]:
    session_id, rec_id = session_with_recording(ctx, speech_like(1.0))
    with ctx.db.session() as db:
        job = TranscriptionJob(
            session_id=session_id, recording_id=rec_id, model="test", state="running"
        )
        db.add(job)
    return session_id, rec_id, job


RESULT = TranscriptResult(
    "en", [Segment(0.0, 1.0, "first words"), Segment(1.2, 2.0, "more words")], 2.0
)


def test_store_and_give_back_race_first_one_wins(ctx: AppContext) -> None:
    """The two writes that can race (finish storing the last stretch, the app giving the
    job back) are each conditional on the job still running, in one transaction."""
    # the app gave the job back first: the finished stretch is not stored
    session_id, rec_id, job = _running_live_job(ctx)
    given_back = transcription.end_live_job(ctx.db, job.id, "queued", CLOSED_BEFORE_STORED)
    assert given_back.state == "queued"
    late = transcription.finish_job(ctx.db, job, RESULT, only_running=True)
    assert (late.state, late.error, late.segments) == ("queued", CLOSED_BEFORE_STORED, 0)
    assert _segments_of(ctx, session_id, rec_id) == []
    assert _job(ctx, job.id).state == "queued"

    # the transcript was stored first: giving back changes nothing, all segments stay
    session_id, rec_id, job = _running_live_job(ctx)
    stored = transcription.finish_job(ctx.db, job, RESULT, only_running=True)
    assert (stored.state, stored.segments) == ("done", 2)
    late_give_back = transcription.end_live_job(ctx.db, job.id, "queued", CLOSED_BEFORE_STORED)
    assert (late_give_back.state, late_give_back.error, late_give_back.segments) == (
        "done",
        None,
        2,
    )
    assert len(_segments_of(ctx, session_id, rec_id)) == 2
    assert _job(ctx, job.id).state == "done"
