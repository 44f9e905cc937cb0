"""Calculations on journeys that every view and export shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ValenceSummary:
    """Aggregated valence of one step over many sessions."""

    n: int
    mean: float | None
    stdev: float | None
    counts: dict[int, int]  # valence (-2..2) -> number of sessions


def summarise_counts(counts: dict[int, int]) -> ValenceSummary:
    """Mean and population spread from a valence histogram (as SQL returns it)."""
    n = sum(counts.values())
    full = {v: counts.get(v, 0) for v in range(-2, 3)}
    if n == 0:
        return ValenceSummary(0, None, None, full)
    mean = sum(v * c for v, c in full.items()) / n
    var = sum(c * (v - mean) ** 2 for v, c in full.items()) / n
    return ValenceSummary(n, mean, math.sqrt(var), full)


def step_durations(
    entered_at: Sequence[float | None],
) -> list[float | None]:
    """Seconds spent in each step, from the offsets at which each step was entered.

    A step lasts until the customer enters the next step *in time* (visits are not
    linear, so that may be any step); the last one entered has no known end."""
    result: list[float | None] = []
    for index, start in enumerate(entered_at):
        if start is None:
            result.append(None)
            continue
        later = [t for i, t in enumerate(entered_at) if i != index and t is not None and t > start]
        result.append(min(later) - start if later else None)
    return result


def signed(value: float, decimals: int = 0) -> str:
    """A valence for display: ``+1``, ``-1.4``, and plain ``0`` (zero has no sign)."""
    text = f"{value:+.{decimals}f}"
    return text[1:] if float(text) == 0 else text
