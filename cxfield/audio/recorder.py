"""The recorder: PortAudio callback -> bounded queue -> writer thread -> crash-safe WAV.

The callback runs on PortAudio's real-time thread, so it only copies the block into a
bounded queue (and counts): a slow disk can never block the audio thread or grow memory
without limit.  Overflows reported by PortAudio and blocks dropped because the queue was full
are both counted and shown, never silently ignored.

The recording has its own clock: frames accepted while not paused.  Notes store that
position, so they stay correct across pauses.
"""

from __future__ import annotations

import math
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from cxfield.audio.backend import AudioBackend, AudioStream
from cxfield.audio.encrypted import EncryptedWavWriter
from cxfield.audio.wavfile import AudioFileError, DiskFullError, WavWriter

FreeSpace = Callable[[Path], int]

#: stop recording when less than this is free (the OS and the database need room too)
DEFAULT_RESERVE_BYTES = 50 * 1024 * 1024
#: header patch + fsync at least this often: kill -9 or power loss loses less than a second
SYNC_INTERVAL_S = 0.25
DISK_CHECK_INTERVAL_S = 1.0
BLOCKS_PER_SECOND = 40  # 25 ms blocks: level meter updates up to 40 Hz
QUEUE_SECONDS = 10  # the writer may stall this long before blocks are dropped
CLIP_LEVEL = 32700  # ~ -0.02 dBFS
CLIP_HOLD_S = 1.0


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


class RecorderState(StrEnum):
    IDLE = "idle"
    RECORDING = "recording"
    PAUSED = "paused"
    STOPPED = "stopped"


@dataclass(frozen=True)
class Level:
    """The latest block's level; ``clipping`` holds for a second after a clipped block."""

    peak: float  # 0..1 of full scale
    rms: float
    clipping: bool

    @property
    def peak_dbfs(self) -> float:
        return 20 * math.log10(self.peak) if self.peak > 0 else -96.0


@dataclass(frozen=True)
class RecorderResult:
    path: Path
    frames: int
    sample_rate: int
    channels: int
    overflows: int
    dropped_blocks: int
    #: why recording ended early (disk full, write error), or None
    failure: str | None

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


