"""The customers' and the staff's values on the report's curves: where the two points of a
step are close, the upper one's value sits above it and the lower one's below, so no value
covers the other side's point or value (they used to overlap at every such step)."""

from __future__ import annotations

import pytest

pytest.importorskip("reportlab")

from reportlab.graphics.shapes import Group, String  # noqa: E402

from cxfield.export.charts import STAFF, CurvePoint, plot_curve, text_width  # noqa: E402
from cxfield.export.fonts import register_fonts  # noqa: E402

BOTTOM, TOP, DOT = 0.0, 100.0, 3.2
#: (customers, staff) at four steps: staff just above, equal, far below, customers only
MEANS = [(-1.4, -1.0), (0.0, 0.0), (1.5, -1.5), (0.3, None)]


Box = tuple[float, float, float, float, str]


def _labels() -> tuple[list[Box], list[float]]:
    xs = [40.0 * (i + 1) for i in range(len(MEANS))]
    customers = [CurvePoint("", c, None, 5) for c, _s in MEANS]
    staff = [CurvePoint("", s, None, 2 if s is not None else 0) for _c, s in MEANS]
    register_fonts()
    group = Group()
    plot_curve(group, xs, customers, BOTTOM, TOP, spread=False, dot=DOT,
               beside=[p.mean for p in staff])  # fmt: skip
    plot_curve(group, xs, staff, BOTTOM, TOP, spread=False, dot=3.0, staff=True,
               beside=[p.mean for p in customers])  # fmt: skip
    boxes = []
    for s in group.contents:
        if isinstance(s, String):
            width = text_width(s.text, s.fontName, s.fontSize)
            side = "staff" if s.fillColor == STAFF else "customers"
            boxes.append((s.x, s.y, s.x + width, s.y + s.fontSize * 0.75, side))
    return boxes, xs


def _y(v: float) -> float:
    return BOTTOM + (v + 2) / 4 * (TOP - BOTTOM)


def test_close_points_carry_their_values_apart() -> None:
    boxes, xs = _labels()

    def at(i: int, side: str) -> Box:
        found = [b for b in boxes if b[4] == side and b[0] < xs[i] < b[2]]
        assert len(found) == 1, (i, side, boxes)
        return found[0]

    # step 1: staff (−1.0) just above customers (−1.4): staff's value above, customers' below
    assert at(0, "staff")[1] > _y(-1.0) and at(0, "customers")[3] < _y(-1.4)
    # step 2: the same mean: one value above the points, the other below
    assert sorted([at(1, "staff")[1] > _y(0), at(1, "customers")[1] > _y(0)]) == [False, True]
    # step 3: far apart: customers' above theirs, staff's below theirs
    assert at(2, "customers")[1] > _y(1.5) and at(2, "staff")[3] < _y(-1.5)
    # no value covers another, nor the other side's point
    for a in boxes:
        for b in boxes:
            if a is not b:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, (a, b)
    for i, (c, s) in enumerate(MEANS):
        for mean in (c, s):
            if mean is None:
                continue
            for box in boxes:
                inside_x = box[0] < xs[i] < box[2]
                assert not (inside_x and box[1] < _y(mean) < box[3]), (i, mean, box)


def test_the_hub_page_places_the_values_the_same_way() -> None:
    import re

    from cxfield.domain.journey import ValenceSummary
    from cxfield.hub.web import svg

    def point(mean: float | None) -> svg.Point:
        return svg.Point("s", ValenceSummary(3 if mean is not None else 0, mean, 0.5, {}))

    chart = svg.emotion_curve(
        [point(c) for c, _s in MEANS], "t", "d", "u", [point(s) for _c, s in MEANS]
    )
    # (x, y, text, colour) of every value; SVG's y grows downwards
    values = [
        (float(x), float(y), t, fill)
        for x, y, fill, t in re.findall(
            r'<text x="([\d.]+)" y="([\d.]+)" text-anchor="middle" fill="([^"]+)" '
            r'font-size="12">([−+]?\d\.\d)</text>',
            chart,
        )
    ]

    def y_of(mean: float) -> float:
        return 16.0 + (2 - mean) / 4 * 180.0

    col = 120.0
    for i, (c, s) in enumerate(MEANS):
        x = 44.0 + (i + 0.5) * col
        here = {fill: y for vx, y, _t, fill in values if abs(vx - x) < 0.5}
        if s is None:
            assert here[svg.INK] < y_of(c)  # alone: above its point
            continue
        staff_above = 0 <= s - c <= 1.0
        customers_below = 0 <= s - c <= 1.0
        assert (here[svg.STAFF] < y_of(s)) == staff_above, (i, here)
        assert (here[svg.INK] > y_of(c)) == customers_below, (i, here)


def test_the_apps_journey_map_places_the_values_apart() -> None:
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QPointF, QRectF

    from cxfield.gui.journey.curves import valence_y, value_rect

    band = QRectF(0, 0, 800, 200)
    for i, (c, s) in enumerate(MEANS):
        x = 100.0 * (i + 1)
        customers = QPointF(x, valence_y(c, band))
        mine = value_rect(customers, 7, c, s, staff=False)
        if s is None:
            assert mine.bottom() <= customers.y()  # alone: above its point
            continue
        staff = QPointF(x, valence_y(s, band))
        theirs = value_rect(staff, 6, s, c, staff=True)
        assert not mine.intersects(theirs), (i, mine, theirs)
        # neither covers the other side's point
        assert not mine.intersects(QRectF(staff.x() - 6, staff.y() - 6, 12, 12)), i
        assert not theirs.intersects(QRectF(customers.x() - 7, customers.y() - 7, 14, 14)), i
        # a staff value never sits left of its square, where the dashed line comes in
        assert theirs.left() < staff.x() < theirs.right()
