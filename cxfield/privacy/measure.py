"""Recall, precision and leak rate of the detectors on synthetic transcripts.

- recall (per planted kind): share of planted details whose every letter and digit is
  inside some detected span (of any kind: what matters is that it does not leave);
- leak rate: share of the planted details' letters and digits left uncovered;
- precision (per detected kind): share of detected spans that overlap a planted detail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from cxfield.privacy.detect import Detector, ScanContext
from cxfield.privacy.kinds import Span
from cxfield.privacy.synthetic import Sample


@dataclass
class KindScore:
    planted: int = 0
    caught: int = 0
    chars: int = 0
    leaked_chars: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0

    @property
    def leak(self) -> float:
        return self.leaked_chars / self.chars if self.chars else 0.0


@dataclass
class Scores:
    kinds: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))
    detected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    true_detected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: detected spans that touch a hard negative (a dollar amount, an appointment date ...)
    negatives_hit: int = 0
    negatives: int = 0
    #: a few misses, for whoever tunes the detectors
    misses: list[tuple[str, str]] = field(default_factory=list)

    def precision(self, kind: str) -> float:
        found = self.detected.get(kind, 0)
        return self.true_detected.get(kind, 0) / found if found else 1.0

    def overall_precision(self) -> float:
        found = sum(self.detected.values())
        return sum(self.true_detected.values()) / found if found else 1.0


def _alnum_positions(text: str, start: int, end: int) -> list[int]:
    return [i for i in range(start, end) if text[i].isalnum()]


def score(samples: Iterable[Sample], detector: Detector | None = None) -> Scores:
    detector = detector or Detector()
    result = Scores()
    for sample in samples:
        spans = detector.scan(
            sample.text,
            ScanContext(names=sample.listed_names, case_patterns=sample.case_patterns),
        )
        _score_sample(sample, spans, result)
    return result


def _score_sample(sample: Sample, spans: list[Span], result: Scores) -> None:
    covered: set[int] = set()
    for span in spans:
        covered.update(range(span.start, span.end))
    for planted in sample.planted:
        wanted = _alnum_positions(sample.text, planted.start, planted.end)
        left = [i for i in wanted if i not in covered]
        entry = result.kinds[planted.kind]
        entry.planted += 1
        entry.chars += len(wanted)
        entry.leaked_chars += len(left)
        if not left:
            entry.caught += 1
        elif len(result.misses) < 40:
            result.misses.append((planted.kind, planted.value))
    for span in spans:
        kind = span.kind.value
        result.detected[kind] += 1
        if any(span.start < p.end and p.start < span.end for p in sample.planted):
            result.true_detected[kind] += 1
    for start, end in sample.negatives:
        result.negatives += 1
        if any(span.start < end and start < span.end for span in spans):
            result.negatives_hit += 1
