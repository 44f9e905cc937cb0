"""Import recordings made elsewhere (phones, recorders): any rate, any channel count, WAV,
FLAC, MP3, M4A/AAC, OGG... into a 16 kHz mono 16-bit WAV for transcription, via ffmpeg.

A file that is truncated, corrupt or not audio raises :class:`ImportAudioError` and leaves
nothing behind.  Truncation is caught three ways, because each format fails differently:
ffmpeg's own decode errors (``-xerror``: FLAC, WAV), a decoded length well short of what the
container declares (MP3 with an Xing header), and a missing end-of-stream page (Ogg)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cxfield.audio.wavfile import AudioFileError, read_info
from cxfield.domain.errors import CxfieldError

TARGET_RATE = 16000
FFMPEG_TIMEOUT_S = 600


class ImportAudioError(CxfieldError):
    """The file cannot be imported; nothing was attached or left behind."""


@dataclass(frozen=True)
class ProbeResult:
    format_name: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float | None


@dataclass(frozen=True)
class Converted:
    path: Path
    duration_s: float
    source: ProbeResult


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ImportAudioError(
            f"Importing audio needs {name} (from FFmpeg), which is not installed; "
            "run ./dev.sh setup or install ffmpeg."
        )
    return found


def probe(source: Path) -> ProbeResult:
    """What ffprobe sees in the file; raises for non-audio files."""
    try:
        result = subprocess.run(
            [_tool("ffprobe"), "-v", "error", "-print_format", "json",
             "-show_format", "-show_streams", str(source)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise ImportAudioError(f"{source.name}: reading the file took too long.") from exc
    if result.returncode != 0:
        reason = _first_line(result.stderr) or "unknown format"
        raise ImportAudioError(
            f"{source.name} cannot be read as audio: not an audio file, or corrupt or "
            f"truncated ({reason})."
        )
    data = json.loads(result.stdout or "{}")
    streams = [s for s in data.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise ImportAudioError(f"{source.name} contains no audio.")
    stream = streams[0]
    duration = stream.get("duration") or data.get("format", {}).get("duration")
    return ProbeResult(
        format_name=str(data.get("format", {}).get("format_name", "")),
        codec=str(stream.get("codec_name", "")),
        sample_rate=int(stream.get("sample_rate") or 0),
        channels=int(stream.get("channels") or 0),
        duration_s=float(duration) if duration not in (None, "N/A") else None,
    )


def convert_to_wav(source: Path, target: Path, sample_rate: int = TARGET_RATE) -> Converted:
    """Decode ``source`` into a mono 16-bit WAV at ``target`` (which must not exist).
    On any failure ``target`` is removed and :class:`ImportAudioError` raised."""
    if not source.is_file():
        raise ImportAudioError(f"{source} is not a file.")
    info = probe(source)
    try:
        _run_ffmpeg(source, target, sample_rate)
        try:
            wav = read_info(target)
        except AudioFileError as exc:
            raise ImportAudioError(f"{source.name}: the converted audio is unreadable.") from exc
        decoded = wav.duration_s
        if decoded <= 0:
            raise ImportAudioError(f"{source.name} contains no audio (0 seconds).")
        declared = info.duration_s
        if declared is not None and declared - decoded > max(0.5, 0.02 * declared):
            raise ImportAudioError(
                f"{source.name} is truncated: it declares {declared:.1f} s but only "
                f"{decoded:.1f} s can be decoded."
            )
        if "ogg" in info.format_name and not _ogg_has_end(source):
            raise ImportAudioError(f"{source.name} is truncated (the Ogg stream has no end).")
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Converted(target, decoded, info)


def _run_ffmpeg(source: Path, target: Path, sample_rate: int) -> None:
    try:
        result = subprocess.run(
            [_tool("ffmpeg"), "-nostdin", "-v", "error", "-xerror", "-i", str(source),
             "-vn", "-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate),
             "-c:a", "pcm_s16le", "-map_metadata", "-1", "-fflags", "+bitexact",
             "-f", "wav", "-n", str(target)],
            capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise ImportAudioError(f"{source.name}: converting took too long.") from exc
    if result.returncode != 0:
        reason = _first_line(result.stderr) or f"ffmpeg exit {result.returncode}"
        raise ImportAudioError(f"{source.name} is corrupt or truncated ({reason}).")


def _ogg_has_end(path: Path) -> bool:
    """An Ogg file's last page carries the end-of-stream flag; a cut file's does not."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 65536))
        tail = handle.read()
    at = tail.rfind(b"OggS")
    return at >= 0 and at + 5 < len(tail) and bool(tail[at + 5] & 0x04)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # ffmpeg prefixes with "[demuxer @ 0x...]"; the last line is usually the summary
    return lines[-1][:200] if lines else ""
