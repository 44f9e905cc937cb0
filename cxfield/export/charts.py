"""Vector charts drawn with reportlab.graphics: emotion curves and A-11 Likert bars.

Valence runs on the 5-point scale -2..+2 (very negative .. very positive), coloured
red -> green; a curve shows the mean per step, optionally with a band of one standard
deviation (the spread) and the number of captures behind each point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import arabic_reshaper
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from cxfield.domain.journey import curve_gaps, curve_runs
from cxfield.domain.survey import LIKERT_LABELS
from cxfield.export.fonts import BOLD, REGULAR, runs, text_width
from cxfield.export.text import has_rtl, visual, wrap_lines

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#6b7785")
GRID = colors.HexColor("#d5dbe3")
NEGATIVE_BG = colors.HexColor("#fbeeee")
POSITIVE_BG = colors.HexColor("#edf7ef")
LINE = colors.HexColor("#1f4e79")
BAND = colors.HexColor("#9fbad6")
PAIN = colors.HexColor("#b03a2e")
#: the staff curve beside the customers' (dashed, square markers: it reads without colour)
STAFF = colors.HexColor("#8a4b08")
#: the dotted line across steps without ratings (the curve is broken there)
GAP = colors.HexColor("#9aa5b1")
GAP_DASH = [0.8, 2.2]

#: valence -2..+2 -> colour (red .. grey .. green)
VALENCE_COLORS = {
    -2: colors.HexColor("#c0392b"),
    -1: colors.HexColor("#e67e22"),
    0: colors.HexColor("#95a5a6"),
    1: colors.HexColor("#6ab04c"),
    2: colors.HexColor("#1e8449"),
}
#: Likert 1..5 (strongly disagree .. strongly agree)
LIKERT_COLORS = {
    1: colors.HexColor("#c0392b"),
    2: colors.HexColor("#f0a35e"),
    3: colors.HexColor("#cfd6dd"),
    4: colors.HexColor("#8fc57a"),
    5: colors.HexColor("#1e8449"),
}


def signed(value: float, digits: int) -> str:
    """+1.2 / 0.0 / −1.2 (a real minus sign; never "−0.0")."""
    rounded = round(value, digits)
    if rounded == 0:
        return f"{0:.{digits}f}"
    return f"{rounded:+.{digits}f}".replace("-", "\u2212")


def valence_color(value: float) -> colors.Color:
    """A colour for a (mean) valence, interpolated between the five scale colours."""
    value = max(-2.0, min(2.0, value))
    low = int(value // 1) if value < 2 else 1
    frac = value - low
    return colors.linearlyInterpolatedColor(
        VALENCE_COLORS[low], VALENCE_COLORS[low + 1], 0, 1, frac
    )


def text(
    group: Group,
    x: float,
    y: float,
    value: str,
    size: float,
    *,
    font: str = REGULAR,
    color: colors.Color = INK,
    anchor: str = "start",
) -> None:
    """One line of text with per-character font fallback (Arabic shaped and reordered)."""
    shown = visual(value)
    parts = runs(shown, font)
    width = sum(text_width(part, name, size) for name, part in parts)
    if anchor == "middle":
        x -= width / 2
    elif anchor == "end":
        x -= width
    for name, part in parts:
        group.add(String(x, y, part, fontName=name, fontSize=size, fillColor=color))
        x += text_width(part, name, size)


def wrapped(
    group: Group,
    x: float,
    top: float,
    value: str,
    size: float,
    width: float,
    *,
    max_lines: int = 3,
    font: str = REGULAR,
    color: colors.Color = INK,
    anchor: str = "middle",
) -> int:
    """Text wrapped to ``width`` from ``top`` downwards; an ellipsis when it is cut.

    A word wider than ``width`` first makes the text smaller (down to 80 %), so labels
    break between words rather than inside them."""
    if has_rtl(value):
        value = arabic_reshaper.reshape(value)  # measure the letter forms that are drawn
    widest = max((text_width(w, font, size) for w in value.split()), default=0.0)
    if widest > width > 0:
        size = max(size * 0.8, size * width / widest * 0.98)
    lines = wrap_lines(value, font, size, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    for index, line in enumerate(lines):
        text(
            group,
            x,
            top - size * (index + 1) * 1.15,
            line,
            size,
            font=font,
            color=color,
            anchor=anchor,
        )
    return len(lines)


@dataclass(frozen=True)
class CurvePoint:
    """One step on an emotion curve."""

    label: str
    mean: float | None
    spread: float | None = None  # standard deviation
    n: int | None = None
    pain: int | None = None  # captures flagged as a pain point
    number: int | None = None  # the step's number on the journey map (small multiples)


def plot_curve(
    group: Group,
    xs: Sequence[float],
    points: Sequence[CurvePoint],
    bottom: float,
    top: float,
    *,
    spread: bool = True,
    values: bool = True,
    reference: Sequence[float | None] | None = None,
    muted: bool = False,
    dot: float = 3.2,
    value_size: float = 6.5,
    staff: bool = False,
    beside: Sequence[float | None] | None = None,
) -> None:
    """Draw the valence curve into ``group`` between ``bottom`` (-2) and ``top`` (+2).

    ``staff``: the staff members' curve, drawn over the customers' one: dashed, in its own
    colour, with square markers.  ``beside``: the other side's means at the same steps;
    where the two points are close, the upper point's value goes above it and the lower
    one's below (else the customers' values sit above their points, the staff's below)."""

    def y(v: float) -> float:
        return bottom + (max(-2.0, min(2.0, v)) + 2) / 4 * (top - bottom)

    means = [pt.mean for pt in points]
    if spread:
        spreads = [pt.mean if pt.spread is not None else None for pt in points]
        for run in curve_runs(spreads):
            upper = [(xs[i], y((points[i].mean or 0) + (points[i].spread or 0))) for i in run]
            lower = [(xs[i], y((points[i].mean or 0) - (points[i].spread or 0))) for i in run]
            if len(run) == 1:
                i = run[0]
                group.add(
                    Rect(
                        xs[i] - 3,
                        lower[0][1],
                        6,
                        upper[0][1] - lower[0][1],
                        fillColor=BAND,
                        fillOpacity=0.45,
                        strokeColor=None,
                    )
                )
                continue
            coords = [c for pt in upper + lower[::-1] for c in pt]
            group.add(Polygon(coords, fillColor=BAND, fillOpacity=0.45, strokeColor=None))
    if reference is not None:
        for run in curve_runs(reference):
            if len(run) > 1:
                group.add(
                    PolyLine(
                        [c for i in run for c in (xs[i], y(reference[i] or 0))],
                        strokeColor=MUTED,
                        strokeWidth=0.8,
                        strokeDashArray=[2, 2],
                    )
                )
    line_color = MUTED if muted else STAFF if staff else LINE
    # One line per stretch of rated steps; a step without ratings breaks it, and a faint
    # dotted line marks the gap (no straight line pretends to know how that step felt).
    for run in curve_runs(means):
        if len(run) > 1:
            group.add(
                PolyLine(
                    [c for i in run for c in (xs[i], y(means[i] or 0))],
                    strokeColor=line_color,
                    strokeWidth=1.6 if not muted else 1.0,
                    strokeDashArray=[4, 2] if staff else None,
                )
            )
    for a, b in curve_gaps(means):
        group.add(
            Line(
                xs[a],
                y(means[a] or 0),
                xs[b],
                y(means[b] or 0),
                strokeColor=GAP,
                strokeWidth=0.7,
                strokeDashArray=GAP_DASH,
            )
        )
    for i, pt in enumerate(points):
        if pt.mean is None:
            continue
        fill = colors.HexColor("#b8c0c8") if muted else valence_color(pt.mean)
        if staff:
            group.add(
                Rect(
                    xs[i] - dot,
                    y(pt.mean) - dot,
                    dot * 2,
                    dot * 2,
                    fillColor=fill,
                    strokeColor=STAFF,
                    strokeWidth=0.9,
                )
            )
        else:
            group.add(
                Circle(
                    xs[i],
                    y(pt.mean),
                    dot,
                    fillColor=fill,
                    strokeColor=colors.white,
                    strokeWidth=0.8,
                )
            )
        other = beside[i] if beside is not None and i < len(beside) else None
        # of two close points the upper one carries its value above, the lower one below
        # (at the same mean: the staff's above, the customers' below)
        on_top = other is not None and 0 <= pt.mean - other <= 1.0
        under = other is not None and 0 <= other - pt.mean <= 1.0
        if values and staff:  # below the point, unless it is the upper of the two
            at = y(pt.mean) + dot + 2 if on_top else y(pt.mean) - dot - value_size - 1
            if at < bottom - 4:
                at = y(pt.mean) + dot + 2
            text(
                group,
                xs[i],
                at,
                signed(pt.mean, 1),
                value_size,
                font=BOLD,
                color=STAFF,
                anchor="middle",
            )
        elif values:
            label = signed(pt.mean, 1)
            above = y(pt.mean) + dot + 2
            if above + value_size > top + 4 or under:
                above = y(pt.mean) - dot - value_size - 1
            text(
                group,
                xs[i],
                above,
                label,
                value_size,
                font=BOLD,
                color=MUTED if muted else INK,
                anchor="middle",
            )


