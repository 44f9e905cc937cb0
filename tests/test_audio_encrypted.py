"""Recordings encrypted at rest with the laptop key: recorded through the real recorder,
never on disk in plaintext, played and transcribed as they are decrypted, recovered after
kill -9, read with bounded memory, and refused in one line with another key."""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import struct
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cxfield.app import AppContext, open_app
from cxfield.audio import at_rest, encrypted
from cxfield.audio.player import Player
from cxfield.privacy import keys
from cxfield.services import recording as rec
from cxfield.services.sessions import session_detail
from cxfield.transcribe.audio_source import EncryptedSource, FfmpegSource, open_audio
from tests.audio_support import FakeBackend
from tests.conftest import REPO
from tests.test_audio_session import make_session


def noise(seconds: float, seed: int = 1, rate: int = 16000) -> np.ndarray:
    """Loud random samples: every 16-byte window of them is unique, so a leak is seen."""
    rng = np.random.default_rng(seed)
    return rng.integers(-20000, 20000, int(seconds * rate), dtype=np.int16)


def record(ctx: AppContext, samples: np.ndarray) -> tuple[dict[str, object], str | None]:
    session_id = make_session(ctx.db)
    backend = FakeBackend()
    active = rec.start_session_recording(ctx.db, ctx.paths.root, session_id, backend)
    backend.feed(samples)
    return active.stop(), active.notice


def test_a_recording_is_encrypted_on_disk_and_plays_like_the_plaintext(
    ctx: AppContext, tmp_path: Path
) -> None:
    samples = noise(3.0)
    summary, notice = record(ctx, samples)
    path = ctx.paths.root / str(summary["path"])
    assert at_rest.is_encrypted(path)
    on_disk = path.read_bytes()
    pcm = samples.astype("<i2").tobytes()
    for start in range(0, len(pcm) - 16, 4001):  # no stretch of the audio is on the disk
        assert pcm[start : start + 16] not in on_disk
    # the key was made for this recording: the lost-key warning is said, once
    assert notice is not None and "cannot be opened" in notice and "export-laptop" in notice
    assert record(ctx, noise(0.5, seed=2))[1] is None
    assert (path.stat().st_mode & 0o777) == 0o600

    plain = tmp_path / "plain.wav"
    encrypted.write_plain_wav(path, plain)
    decoded, rate = sf.read(str(plain), dtype="int16")
    assert rate == 16000 and np.array_equal(decoded, samples)
    assert (
        summary["sha256"]
        == encrypted.audio_sha256(path)
        == hashlib.sha256(plain.read_bytes()).hexdigest()
    )

    sealed_player, plain_player = Player(FakeBackend(), path), Player(FakeBackend(), plain)
    assert sealed_player.duration_s == plain_player.duration_s == 3.0
    for at in (1.2345, 0.0, 2.99, 0.5):  # seeks, also back and across records
        sealed_player.seek(at)
        plain_player.seek(at)
        a, b = sealed_player._next_block(1000), plain_player._next_block(1000)
        start = int(round(at * 16000))
        assert a == b == pcm[start * 2 : (start + 1000) * 2][: len(a)] and a
    sealed_player.close()
    plain_player.close()


def test_transcription_of_an_encrypted_recording_gives_the_same_segments(
    tmp_path: Path, whisper_checkpoint: Path
) -> None:
    import torch
    import whisper

    from cxfield.transcribe.pipeline import DecodeSettings, Transcriber
    from tests.transcribe_support import FAST_DECODE, place, speech_like, write_wav

    torch.set_num_threads(1)
    audio = place(45, [(3.0, speech_like(8.0, 1)), (30.0, speech_like(6.0, 2))])
    plain = write_wav(tmp_path / "plain.wav", audio)
    key = secrets.token_bytes(32)
    sealed = tmp_path / "sealed.wav"
    encrypted.encrypt_wav(plain, sealed, key)
    encrypted.use_laptop_key(key, tmp_path)
    source = open_audio(sealed)
    assert isinstance(source, EncryptedSource) and source.duration_s == pytest.approx(45.0)
    model = whisper.load_model(str(whisper_checkpoint), device="cpu")

    def segments(path: Path) -> list[tuple[float, float, str]]:
        transcriber = Transcriber(model, DecodeSettings(language="en", extra=FAST_DECODE))
        found = transcriber.transcribe_source(open_audio(path), block_s=20.0)
        return [(s.start, s.end, s.text) for s in found.segments]

    expected = segments(plain)
    assert expected and segments(sealed) == expected


