"""`cxfield record --session ID --live-transcribe`: the recorder panel's live transcription
through the real microphone path (PortAudio → a PulseAudio virtual microphone, see
tests/audio_support.py) and a small random Whisper checkpoint."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("whisper")

from cxfield.app import open_app  # noqa: E402
from cxfield.services import transcript, transcription  # noqa: E402
from cxfield.services.live_transcript import LIVE_SETTINGS_KEY  # noqa: E402
from cxfield.transcribe.model_store import ModelStore  # noqa: E402
from tests.audio_support import LineReader, VirtualMic, pulse_missing, speech_wav  # noqa: E402
from tests.test_audio_session import make_session  # noqa: E402
from tests.transcribe_support import fast_setup  # noqa: E402

_missing = pulse_missing() or (
    None if shutil.which("espeak-ng") and shutil.which("sox") else "espeak-ng or sox missing"
)
pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=_missing or ""),
    pytest.mark.timeout(180),
]
SPEECH = "I waited at the desk for forty minutes. Then they sent me to another office."


def _record(data_dir: Path, session_id: str, seconds: str) -> list[str]:
    return [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), "record",
            "--session", session_id, "--seconds", seconds, "--live-transcribe"]  # fmt: skip


def test_record_live_transcribe_stores_the_transcript(
    data_dir: Path, tmp_path: Path, whisper_checkpoint: Path
) -> None:
    ctx = open_app(data_dir)
    no_model = make_session(ctx.db)
    session_id = make_session(ctx.db)
    ctx.close()
    speech = speech_wav(SPEECH, tmp_path / "speech.wav")
    with VirtualMic() as mic:
        # without a model: recorded exactly as before, and the user is told
        plain = subprocess.run(
            _record(data_dir, no_model, "1"), env=mic.env, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip
        assert plain.returncode == 0, plain.stderr
        assert "live transcription is off: no model is installed" in plain.stderr

        ctx = open_app(data_dir)
        ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
        fast_setup(ctx)
        ctx.db.set_setting(LIVE_SETTINGS_KEY, {"min_stretch_s": 2.0, "pause_s": 0.5})
        ctx.close()
        # Stopped with Ctrl-C at a terminal: the signal reaches the whole process group,
        # the model's child included, which must live on to transcribe the last stretch.
        process = subprocess.Popen(
            _record(data_dir, session_id, "60"), env=mic.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        assert process.stderr is not None
        lines = LineReader(process.stderr)
        assert lines.wait_for("recording started", 30) is not None, lines.text()
        player = mic.play(speech)
        player.wait(timeout=30)
        time.sleep(1.0)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=120) is not None
        assert process.stdout is not None
        out = process.stdout.read()
        lines._thread.join(10)  # the reader has every line of stderr
    log = lines.text()
    assert process.returncode == 0, log
    assert "live transcription on" in log
    stored = re.search(r"transcript stored: (\d+) segments?", log)
    assert stored and int(stored.group(1)) > 0, log
    assert "input overflows: 0" in log
    ctx = open_app(data_dir)
    try:
        segments = transcript.segments(ctx.db, session_id)
        assert len(segments) == int(stored.group(1))
        assert all(0 <= s.start_s < s.end_s <= 60.0 for s in segments)
        assert {s.recording_id for s in segments} == {out.strip()}
        assert [j.state for j in transcription.list_jobs(ctx.db)] == ["done"]
        assert transcript.segments(ctx.db, no_model) == []
    finally:
        ctx.close()


def test_live_transcribe_needs_a_session(data_dir: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), "record",
         "--out", str(tmp_path / "x.wav"), "--seconds", "1", "--live-transcribe"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "--live-transcribe needs --session" in result.stderr
    assert not (tmp_path / "x.wav").exists()
