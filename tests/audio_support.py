"""Audio test helpers: a fake PortAudio backend, and a real virtual microphone (a PulseAudio
null sink whose monitor PortAudio records through ALSA's ``pulse`` device).

The virtual microphone recipe is measured in ../shared/testing.md: start the daemon before
any process imports sounddevice (so real-capture tests run ``cxfield`` as subprocesses),
keep the sink clocked with ``parec``, play speech with ``paplay`` only after the recorder's
first callback, and put a timeout on everything."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import numpy as np

from cxfield.audio.backend import AudioDevice, InputCallback, OutputCallback

SINK = "virtmic_sink"
PULSE_TOOLS = ("pulseaudio", "pactl", "parec", "paplay")


class FakeStream:
    def __init__(self, backend: FakeBackend, callback: Callable[..., object]) -> None:
        self.backend = backend
        self.callback = callback
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


class FakeBackend:
    """Deterministic: the test pushes blocks into the recorder's callback itself."""

    def __init__(
        self, fail: Exception | None = None, devices: list[AudioDevice] | None = None
    ) -> None:
        self.fail = fail
        self._devices = devices
        self.inputs: list[FakeStream] = []
        self.outputs: list[FakeStream] = []
        self.opened: list[dict[str, object]] = []

    def devices(self) -> list[AudioDevice]:
        if self._devices is not None:
            return self._devices
        return [AudioDevice(0, "Fake mic", "fake", 1, 0, 16000.0, True, False),
                AudioDevice(1, "Fake speaker", "fake", 0, 2, 16000.0, False, True)]  # fmt: skip

    def open_input(self, *, callback: InputCallback, **options: object) -> FakeStream:
        if self.fail is not None:
            raise self.fail
        self.opened.append(options)
        stream = FakeStream(self, callback)
        self.inputs.append(stream)
        return stream

    def open_output(self, *, callback: OutputCallback, **options: object) -> FakeStream:
        if self.fail is not None:
            raise self.fail
        self.opened.append(options)
        stream = FakeStream(self, callback)
        self.outputs.append(stream)
        return stream

    def feed(
        self, samples: np.ndarray, block: int = 400, overflow_at: set[int] = frozenset()
    ) -> None:  # type: ignore[assignment]
        """Push int16 samples through the open input stream's callback, block by block."""
        stream = self.inputs[-1]
        for n, start in enumerate(range(0, len(samples), block)):
            pcm = samples[start : start + block].astype("<i2").tobytes()
            stream.callback(pcm, n in overflow_at)


def tone(seconds: float, rate: int = 16000, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * freq * t) * amp * 32767).astype(np.int16)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# --- the real virtual microphone ---------------------------------------------------------


def pulse_missing() -> str | None:
    """Why the virtual microphone cannot run here, or None."""
    missing = [tool for tool in PULSE_TOOLS if shutil.which(tool) is None]
    return f"PulseAudio tools missing: {', '.join(missing)}" if missing else None


class VirtualMic:
    """A private PulseAudio daemon with a null sink as the default source.  ``env`` is what a
    subprocess needs to record from it; ``play(wav)`` speaks into it."""

    def __init__(self, rate: int = 16000) -> None:
        self.rate = rate
        self.runtime = Path(tempfile.mkdtemp(prefix="cxfield-pulse-"))
        self.env = dict(os.environ)
        self.env.update(
            XDG_RUNTIME_DIR=str(self.runtime),
            PULSE_SERVER=f"unix:{self.runtime}/pulse/native",
            PULSE_RUNTIME_PATH=str(self.runtime / "pulse"),
            HOME=str(self.runtime),  # the daemon writes its cookie/state under HOME
        )
        self._keepalive: subprocess.Popen[bytes] | None = None

    def start(self) -> VirtualMic:
        os.chmod(self.runtime, 0o700)
        config = self.runtime / "virtmic.pa"
        config.write_text(
            "load-module module-native-protocol-unix\n"
            f"load-module module-null-sink sink_name={SINK} rate={self.rate} channels=1\n"
            f"set-default-sink {SINK}\n"
            f"set-default-source {SINK}.monitor\n"
        )
        subprocess.run(
            ["pulseaudio", "--daemonize=yes", "-n", "-F", str(config), "--exit-idle-time=-1",
             "--disallow-exit=no", "--use-pid-file=yes"],
            env=self.env, check=True, timeout=20, capture_output=True,
        )  # fmt: skip
        if not wait_until(self._answers, 15):
            self.stop()
            raise RuntimeError("the PulseAudio daemon did not answer")
        # Keeps the null sink clocked: without it the first callback comes 0.5-2 s late.
        self._keepalive = subprocess.Popen(
            ["parec", "--latency-msec=10", "-d", f"{SINK}.monitor"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return self

    def _answers(self) -> bool:
        result = subprocess.run(
            ["pactl", "info"], env=self.env, capture_output=True, timeout=5, check=False
        )
        return result.returncode == 0

    def play(self, wav: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["paplay", "-d", SINK, str(wav)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        if self._keepalive is not None:
            self._keepalive.kill()
            self._keepalive.wait(timeout=5)
            self._keepalive = None
        pid_file = self.runtime / "pulse" / "pid"
        words = pid_file.read_text().split() if pid_file.exists() else []
        subprocess.run(
            ["pactl", "exit"], env=self.env, capture_output=True, timeout=10, check=False
        )
        if words and words[0].isdigit():  # pactl exit is asynchronous: wait for the daemon
            pid = int(words[0])
            wait_until(lambda: not _alive(pid), 5)
        shutil.rmtree(self.runtime, ignore_errors=True)

    def __enter__(self) -> VirtualMic:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def speech_wav(text: str, target: Path, rate: int = 16000) -> Path:
    """Synthetic speech (espeak-ng) as 16-bit mono WAV at ``rate``."""
    raw = target.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, timeout=60)
    subprocess.run(["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(target)],
                   check=True, timeout=60)  # fmt: skip
    raw.unlink()
    return target


class LineReader:
    """Collects a subprocess's stderr lines on a thread so a test can wait for one."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.times: list[float] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.times.append(time.monotonic())
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> float | None:
        """The monotonic time the first line containing ``text`` arrived, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line, at in zip(list(self.lines), list(self.times), strict=False):
                if text in line:
                    return at
            time.sleep(0.02)
        return None

    def text(self) -> str:
        return "\n".join(self.lines)


def best_alignment(recorded: np.ndarray, source: np.ndarray) -> tuple[int, float]:
    """Lag of ``source`` inside ``recorded`` and the normalised cross-correlation there."""
    rec = recorded.astype(np.float64)
    src = source.astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(rec) + len(src))))
    corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(src, n)), n)
    lag = int(np.argmax(corr[: len(rec)]))
    segment = rec[lag : lag + len(src)]
    ref = src[: len(segment)]
    denom = np.sqrt(np.sum(segment**2) * np.sum(ref**2))
    return lag, float(np.sum(segment * ref) / denom) if denom else 0.0
