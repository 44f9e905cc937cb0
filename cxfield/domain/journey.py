"""Calculations on journeys that every view and export shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cxfield.domain.vocabulary import BlueprintLane, ParticipantKind


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


def curve_runs(values: Sequence[float | None]) -> list[list[int]]:
    """The stretches of consecutive steps that have a value, as lists of indices.

    An emotion curve draws one line per stretch: a step without ratings breaks the line
    rather than being bridged by a straight line that suggests how it felt."""
    runs: list[list[int]] = []
    previous: int | None = None
    for index, value in enumerate(values):
        if value is None:
            continue
        if previous is not None and previous == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
        previous = index
    return runs


def curve_gaps(values: Sequence[float | None]) -> list[tuple[int, int]]:
    """(last index before, first index after) for each stretch of steps without a value
    between two that have one: where a curve is broken and the gap is marked."""
    runs = curve_runs(values)
    return [(a[-1], b[0]) for a, b in zip(runs, runs[1:], strict=False)]


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


def staff_takes_part(lane: BlueprintLane | str, step_roles: Sequence[str], role: str) -> bool:
    """Does a staff member with ``role`` take part in a step?  Yes where the step names the
    role; where it names none, every staff role takes part in a frontstage, backstage or
    support step, and none in a user step (the customer's own action)."""
    if step_roles:
        wanted = role.casefold()
        return any(r.casefold() == wanted for r in step_roles)
    return BlueprintLane(lane) in ParticipantKind.STAFF.path_lanes


def signed(value: float, decimals: int = 0) -> str:
    """A valence for display: ``+1``, ``-1.4``, and plain ``0`` (zero has no sign)."""
    text = f"{value:+.{decimals}f}"
    return text[1:] if float(text) == 0 else text