def test_an_encrypted_recording_at_another_rate_is_piped_into_ffmpeg(tmp_path: Path) -> None:
    samples = noise(2.0, rate=48000).reshape(-1, 2)  # 1 s of 48 kHz stereo
    plain = tmp_path / "phone.wav"
    sf.write(str(plain), samples, 48000, subtype="PCM_16")
    key = secrets.token_bytes(32)
    sealed = tmp_path / "phone.sealed.wav"
    encrypted.encrypt_wav(plain, sealed, key)
    encrypted.use_laptop_key(key, tmp_path)
    got = np.concatenate(list(open_audio(sealed).blocks(4000)))
    want = np.concatenate(list(FfmpegSource(plain, 1.0).blocks(4000)))
    assert len(got) == 16000 and np.array_equal(got, want)


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, sys.argv[2])
    from pathlib import Path
    from cxfield.app import open_app
    from cxfield.services import recording as rec
    from tests.audio_support import FakeBackend
    from tests.test_audio_encrypted import noise
    from tests.test_audio_session import make_session

    ctx = open_app(Path(sys.argv[1]))
    backend = FakeBackend()
    active = rec.start_session_recording(ctx.db, ctx.paths.root, make_session(ctx.db), backend)
    backend.feed(noise(2.0))
    sealed = active.recorder._writer._sealed
    while sealed.sealed_plain < 44 + 64000:  # the writer thread syncs 4 times a second
        time.sleep(0.01)
    print(active.recording_id, flush=True)
    backend.feed(noise(0.5, seed=9))  # more, perhaps sealed, perhaps not
    time.sleep(60)
    """
)


def test_kill_9_mid_recording_leaves_every_synced_frame_recoverable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(data), str(REPO)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        recording_id = proc.stdout.readline().strip()
        assert recording_id, "the writer did not start"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    path = data / "recordings" / f"{recording_id}.wav"
    with path.open("ab") as handle:  # a record torn by the kill
        handle.write(struct.pack(">IB", 9000, 0) + b"\x07" * 100)
    ctx = open_app(data)  # start-up recovery
    try:
        (message,) = ctx.messages
        assert "Recovered an interrupted recording" in message
        (row,) = [r for r in session_detail_all(ctx) if r["id"] == recording_id]
        assert row["state"] == "recovered"
        info = encrypted.pcm_info(path)
        assert info.encrypted and info.sample_rate == 16000 and info.frames >= 32000
        assert row["duration_s"] == info.duration_s and row["sha256"] == encrypted.audio_sha256(
            path
        )
        assert at_rest.scan(path, laptop_key=encrypted.laptop_key(path)).complete
        reader = encrypted.open_pcm(path)
        assert reader.read_frames(0, 32000) == noise(2.0).astype("<i2").tobytes()
        reader.close()
        ctx.close()
        ctx = open_app(data)
        assert ctx.messages == []  # told once
    finally:
        ctx.close()


def session_detail_all(ctx: AppContext) -> list[dict[str, object]]:
    from sqlmodel import select

    from cxfield.storage.models import ResearchSession

    with ctx.db.session() as db:
        ids = [s.id for s in db.exec(select(ResearchSession)).all()]
    return [r for sid in ids for r in session_detail(ctx.db, sid)["recordings"]]


def test_a_long_recording_is_read_a_record_at_a_time(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = tmp_path / "long.wav"
    writer = encrypted.EncryptedWavWriter(path, 16000, key=key)
    digest = hashlib.sha256()
    block = os.urandom(at_rest.CHUNK_BYTES * 3 + 1000)
    for _ in range(80):  # 80 x 197 KB: about 16 MB, eight and a half minutes
        writer.write(block)
    writer.close()
    total = len(block) * 80
    digest.update(encrypted.wav_header(16000, 1, 2, total))
    for _ in range(80):
        digest.update(block)
    tracemalloc.start()
    try:
        reader = encrypted.EncryptedWav(path, key)
        seen = hashlib.sha256(encrypted.wav_header(16000, 1, 2, reader.info.data_bytes))
        most = 0
        for chunk in reader.pcm_blocks():
            seen.update(chunk)
            most = max(most, reader.buffered_bytes)
        for frame in (123_456, 5, 4_000_000, 77):  # seeks
            assert reader.read_frames(frame, frame + 10) == _frames(block, frame, 10)
            most = max(most, reader.buffered_bytes)
        reader.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen.hexdigest() == digest.hexdigest()
    assert most <= at_rest.CHUNK_BYTES  # one record at a time
    assert peak < total // 20, peak  # never the file, nor a twentieth of it


def _frames(block: bytes, frame: int, count: int) -> bytes:
    start = frame * 2 % len(block)
    return (block + block)[start : start + count * 2]


def test_another_key_is_refused_in_one_line(tmp_path: Path) -> None:
    plain = tmp_path / "plain.wav"
    sf.write(str(plain), noise(1.0), 16000, subtype="PCM_16")
    sealed = tmp_path / "sealed.wav"
    encrypted.encrypt_wav(plain, sealed, secrets.token_bytes(32))
    encrypted.use_laptop_key(secrets.token_bytes(32), tmp_path)  # another laptop's key
    for opening in (
        lambda: encrypted.open_pcm(sealed),
        lambda: open_audio(sealed),
        lambda: Player(FakeBackend(), sealed),
    ):
        with pytest.raises(at_rest.AtRestError) as caught:
            opening()
        message = str(caught.value)
        assert "Wrong key for sealed.wav" in message and "\n" not in message


def test_laptop_key_export_and_import(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    key = keys.laptop_key(data, "dev1")
    out = tmp_path / "laptop.key"
    keys.export_laptop_key(data, "dev1", out)
    assert (out.stat().st_mode & 0o777) == 0o600 and key.hex() not in out.read_text()
    with pytest.raises(keys.StudyKeyError, match="exists already"):
        keys.export_laptop_key(data, "dev1", out)  # never overwritten
    other = tmp_path / "other"
    other.mkdir()
    keys.import_laptop_key(other, "dev2", out)
    assert keys.laptop_key(other, "dev2") == key
    third = tmp_path / "third"
    third.mkdir()
    keys.laptop_key(third, "dev3")  # a key of its own: importing would lock it out
    with pytest.raises(keys.StudyKeyError, match="already has another recording key"):
        keys.import_laptop_key(third, "dev3", out)
    bad = tmp_path / "bad.key"
    bad.write_text("{}")
    with pytest.raises(keys.StudyKeyError, match="not a cxfield laptop key file"):
        keys.import_laptop_key(other, "dev2", bad)


def test_a_transcription_job_decrypts_in_its_worker_process(
    ctx: AppContext, whisper_checkpoint: Path
) -> None:
    """The queue's worker is a child process without the keyring: the job brings the key."""
    from cxfield.services import transcript, transcription
    from cxfield.transcribe.model_store import ModelStore
    from tests.transcribe_support import fast_setup, place, speech_like

    ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
    fast_setup(ctx)
    audio = place(40, [(3.0, speech_like(10.0)), (25.0, speech_like(8.0, 1))])
    summary, _notice = record(ctx, (audio * 32767).astype(np.int16))
    path = ctx.paths.root / str(summary["path"])
    assert at_rest.is_encrypted(path)
    session_id = str(summary["session_id"])
    transcription.enqueue(
        ctx.db, ctx.paths.root, ctx.paths.models, session_id, transcription.get_options(ctx.db)
    )
    outcomes = transcription.run_queue(ctx.db, ctx.paths.root, ctx.paths.models)
    assert [o.state for o in outcomes] == ["done"], outcomes
    segments = transcript.segments(ctx.db, session_id)
    assert segments and all(0.0 <= s.start_s <= s.end_s <= 40.0 for s in segments)


def test_repair_of_an_encrypted_file_killed_before_its_first_record(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    encrypted.use_laptop_key(key, tmp_path)
    path = tmp_path / "early.wav"
    preamble, salt = at_rest.laptop_preamble()
    at_rest.EncryptedWriter(path, preamble, at_rest._file_key(key, salt)).abandon()
    fixed = encrypted.repair(path)
    assert fixed.changed and fixed.frames == 0 and fixed.duration_s == 0.0
    samples = noise(1.0)
    writer = encrypted.EncryptedWavWriter(tmp_path / "short.wav", 16000, key=key)
    writer.write(samples.tobytes())
    writer.sync()
    writer._sealed.abandon()  # killed after a sync: no end record
    again = encrypted.repair(tmp_path / "short.wav")
    assert again.changed and again.frames == 16000
    assert not encrypted.repair(tmp_path / "short.wav").changed  # a complete file: a no-op
