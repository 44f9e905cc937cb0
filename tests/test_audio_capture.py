"""Real capture through PortAudio from a virtual microphone (PulseAudio null sink), a kill -9
crash test, and the "no microphone" path.  Every recorder runs in a subprocess: PortAudio lists
devices once, at import, so the daemon must be up before sounddevice is imported."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cxfield.app import open_app
from tests.audio_support import LineReader, VirtualMic, best_alignment, pulse_missing, speech_wav
from tests.conftest import cli_env
from tests.test_audio_session import make_session

RATE = 16000
SPEECH = "The customer waited forty minutes at the front desk before anyone spoke to her."

_missing = pulse_missing() or (
    None if shutil.which("espeak-ng") and shutil.which("sox") else "espeak-ng or sox missing"
)
pytestmark = [
    pytest.mark.skipif(_missing is not None, reason=_missing or ""),
    pytest.mark.timeout(120),
]


@pytest.fixture(scope="module")
def mic() -> Iterator[VirtualMic]:
    with VirtualMic(RATE) as virtual:
        yield virtual


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return speech_wav(SPEECH, tmp_path_factory.mktemp("speech") / "speech.wav", RATE)


def cxfield(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), *args]


def test_record_matches_what_was_spoken(
    mic: VirtualMic, speech: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "interview.wav"
    proc = subprocess.Popen(
        cxfield(data_dir, "record", "--out", str(out), "--seconds", "7"),
        env=mic.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        err = LineReader(proc.stderr)  # type: ignore[arg-type]
        assert err.wait_for("recording started", 20), err.text()
        mic.play(speech).wait(30)
        assert proc.wait(30) == 0, err.text()
    finally:
        proc.kill()
    assert proc.stdout is not None and proc.stdout.read().strip() == str(out)
    assert "input overflows: 0, dropped blocks: 0" in err.text()
    assert "level" in err.text()  # progress and level on stderr
    recorded, rate = sf.read(out, dtype="int16")
    source, _ = sf.read(speech, dtype="int16")
    assert rate == RATE and len(recorded) == 7 * RATE
    lag, ncc = best_alignment(recorded, source)
    assert ncc > 0.95, f"normalised cross-correlation {ncc:.3f} at lag {lag}"


def test_record_into_a_session_needs_consent(mic: VirtualMic, data_dir: Path) -> None:
    ctx = open_app(data_dir)
    allowed = make_session(ctx.db)
    refused = make_session(ctx.db, consents=[{"recording": False}])
    ctx.close()
    no = subprocess.run(
        cxfield(data_dir, "record", "--session", refused, "--seconds", "1"),
        env=mic.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert no.returncode == 1 and "did not consent to being recorded" in no.stderr
    yes = subprocess.run(
        cxfield(data_dir, "record", "--session", allowed, "--seconds", "2"),
        env=mic.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert yes.returncode == 0, yes.stderr
    shown = subprocess.run(
        cxfield(data_dir, "sessions", "show", allowed, "--json"),
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    (recording,) = json.loads(shown.stdout)["recordings"]
    assert recording["id"] == yes.stdout.strip()
    assert recording["state"] == "complete" and recording["duration_s"] == 2.0


CRASHING_RECORDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cxfield.app import open_app
    from cxfield.audio.backend import SoundDeviceBackend
    from cxfield.services import recording
    from cxfield.storage.models import Note

    ctx = open_app(Path(sys.argv[1]))
    session_id = sys.argv[2]
    active = recording.start_session_recording(
        ctx.db, ctx.paths.root, session_id, SoundDeviceBackend()
    )
    while active.recorder.first_block_at is None:
        time.sleep(0.005)
    print("FIRST", active.recorder.first_block_at, flush=True)
    for n in range(3):
        time.sleep(1.0)
        fields = active.note_fields()
        with ctx.db.session() as db:
            db.add(Note(session_id=session_id, text=f"note {n}", **fields))
        print("NOTE", fields["recording_offset_frames"], flush=True)
    time.sleep(120)
    """
)


