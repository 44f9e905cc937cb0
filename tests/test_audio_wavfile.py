"""Crash-safe WAV writing and repair of what a killed writer leaves behind."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cxfield.audio.wavfile import AudioFileError, WavWriter, is_locked, read_info, repair
from tests.audio_support import tone
from tests.conftest import cli_env


def killed_file(path: Path, seconds: float = 1.5, declared: int = 0, extra: bytes = b"") -> bytes:
    """What a writer killed before its last header patch leaves: stale sizes, more audio."""
    pcm = tone(seconds).tobytes()
    writer = WavWriter(path, 16000)
    writer.sync()  # header says 0 bytes of audio
    writer._write_all(pcm + extra)
    if declared:
        writer.data_bytes = declared
        writer.sync()
    os.close(writer._fd)  # like a killed process: no final patch
    return pcm


def test_repair_recovers_all_written_audio(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    pcm = killed_file(path, declared=8000, extra=b"\x01")  # odd byte: a partial frame
    assert sf.info(str(path)).frames == 4000  # readers trust the stale header: audio is lost
    result = repair(path)
    assert result.changed and result.frames == 24000 and result.duration_s == 1.5
    data, rate = sf.read(path, dtype="int16")
    assert rate == 16000 and data.tobytes() == pcm
    assert repair(path).changed is False  # a good file is left alone


def test_repair_of_a_header_claiming_nothing(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    killed_file(path, seconds=0.75)
    assert read_info(path).declared_data_bytes == 0
    assert repair(path).frames == 12000
    assert sf.info(str(path)).frames == 12000


def test_good_file_with_trailing_chunk_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "good.wav"
    sf.write(path, np.zeros(1000, dtype=np.int16), 16000, subtype="PCM_16")
    with path.open("ab") as handle:  # a LIST chunk after the data, as many recorders write
        handle.write(b"LIST" + struct.pack("<I", 4) + b"INFO")
    with path.open("r+b") as handle:
        size = path.stat().st_size
        handle.seek(4)
        handle.write(struct.pack("<I", size - 8))
    before = path.read_bytes()
    result = repair(path)
    assert not result.changed and result.frames == 1000
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"hello, not audio at all", b"RIFF\x00\x00\x00\x00WAVE"])
def test_not_a_wav_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError, match="bad.wav"):
        repair(path)
    assert path.read_bytes() == content


def test_open_writer_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "live.wav"
    writer = WavWriter(path, 16000)
    assert is_locked(path)
    writer.close()
    assert not is_locked(path)


def test_repair_audio_cli(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    killed_file(path, seconds=2.0)
    run = [sys.executable, "-m", "cxfield", "repair-audio", str(path)]
    first = subprocess.run(run, capture_output=True, text=True, timeout=60, env=cli_env())
    assert first.returncode == 0 and "repaired" in first.stderr and first.stdout.strip() == "2.000"
    again = subprocess.run(run, capture_output=True, text=True, timeout=60, env=cli_env())
    assert again.returncode == 0 and "nothing changed" in again.stderr
    text = tmp_path / "notes.txt"
    text.write_text("just notes")
    bad = subprocess.run(
        [sys.executable, "-m", "cxfield", "repair-audio", str(text)],
        capture_output=True, text=True, timeout=60, env=cli_env(),
    )  # fmt: skip
    assert (
        bad.returncode == 1 and bad.stderr.strip() == "cxfield: error: notes.txt is not a WAV file."
    )


def test_disk_full_mid_write_keeps_a_valid_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC in the middle of a block: the partial frame is cut, the header fixed."""
    import errno

    from cxfield.audio import wavfile

    path = tmp_path / "full.wav"
    writer = WavWriter(path, 16000)
    writer.write(tone(1.0).tobytes())
    real_write = os.write

    room = [101]  # an odd number of bytes is left: half a frame lands

    def nearly_full(fd: int, data: bytes) -> int:
        if room[0] == 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        written = real_write(fd, bytes(data)[: room[0]])
        room[0] -= written
        return written

    monkeypatch.setattr(wavfile.os, "write", nearly_full)
    with pytest.raises(wavfile.DiskFullError, match="disk is full"):
        writer.write(tone(1.0).tobytes())
    monkeypatch.undo()
    writer.close()
    info = read_info(path)
    assert not info.needs_repair and info.frames == 16000 + 50
    assert sf.info(str(path)).frames == 16050
