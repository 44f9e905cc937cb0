"""`cxfield transcribe` as a user runs it: any audio file, a session, Ctrl-C, a killed
app whose queue resumes, and one-line messages."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from cxfield.app import open_app
from cxfield.domain.ids import utcnow
from cxfield.services import transcript, transcription
from cxfield.storage.models import TranscriptionJob
from cxfield.transcribe.model_store import ModelStore
from tests.conftest import FIXTURES, cli_env
from tests.test_cli import run
from tests.transcribe_support import (
    fast_setup,
    place,
    session_with_recording,
    speech_like,
)


@pytest.fixture
def prepared(data_dir: Path, whisper_checkpoint: Path) -> Path:
    ctx = open_app(data_dir)
    try:
        ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
        fast_setup(ctx)
    finally:
        ctx.close()
    return data_dir


def test_transcribe_any_audio_file_to_srt(prepared: Path, tmp_path: Path) -> None:
    flac = FIXTURES / "jfk.flac"
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    out = tmp_path / "jfk.srt"
    result = run("transcribe", str(flac), "--model", "test", "--out", str(out), data_dir=prepared)
    assert result.returncode == 0, result.stderr
    assert "100%" in result.stderr and "[" in result.stderr  # the progress bar on stderr
    assert result.stdout == ""
    parsed = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out), "-f", "webvtt", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert parsed.stdout.count(" --> ") == out.read_text().count(" --> ") >= 1
    as_json = run("transcribe", str(flac), "--model", "test", "--format", "json", data_dir=prepared)
    data = json.loads(as_json.stdout)
    assert all(0 <= s["start"] <= s["end"] <= 11.1 for s in data["segments"])


def test_session_transcript_is_stored_and_shown(prepared: Path) -> None:
    ctx = open_app(prepared)
    try:
        session_id, _ = session_with_recording(ctx, place(40, [(2.0, speech_like(30.0))]))
    finally:
        ctx.close()
    result = run("transcribe", "--session", session_id, "--format", "tsv", data_dir=prepared)
    assert result.returncode == 0, result.stderr
    assert "Stored" in result.stderr
    shown = json.loads(run("sessions", "show", session_id, "--json", data_dir=prepared).stdout)
    assert shown["transcript"]
    assert result.stdout.splitlines()[0] == "start\tend\ttext"
    assert len(result.stdout.splitlines()) == len(shown["transcript"]) + 1


def test_messages_for_missing_model_and_audio(prepared: Path, tmp_path: Path) -> None:
    missing = run("transcribe", str(tmp_path / "x.wav"), "--model", "test", data_dir=prepared)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    audio = tmp_path / "a.wav"
    import soundfile

    soundfile.write(str(audio), speech_like(2.0), 16000)
    no_model = run("transcribe", str(audio), "--model", "medium", data_dir=prepared)
    assert no_model.returncode == 1
    assert no_model.stderr.strip().splitlines() == [
        no_model.stderr.strip().splitlines()[-1]
    ]  # one line
    assert "not installed" in no_model.stderr and "cxfield models import" in no_model.stderr
    not_audio = tmp_path / "notes.txt"
    not_audio.write_text("hello")
    refused = run("transcribe", str(not_audio), "--model", "test", data_dir=prepared)
    assert refused.returncode == 1 and "not an audio file" in refused.stderr


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_and_wait_for_progress(data_dir: Path, session_id: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), "transcribe",
         "--session", session_id],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=cli_env(),
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "%" in line and " 0%" not in line:
            return proc
    proc.kill()
    raise AssertionError("no progress within 60 s")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_ctrl_c_cancels_and_a_killed_app_resumes(prepared: Path) -> None:
    ctx = open_app(prepared)
    try:
        session_id, _ = session_with_recording(ctx, speech_like(900.0))
    finally:
        ctx.close()

    # Ctrl-C: the job is cancelled, nothing stored
    proc = _start_and_wait_for_progress(prepared, session_id)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Cancelled; nothing was stored." in err

    # the app is killed outright: its worker ends too, and the job resumes later
    proc = _start_and_wait_for_progress(prepared, session_id)
    workers = _children(proc.pid)
    assert workers
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "the worker outlived the killed app"

    ctx = open_app(prepared)
    try:
        states = [j.state for j in transcription.list_jobs(ctx.db)]
        assert states == ["cancelled", "running"]
        assert transcript.segments(ctx.db, session_id) == []
        # time passes: the dead runner's heartbeat is old
        with ctx.db.session() as db:
            db.exec(  # type: ignore[call-overload]
                update(TranscriptionJob)
                .where(TranscriptionJob.state == "running")
                .values(updated_at=utcnow() - timedelta(minutes=2))
            )
    finally:
        ctx.close()
    resumed = run("transcribe", "--queue", data_dir=prepared)
    assert resumed.returncode == 0, resumed.stderr
    ctx = open_app(prepared)
    try:
        assert [j.state for j in transcription.list_jobs(ctx.db)] == ["cancelled", "done"]
        segments = transcript.segments(ctx.db, session_id)
        assert segments and all(0 <= s.start_s <= s.end_s <= 900 for s in segments)
    finally:
        ctx.close()


def test_empty_queue_says_so(data_dir: Path) -> None:
    result = run("transcribe", "--queue", data_dir=data_dir)
    assert result.returncode == 0
    assert result.stderr.strip() == "No transcription jobs are queued."