class Recorder:
    """Records one file.  ``start`` → (``pause``/``resume``)* → ``stop``."""

    def __init__(
        self,
        backend: AudioBackend,
        path: Path,
        *,
        sample_rate: int = 16000,
        channels: int = 1,
        device: int | str | None = None,
        free_space: FreeSpace = disk_free,
        reserve_bytes: int = DEFAULT_RESERVE_BYTES,
        clock: Callable[[], float] = time.monotonic,
        max_frames: int | None = None,
        encrypt_key: bytes | None = None,
    ) -> None:
        self.backend = backend
        #: the laptop key: the file is encrypted at rest (:mod:`cxfield.audio.encrypted`)
        self.encrypt_key = encrypt_key
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.device = device
        self.free_space = free_space
        self.reserve_bytes = reserve_bytes
        self.clock = clock
        #: stop accepting audio after this many frames (``record --seconds``: an exact length)
        self.max_frames = max_frames
        self.blocksize = max(sample_rate // BLOCKS_PER_SECOND, 64)
        self._queue: queue.Queue[tuple[bytes, bool] | None] = queue.Queue(
            maxsize=QUEUE_SECONDS * BLOCKS_PER_SECOND
        )
        self._state = RecorderState.IDLE
        self._paused = False
        self._halted = False  # set by the writer on failure: the callback drops everything
        self._frames_accepted = 0
        self.overflows = 0
        self.dropped_blocks = 0
        self.failure: str | None = None
        self.started_at: float | None = None
        self.first_block_at: float | None = None
        self.last_block_at: float | None = None
        self._level = Level(0.0, 0.0, False)
        self._clip_until = 0.0
        self._writer: WavWriter | EncryptedWavWriter | None = None
        self._stream: AudioStream | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # --- control --------------------------------------------------------------------

    def start(self) -> None:
        """Check disk space, create the file, open the microphone and start writing."""
        if self._state is not RecorderState.IDLE:
            raise RuntimeError("a Recorder records once")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._check_space(self.reserve_bytes + 600 * self.bytes_per_second)
        self._writer = (
            WavWriter(self.path, self.sample_rate, self.channels)
            if self.encrypt_key is None
            else EncryptedWavWriter(
                self.path, self.sample_rate, self.channels, key=self.encrypt_key
            )
        )
        try:
            self._stream = self.backend.open_input(
                device=self.device,
                samplerate=self.sample_rate,
                channels=self.channels,
                blocksize=self.blocksize,
                callback=self._on_block,
            )
            self._thread = threading.Thread(target=self._write_loop, name="cxfield-recorder")
            self._thread.daemon = True  # never keeps a dying app alive; the file stays valid
            self._thread.start()
            self._state = RecorderState.RECORDING
            self.started_at = self.clock()
            self._stream.start()
        except BaseException:
            self._abort_start()
            raise

    def _abort_start(self) -> None:
        if self._thread is not None:
            self._end_writer()
            self._thread.join(timeout=5)
        if self._writer is not None:
            self._writer.close()
        self.path.unlink(missing_ok=True)
        self._state = RecorderState.STOPPED

    def pause(self) -> None:
        if self._state is RecorderState.RECORDING:
            self._paused = True
            self._state = RecorderState.PAUSED

    def resume(self) -> None:
        if self._state is RecorderState.PAUSED:
            self._paused = False
            self._state = RecorderState.RECORDING

    def stop(self) -> RecorderResult:
        """Stop the microphone, write what is queued, finalise the file.  Idempotent."""
        with self._lock:
            if self._state is not RecorderState.STOPPED:
                self._state = RecorderState.STOPPED
                self._close_stream()
                self._end_writer()
                if self._thread is not None:
                    self._thread.join(timeout=30)
        writer = self._writer
        return RecorderResult(
            path=self.path,
            frames=writer.frames if writer else 0,
            sample_rate=self.sample_rate,
            channels=self.channels,
            overflows=self.overflows,
            dropped_blocks=self.dropped_blocks,
            failure=self.failure,
        )

    def finish_file(self) -> RecorderResult:
        """After :meth:`stop`, once the caller gave back disk space: an encrypted file whose
        last records could not be written on a full disk is finished now (or keeps only
        its whole records)."""
        result = self.stop()
        writer = self._writer
        if not isinstance(writer, EncryptedWavWriter):
            return result
        try:
            writer.close()
        except (DiskFullError, AudioFileError):
            writer.give_up()
        return self.stop()

    def _end_writer(self) -> None:
        """Tell the writer thread to finish.  Never blocks on a full queue whose writer has
        already stopped (a disk that filled up halts the writer while blocks are queued)."""
        while True:
            try:
                self._queue.put(None, timeout=0.1)
                return
            except queue.Full:
                if self._thread is None or not self._thread.is_alive():
                    return

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()

    # --- what the front end shows --------------------------------------------------

    @property
    def state(self) -> RecorderState:
        return self._state

    @property
    def position_frames(self) -> int:
        """Now, on the recording's own clock (frames accepted while not paused)."""
        return self._frames_accepted

    @property
    def elapsed_s(self) -> float:
        return self._frames_accepted / self.sample_rate

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.channels * 2

    @property
    def halted(self) -> bool:
        """The writer stopped on its own (disk full, write error): call :meth:`stop`."""
        return self._halted

    @property
    def reached_limit(self) -> bool:
        return self.max_frames is not None and self._frames_accepted >= self.max_frames

    def level(self) -> Level:
        level = self._level
        return Level(level.peak, level.rms, self.clock() < self._clip_until)

    def seconds_since_last_block(self) -> float:
        """How long the microphone has been silent (no callbacks), since start if never heard."""
        last = self.last_block_at if self.last_block_at is not None else self.started_at
        return 0.0 if last is None else self.clock() - last

    # --- the audio thread: copy and count, nothing else -----------------------------

    def _on_block(self, pcm: bytes, overflow: bool) -> None:
        if overflow:
            self.overflows += 1
        if self._halted or self._state is RecorderState.STOPPED:
            return
        now = self.clock()
        if self.first_block_at is None:
            self.first_block_at = now
        self.last_block_at = now
        accepted = not self._paused
        if accepted and self.max_frames is not None:
            room = self.max_frames - self._frames_accepted
            if room <= 0:
                return
            pcm = pcm[: room * 2 * self.channels]
        try:
            self._queue.put_nowait((pcm, accepted))
        except queue.Full:
            self.dropped_blocks += 1
            return
        if accepted:
            self._frames_accepted += len(pcm) // (2 * self.channels)

    # --- the writer thread ----------------------------------------------------------

    def _write_loop(self) -> None:
        writer = self._writer
        assert writer is not None
        last_sync = last_disk_check = self.clock()
        try:
            while True:
                try:
                    item = self._queue.get(timeout=SYNC_INTERVAL_S / 2)
                except queue.Empty:
                    item = ()  # type: ignore[assignment]
                if item is None:
                    break
                if item:
                    pcm, accepted = item
                    self._measure(pcm)
                    if accepted:
                        writer.write(pcm)
                now = self.clock()
                if now - last_sync >= SYNC_INTERVAL_S:
                    writer.sync()
                    last_sync = now
                if now - last_disk_check >= DISK_CHECK_INTERVAL_S:
                    last_disk_check = now
                    self._check_space(self.reserve_bytes)
        except (DiskFullError, AudioFileError) as exc:
            self._fail(str(exc))
        except OSError as exc:
            self._fail(f"Cannot write the recording: {exc.strerror or exc}.")
        finally:
            try:
                writer.close()
            except (OSError, DiskFullError, AudioFileError) as exc:
                self.failure = self.failure or f"Cannot finish the recording file: {exc}."

    def _fail(self, message: str) -> None:
        self.failure = message
        self._halted = True

    def _measure(self, pcm: bytes) -> None:
        samples = np.frombuffer(pcm, dtype=np.int16)
        if not samples.size:
            return
        peak = int(np.max(np.abs(samples.astype(np.int32))))
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
        if peak >= CLIP_LEVEL:
            self._clip_until = self.clock() + CLIP_HOLD_S
        self._level = Level(peak / 32768.0, rms / 32768.0, False)

    def _check_space(self, needed: int) -> None:
        free = self.free_space(self.path.parent)
        if free < needed:
            mb = free // (1024 * 1024)
            raise DiskFullError(
                f"Only {mb} MB free on the disk of {self.path.parent}; the recording "
                + ("cannot start." if self._state is RecorderState.IDLE else "was stopped.")
                + " Free some space and record again."
            )
