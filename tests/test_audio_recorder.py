"""The recorder's logic with an injected fake backend: clock across pauses, overflow and
dropped-block counting, disk checks, level metering, the crash-safe file."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cxfield.audio.backend import NoMicrophoneError
from cxfield.audio.recorder import Recorder, RecorderState
from cxfield.audio.wavfile import DiskFullError, read_info
from tests.audio_support import FakeBackend, tone, wait_until

GB = 1024**3


def make(tmp_path: Path, backend: FakeBackend, **options: object) -> Recorder:
    return Recorder(backend, tmp_path / "rec.wav", free_space=lambda _p: 10 * GB, **options)  # type: ignore[arg-type]


def test_records_what_it_is_fed_and_file_is_valid(tmp_path: Path) -> None:
    backend = FakeBackend()
    recorder = make(tmp_path, backend)
    recorder.start()
    assert backend.opened[0]["samplerate"] == 16000 and backend.opened[0]["channels"] == 1
    signal = tone(2.0)
    backend.feed(signal)
    result = recorder.stop()
    assert result.frames == 32000 and result.duration_s == 2.0 and result.failure is None
    data, rate = sf.read(result.path, dtype="int16")
    assert rate == 16000 and np.array_equal(data, signal)
    assert not read_info(result.path).needs_repair
    assert backend.inputs[0].closed


def test_pause_keeps_the_recording_clock(tmp_path: Path) -> None:
    backend = FakeBackend()
    recorder = make(tmp_path, backend)
    recorder.start()
    backend.feed(tone(1.0, freq=300))
    at_pause = recorder.position_frames
    recorder.pause()
    assert recorder.state is RecorderState.PAUSED
    backend.feed(tone(3.0, freq=900))  # spoken while paused: not in the file, clock stands
    assert recorder.position_frames == at_pause == 16000
    recorder.resume()
    backend.feed(tone(0.5, freq=300))
    note_offset = recorder.position_frames
    result = recorder.stop()
    assert note_offset == result.frames == 24000
    data, _ = sf.read(result.path, dtype="int16")
    # only the 300 Hz parts are in the file: the paused 900 Hz audio never was
    spectrum = np.abs(np.fft.rfft(data.astype(float)))
    freqs = np.fft.rfftfreq(len(data), 1 / 16000)
    assert abs(freqs[np.argmax(spectrum)] - 300) < 5
    assert spectrum[np.argmin(abs(freqs - 900))] < spectrum.max() * 0.01


def test_level_meter_keeps_working_while_paused(tmp_path: Path) -> None:
    backend = FakeBackend()
    recorder = make(tmp_path, backend)
    recorder.start()
    recorder.pause()
    backend.feed(tone(0.2, amp=0.5))
    assert wait_until(lambda: recorder.level().peak > 0.45, 5)
    assert recorder.stop().frames == 0


def test_overflows_are_counted(tmp_path: Path) -> None:
    backend = FakeBackend()
    recorder = make(tmp_path, backend)
    recorder.start()
    backend.feed(tone(1.0), overflow_at={3, 7, 9})
    result = recorder.stop()
    assert result.overflows == 3 and result.frames == 16000


def test_full_queue_drops_blocks_and_counts_them(tmp_path: Path) -> None:
    backend = FakeBackend()
    recorder = make(tmp_path, backend)
    gate = threading.Event()
    measure = recorder._measure

    def slow_disk(pcm: bytes) -> None:  # the writer stalls as on a very slow disk
        gate.wait(10)
        measure(pcm)

    recorder._measure = slow_disk  # type: ignore[method-assign]
    recorder.start()
    capacity = recorder._queue.maxsize
    backend.feed(tone(0.025 * (capacity + 50)))  # 50 blocks more than the queue holds
    assert 49 <= recorder.dropped_blocks <= 51
    gate.set()
    result = recorder.stop()
    assert result.dropped_blocks == recorder.dropped_blocks
    assert result.frames == recorder.position_frames


def test_clipping_is_flagged_for_a_second(tmp_path: Path) -> None:
    now = [100.0]
    backend = FakeBackend()
    recorder = make(tmp_path, backend, clock=lambda: now[0])
    recorder.start()
    loud = np.full(400, 32767, dtype=np.int16)
    backend.feed(loud)
    assert wait_until(lambda: recorder.level().clipping, 5)
    assert recorder.level().peak_dbfs > -0.1
    now[0] += 1.5
    assert not recorder.level().clipping
    recorder.stop()


def test_not_enough_space_to_start(tmp_path: Path) -> None:
    backend = FakeBackend()
    recorder = Recorder(backend, tmp_path / "rec.wav", free_space=lambda _p: 5 * 1024**2)
    with pytest.raises(DiskFullError, match="cannot start"):
        recorder.start()
    assert not (tmp_path / "rec.wav").exists() and not backend.inputs


def test_disk_filling_up_stops_cleanly_and_keeps_the_file(tmp_path: Path) -> None:
    free = [10 * GB]
    now = [0.0]
    backend = FakeBackend()
    recorder = Recorder(
        backend, tmp_path / "rec.wav", free_space=lambda _p: free[0], clock=lambda: now[0]
    )
    recorder.start()
    backend.feed(tone(2.0))
    assert wait_until(lambda: recorder._queue.empty(), 5)
    free[0] = 1024**2  # the disk fills up
    now[0] += 2.0  # the writer's next space check is due
    assert wait_until(lambda: recorder.halted, 5)
    backend.feed(tone(1.0))  # after the halt nothing more is taken
    result = recorder.stop()
    assert result.failure and "was stopped" in result.failure
    info = read_info(result.path)
    assert not info.needs_repair and info.frames == result.frames >= 32000 - 400
    data, _ = sf.read(result.path, dtype="int16")
    assert len(data) == result.frames


def test_no_microphone_leaves_nothing_behind(tmp_path: Path) -> None:
    backend = FakeBackend(fail=NoMicrophoneError("No microphone found."))
    recorder = make(tmp_path, backend)
    with pytest.raises(NoMicrophoneError):
        recorder.start()
    assert not (tmp_path / "rec.wav").exists()
    assert recorder.state is RecorderState.STOPPED


def test_max_frames_gives_an_exact_length(tmp_path: Path) -> None:
    backend = FakeBackend()
    recorder = make(tmp_path, backend, max_frames=16000 + 123)
    recorder.start()
    backend.feed(tone(3.0))
    assert recorder.reached_limit
    assert recorder.stop().frames == 16123


def test_header_is_patched_while_recording(tmp_path: Path) -> None:
    """The file on disk is valid while recording (what kill -9 would leave)."""
    backend = FakeBackend()
    recorder = make(tmp_path, backend)
    recorder.start()
    backend.feed(tone(1.0))
    path = tmp_path / "rec.wav"
    assert wait_until(lambda: read_info(path).declared_data_bytes == 32000, 5)
    assert not read_info(path).needs_repair
    recorder.stop()


def test_stop_returns_when_the_writer_halted_with_a_full_queue(tmp_path: Path) -> None:
    """Blocks queued before the writer met a full disk fill the bounded queue; the writer
    has gone, so stop() must not wait forever to hand it the end marker (seen in CI:
    the recording stopped but stop() hung)."""
    recorder = make(tmp_path, FakeBackend())
    recorder.start()
    recorder._fail("The disk is full; the recording was stopped.")  # what the writer does
    recorder._queue.put(None)  # ... and then its thread ends
    assert recorder._thread is not None
    recorder._thread.join(10)
    assert not recorder._thread.is_alive()
    while True:  # what the audio callback had queued before the writer stopped
        try:
            recorder._queue.put_nowait((b"\0\0" * 160, True))
        except Exception:  # queue.Full
            break
    done = threading.Event()
    threading.Thread(target=lambda: (recorder.stop(), done.set()), daemon=True).start()
    assert done.wait(40), "stop() hung on the full queue"
    assert recorder.state is RecorderState.STOPPED
