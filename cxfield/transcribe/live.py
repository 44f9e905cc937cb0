"""Transcription while recording: finished stretches of the growing WAV file are
transcribed in the background, so that at "stop" only the last stretch remains.

The recorder does not have to feed anything: :class:`LiveTranscription` watches the file
the recorder is writing (any WAV that libsndfile writes: 16-bit, 24-bit, 32-bit or float PCM,
16 kHz).  A child process at low priority with one torch thread reads what has been written
so far, cuts it at pauses (a stretch ends at the last silence of at least ``pause_s`` once it
is ``min_stretch_s`` long, or at the quietest moment after ``max_stretch_s``) and sends the
segments of each stretch back.  ``finish()`` tells it the recording stopped; it transcribes
the rest and returns the whole transcript on the recording's clock.  It never touches the
recorder's stream, so it cannot cause input overflows; the worst it can do is fall behind.
"""

from __future__ import annotations

import multiprocessing
import struct
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from cxfield.audio.at_rest import AtRestError, is_encrypted
from cxfield.audio.encrypted import EncryptedWav
from cxfield.transcribe import vad
from cxfield.transcribe.audio_source import SAMPLE_RATE
from cxfield.transcribe.engines import OPENAI_WHISPER, load_engine
from cxfield.transcribe.pipeline import DecodeSettings, Segment, Transcriber, TranscriptResult
from cxfield.transcribe.speakers import SpeakerSettings
from cxfield.transcribe.worker import (
    WorkerFailed,
    configure_process,
    ignore_terminal_signals,
    stop_process,
    watch_parent,
)


@dataclass
class LiveSettings:
    min_stretch_s: float = 20.0
    max_stretch_s: float = 90.0
    pause_s: float = 0.8
    poll_s: float = 1.0
    nice: int = 10
    threads: int = 1


