"""Playback of a session's recording with seek.

A plain WAV's data chunk is memory-mapped, so an hour-long interview costs no memory up front
and a seek is just a new read position; the output callback slices the map.  A recording
encrypted at rest is read through :mod:`cxfield.audio.encrypted`: a seek decrypts the one
record it lands in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cxfield.audio.at_rest import is_encrypted
from cxfield.audio.backend import AudioBackend, AudioStream
from cxfield.audio.encrypted import PcmReader, open_pcm
from cxfield.audio.wavfile import AudioFileError, read_info

#: clicking a note plays from this long before it, so the listener hears the lead-in
NOTE_LEAD_IN_S = 3.0


class Player:
    """Plays one 16-bit PCM WAV.  ``play``/``pause``/``seek``/``play_from``; thread-safe."""

    def __init__(
        self,
        backend: AudioBackend,
        path: Path,
        *,
        device: int | str | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> None:
        self._reader: PcmReader | None = None
        if is_encrypted(path):
            self._reader = open_pcm(path)
            pcm = self._reader.info
            width, rate, channels, frames = (
                pcm.sample_width,
                pcm.sample_rate,
                pcm.channels,
                pcm.frames,
            )
            offset = 0
        else:
            info = read_info(path)
            width, rate, channels, frames = (
                info.sample_width, info.sample_rate, info.channels, info.frames,
            )  # fmt: skip
            offset = info.data_offset
        if width != 2:
            raise AudioFileError(f"{path.name}: playback needs 16-bit audio.")
        self.backend = backend
        self.path = path
        self.device = device
        self.sample_rate = rate
        self.channels = channels
        self.frames = frames
        self._samples = (
            np.memmap(path, dtype="<i2", mode="r", offset=offset, shape=(frames * channels,))
            if frames and self._reader is None
            else np.zeros(0, dtype="<i2")
        )
        self._position = 0
        self._lock = threading.Lock()
        self._stream: AudioStream | None = None
        self.on_finished = on_finished
        self._stream_done = False  # the callback ran past the end; the stream stops itself

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate

    @property
    def position_s(self) -> float:
        return self._position / self.sample_rate

    @property
    def playing(self) -> bool:
        return self._stream is not None and not self._stream_done

    @property
    def finished(self) -> bool:
        return self._position >= self.frames

    def seek(self, seconds: float) -> None:
        frame = int(round(max(0.0, seconds) * self.sample_rate))
        with self._lock:
            self._position = min(frame, self.frames)

    def play(self) -> None:
        if self.playing:
            return
        self.pause()  # a stream that ran to the end is closed before a new one opens
        if self._position >= self.frames:
            self.seek(0)
        self._stream_done = False
        stream = self.backend.open_output(
            device=self.device,
            samplerate=self.sample_rate,
            channels=self.channels,
            blocksize=max(self.sample_rate // 50, 64),
            callback=self._next_block,
        )
        self._stream = stream
        stream.start()

    def play_from(self, seconds: float, lead_in_s: float = 0.0) -> None:
        """Seek to ``seconds - lead_in_s`` (not before the start) and play."""
        self.seek(max(0.0, seconds - lead_in_s))
        self.play()

    def pause(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()

    def close(self) -> None:
        self.pause()
        if self._reader is not None:
            self._reader.close()

    def samples(self, start: int, end: int) -> bytes:
        """PCM frames ``start..end`` (the bytes the output callback plays)."""
        if self._reader is not None:
            return self._reader.read_frames(start, end)
        return self._samples[start * self.channels : end * self.channels].tobytes()

    def _next_block(self, frames: int) -> bytes:
        # PortAudio's thread: a slice copy and nothing else
        with self._lock:
            start = self._position
            end = min(start + frames, self.frames)
            self._position = end
        data = self.samples(start, end)
        if end >= self.frames and end - start < frames:
            self._stream_done = True
            if self.on_finished is not None:
                self.on_finished()
        return data
