"""Transcript exports with whisper's own writers (``whisper.utils``): TXT, SRT, VTT, JSON, TSV.

The writers take the dict ``whisper.transcribe`` returns; stored segments are turned back
into that shape (with the speaker and edit flag as extra keys, which the JSON keeps).
Speaker labels go into the other formats too: ``Interviewer: …`` in TXT and SRT, a voice
span ``<v Interviewer>…`` in VTT, a last ``speaker`` column in TSV (when any line has a
speaker); a suggestion nobody has confirmed is written ``Interviewer (suggested)``.
Files are written beside the target and renamed into place (:mod:`cxfield.storage.files`),
so a failed export never leaves half a file where a good one was."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, TextIO

from cxfield.domain.errors import ValidationError
from cxfield.storage.files import atomic_file, make_private_dir

FORMATS = ("txt", "srt", "vtt", "json", "tsv")


def check_format(fmt: str) -> str:
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValidationError(
            f"Unknown transcript format {fmt!r}; use one of {', '.join(FORMATS)}."
        )
    return fmt


SPEAKER_NAMES = {"interviewer": "Interviewer", "participant": "Participant"}


def speaker_label(segment: dict[str, Any]) -> str | None:
    """How a segment's speaker is written: the confirmed one, else the suggestion, marked."""
    confirmed = SPEAKER_NAMES.get(str(segment.get("speaker") or ""))
    if confirmed:
        return confirmed
    suggested = SPEAKER_NAMES.get(str(segment.get("speaker_suggested") or ""))
    return f"{suggested} (suggested)" if suggested else None


def _labelled(result: dict[str, Any], fmt: str) -> dict[str, Any]:
    segments = []
    for segment in result["segments"]:
        label = speaker_label(segment)
        if label is not None and fmt in ("txt", "srt", "vtt"):
            text = segment["text"].strip()
            text = f"<v {label}>{text}" if fmt == "vtt" else f"{label}: {text}"
            segment = {**segment, "text": " " + text}
        segments.append(segment)
    return {**result, "segments": segments}


def _write_tsv(result: dict[str, Any], handle: TextIO) -> None:
    """whisper's TSV (start and end in whole milliseconds), with a last ``speaker`` column
    when any line has a speaker."""
    labels = [speaker_label(s) for s in result["segments"]]
    with_speaker = any(labels)
    handle.write("start\tend\ttext" + ("\tspeaker" if with_speaker else "") + "\n")
    for segment, label in zip(result["segments"], labels, strict=True):
        cells = [str(round(1000 * segment["start"])), str(round(1000 * segment["end"]))]
        cells.append(segment["text"].strip().replace("\t", " "))
        if with_speaker:
            cells.append(label or "")
        handle.write("\t".join(cells) + "\n")


def write_result(result: dict[str, Any], fmt: str, handle: TextIO) -> None:
    from whisper.utils import get_writer

    fmt = check_format(fmt)
    if fmt == "tsv":
        _write_tsv(result, handle)
        return
    writer: Any = get_writer(fmt, ".")
    writer.write_result(_labelled(result, fmt), file=handle, options={})


def render(result: dict[str, Any], fmt: str) -> str:
    buffer = io.StringIO()
    write_result(result, fmt, buffer)
    return buffer.getvalue()


def write_file(result: dict[str, Any], fmt: str, path: Path) -> Path:
    """Write ``result`` in ``fmt`` to ``path`` atomically (0600, like every export; a
    device, pipe or folder there is refused and left as it is)."""
    path = Path(path).expanduser()
    text = render(result, fmt)
    make_private_dir(path.parent)
    with atomic_file(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def result_from_segments(
    segments: list[dict[str, Any]], language: str | None = None
) -> dict[str, Any]:
    """A whisper-style result from ``{"start", "end", "text", ...}`` dicts in time order."""
    ordered = sorted(segments, key=lambda s: (s["start"], s["end"]))
    return {
        "text": "".join(s["text"] for s in ordered),
        "segments": [{"id": i, **s} for i, s in enumerate(ordered)],
        "language": language,
    }