class GrowingWav:
    """Reads the samples written so far to a WAV file that is still open for writing
    (its header's sizes are not final, so the file size says how much there is), or to a
    recording encrypted at rest (its whole records say how much there is)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.data_offset = 0
        self.channels = 1
        self.rate = SAMPLE_RATE
        self.width = 2
        self.is_float = False
        self._sealed: EncryptedWav | None = None

    def ready(self) -> bool:
        if self.data_offset or self._sealed is not None:
            return True
        if is_encrypted(self.path):
            try:
                self._sealed = EncryptedWav(self.path)
            except AtRestError:
                return False  # its first record (the format) is not written yet
            info = self._sealed.info
            self.rate, self.channels, self.width = info.sample_rate, info.channels, 2
            return True
        try:
            with self.path.open("rb") as handle:
                head = handle.read(4096)
        except OSError:
            return False
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        pos = 12
        while pos + 8 <= len(head):
            chunk, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
            if chunk == b"fmt ":
                tag, self.channels, self.rate = struct.unpack("<HHI", head[pos + 8 : pos + 16])
                bits = struct.unpack("<H", head[pos + 22 : pos + 24])[0]
                if tag == 0xFFFE and size >= 40:  # WAVE_FORMAT_EXTENSIBLE: the real tag
                    tag = struct.unpack("<H", head[pos + 32 : pos + 34])[0]
                self.width, self.is_float = bits // 8, tag == 3
            elif chunk == b"data":
                self.data_offset = pos + 8
                return True
            pos += 8 + size + (size & 1)
        return False

    def frames_available(self) -> int:
        if not self.ready():
            return 0
        if self._sealed is not None:
            self._sealed.refresh()
            return self._sealed.info.frames
        size = self.path.stat().st_size - self.data_offset
        return max(0, size // (self.width * self.channels))

    def read(self, start: int, end: int) -> np.ndarray:
        """Mono float32 samples ``start..end`` (frames)."""
        frame_bytes = self.width * self.channels
        if self._sealed is not None:
            raw = self._sealed.read_frames(start, end)
        else:
            with self.path.open("rb") as handle:
                handle.seek(self.data_offset + start * frame_bytes)
                raw = handle.read((end - start) * frame_bytes)
        raw = raw[: len(raw) // frame_bytes * frame_bytes]
        data: np.ndarray
        if self.is_float:
            data = np.frombuffer(raw, dtype="<f4" if self.width == 4 else "<f8").astype(np.float32)
        elif self.width == 3:
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            data = ((b[:, 0] << 8 | b[:, 1] << 16 | b[:, 2] << 24) >> 8) / 8388608.0
        else:
            kind = {1: "u1", 2: "<i2", 4: "<i4"}[self.width]
            data = np.frombuffer(raw, dtype=kind).astype(np.float32)
            data = (data - 128) / 128 if self.width == 1 else data / 2 ** (8 * self.width - 1)
        data = np.asarray(data, dtype=np.float32)
        if self.channels > 1:
            data = data.reshape(-1, self.channels).mean(axis=1).astype(np.float32)
        if self.rate != SAMPLE_RATE and len(data):
            # the recorder may run at the device's rate; linear resampling is enough for ASR
            n = int(len(data) * SAMPLE_RATE / self.rate)
            data = np.interp(
                np.arange(n) * (self.rate / SAMPLE_RATE), np.arange(len(data)), data
            ).astype(np.float32)
        return data


def next_cut(pending: np.ndarray, settings: LiveSettings, final: bool = False) -> int | None:
    """Where to end the next stretch of ``pending`` audio, or None to wait for more."""
    n = len(pending)
    if final:
        return n if n else None
    min_n = int(settings.min_stretch_s * SAMPLE_RATE)
    if n < min_n:
        return None
    regions = vad.speech_regions(pending, vad.VadSettings(min_silence_s=settings.pause_s))
    # the last pause that ends before the audio still being written
    gaps = [(regions[i][1], regions[i + 1][0]) for i in range(len(regions) - 1)]
    if regions and n - regions[-1][1] >= settings.pause_s * SAMPLE_RATE:
        gaps.append((regions[-1][1], n))
    if not regions:
        return n  # all silence so far: nothing to transcribe, move on
    gaps = [(a, b) for a, b in gaps if a >= min_n // 2]
    if gaps:
        a, b = gaps[-1]
        return (a + b) // 2
    if n >= int(settings.max_stretch_s * SAMPLE_RATE):
        return vad.quietest_point(pending, n - 5 * SAMPLE_RATE, n)
    return None


def _live_main(
    wav_path: str,
    model_path: str,
    official_name: str | None,
    decode: DecodeSettings,
    settings: LiveSettings,
    conn: _Duplex,
    engine: str = OPENAI_WHISPER,
    compute_type: str = "int8",
    speakers: SpeakerSettings | None = None,
    laptop_key: bytes | None = None,
) -> None:
    # Ctrl-C at a terminal (stopping `record --live-transcribe`) reaches the whole process
    # group: it stops the recording; this child must live on to transcribe the last stretch.
    ignore_terminal_signals()
    watch_parent()
    try:
        configure_process(settings.threads, settings.nice, engine)
        if laptop_key is not None:  # the recording is encrypted at rest
            from cxfield.audio.encrypted import use_laptop_key

            use_laptop_key(laptop_key, Path(wav_path).parent)
        loaded = load_engine(engine, model_path, official_name, settings.threads, compute_type)
        transcriber = Transcriber(loaded, decode)
        wav = GrowingWav(Path(wav_path))
        pos = 0
        stopping = False
        while True:
            if conn.poll(0 if stopping else settings.poll_s):
                stopping = stopping or conn.recv() == "stop"
            available = wav.frames_available()
            pending = wav.read(pos, available) if available > pos else np.zeros(0, np.float32)
            cut = next_cut(pending, settings, final=stopping)
            if cut is not None:
                # pos counts frames of the file; cut counts 16 kHz samples
                segments = transcriber.transcribe_stretch(pending[:cut], pos / wav.rate)
                pos += cut if wav.rate == SAMPLE_RATE else round(cut * wav.rate / SAMPLE_RATE)
                conn.send(("segments", segments, pos / wav.rate, transcriber.language))
                continue  # look for the next finished stretch straight away
            if stopping:
                if speakers is not None:
                    conn.send(("turns", *_turns_of(wav, speakers)))
                conn.send(("done", pos / wav.rate, transcriber.language))
                return
    except Exception as exc:
        conn.send(("error", f"Live transcription failed: {exc}"))


def _turns_of(wav: GrowingWav, settings: SpeakerSettings) -> tuple[list[Any], str]:
    """Speaker turns of the whole recording, read ten minutes at a time."""
    from cxfield.transcribe.speakers import BLOCK_S, diarize_blocks

    total = wav.frames_available()
    step = int(BLOCK_S * wav.rate)
    blocks = ((a / wav.rate, wav.read(a, min(a + step, total))) for a in range(0, total, step))
    try:
        found = diarize_blocks(blocks, settings)
    except (ImportError, ValueError, RuntimeError, OSError):
        return [], ""  # the transcript is still stored, without suggestions
    return found.turns, found.interviewer_by


@dataclass
class LiveTranscription:
    """Background transcription of a recording in progress (see the module docstring)."""

    wav_path: Path
    model_path: Path
    official_name: str | None = None
    decode: DecodeSettings = field(default_factory=DecodeSettings)
    settings: LiveSettings = field(default_factory=LiveSettings)
    segments: list[Segment] = field(default_factory=list)
    #: seconds of the recording transcribed so far
    done_s: float = 0.0
    language: str | None = None
    #: openai-whisper or ctranslate2 (see :mod:`cxfield.transcribe.engines`)
    engine: str = OPENAI_WHISPER
    compute_type: str = "int8"
    #: suggest speaker turns at stop (None: no speaker labels)
    speakers: SpeakerSettings | None = None
    turns: list[Any] = field(default_factory=list)
    interviewer_by: str = ""
    _process: Any = None
    _conn: Any = None
    _control: Any = None
    #: ``cancel`` may come from another thread while ``finish`` waits (the app quitting)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def start(self) -> None:
        from cxfield.audio.encrypted import laptop_key

        key = laptop_key(self.wav_path) if is_encrypted(self.wav_path) else None
        mp = multiprocessing.get_context("spawn")
        self._conn, child_conn = mp.Pipe(duplex=False)
        child_control, self._control = mp.Pipe(duplex=False)
        self._process = mp.Process(
            target=_live_main,
            args=(
                str(self.wav_path), str(self.model_path), self.official_name,
                self.decode, self.settings, _Duplex(child_control, child_conn),
                self.engine, self.compute_type, self.speakers, key,
            ),
            daemon=True,
        )  # fmt: skip
        self._process.start()
        child_conn.close()
        child_control.close()

    def poll(self) -> list[Segment]:
        """Collect what the child has finished since the last call (non-blocking)."""
        new: list[Segment] = []
        while self._conn is not None and self._conn.poll(0):
            new.extend(self._handle(self._conn.recv()))
        return new

    def finish(self, timeout_s: float = 600.0) -> TranscriptResult:
        """The recording stopped: transcribe what is left and return everything.  A
        ``cancel`` from another thread meanwhile makes it raise :class:`WorkerFailed`."""
        process = self._process
        if process is None:
            raise WorkerFailed("Live transcription was not started.")
        self._control.send("stop")
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if self._conn.poll(0.05):
                    try:
                        message = self._conn.recv()
                    except EOFError:
                        raise WorkerFailed("Live transcription stopped unexpectedly.") from None
                    self._handle(message)
                    if message[0] == "done":
                        duration = max(self.done_s, self.segments[-1].end if self.segments else 0)
                        return TranscriptResult(
                            self.language, list(self.segments), duration,
                            turns=self.turns, interviewer_by=self.interviewer_by,
                        )  # fmt: skip
                elif not process.is_alive() and not self._conn.poll(0):
                    raise WorkerFailed("Live transcription stopped unexpectedly.")
            raise WorkerFailed("Live transcription did not finish in time.")
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the child (idempotent; safe from any thread)."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            stop_process(process)

    def _handle(self, message: tuple[Any, ...]) -> list[Segment]:
        kind = message[0]
        if kind == "segments":
            self.segments.extend(message[1])
            self.done_s, self.language = message[2], message[3]
            return list(message[1])
        if kind == "turns":
            self.turns, self.interviewer_by = list(message[1]), str(message[2])
        elif kind == "done":
            self.done_s, self.language = message[1], message[2]
        elif kind == "error":
            raise WorkerFailed(str(message[1]))
        return []


class _Duplex:
    """The child's ends: it reads control messages from one pipe and sends on another."""

    def __init__(self, control: Connection, out: Connection) -> None:
        self._control, self._out = control, out

    def poll(self, timeout: float) -> bool:
        return self._control.poll(timeout)

    def recv(self) -> Any:
        return self._control.recv()

    def send(self, message: Any) -> None:
        self._out.send(message)
