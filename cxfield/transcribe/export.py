"""Transcript exports with whisper's own writers (``whisper.utils``): TXT, SRT, VTT, JSON, TSV.

The writers take the dict ``whisper.transcribe`` returns; stored segments are turned back
into that shape (with the speaker and edit flag as extra keys, which the JSON keeps).
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


def write_result(result: dict[str, Any], fmt: str, handle: TextIO) -> None:
    from whisper.utils import get_writer

    writer: Any = get_writer(check_format(fmt), ".")
    writer.write_result(result, file=handle, options={})


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