def valence_axis(
    group: Group,
    left: float,
    right: float,
    bottom: float,
    top: float,
    *,
    labels: bool = True,
    words: bool = False,
    size: float = 6.5,
) -> None:
    """Background bands, grid lines at each scale point and the -2..+2 labels."""
    mid = (bottom + top) / 2
    group.add(Rect(left, mid, right - left, top - mid, fillColor=POSITIVE_BG, strokeColor=None))
    group.add(
        Rect(left, bottom, right - left, mid - bottom, fillColor=NEGATIVE_BG, strokeColor=None)
    )
    names = {2: "very positive", 1: "positive", 0: "neutral", -1: "negative", -2: "very negative"}
    for v in range(-2, 3):
        yy = bottom + (v + 2) / 4 * (top - bottom)
        group.add(
            Line(
                left,
                yy,
                right,
                yy,
                strokeColor=MUTED if v == 0 else GRID,
                strokeWidth=0.8 if v == 0 else 0.4,
            )
        )
        if labels:
            label = f"{v:+d}".replace("+0", "0").replace("-", "\u2212")
            if words:
                label = f"{names[v]}  {label}"
            text(group, left - 3, yy - size / 3, label, size, color=MUTED, anchor="end")


def emotion_curve(
    points: Sequence[CurvePoint],
    width: float,
    height: float,
    *,
    spread: bool = False,
    show_n: bool = False,
    reference: Sequence[float | None] | None = None,
    muted: bool = False,
    compact: bool = False,
    title: str | None = None,
    note: str | None = None,
    staff_points: Sequence[CurvePoint] | None = None,
) -> Drawing:
    """A curve of valence across steps with the step names underneath; ``staff_points``
    (the same steps) adds the staff curve over it, with its own n under the customers'."""
    drawing = Drawing(width, height)
    group = Group()
    label_size = 5.6 if compact else 7
    axis_w = 16 if compact else 62
    label_lines = 1 if compact else 3
    n_rows = (1 if show_n else 0) + (1 if show_n and staff_points is not None else 0)
    bottom_pad = label_size * 1.15 * label_lines + (label_size + 4) * n_rows + 6
    top_pad = (11 if title else 3) + (8 if note else 0)
    left, right = axis_w, width - 4
    bottom, top = bottom_pad, height - top_pad - 6
    if title:
        text(group, 0, height - 9, title, 8 if compact else 9, font=BOLD)
    if note:
        text(group, 0, height - (19 if title else 9), note, 6.2, color=PAIN)
    valence_axis(group, left, right, bottom, top, words=not compact, size=5.8 if compact else 6.5)
    n = max(1, len(points))
    step_w = (right - left) / n
    xs = [left + step_w * (i + 0.5) for i in range(len(points))]
    plot_curve(
        group,
        xs,
        points,
        bottom + 5,
        top - 5,
        spread=spread,
        reference=reference,
        muted=muted,
        dot=2.4 if compact else 3.2,
        value_size=6.5,
        values=not compact,
        beside=[p.mean for p in staff_points] if staff_points is not None else None,
    )
    if staff_points is not None:
        plot_curve(
            group, xs, staff_points, bottom + 5, top - 5, spread=False, dot=3.0,
            value_size=6.5, values=not compact, staff=True, beside=[p.mean for p in points],
        )  # fmt: skip
    for number, (x, pt) in enumerate(zip(xs, points, strict=True), start=1):
        # Small multiples number their steps (a key sits above them); names would not fit.
        used = wrapped(
            group,
            x,
            bottom - 2,
            str(pt.number or number) if compact else pt.label,
            label_size + (0.8 if compact else 0),
            step_w - 3,
            max_lines=label_lines,
            font=BOLD if compact else REGULAR,
        )
        yy = bottom - 2 - label_size * 1.15 * max(used, 1) - label_size - 2
        if show_n and pt.n is not None:
            text(group, x, yy, f"n={pt.n}", label_size - 0.4, color=MUTED, anchor="middle")
        if show_n and staff_points is not None:
            staff_n = staff_points[number - 1].n or 0
            text(
                group, x, yy - label_size - 2, f"staff n={staff_n}", label_size - 0.4,
                color=STAFF, anchor="middle",
            )  # fmt: skip
    drawing.add(group)
    return drawing


