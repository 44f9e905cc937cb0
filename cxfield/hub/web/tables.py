"""The page's tables as CSV (UTF-8 with a byte-order mark, RFC 4180, formula-safe): the
same aggregates as the page and the study report, for the same selection."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from cxfield.domain.journey import ValenceSummary
from cxfield.domain.survey import REPORTING_QUESTIONS
from cxfield.domain.vocabulary import BlueprintLane
from cxfield.export.csv_format import csv_writer, safe
from cxfield.hub.web import equity
from cxfield.hub.web.data import MapData
from cxfield.services.analysis import step_numbers
from cxfield.storage.models import Step

Rows = Iterator[list[Any]]


def _num(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{round(value, digits):g}"


def _steps(data: MapData) -> list[Step]:
    return [
        s
        for s in data.journey.steps
        if s.lane == BlueprintLane.USER or s.id in data.aggregates or s.id in data.staff_aggregates
    ]


#: customers' figures, then the staff's over the same step (each side its own n)
STEP_COLUMNS = [
    "step_order", "step_id", "step", "stage", "lane", "captures", "n", "mean", "spread",
    "count_minus2", "count_minus1", "count_0", "count_plus1", "count_plus2", "pain_points",
    "staff_captures", "staff_n", "staff_mean", "staff_pain_points",
]  # fmt: skip


def step_rows(data: MapData) -> Rows:
    numbers = step_numbers(data.journey)
    stages = {s.id: v.stage.name for v in data.journey.stages for s in v.steps}
    for s in _steps(data):
        a, b = data.aggregates.get(s.id), data.staff_aggregates.get(s.id)
        v = a.valence if a else ValenceSummary(0, None, None, {})
        w = b.valence if b else ValenceSummary(0, None, None, {})
        yield [
            numbers[s.id], s.id, safe(s.name), safe(stages.get(s.id, "")), str(s.lane),
            a.captures if a else 0, v.n, _num(v.mean), _num(v.stdev),
            *[v.counts.get(k, 0) for k in range(-2, 3)], a.pain_points if a else 0,
            b.captures if b else 0, w.n, _num(w.mean), b.pain_points if b else 0,
        ]  # fmt: skip


EQUITY_COLUMNS = [
    "attribute", "segment", "sessions", "too_few", "step_order", "step", "n", "mean",
    "ci95_low", "ci95_high", "flagged", "difference_from_rest", "n_rest",
]  # fmt: skip


def equity_rows(data: MapData) -> Rows:
    view = data.lens
    if view is None:
        return
    numbers = step_numbers(data.journey)
    steps = _steps(data)
    found = {(g.value, g.step_id): g for g in equity.gaps(view, steps)}
    for value in view.values:
        curve = view.curves.curves.get(value, {})
        for s in steps:
            a = curve.get(s.id)
            v = a.valence if a else ValenceSummary(0, None, None, {})
            ci = equity.interval(v)
            gap = found.get((value, s.id))
            yield [
                view.key, safe(value), view.curves.sessions.get(value, 0),
                str(view.curves.too_few(value)).lower(), numbers[s.id], safe(s.name), v.n,
                _num(v.mean), _num(ci[0] if ci else None), _num(ci[1] if ci else None),
                "true" if gap else "false", _num(gap.difference if gap else None),
                gap.n_rest if gap else "",
            ]  # fmt: skip


PAIN_COLUMNS = ["rank", "step_order", "step", "pain_point", "times"]


def pain_rows(data: MapData) -> Rows:
    numbers = step_numbers(data.journey)
    names = {s.id: s.name for s in data.journey.steps}
    for rank, item in enumerate(data.pain_points, start=1):
        yield [
            rank, numbers.get(item.step_id, ""), safe(names.get(item.step_id, "")),
            safe(item.text), item.count,
        ]  # fmt: skip


TIME_COLUMNS = ["step_order", "step", "sessions", "median_s", "min_s", "max_s"]


def time_rows(data: MapData) -> Rows:
    numbers = step_numbers(data.journey)
    for s in data.journey.steps:
        d = data.observation.get(s.id)
        if d is not None:
            yield [
                numbers[s.id], safe(s.name), d.n, _num(d.median_s, 1), _num(d.min_s, 1),
                _num(d.max_s, 1),
            ]  # fmt: skip


A11_COLUMNS = ["question", "item", "n", "count_1", "count_2", "count_3", "count_4", "count_5"]


def a11_rows(data: MapData) -> Rows:
    label = {column: key for key, column in REPORTING_QUESTIONS}
    for item in data.survey_items:
        counts = data.survey.counts.get(item.key, {})
        yield [
            label.get(item.key, ""), item.key, sum(counts.values()),
            *[counts.get(k, 0) for k in range(1, 6)],
        ]  # fmt: skip


TABLES: dict[str, tuple[list[str], Callable[[MapData], Rows]]] = {
    "steps": (STEP_COLUMNS, step_rows),
    "equity": (EQUITY_COLUMNS, equity_rows),
    "pain_points": (PAIN_COLUMNS, pain_rows),
    "observed_times": (TIME_COLUMNS, time_rows),
    "a11": (A11_COLUMNS, a11_rows),
}


def csv_text(name: str, data: MapData) -> str:
    columns, rows = TABLES[name]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow(columns)
    writer.writerows(rows(data))
    return out.getvalue()
