"""The transcription pipeline: windows of audio → speech only → whisper → times on the
recording's clock.

A recording is read in blocks of about ten minutes, cut at the quietest moment near the
block's end so that no word is split.  With silence skipping on, the speech regions of a
block are joined into one shorter array (as faster-whisper does) and every segment time the
model returns is mapped back through the joins, so times stay on the original clock.  When
speech fills nearly the whole block it is passed through untouched: the pipeline then costs
what a bare ``whisper.transcribe`` costs.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from cxfield.transcribe import vad
from cxfield.transcribe.audio_source import SAMPLE_RATE, AudioSource

if TYPE_CHECKING:
    from cxfield.transcribe.engines import Engine

ProgressFn = Callable[[float, float], None]
CancelFn = Callable[[], bool]

BLOCK_S = 600.0
CUT_SEARCH_S = 15.0
#: below this share of speech a block is compacted; above, joining saves too little
COMPACT_BELOW = 0.9


class Cancelled(Exception):
    """Raised inside the pipeline when the caller's cancel check says stop."""


@dataclass
class DecodeSettings:
    language: str | None = None
    translate: bool = False
    word_timestamps: bool = False
    skip_silence: bool = True
    #: further ``whisper.transcribe`` keyword arguments (temperature, beam_size, ...)
    extra: dict[str, Any] = field(default_factory=dict)

    def whisper_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"fp16": False, **self.extra}
        kwargs["language"] = self.language
        kwargs["task"] = "translate" if self.translate else "transcribe"
        kwargs["word_timestamps"] = self.word_timestamps
        return kwargs


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[dict[str, Any]] | None = None

    def as_whisper(self, index: int) -> dict[str, Any]:
        data: dict[str, Any] = {"id": index, "start": self.start, "end": self.end}
        data["text"] = self.text
        if self.words is not None:
            data["words"] = self.words
        return data


@dataclass
class TranscriptResult:
    language: str | None
    segments: list[Segment]
    duration_s: float
    #: seconds of audio that reached the model (less than duration with silence skipping)
    model_audio_s: float = 0.0
    #: suggested speaker turns (:class:`~cxfield.transcribe.speakers.SpeakerTurn`), when
    #: speaker labels were asked for
    turns: list[Any] = field(default_factory=list)
    #: how the interviewer among the voices was chosen ("enrolled voice", "first voice")
    interviewer_by: str = ""

    def as_whisper(self) -> dict[str, Any]:
        """The dict ``whisper.transcribe`` returns, for whisper's own writers."""
        return {
            "text": "".join(s.text for s in self.segments),
            "segments": [s.as_whisper(i) for i, s in enumerate(self.segments)],
            "language": self.language,
        }


class TimeMap:
    """Maps times on joined speech back to the original clock."""

    def __init__(self, regions: list[tuple[int, int]], offset_s: float) -> None:
        self.orig_starts = [a / SAMPLE_RATE + offset_s for a, _ in regions]
        self.lengths = [(b - a) / SAMPLE_RATE for a, b in regions]
        self.joined_starts: list[float] = []
        total = 0.0
        for length in self.lengths:
            self.joined_starts.append(total)
            total += length
        self.joined_length = total

    def span_to_original(self, start: float, end: float) -> tuple[float, float]:
        """A segment's times on the original clock.  A segment that crosses a join (the
        model heard two speech regions as one sentence) is placed in the region holding
        most of it, so no segment spans a skipped silence."""
        a = self.to_original(start)
        b = self.to_original(end, is_end=True)
        first = max(
            bisect_right(self.joined_starts, min(max(start, 0.0), self.joined_length)) - 1, 0
        )
        if b - a <= (end - start) + 1e-6 or first >= len(self.lengths) - 1:
            return a, b
        best, best_overlap = first, -1.0
        for i in range(first, len(self.lengths)):
            lo, hi = self.joined_starts[i], self.joined_starts[i] + self.lengths[i]
            if lo >= end:
                break
            overlap = min(hi, end) - max(lo, start)
            if overlap > best_overlap:
                best, best_overlap = i, overlap
        lo, hi = self.orig_starts[best], self.orig_starts[best] + self.lengths[best]
        return min(max(a, lo), hi), max(min(b, hi), lo)

    def to_original(self, t: float, *, is_end: bool = False) -> float:
        t = min(max(t, 0.0), self.joined_length)
        i = bisect_right(self.joined_starts, t) - 1
        # an end exactly on a join belongs to the region before it
        if is_end and i > 0 and t == self.joined_starts[i]:
            i -= 1
        i = max(i, 0)
        return self.orig_starts[i] + min(t - self.joined_starts[i], self.lengths[i])


