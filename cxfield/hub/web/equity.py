"""The equity lens in numbers: a 95 % interval per point, and the steps where one segment's
mean rating differs from the rest of the selection by more than chance would explain
(Welch's interval for a difference of means), said in words."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cxfield.domain.journey import ValenceSummary, summarise_counts
from cxfield.export.study_data import SegmentView
from cxfield.services.analysis import MIN_SESSIONS_PER_SEGMENT
from cxfield.storage.models import Step

Z95 = 1.959964


def interval(summary: ValenceSummary) -> tuple[float, float] | None:
    """The 95 % interval of a mean rating (sample spread), or None below 2 ratings."""
    if summary.mean is None or summary.stdev is None or summary.n < 2:
        return None
    sample_sd = summary.stdev * math.sqrt(summary.n / (summary.n - 1))
    half = Z95 * sample_sd / math.sqrt(summary.n)
    return summary.mean - half, summary.mean + half


def _variance(summary: ValenceSummary) -> float:
    assert summary.stdev is not None
    return summary.stdev**2 * summary.n / (summary.n - 1)


@dataclass(frozen=True)
class Gap:
    value: str
    step_id: str
    difference: float  # segment mean - rest mean
    n: int
    n_rest: int
    sentence: str


def _rest(lens: SegmentView, value: str, step_id: str) -> ValenceSummary:
    counts: dict[int, int] = {}
    for other, steps in lens.curves.curves.items():
        if other == value or step_id not in steps:
            continue
        for point, n in steps[step_id].valence.counts.items():
            counts[point] = counts.get(point, 0) + n
    return summarise_counts(counts)


def value_label(value: str) -> str:
    return value if value else "Not recorded"


def gaps(lens: SegmentView, steps: list[Step]) -> list[Gap]:
    """The flagged differences, largest first.  A segment with fewer than
    MIN_SESSIONS_PER_SEGMENT sessions, or a step with fewer ratings than that on either
    side, is never flagged (too thin to tell)."""
    found: list[Gap] = []
    for value in lens.values:
        if lens.curves.too_few(value):
            continue
        for step in steps:
            aggregate = lens.curves.curves.get(value, {}).get(step.id)
            if aggregate is None:
                continue
            mine, rest = aggregate.valence, _rest(lens, value, step.id)
            if min(mine.n, rest.n) < MIN_SESSIONS_PER_SEGMENT:
                continue
            assert mine.mean is not None and rest.mean is not None
            difference = mine.mean - rest.mean
            margin = Z95 * math.sqrt(_variance(mine) / mine.n + _variance(rest) / rest.n)
            if abs(difference) <= margin or abs(difference) < 0.05:
                continue
            way = "lower" if difference < 0 else "higher"
            sentence = (
                f"{value_label(value)} ({lens.label}) rated {step.name} "
                f"{abs(difference):.1f} points {way} than the rest, "
                f"n = {mine.n} vs {rest.n}"
            )
            found.append(Gap(value, step.id, difference, mine.n, rest.n, sentence))
    found.sort(key=lambda g: (-abs(g.difference), g.sentence))
    return found
