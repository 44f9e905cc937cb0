"""Reading audio in windows, so that a two-hour interview is never one array.

A recording's transcription copy is a 16 kHz mono WAV: it is read with soundfile, a block
at a time.  Any other file (the ``cxfield transcribe FILE`` path) is decoded by the ffmpeg
binary into a stream of 16 kHz mono samples, read in chunks from its pipe.  A recording
encrypted at rest is decrypted as it is read (:class:`EncryptedSource`): straight from its
records when it is 16 kHz mono, else as a WAV piped into ffmpeg's standard input.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from cxfield.domain.errors import NotFoundError, ValidationError

SAMPLE_RATE = 16_000


class AudioSource(Protocol):
    path: Path
    duration_s: float

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        """Consecutive float32 blocks of at most ``block_samples`` samples from the start."""
        ...


@dataclass
class WavSource:
    """A 16 kHz mono file that libsndfile reads directly (WAV, FLAC, OGG)."""

    path: Path
    duration_s: float

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        import soundfile

        with soundfile.SoundFile(str(self.path)) as handle:
            while True:
                block = handle.read(block_samples, dtype="float32", always_2d=False)
                if len(block) == 0:
                    return
                yield np.ascontiguousarray(block)


@dataclass
class FfmpegSource:
    """Any format ffmpeg decodes, resampled to 16 kHz mono on the fly."""

    path: Path
    duration_s: float

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        command = [
            "ffmpeg", "-nostdin", "-v", "error", "-i", str(self.path),
            "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "-",
        ]  # fmt: skip
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            yield from _decoded_blocks(proc, block_samples)
        finally:
            if proc.stderr is not None:
                proc.stderr.close()


@dataclass
class EncryptedSource:
    """A recording encrypted at rest (:mod:`cxfield.audio.encrypted`), never on disk in
    plaintext: its records are decrypted one at a time."""

    path: Path
    duration_s: float

    def blocks(self, block_samples: int) -> Iterator[np.ndarray]:
        from cxfield.audio.encrypted import EncryptedWav

        reader = EncryptedWav(self.path)
        info = reader.info
        try:
            if info.sample_rate != SAMPLE_RATE or info.channels != 1 or info.sample_width != 2:
                reader.close()
                yield from self._through_ffmpeg(block_samples)
                return
            for start in range(0, info.frames, block_samples):
                raw = reader.read_frames(start, start + block_samples)
                yield np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        finally:
            reader.close()

    def _through_ffmpeg(self, block_samples: int) -> Iterator[np.ndarray]:
        from cxfield.audio.encrypted import wav_chunks

        command = [
            "ffmpeg", "-nostdin", "-v", "error", "-f", "wav", "-i", "pipe:0",
            "-f", "s16le", "-ac", "1", "-ar", str(SAMPLE_RATE), "-",
        ]  # fmt: skip
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        assert proc.stdin is not None and proc.stdout is not None
        stdin = proc.stdin

        def feed() -> None:
            try:
                for block in wav_chunks(self.path):
                    stdin.write(block)
            except (BrokenPipeError, OSError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    stdin.close()

        feeder = threading.Thread(target=feed, name="cxfield-decrypt-feed", daemon=True)
        feeder.start()
        try:
            yield from _decoded_blocks(proc, block_samples)
        finally:
            feeder.join(timeout=5)


def _decoded_blocks(proc: subprocess.Popen[bytes], block_samples: int) -> Iterator[np.ndarray]:
    """ffmpeg's 16 kHz mono s16le output as float blocks; the process is ended after."""
    assert proc.stdout is not None
    try:
        while True:
            raw = _read_exactly(proc.stdout, block_samples * 2)
            if not raw:
                break
            pcm = np.frombuffer(raw[: len(raw) // 2 * 2], dtype=np.int16)
            yield pcm.astype(np.float32) / 32768.0
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _read_exactly(stream: object, n: int) -> bytes:
    read = stream.read  # type: ignore[attr-defined]
    parts: list[bytes] = []
    remaining = n
    while remaining > 0:
        chunk = read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def open_audio(path: Path) -> AudioSource:
    """A windowed reader for ``path``: soundfile for 16 kHz mono files, ffmpeg otherwise."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"Audio file {path} does not exist.")
    from cxfield.audio.at_rest import is_encrypted

    if is_encrypted(path):
        from cxfield.audio.encrypted import pcm_info

        return EncryptedSource(path, pcm_info(path).duration_s)
    try:
        import soundfile

        info = soundfile.info(str(path))
        if info.samplerate == SAMPLE_RATE and info.channels == 1 and info.frames > 0:
            return WavSource(path, info.frames / SAMPLE_RATE)
    except (ImportError, RuntimeError):
        pass  # not a format libsndfile reads (MP3/M4A on older builds): ffmpeg decodes it
    return FfmpegSource(path, probe_duration(path))


def probe_duration(path: Path) -> float:
    """The duration ffprobe reports, or a clear error when the file is not audio."""
    if shutil.which("ffprobe") is None:
        raise ValidationError(
            f"Cannot read {path.name}: ffmpeg is not installed (Debian package ffmpeg)."
        )
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-select_streams", "a",
         "-show_entries", "stream=codec_type", "-of", "json", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        data = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        data = {}
    if result.returncode != 0 or not data.get("streams"):
        raise ValidationError(f"Cannot read {path.name}: it is not an audio file ffmpeg knows.")
    try:
        return float(data["format"]["duration"])
    except (KeyError, TypeError, ValueError):
        return 0.0  # streams without a duration (raw pipes); progress shows no total