class Transcriber:
    """One loaded engine and one set of options; transcribes stretches or whole sources.

    ``engine`` is an :class:`~cxfield.transcribe.engines.Engine`; a bare whisper model (as
    ``whisper.load_model`` returns) is run by the openai-whisper engine."""

    def __init__(self, engine: Any, settings: DecodeSettings) -> None:
        from cxfield.transcribe.engines import CTranslate2Engine, OpenAIWhisperEngine

        if not isinstance(engine, OpenAIWhisperEngine | CTranslate2Engine):
            engine = OpenAIWhisperEngine(engine)
        self.engine: Engine = engine
        self.settings = settings
        self.language = settings.language
        self.model_audio_s = 0.0

    def transcribe_stretch(
        self,
        samples: np.ndarray,
        offset_s: float,
        on_window: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        """Segments of one stretch of audio, timed on the clock where it starts at
        ``offset_s``.  ``on_window`` gets the share of the stretch done (0..1)."""
        length_s = len(samples) / SAMPLE_RATE
        if len(samples) == 0:
            return []
        regions = [(0, len(samples))]
        if self.settings.skip_silence:
            regions = vad.speech_regions(samples)
            if not regions:
                return []
            speech = sum(b - a for a, b in regions)
            if speech >= COMPACT_BELOW * len(samples):
                regions = [(0, len(samples))]
        audio = (
            samples
            if regions == [(0, len(samples))]
            else np.concatenate([samples[a:b] for a, b in regions])
        )
        time_map = TimeMap(regions, offset_s)
        self.model_audio_s += len(audio) / SAMPLE_RATE
        result = self._whisper(audio, on_window)
        if self.language is None and result.get("language"):
            # one language for the whole recording: the first speech decides
            self.language = str(result["language"])
        end_limit = offset_s + length_s
        segments = []
        for raw in result.get("segments", []):
            start, end = time_map.span_to_original(float(raw["start"]), float(raw["end"]))
            start, end = min(start, end_limit), min(max(end, start), end_limit)
            words = None
            if raw.get("words") is not None:
                words = [
                    {
                        **w,
                        "start": time_map.to_original(float(w["start"])),
                        "end": time_map.to_original(float(w["end"]), is_end=True),
                    }
                    for w in raw["words"]
                ]
            segments.append(Segment(start, end, str(raw["text"]), words))
        return segments

    def _whisper(self, audio: np.ndarray, on_window: Callable[[float], None] | None) -> Any:
        return self.engine.transcribe(audio, self.settings, self.language, on_window)

    def transcribe_source(
        self,
        source: AudioSource,
        on_progress: ProgressFn | None = None,
        should_cancel: CancelFn | None = None,
        block_s: float = BLOCK_S,
    ) -> TranscriptResult:
        """Transcribe a whole source block by block; progress in seconds of audio."""
        total = source.duration_s
        segments: list[Segment] = []
        done = 0.0
        for offset_s, block in _cut_blocks(source, block_s):
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            block_len = len(block) / SAMPLE_RATE

            def on_window(share: float, base: float = done, span: float = block_len) -> None:
                if on_progress is not None:
                    on_progress(min(base + share * span, total or base + span), total)

            segments.extend(self.transcribe_stretch(block, offset_s, on_window))
            done = offset_s + block_len
            if on_progress is not None:
                on_progress(done, max(total, done))
        segments.sort(key=lambda s: (s.start, s.end))
        return TranscriptResult(self.language, segments, max(total, done), self.model_audio_s)


def _cut_blocks(source: AudioSource, block_s: float) -> Iterator[tuple[float, np.ndarray]]:
    """Blocks of about ``block_s`` seconds with their start time, each cut at the quietest
    30 ms near its end; at most one block (plus the read window) is held at a time."""
    block_n = int(block_s * SAMPLE_RATE)
    search_n = int(min(CUT_SEARCH_S, block_s / 4) * SAMPLE_RATE)
    buffer = np.zeros(0, dtype=np.float32)
    offset = 0
    for chunk in source.blocks(int(30 * SAMPLE_RATE)):
        buffer = np.concatenate((buffer, chunk)) if len(buffer) else chunk
        while len(buffer) >= block_n + search_n:
            cut = vad.quietest_point(buffer, block_n - search_n, block_n + search_n)
            cut = max(cut, vad.FRAME)
            yield offset / SAMPLE_RATE, buffer[:cut]
            offset += cut
            buffer = buffer[cut:].copy()
    if len(buffer):
        yield offset / SAMPLE_RATE, buffer
