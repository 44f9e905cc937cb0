"""Readable plain text with the positions of its parts.

REFI-QDA positions count Unicode code points from 0, end exclusive — what Python's string
indices count — so the spans below are plain ``len()`` arithmetic on the cleaned text."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from cxfield.export.refi_qda.qdaxml import clean

Span = tuple[int, int]


def clock(seconds: float) -> str:
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


class TextBuilder:
    """Appends lines and says where each one lies in the finished text."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self.length = 0

    def line(self, *parts: str) -> list[Span]:
        """Add ``parts`` as one line (then a line end); the span of each part."""
        spans = []
        for part in parts:
            part = clean(part)
            spans.append((self.length, self.length + len(part)))
            self._parts.append(part)
            self.length += len(part)
        self._parts.append("\n")
        self.length += 1
        return spans

    def text(self) -> str:
        return "".join(self._parts)


@dataclass(frozen=True)
class SyncPoint:
    guid: str
    position: int
    ms: int


@dataclass
class TranscriptText:
    """A recording's transcript as text, one line per segment, with a sync point at the
    start of every segment and one at the very end (so the last line can be selected)."""

    text: str = ""
    sync: list[SyncPoint] = field(default_factory=list)
    #: each segment's (start in seconds, text as spoken) in order
    segments: list[tuple[float, str]] = field(default_factory=list)

    def segment_at(self, at_s: float) -> int:
        """The segment being spoken at ``at_s`` (the first one for earlier times)."""
        starts = [start for start, _ in self.segments]
        return max(0, bisect.bisect_right(starts, at_s) - 1)

    def find(self, quote: str) -> tuple[int, int] | None:
        """The first and last segment holding ``quote`` (spaces and quote marks aside)."""
        wanted = _plain(quote)
        if not wanted or not self.segments:
            return None
        joined, ends = "", []
        for _, said in self.segments:
            joined = f"{joined} {_plain(said)}" if joined else _plain(said)
            ends.append(len(joined))
        at = joined.casefold().find(wanted.casefold())
        if at < 0:
            return None
        first = bisect.bisect_right(ends, at)
        last = bisect.bisect_left(ends, at + len(wanted))
        return first, min(last, len(self.segments) - 1)


def _plain(text: str) -> str:
    return " ".join(text.replace("\u201c", " ").replace("\u201d", " ").split())


def transcript_text(
    lines: list[tuple[str, float, float, str, str]], end_guid: str
) -> TranscriptText:
    """``lines``: (sync point GUID, start s, end s, speaker label or "", text) in time
    order."""
    out = TranscriptText()
    builder = TextBuilder()
    last_end = 0.0
    for sync_guid, start, end, speaker, said in lines:
        label = speaker
        said = " ".join(clean(said).split())
        ms = int(round(start * 1000))
        out.sync.append(SyncPoint(sync_guid, builder.length, ms))
        builder.line(f"{label}: " if label else "", said)
        out.segments.append((start, said))
        last_end = max(last_end, end, start)
    out.text = builder.text()
    if lines:
        out.sync.append(SyncPoint(end_guid, builder.length, int(round(last_end * 1000))))
    return out
