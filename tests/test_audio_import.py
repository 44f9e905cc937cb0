"""Importing recordings made elsewhere: every format a phone or recorder makes, any rate and
channel count, into a 16 kHz mono copy; bad files attach nothing and leave nothing behind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cxfield.app import AppContext, open_app
from cxfield.audio.at_rest import is_encrypted
from cxfield.audio.convert import ImportAudioError
from cxfield.audio.encrypted import pcm_info
from cxfield.domain.errors import ValidationError
from cxfield.services.recording import attach_audio, save_original
from cxfield.services.sessions import session_detail
from tests.conftest import FIXTURES, cli_env
from tests.test_audio_session import make_session

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")

JFK = FIXTURES / "jfk.flac"

# (suffix, ffmpeg codec options, sample rate, channels)
FORMATS = [
    ("wav", ["-c:a", "pcm_s24le"], 48000, 2),
    ("flac", [], 44100, 2),
    ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"], 22050, 1),
    ("m4a", ["-c:a", "aac", "-b:a", "64k"], 44100, 2),
    ("aac", ["-c:a", "aac", "-b:a", "64k"], 32000, 1),
    ("ogg", ["-c:a", "libvorbis"], 8000, 1),
    ("opus", ["-c:a", "libopus"], 48000, 2),
]


def make_audio(folder: Path, suffix: str, codec: list[str], rate: int, channels: int) -> Path:
    """A 3.0 s chirp-like tone made by ffmpeg, as a phone would save it."""
    path = folder / f"phone-{rate}-{channels}ch.{suffix}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi",
         "-i", f"sine=frequency=440:sample_rate={rate}:duration=3",
         "-ac", str(channels), *codec, str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def recordings_files(ctx: AppContext) -> list[str]:
    folder = ctx.paths.root / "recordings"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("suffix", "codec", "rate", "channels"), FORMATS, ids=[f[0] for f in FORMATS]
)
def test_import_every_format(
    ctx: AppContext, tmp_path: Path, suffix: str, codec: list[str], rate: int, channels: int
) -> None:
    source = make_audio(tmp_path, suffix, codec, rate, channels)
    session_id = make_session(ctx.db)
    summary = attach_audio(ctx.db, ctx.paths.root, session_id, source)
    assert summary["state"] == "imported"
    assert abs(summary["duration_s"] - 3.0) < 0.08
    copy = ctx.paths.root / summary["path"]
    info = pcm_info(copy)  # the copy kept is encrypted at rest (a new data directory)
    assert (info.sample_rate, info.channels, info.sample_width, info.encrypted) == (
        16000, 1, 2, True,
    )  # fmt: skip
    original = ctx.paths.root / summary["original_path"]
    assert original.suffix == f".{suffix}"
    # the original is kept encrypted too, and comes back as it was
    assert is_encrypted(original) and source.read_bytes()[-4096:] not in original.read_bytes()
    back = tmp_path / f"back.{suffix}"
    assert save_original(ctx.db, ctx.paths.root, summary["id"], back) == source.stat().st_size
    assert back.read_bytes() == source.read_bytes()
    (recording,) = session_detail(ctx.db, session_id)["recordings"]
    assert recording["id"] == summary["id"] and recording["duration_s"] == summary["duration_s"]


def truncated(source: Path, keep: float) -> Path:
    data = source.read_bytes()
    cut = source.with_name(f"cut-{source.name}")
    cut.write_bytes(data[: int(len(data) * keep)])
    return cut


BAD_FILES = {
    "truncated-wav": lambda d: truncated(make_audio(d, "wav", [], 44100, 2), 0.5),
    "truncated-flac": lambda d: truncated(make_audio(d, "flac", [], 44100, 2), 0.6),
    "truncated-mp3": lambda d: truncated(make_audio(d, "mp3", [], 44100, 2), 0.5),
    "truncated-m4a": lambda d: truncated(make_audio(d, "m4a", [], 44100, 2), 0.5),
    "truncated-ogg": lambda d: truncated(make_audio(d, "ogg", [], 44100, 2), 0.5),
    "corrupt-flac": lambda d: _corrupt(make_audio(d, "flac", [], 44100, 2)),
    "text-named-mp3": lambda d: _write(d / "notes.mp3", b"Interview notes, not audio.\n" * 50),
    "empty-wav": lambda d: _write(d / "empty.wav", b""),
    "image": lambda d: _image(d),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _corrupt(path: Path) -> Path:
    data = bytearray(path.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 4000):  # garbage in the middle
        data[at] = (data[at] * 7 + 13) % 256
    return _write(path, bytes(data))


def _image(folder: Path) -> Path:
    path = folder / "photo.png"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32",
         "-frames:v", "1", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_attach_nothing(ctx: AppContext, tmp_path: Path, kind: str) -> None:
    source = BAD_FILES[kind](tmp_path)
    session_id = make_session(ctx.db)
    with pytest.raises(ImportAudioError) as error:
        attach_audio(ctx.db, ctx.paths.root, session_id, source)
    message = str(error.value)
    assert source.name in message and "\n" not in message
    assert any(word in message for word in ("truncated", "corrupt", "no audio", "not an audio"))
    assert session_detail(ctx.db, session_id)["recordings"] == []
    assert recordings_files(ctx) == []


def test_import_needs_recording_consent(ctx: AppContext, tmp_path: Path) -> None:
    source = make_audio(tmp_path, "wav", [], 16000, 1)
    session_id = make_session(ctx.db, consents=[{"recording": False}])
    with pytest.raises(ValidationError, match="consent"):
        attach_audio(ctx.db, ctx.paths.root, session_id, source)
    assert recordings_files(ctx) == []


def test_attach_jfk_flac_with_the_cli(data_dir: Path) -> None:
    """The real stereo 44.1 kHz 24-bit FLAC: imported as a user would, shown with 11.0 s."""
    ctx = open_app(data_dir)
    session_id = make_session(ctx.db)
    ctx.close()
    cxfield = [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir)]
    attached = subprocess.run(
        [*cxfield, "sessions", "attach-audio", session_id, str(JFK)],
        capture_output=True, text=True, timeout=120, env=cli_env(),
    )  # fmt: skip
    assert attached.returncode == 0, attached.stderr
    assert "attached jfk.flac: 11.0 s" in attached.stderr
    shown = subprocess.run(
        [*cxfield, "sessions", "show", session_id, "--json"],
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    (recording,) = json.loads(shown.stdout)["recordings"]
    assert recording["id"] == attached.stdout.strip()
    assert recording["duration_s"] == 11.0 and recording["state"] == "imported"
    assert recording["sample_rate"] == 16000 and recording["channels"] == 1
    assert is_encrypted(data_dir / recording["original_path"])
    out = data_dir.parent / "jfk-back.flac"
    saved = subprocess.run(
        [*cxfield, "sessions", "original", recording["id"], "--out", str(out)],
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    assert saved.returncode == 0, saved.stderr
    assert out.read_bytes() == JFK.read_bytes()
    again = subprocess.run(
        [*cxfield, "sessions", "original", recording["id"], "--out", str(out)],
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    assert again.returncode != 0 and again.stderr.strip().splitlines() == [
        f"cxfield: error: {out} exists; choose a new file name."
    ]
    assert out.read_bytes() == JFK.read_bytes()

    bad = subprocess.run(
        [*cxfield, "sessions", "attach-audio", session_id, str(data_dir / "cxfield.sqlite")],
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stderr.startswith("cxfield: error: cxfield.sqlite ")
    assert len(json.loads(subprocess.run(
        [*cxfield, "sessions", "show", session_id, "--json"],
        capture_output=True, text=True, timeout=60, env=cli_env(),
    ).stdout)["recordings"]) == 1  # fmt: skip


def test_the_original_without_encryption_and_of_a_recording_made_here(
    ctx: AppContext, tmp_path: Path
) -> None:
    from cxfield.domain.errors import NotFoundError
    from cxfield.services.at_rest import set_encrypt_recordings
    from cxfield.storage.models import Recording

    set_encrypt_recordings(ctx.db, False)
    source = make_audio(tmp_path, "flac", [], 44100, 2)
    summary = attach_audio(ctx.db, ctx.paths.root, make_session(ctx.db), source)
    original = ctx.paths.root / summary["original_path"]
    assert not is_encrypted(original) and original.read_bytes() == source.read_bytes()
    back = tmp_path / "back.flac"
    save_original(ctx.db, ctx.paths.root, summary["id"], back)
    assert back.read_bytes() == source.read_bytes()
    with ctx.db.session() as db:
        db.add(Recording(id="made-here", session_id=summary["session_id"], path="recordings/x.wav"))
    with pytest.raises(NotFoundError, match="no imported original"):
        save_original(ctx.db, ctx.paths.root, "made-here", tmp_path / "none.wav")
    assert not (tmp_path / "none.wav").exists()
