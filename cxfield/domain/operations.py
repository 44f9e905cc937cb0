"""Operations data beside the emotions: how a queue-management export, a case system's
dates or call-centre times become time spent per step, and the plain statistics (median,
90th percentile, correlation) the journey map and the report show.

Each mapped column holds the time a customer *entered* a step; a step lasts until the next
mapped column that has a time (a customer who was never "called" goes from "issued" to
"served"); the end column, when given, ends the last step.  Pure Python: no database."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

#: at least this many sites (or weeks) with both an operations time and ratings at a step
#: before a correlation is worked out; fewer points say nothing
MIN_CORRELATION_POINTS = 4

CORRELATION_CAUTION = (
    "Correlation is not cause: a step's time and how it felt can move together because "
    "of something else (staffing, the season, who comes when), and a handful of sites or "
    "weeks is a small sample."
)

_ISO = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


class TimeFormatError(ValueError):
    """A cell that should hold a time but does not."""


def parse_time(value: object) -> datetime | None:
    """A cell as an aware UTC datetime; None for an empty cell.

    Accepts spreadsheet datetimes and dates, and text written year first: 2026-03-01
    09:15, 2026-03-01T09:15:30Z, 2026/03/01 09:15, with an optional offset (+02:00).
    Times without a zone are taken as written (as UTC), so a day's counts are the days the
    export shows.  Day-first or month-first dates (03/01/2026) are refused: they are
    ambiguous, and a wrong guess would shift every duration."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    text = str(value).strip()
    if not text:
        return None
    match = _ISO.match(text)
    if match is None:
        raise TimeFormatError(f"{text[:40]!r} is not a time (write it like 2026-03-01 09:15)")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        raise TimeFormatError(f"{text[:40]!r} is not a real date or time") from None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        return moment.replace(tzinfo=UTC) - timedelta(minutes=offset)
    return moment.replace(tzinfo=UTC)


def looks_like_times(values: Sequence[object]) -> bool:
    """Does a column hold times?  At least one value, and nine in ten of the filled ones
    read as times (the import dialog's guess; the lead confirms it)."""
    filled = [v for v in values if v is not None and str(v).strip()]
    if not filled:
        return False
    good = 0
    for value in filled:
        try:
            if parse_time(value) is not None and not _is_bare_number(value):
                good += 1
        except TimeFormatError:
            pass
    return good >= max(1, math.ceil(len(filled) * 0.9))


def _is_bare_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Interval:
    """One customer's time in one mapped step."""

    position: int  # index of the mapped column
    entered_at: datetime
    left_at: datetime | None

    @property
    def seconds(self) -> float | None:
        if self.left_at is None:
            return None
        return (self.left_at - self.entered_at).total_seconds()


class OutOfOrder(ValueError):
    """A later mapped column (``after``; None: the end column) holds an earlier time than
    the column before it (``before``)."""

    def __init__(self, before: int, after: int | None) -> None:
        super().__init__(f"column {after} is earlier than column {before}")
        self.before, self.after = before, after


def row_intervals(times: Sequence[datetime | None], end: datetime | None) -> list[Interval]:
    """The steps one row went through: each mapped column with a time is entered then and
    left when the next mapped column with a time was entered (or at ``end``).  Raises
    :class:`OutOfOrder` when a later step starts before an earlier one."""
    filled = [(i, t) for i, t in enumerate(times) if t is not None]
    result: list[Interval] = []
    for k, (index, entered) in enumerate(filled):
        following = filled[k + 1] if k + 1 < len(filled) else None
        left = following[1] if following else end
        if left is not None and left < entered:
            raise OutOfOrder(index, following[0] if following else None)
        result.append(Interval(index, entered, left))
    return result


def quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolated between neighbours (the method of
    spreadsheets' PERCENTILE and numpy's default): the median is quantile(v, 0.5)."""
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's correlation coefficient; None with fewer than two points or no spread."""
    n = len(xs)
    if n != len(ys) or n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def correlation_words(r: float, n: int, by: str) -> str:
    """A correlation in plain words: "longer times went with worse feelings (r = −0.72
    across 9 weeks)".  ``by`` is "sites" or "weeks"."""
    strength = abs(r)
    if strength < 0.3:
        trend = "no clear link between the time and how it felt"
    else:
        how = "strongly" if strength >= 0.7 else "somewhat"
        worse = "worse" if r < 0 else "better"
        trend = f"longer times went {how} with {worse} feelings"
    value = f"{r:+.2f}".replace("-", "\u2212")
    return f"{trend} (r = {value} across {n} {by})"


def correlation_short(r: float, n: int, by: str) -> str:
    """The same in two short lines for a journey-map cell: "r = −0.72, 9 weeks" and
    "longer: felt worse"."""
    value = f"{r:+.2f}".replace("-", "\u2212")
    worse = "worse" if r < 0 else "better"
    trend = "no clear link" if abs(r) < 0.3 else f"longer: felt {worse}"
    return f"r = {value}, {n} {by}\n{trend}"