def likert_bars(rows: Sequence[tuple[str, dict[int, int]]], width: float) -> Drawing:
    """100 % stacked bars, one per question, points 1..5 coloured red -> green."""
    bar_h, gap, label_w, right_w = 13.0, 7.0, 150.0, 70.0
    legend_h = 16.0
    height = legend_h + len(rows) * (bar_h + gap) + 2
    drawing = Drawing(width, height)
    group = Group()
    x0, x1 = label_w, width - right_w
    lx = x0
    for point in range(1, 6):
        group.add(Rect(lx, height - 9, 7, 7, fillColor=LIKERT_COLORS[point], strokeColor=None))
        label = f"{point} {LIKERT_LABELS[point]}"
        text(group, lx + 10, height - 8, label, 6.3, color=MUTED)
        lx += 10 + text_width(label, REGULAR, 6.3) + 10
    for index, (label, counts) in enumerate(rows):
        top = height - legend_h - index * (bar_h + gap)
        yy = top - bar_h
        total = sum(counts.get(p, 0) for p in range(1, 6))
        text(group, 0, yy + 3.5, label, 7.2)
        if total == 0:
            group.add(Rect(x0, yy, x1 - x0, bar_h, fillColor=None, strokeColor=GRID))
            text(group, (x0 + x1) / 2, yy + 3.5, "no answers", 6.5, color=MUTED, anchor="middle")
            continue
        x = x0
        for point in range(1, 6):
            share = counts.get(point, 0) / total
            w = share * (x1 - x0)
            if w > 0:
                group.add(
                    Rect(
                        x,
                        yy,
                        w,
                        bar_h,
                        fillColor=LIKERT_COLORS[point],
                        strokeColor=colors.white,
                        strokeWidth=0.5,
                    )
                )
                if w > 16:
                    ink = colors.white if point in (1, 5) else INK
                    text(
                        group,
                        x + w / 2,
                        yy + 3.8,
                        f"{share * 100:.0f}%",
                        6,
                        color=ink,
                        anchor="middle",
                    )
            x += w
        agree = (counts.get(4, 0) + counts.get(5, 0)) / total
        text(group, x1 + 6, yy + 3.5, f"{agree * 100:.0f}% agree", 7, font=BOLD)
        text(group, x1 + 6, yy - 3.5, f"n={total}", 6, color=MUTED)
    drawing.add(group)
    return drawing
