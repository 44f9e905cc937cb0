"""The PortAudio boundary.  Everything else talks to an :class:`AudioBackend`, so tests pass a
fake and the real one (:class:`SoundDeviceBackend`) is created by the front end.

``sounddevice`` is imported lazily: PortAudio enumerates devices once, when it is initialised,
and a missing PortAudio library must become a clear "no microphone" message, not an
ImportError at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from cxfield.domain.errors import CxfieldError

#: ``callback(pcm_bytes, input_overflow)`` — called on PortAudio's thread; must be quick
InputCallback = Callable[[bytes, bool], None]
#: ``callback(frames) -> pcm_bytes`` (shorter than asked = end of stream)
OutputCallback = Callable[[int], bytes]


class NoMicrophoneError(CxfieldError):
    """No input device can be opened; notes can still be taken without a recording."""


class NoAudioOutputError(CxfieldError):
    """No output device can be opened for playback."""


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class AudioStream(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


class AudioBackend(Protocol):
    def devices(self) -> list[AudioDevice]: ...

    def open_input(
        self,
        *,
        device: int | str | None,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: InputCallback,
    ) -> AudioStream: ...

    def open_output(
        self,
        *,
        device: int | str | None,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: OutputCallback,
    ) -> AudioStream: ...


def input_devices(backend: AudioBackend) -> list[AudioDevice]:
    return [d for d in backend.devices() if d.max_input_channels > 0]


class SoundDeviceBackend:
    """Real audio through PortAudio (sounddevice), 16-bit integer samples."""

    def __init__(self) -> None:
        self._sd: Any = None

    def _module(self, error: type[CxfieldError] = NoMicrophoneError) -> Any:
        if self._sd is None:
            try:
                import sounddevice
            except (OSError, ImportError) as exc:
                raise error(f"No audio devices: PortAudio cannot be loaded ({exc}).") from exc
            self._sd = sounddevice
        return self._sd

    def refresh(self) -> None:
        """Ask PortAudio to list devices again (a microphone plugged in after start-up)."""
        sd = self._module()
        try:
            sd._terminate()
            sd._initialize()
        except Exception:  # noqa: BLE001 - private API; a stale list is better than a crash
            pass

    def devices(self) -> list[AudioDevice]:
        try:
            sd = self._module()
        except NoMicrophoneError:
            return []
        try:
            raw = sd.query_devices()
            hostapis = sd.query_hostapis()
            default_in, default_out = sd.default.device
        except Exception:  # noqa: BLE001 - PortAudio errors here mean "no devices"
            return []
        result = []
        for info in raw:
            index = int(info["index"])
            result.append(
                AudioDevice(
                    index=index,
                    name=str(info["name"]),
                    hostapi=str(hostapis[info["hostapi"]]["name"]),
                    max_input_channels=int(info["max_input_channels"]),
                    max_output_channels=int(info["max_output_channels"]),
                    default_samplerate=float(info["default_samplerate"]),
                    is_default_input=index == default_in,
                    is_default_output=index == default_out,
                )
            )
        return result

    def open_input(
        self,
        *,
        device: int | str | None,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: InputCallback,
    ) -> AudioStream:
        sd = self._module()

        def on_block(indata: Any, _frames: int, _time: Any, status: Any) -> None:
            callback(bytes(indata), bool(status.input_overflow))

        try:
            stream = sd.RawInputStream(
                device=device,
                samplerate=samplerate,
                channels=channels,
                dtype="int16",
                blocksize=blocksize,
                callback=on_block,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise NoMicrophoneError(_explain(exc, device, samplerate, "microphone")) from exc
        return stream  # type: ignore[no-any-return]

    def open_output(
        self,
        *,
        device: int | str | None,
        samplerate: int,
        channels: int,
        blocksize: int,
        callback: OutputCallback,
    ) -> AudioStream:
        sd = self._module(NoAudioOutputError)

        def on_block(outdata: Any, frames: int, _time: Any, _status: Any) -> None:
            data = callback(frames)
            outdata[: len(data)] = data
            if len(data) < len(outdata):
                outdata[len(data) :] = b"\x00" * (len(outdata) - len(data))
                raise sd.CallbackStop

        try:
            stream = sd.RawOutputStream(
                device=device,
                samplerate=samplerate,
                channels=channels,
                dtype="int16",
                blocksize=blocksize,
                callback=on_block,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise NoAudioOutputError(_explain(exc, device, samplerate, "audio output")) from exc
        return stream  # type: ignore[no-any-return]


def _explain(exc: Exception, device: int | str | None, samplerate: int, what: str) -> str:
    text = str(exc)
    if "Invalid sample rate" in text:
        return f"The {what} {device or '(default)'} cannot run at {samplerate} Hz: {text}."
    if "matching" in text:
        return f"No {what} matching {device!r}; `cxfield devices` lists them."
    if device is None or "-1" in text or "No such device" in text or "No input" in text:
        return f"No {what} found ({text}). You can still take notes without a recording."
    return f"Cannot open the {what} {device!r}: {text}."