def test_kill_9_loses_under_a_second(
    mic: VirtualMic, speech: Path, data_dir: Path, tmp_path: Path
) -> None:
    ctx = open_app(data_dir)
    session_id = make_session(ctx.db)
    ctx.close()
    script = tmp_path / "recorder.py"
    script.write_text(CRASHING_RECORDER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(data_dir), session_id],
        env=mic.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        out = LineReader(proc.stdout)  # type: ignore[arg-type]
        err = LineReader(proc.stderr)  # type: ignore[arg-type]
        assert out.wait_for("FIRST", 20), err.text()
        mic.play(speech)
        assert out.wait_for("NOTE", 10) and len([x for x in out.lines if "NOTE" in x]) >= 1
        time.sleep(4.0)  # speech ends (~4.3 s) and more audio is recorded
        assert len([x for x in out.lines if x.startswith("NOTE")]) == 3, err.text()
        killed_at = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    first = float(next(x for x in out.lines if x.startswith("FIRST")).split()[1])
    note_offsets = [int(x.split()[1]) for x in out.lines if x.startswith("NOTE")]
    captured_s = killed_at - first

    # next start: the interrupted recording is repaired, attached, and the user told
    shown = subprocess.run(
        cxfield(data_dir, "sessions", "show", session_id, "--json"),
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    assert "Recovered an interrupted recording of participant P-0001" in shown.stderr
    detail = json.loads(shown.stdout)
    (recording,) = detail["recordings"]
    assert recording["state"] == "recovered"
    lost = captured_s - recording["duration_s"]
    print(f"kill -9 after {captured_s:.2f} s of audio: recovered {recording['duration_s']:.2f} s")
    assert lost < 1.0, f"lost {lost:.2f} s of {captured_s:.2f} s"
    assert lost > -0.5  # sanity: not more audio than there was time
    path = data_dir / recording["path"]
    recorded, rate = _read_recording(data_dir, path)  # encrypted at rest: the entry point
    assert rate == RATE and len(recorded) == round(recording["duration_s"] * RATE)
    source, _ = sf.read(speech, dtype="int16")
    assert best_alignment(recorded, source)[1] > 0.95  # what was said is in the file

    # the notes taken while recording are intact, on the recording's clock
    assert [n["text"] for n in detail["notes"]] == ["note 0", "note 1", "note 2"]
    assert [n["recording_offset_frames"] for n in detail["notes"]] == note_offsets
    assert all(n["recording_id"] == recording["id"] for n in detail["notes"])
    assert note_offsets[-1] < len(recorded)

    again = subprocess.run(
        cxfield(data_dir, "sessions", "show", session_id),
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    assert "Recovered" not in again.stderr  # told once


def test_no_microphone_is_said_clearly(tmp_path: Path, data_dir: Path) -> None:
    """No daemon, no sound card: PortAudio has no devices at all."""
    env = cli_env(
        XDG_RUNTIME_DIR=str(tmp_path), HOME=str(tmp_path), PULSE_SERVER=f"unix:{tmp_path}/none"
    )
    devices = subprocess.run(
        cxfield(data_dir, "devices"), env=env, capture_output=True, text=True, timeout=60
    )
    assert devices.returncode == 0 and "No microphone found" in devices.stderr
    listed = subprocess.run(
        cxfield(data_dir, "devices", "--json"), env=env, capture_output=True, text=True, timeout=60
    )
    assert json.loads(listed.stdout) == []
    out = tmp_path / "x.wav"
    record = subprocess.run(
        cxfield(data_dir, "record", "--out", str(out), "--seconds", "1"),
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert record.returncode == 1
    assert record.stderr.startswith("cxfield: error: No microphone found")
    assert "take notes" in record.stderr and not out.exists()


PLAYER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cxfield.audio.backend import SoundDeviceBackend
    from cxfield.audio.player import Player

    player = Player(SoundDeviceBackend(), Path(sys.argv[1]))
    player.play_from(float(sys.argv[2]))
    deadline = time.monotonic() + 30
    while player.playing and time.monotonic() < deadline:
        time.sleep(0.05)
    player.close()
    print("PLAYED", round(player.position_s, 3), flush=True)
    """
)


def test_playback_through_portaudio_reaches_the_speaker(
    mic: VirtualMic, speech: Path, tmp_path: Path
) -> None:
    """The real output path: PortAudio plays from a position to the end and stops by itself,
    and sound arrives at the (virtual) speaker.  Not compared sample by sample: through ALSA's
    pulse plugin into the null sink's monitor, even sounddevice.play() of the same samples
    correlates at only ~0.09 here, so the monitor does not give back what was played."""
    script = tmp_path / "player.py"
    script.write_text(PLAYER)
    heard = tmp_path / "heard.raw"
    with heard.open("wb") as sink:
        listener = subprocess.Popen(
            ["parec", "--latency-msec=10", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "-d", "virtmic_sink.monitor"],
            env=mic.env, stdout=sink, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(0.5)
            played = subprocess.run(
                [sys.executable, str(script), str(speech), "1.5"],
                env=mic.env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            time.sleep(1.0)
        finally:
            listener.terminate()
            listener.wait(10)
    assert played.returncode == 0, played.stderr
    source, _ = sf.read(speech, dtype="int16")
    word, position = played.stdout.split()
    assert word == "PLAYED" and abs(float(position) - len(source) / RATE) < 0.01  # to the end
    recorded = np.frombuffer(heard.read_bytes(), dtype="<i2")
    assert np.abs(recorded.astype(np.int32)).max() > 5000  # speech arrived, not silence


def _read_recording(data_dir: Path, path: Path) -> tuple[np.ndarray, int]:
    from cxfield.audio import at_rest, encrypted

    ctx = open_app(data_dir)  # opens the data directory's laptop key for readers
    try:
        assert at_rest.is_encrypted(path)
        reader = encrypted.open_pcm(path)
        info = reader.info
        samples = np.frombuffer(reader.read_frames(0, info.frames), dtype="<i2")
        reader.close()
        return samples, info.sample_rate
    finally:
        ctx.close()
