"""The journey map as a figure: stages over steps, the aggregated emotion curve, and the
four service-blueprint lanes (18F: user steps, frontstage, backstage, support)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reportlab.graphics.shapes import Drawing, Group, Line, Rect
from reportlab.lib import colors

from cxfield.domain.clock import duration_text
from cxfield.domain.vocabulary import BlueprintLane, Channel
from cxfield.export.charts import (
    GRID,
    INK,
    LINE,
    MUTED,
    PAIN,
    STAFF,
    CurvePoint,
    plot_curve,
    text,
    valence_axis,
    wrapped,
)
from cxfield.export.fonts import BOLD
from cxfield.services.analysis import StepAggregate
from cxfield.services.ops_analysis import OpsStepStats
from cxfield.services.studies import Journey
from cxfield.storage.models import Stage, Step

#: at most this many step columns per figure; longer journeys continue in another figure
MAX_COLUMNS = 12

_STAGE_FILLS = ["#1f4e79", "#2e6b8f", "#3b7f7a", "#5b6e8c", "#6b5b8c", "#2f5d62"]
_LANE_FILLS = {
    BlueprintLane.USER: colors.HexColor("#fdf6e3"),
    BlueprintLane.FRONTSTAGE: colors.HexColor("#eaf2fb"),
    BlueprintLane.BACKSTAGE: colors.HexColor("#eef1f4"),
    BlueprintLane.SUPPORT: colors.HexColor("#f3eef8"),
}
_LANE_LINES = {
    BlueprintLane.FRONTSTAGE: ("line of interaction", None),
    BlueprintLane.BACKSTAGE: ("line of visibility", [3, 2]),
    BlueprintLane.SUPPORT: ("line of internal interaction", [1, 2]),
}


def chunks(journey: Journey) -> list[list[tuple[Stage, list[Step]]]]:
    """Split the journey into figures of at most MAX_COLUMNS steps, at stage boundaries
    where possible (a very long stage is split itself)."""
    figures: list[list[tuple[Stage, list[Step]]]] = [[]]
    used = 0
    for view in journey.stages:
        steps = list(view.steps) or []
        while True:
            room = MAX_COLUMNS - used
            if len(steps) <= room:
                figures[-1].append((view.stage, steps))
                used += max(1, len(steps))
                break
            if used and len(steps) <= MAX_COLUMNS:
                figures.append([])
                used = 0
                continue
            figures[-1].append((view.stage, steps[:room]))
            steps = steps[room:]
            figures.append([])
            used = 0
    return [f for f in figures if f]


def journey_figure(
    part: Sequence[tuple[Stage, list[Step]]],
    aggregates: Mapping[str, StepAggregate],
    width: float,
    height: float,
    numbers: Mapping[str, int] | None = None,
    *,
    staff: Mapping[str, StepAggregate] | None = None,
    ops: Mapping[str, OpsStepStats] | None = None,
    interviews: tuple[int, int] | None = None,
) -> Drawing:
    """One figure: stage bands, the customers' curve (mean and one-SD spread, n and pain
    share per step) with the staff curve over it when ``staff`` is given (each with its own
    n), the operations lane (median, 90th percentile, customers) when ``ops`` is given, and
    the blueprint lanes with a box per step, named "3. Wait" when ``numbers`` (step id ->
    number on the journey map) is given.  ``interviews``: (customer, staff) interviews, for
    the legend."""
    numbers = numbers or {}
    drawing = Drawing(width, height)
    g = Group()
    label_w = 78.0
    columns: list[tuple[Stage, Step | None]] = []
    for stage, steps in part:
        # a stage without steps still gets a column, so it shows on the map
        columns.extend([(stage, s) for s in steps] or [(stage, None)])
    n = max(1, len(columns))
    col_w = (width - label_w) / n
    row_labels = [("Ratings", MUTED), ("Pain points", PAIN)]
    if staff is not None:
        row_labels += [("Staff ratings", STAFF), ("Staff pain points", STAFF)]
    if ops is not None:
        row_labels += [("Ops median · p90", INK), ("Ops customers", INK)]
    row_h = 9.0
    stage_h, curve_h = 22.0, 150.0 if staff is None and ops is None else 140.0
    stats_h = 4 + row_h * len(row_labels)
    lane_h = (height - stage_h - curve_h - stats_h - 8) / 4
    top = height

    # stages
    x = label_w
    stage_index: dict[str, int] = {}
    for stage, steps in part:
        span = max(1, len(steps)) * col_w
        idx = stage_index.setdefault(stage.id, len(stage_index))
        fill = colors.HexColor(_STAGE_FILLS[idx % len(_STAGE_FILLS)])
        g.add(
            Rect(
                x + 1,
                top - stage_h,
                span - 2,
                stage_h - 2,
                fillColor=fill,
                strokeColor=None,
                rx=3,
                ry=3,
            )
        )
        wrapped(
            g,
            x + span / 2,
            top - 4.5,
            stage.name,
            8.5,
            span - 8,
            max_lines=1,
            font=BOLD,
            color=colors.white,
        )
        x += span
    text(g, 0, top - 14, "Stage", 7.5, font=BOLD, color=MUTED)

    # emotion curve
    c_top = top - stage_h - 6
    c_bottom = c_top - curve_h
    valence_axis(g, label_w, width, c_bottom, c_top, labels=True, words=True, size=6.5)
    xs = [label_w + col_w * (i + 0.5) for i in range(n)]
    points = []
    for _, step in columns:
        agg = aggregates.get(step.id) if step is not None else None
        if agg is None:
            points.append(CurvePoint("", None))
        else:
            v = agg.valence
            points.append(CurvePoint("", v.mean, v.stdev, v.n, agg.pain_points))
    staff_points = []
    for _, step in columns:
        agg = staff.get(step.id) if step is not None and staff is not None else None
        staff_points.append(
            CurvePoint("", agg.valence.mean if agg else None, None, agg.valence.n if agg else 0)
        )
    plot_curve(
        g, xs, points, c_bottom + 6, c_top - 6, spread=True, dot=3.6, value_size=7,
        beside=[p.mean for p in staff_points] if staff is not None else None,
    )  # fmt: skip

    if staff is not None:
        plot_curve(
            g, xs, staff_points, c_bottom + 6, c_top - 6, spread=False, dot=3.0, value_size=6.5,
            staff=True, beside=[p.mean for p in points],
        )  # fmt: skip
        customers, workers = interviews or (0, 0)
        legend = [
            (f"customers ({customers} interviews)", LINE, False),
            (f"staff ({workers} interviews)", STAFF, True),
        ]
        lx = label_w + 4
        for label, color, square in legend:
            if square:
                g.add(Rect(lx, c_top - 9, 6, 6, fillColor=colors.white, strokeColor=color))
            else:
                g.add(Line(lx, c_top - 6, lx + 8, c_top - 6, strokeColor=color, strokeWidth=1.6))
            text(g, lx + 11, c_top - 8.5, label, 6.5, color=color)
            lx += 20 + len(label) * 3.3

    # ratings and pain share under the curve, each side with its own n; the pain share is
    # of the side's captures of the step, as in the report's per-step table (the same
    # aggregate), so the two pages give the same percentage
    s_top = c_bottom - 3
    for index, (label, color) in enumerate(row_labels):
        text(g, 0, s_top - 8 - row_h * index, label, 6.5, color=color)
    sides = [(aggregates, MUTED, PAIN)] + ([(staff, STAFF, STAFF)] if staff is not None else [])
    for offset, (side, n_color, pain_color) in enumerate(sides):
        y_n = s_top - 8 - row_h * 2 * offset
        for xx, (_, step) in zip(xs, columns, strict=True):
            agg = side.get(step.id) if step is not None else None
            if agg is None or not agg.captures:
                continue
            text(g, xx, y_n, f"n={agg.valence.n}", 6.5, color=n_color, anchor="middle")
            share = agg.pain_points / agg.captures * 100
            text(
                g, xx, y_n - row_h, f"{agg.pain_points} ({share:.0f}%)", 6.5,
                color=pain_color, anchor="middle",
            )  # fmt: skip
    if ops is not None:
        y_ops = s_top - 8 - row_h * (len(row_labels) - 2)
        for xx, (_, step) in zip(xs, columns, strict=True):
            stat = ops.get(step.id) if step is not None else None
            if stat is None:
                continue
            if stat.median_s is not None and stat.p90_s is not None:
                times = f"{duration_text(stat.median_s)} · {duration_text(stat.p90_s)}"
                text(g, xx, y_ops, times, 6.3, anchor="middle")
            text(g, xx, y_ops - row_h, f"{stat.volume:,}", 6.3, anchor="middle")

    # lanes
    lanes_top = s_top - stats_h
    for index, lane in enumerate(BlueprintLane):
        l_top = lanes_top - index * lane_h
        g.add(Rect(0, l_top - lane_h, width, lane_h, fillColor=_LANE_FILLS[lane], strokeColor=None))
        wrapped(
            g,
            3,
            l_top - lane_h / 2 + 8,
            lane.label,
            7.5,
            label_w - 8,
            max_lines=2,
            font=BOLD,
            anchor="start",
        )
        if lane in _LANE_LINES:
            name, dash = _LANE_LINES[lane]
            g.add(
                Line(
                    0, l_top, width, l_top, strokeColor=MUTED, strokeWidth=0.7, strokeDashArray=dash
                )
            )
            text(g, 3, l_top + 2, name, 5.5, color=MUTED)
        for xx, (_, step) in zip(xs, columns, strict=True):
            if step is None or step.lane != lane:
                continue
            bx, bw, bh = xx - col_w / 2 + 3, col_w - 6, lane_h - 8
            g.add(
                Rect(
                    bx,
                    l_top - lane_h + 4,
                    bw,
                    bh,
                    rx=3,
                    ry=3,
                    fillColor=colors.white,
                    strokeColor=GRID,
                    strokeWidth=0.8,
                )
            )
            number = numbers.get(step.id)
            name = f"{number}. {step.name}" if number else step.name
            lines = wrapped(g, xx, l_top - 6, name, 7, bw - 6, max_lines=3, color=INK)
            channel = Channel(step.channel).label
            text(
                g, xx, l_top - 6 - 7 * 1.15 * lines - 8, channel, 5.8, color=MUTED, anchor="middle"
            )
    for i in range(1, n):
        xx = label_w + col_w * i
        g.add(
            Line(xx, lanes_top - 4 * lane_h, xx, lanes_top, strokeColor=colors.white, strokeWidth=1)
        )
    drawing.add(g)
    return drawing
