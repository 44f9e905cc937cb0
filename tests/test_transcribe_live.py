"""Transcription while recording: the recorder's own WAV writer grows a file; finished
stretches are transcribed before stop; at stop only the rest remains."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from cxfield.app import AppContext
from cxfield.domain.ids import new_id
from cxfield.services import transcript, transcription
from cxfield.storage.models import Recording, TranscriptionJob
from cxfield.transcribe.live import GrowingWav, LiveSettings, next_cut
from cxfield.transcribe.model_store import ModelStore
from tests.transcribe_support import (
    SR,
    fast_setup,
    place,
    session_with_recording,
    speech_like,
)


def _grow(path: Path, audio: np.ndarray, seconds_per_second: float, done: threading.Event) -> None:
    """Write ``audio`` like the recorder does (16-bit PCM, header patched as it goes)."""
    from cxfield.audio.wavfile import WavWriter

    writer = WavWriter(path, SR, 1)
    try:
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
        for i in range(0, len(pcm), SR):
            writer.write(pcm[i : i + SR].tobytes())
            writer.sync()
            time.sleep(seconds_per_second)
    finally:
        writer.close()
        done.set()


def test_growing_wav_reader_and_cuts_at_pauses(tmp_path: Path) -> None:
    audio = place(30, [(1.0, speech_like(8.0)), (11.0, speech_like(8.0, 1))])
    done = threading.Event()
    path = tmp_path / "rec.wav"
    _grow(path, audio[: 12 * SR], 0.0, done)
    wav = GrowingWav(path)
    assert wav.frames_available() == 12 * SR
    np.testing.assert_allclose(wav.read(0, 12 * SR), audio[: 12 * SR], atol=1 / 16000)
    settings = LiveSettings(min_stretch_s=5.0, max_stretch_s=60.0)
    cut = next_cut(wav.read(0, 12 * SR), settings)
    assert cut is not None and 9.0 * SR <= cut <= 11.0 * SR  # in the pause, not in a word
    assert next_cut(audio[: 4 * SR], settings) is None  # too short yet
    assert next_cut(speech_like(30.0), settings) is None  # no pause yet: wait


@pytest.mark.timeout(120)
def test_live_transcription_leaves_only_the_last_stretch(
    ctx: AppContext,
    whisper_checkpoint: Path,
) -> None:
    ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
    fast_setup(ctx)
    session_id, _ = session_with_recording(ctx, speech_like(1.0))  # a study and session
    rec_id = new_id()
    relative = f"recordings/{rec_id}.wav"
    with ctx.db.session() as db:
        db.add(Recording(id=rec_id, session_id=session_id, path=relative, state="recording"))
    starts = [2.0, 14.0, 26.0, 38.0, 50.0]
    audio = place(60, [(s, speech_like(8.0, i)) for i, s in enumerate(starts)])

    started = transcription.start_live(
        ctx.db, ctx.paths.root, ctx.paths.models, rec_id,
        settings=LiveSettings(min_stretch_s=6.0, max_stretch_s=30.0, poll_s=0.1),
    )  # fmt: skip
    assert started is not None
    job, live = started
    done = threading.Event()
    writer = threading.Thread(
        target=_grow, args=(ctx.paths.root / relative, audio, 0.12, done), daemon=True
    )
    writer.start()
    done.wait(60)
    # The recording is still running (nothing stopped it): its finished stretches are
    # transcribed now.  The writer ran at 8× real time, so on a loaded machine the worker
    # may still be on them; the recorder panel polls on its timer, as here.
    deadline = time.monotonic() + 30
    live.poll()
    while live.done_s < 30.0 and time.monotonic() < deadline:
        time.sleep(0.2)
        live.poll()
    before_stop = live.done_s
    assert before_stop >= 30.0, "finished stretches are transcribed while recording"
    t0 = time.monotonic()
    outcome = transcription.finish_live(ctx.db, job, live)
    latency = time.monotonic() - t0
    assert outcome.state == "done"
    assert latency < 5.0
    segments = transcript.segments(ctx.db, session_id)
    assert segments
    for seg in segments:
        assert any(s - 0.5 <= seg.start_s and seg.end_s <= s + 8.5 for s in starts), seg
    with ctx.db.session() as db:
        stored = db.get(TranscriptionJob, job.id)
        assert stored is not None and stored.state == "done"


def test_live_is_off_when_switched_off_or_no_model(ctx: AppContext) -> None:
    session_id, rec_id = session_with_recording(ctx, speech_like(1.0))
    off = transcription.TranscriptionOptions(model="test", live=False)
    assert transcription.start_live(ctx.db, ctx.paths.root, ctx.paths.models, rec_id, off) is None
    missing = transcription.TranscriptionOptions(model="base")
    assert (
        transcription.start_live(ctx.db, ctx.paths.root, ctx.paths.models, rec_id, missing) is None
    )
    assert transcription.list_jobs(ctx.db) == []
