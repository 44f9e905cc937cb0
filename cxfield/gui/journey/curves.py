"""Drawing emotion curves with QPainter: valence −2..+2 across steps.

Points carry shape and number labels as well as colour (red → green), so the curve reads
without colour too.  Used by the session view (one session) and the journey map (mean
with its spread per step)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from cxfield.domain.journey import curve_gaps, curve_runs, signed
from cxfield.domain.rating import rating_text, scale_point
from cxfield.domain.vocabulary import VALENCE_LABELS
from cxfield.gui.widgets import valence_colour

#: the staff curve's colour (the PDFs use the same)
STAFF_COLOUR = "#8a4b08"


@dataclass(frozen=True)
class CurvePoint:
    x: float  # centre of the step's column, in pixels
    mean: float | None
    spread: float | None = None
    n: int = 0


def valence_y(value: float, band: QRectF) -> float:
    return band.top() + (2 - value) / 4 * band.height()


def axis_font(font: QFont) -> QFont:
    """The smaller font of the −2..+2 labels."""
    small = QFont(font)
    small.setPointSizeF(max(7.0, small.pointSizeF() * 0.8))
    return small


def axis_label(value: int, words: bool) -> str:
    return f"{signed(value)} {VALENCE_LABELS[value]}" if words else signed(value)


def axis_label_width(font: QFont, words: bool) -> float:
    """The room the widest −2..+2 label needs in ``font``'s axis font."""
    metrics = QFontMetricsF(axis_font(font))
    return max(metrics.horizontalAdvance(axis_label(v, words)) for v in range(-2, 3))


def draw_axis(
    painter: QPainter, band: QRectF, left: float, *, labels: bool = True, words: bool = True
) -> None:
    """Horizontal guide lines at −2..+2 with their numbers (and words if room)."""
    painter.save()
    small = axis_font(painter.font())
    painter.setFont(small)
    line_h = QFontMetricsF(small).height() + 2
    for value in range(-2, 3):
        y = valence_y(value, band)
        pen = QPen(
            QColor("#b0bec5"), 1, Qt.PenStyle.SolidLine if value == 0 else Qt.PenStyle.DotLine
        )
        painter.setPen(pen)
        painter.drawLine(QPointF(left, y), QPointF(band.right(), y))
        if labels:
            painter.setPen(QColor("#37474f"))
            text = axis_label(value, words and band.height() > 120)
            painter.drawText(
                QRectF(band.left(), y - line_h / 2, left - band.left() - 6, line_h),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                text,
            )
    painter.restore()


def curve_lines(band: QRectF, points: Sequence[CurvePoint]) -> tuple[list[QPolygonF], list[QLineF]]:
    """The curve's solid lines, one per stretch of steps with a mean, and the dotted
    connectors that mark the steps without ratings between them."""
    means = [p.mean for p in points]

    def at(index: int) -> QPointF:
        return QPointF(points[index].x, valence_y(means[index] or 0.0, band))

    lines = [QPolygonF([at(i) for i in run]) for run in curve_runs(means) if len(run) > 1]
    gaps = [QLineF(at(a), at(b)) for a, b in curve_gaps(means)]
    return lines, gaps


def draw_curve(
    painter: QPainter,
    band: QRectF,
    points: Sequence[CurvePoint],
    *,
    radius: float = 7.0,
    dashed: bool = False,
    show_values: bool = True,
    staff: bool = False,
    beside: Sequence[float | None] | None = None,
) -> None:
    """Mean line with a ±1 SD band, coloured dots with the value written next to them.

    ``staff``: the staff members' curve over the customers' one: a dashed line in its own
    colour with square points (it reads without colour too).  ``beside``: the other side's
    means at the same steps, so that close points keep their values apart
    (:func:`value_rect`)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    known = [p for p in points if p.mean is not None]
    # spread band: one translucent bar per step (mean ± SD, clipped to the scale)
    for p in [] if staff else known:
        if p.spread:
            assert p.mean is not None
            top = valence_y(min(2.0, p.mean + p.spread), band)
            bottom = valence_y(max(-2.0, p.mean - p.spread), band)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(96, 125, 139, 50))
            painter.drawRoundedRect(
                QRectF(p.x - radius * 1.4, top, radius * 2.8, bottom - top), 4, 4
            )
    lines, gaps = curve_lines(band, points)
    pen = QPen(QColor(STAFF_COLOUR if staff else "#263238"), 2.5)
    if dashed or staff:
        pen.setStyle(Qt.PenStyle.DashLine)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(pen)
    for line in lines:
        painter.drawPolyline(line)
    # a step without ratings breaks the line; a faint dotted line marks the gap
    painter.setPen(QPen(QColor("#90a4ae"), 1.2, Qt.PenStyle.DotLine))
    for gap in gaps:
        painter.drawLine(gap)
    for index, p in enumerate(points):
        if p.mean is None:
            continue
        centre = QPointF(p.x, valence_y(p.mean, band))
        other = beside[index] if beside is not None and index < len(beside) else None
        painter.setBrush(valence_colour(p.mean))
        if staff:
            painter.setPen(QPen(QColor(STAFF_COLOUR), 2))
            painter.drawRect(QRectF(p.x - radius, centre.y() - radius, radius * 2, radius * 2))
        else:
            painter.setPen(QPen(QColor("#212121"), 1.5))
            painter.drawEllipse(centre, radius, radius)
        if show_values:
            rect = value_rect(centre, radius, p.mean, other, staff=staff)
            painter.setPen(QColor(STAFF_COLOUR if staff else "#212121"))
            align = Qt.AlignmentFlag.AlignHCenter if staff else Qt.AlignmentFlag.AlignLeft
            painter.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), signed(p.mean, 1))
    painter.restore()


def value_rect(
    centre: QPointF, radius: float, mean: float, other: float | None, *, staff: bool
) -> QRectF:
    """Where a point's value is written.  A customers' value: right of the point, above it,
    or below where the staff's point is at or just above (within 1); a staff value: centred
    under its square, or over it where it is the upper (or the same) of two close points —
    never on the dashed line coming in from the left, nor on the other side's point."""
    if staff:
        on_top = other is not None and 0 <= mean - other <= 1.0
        y = centre.y() - radius - 17 if on_top else centre.y() + radius + 1
        return QRectF(centre.x() - 30, y, 60, 16)
    under = other is not None and 0 <= other - mean <= 1.0
    y = centre.y() + 2 if under else centre.y() - 18
    return QRectF(centre.x() + radius + 2, y, 60, 16)


@dataclass(frozen=True)
class CurveLayout:
    """Where a :class:`SessionCurve` draws: the plot band, where the plot starts right of
    the axis labels, and one label (rectangle, flags, text) under each step."""

    band: QRectF
    left: float
    words: bool
    step_labels: list[tuple[QRectF, int, str]]


#: the smallest plot between its axis labels and the step names
MIN_BAND_H = 120.0
TOP, GAP, BOTTOM = 16.0, 8.0, 8.0


class SessionCurve(QWidget):
    """One session's valence across its steps: the line breaks where a step has no
    valence, and the gap is marked.  Axis and step labels are measured with the widget's
    font, so they are never cut off (the widget asks for the height they need)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps: list[tuple[str, int | None]] = []
        self.setMinimumHeight(260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAccessibleName("Emotion curve across the steps")

    def set_steps(self, steps: list[tuple[str, int | None]]) -> None:
        self.steps = steps
        summary = ", ".join(f"{name}: {rating_text(v)}" for name, v in steps if v is not None)
        self.setAccessibleDescription(summary or "No valence recorded")
        self._fit_height()
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        # depends on the width only (how the step names wrap), so it cannot loop
        needed = int(TOP + MIN_BAND_H + self._labels_height() + GAP + BOTTOM) + 1
        if max(260, needed) != self.minimumHeight():
            self.setMinimumHeight(max(260, needed))

    @staticmethod
    def step_text(name: str, value: int | None) -> str:
        return f"{name}\n{'no rating' if value is None else scale_point(value)}"

    def _label_flags(self, text: str, width: float) -> int:
        flags = int(Qt.AlignmentFlag.AlignHCenter) | int(Qt.TextFlag.TextWordWrap)
        metrics = QFontMetricsF(self.font())
        if any(metrics.horizontalAdvance(word) > width for word in text.split()):
            flags |= int(Qt.TextFlag.TextWrapAnywhere)  # a word wider than its column
        return flags

    def _columns(self) -> tuple[float, float, bool]:
        """(left, column width, words on the axis) for the widget's current width."""
        band_left, band_right = 8.0, self.width() - 16.0
        words = axis_label_width(self.font(), True) < (band_right - band_left) * 0.2
        left = band_left + axis_label_width(self.font(), words) + 12
        width = (band_right - left) / max(1, len(self.steps))
        return left, width, words

    def _labels_height(self) -> float:
        _left, width, _words = self._columns()
        metrics = QFontMetricsF(self.font())
        heights = [0.0]
        for name, value in self.steps:
            text = self.step_text(name, value)
            rect = QRectF(0, 0, max(1.0, width - 4), 10_000)
            heights.append(
                metrics.boundingRect(rect, self._label_flags(text, width - 4), text).height()
            )
        return max(heights)

    def curve_layout(self) -> CurveLayout:
        left, width, words = self._columns()
        labels_h = self._labels_height()
        band_h = max(40.0, self.height() - TOP - labels_h - GAP - BOTTOM)
        band = QRectF(8, TOP, self.width() - 24, band_h)
        labels = []
        for i, (name, value) in enumerate(self.steps):
            text = self.step_text(name, value)
            rect = QRectF(left + width * i + 2, band.bottom() + GAP, width - 4, labels_h)
            labels.append((rect, self._label_flags(text, width - 4), text))
        return CurveLayout(band, left, words, labels)

    def paintEvent(self, _event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        layout = self.curve_layout()
        draw_axis(painter, layout.band, layout.left, words=layout.words)
        if not self.steps:
            return
        width = (layout.band.right() - layout.left) / len(self.steps)
        points = [
            CurvePoint(layout.left + width * (i + 0.5), float(v) if v is not None else None)
            for i, (_name, v) in enumerate(self.steps)
        ]
        draw_curve(painter, layout.band, points, show_values=False)
        for (rect, flags, text), (_name, value) in zip(layout.step_labels, self.steps, strict=True):
            painter.setPen(QColor("#78909c" if value is None else "#212121"))
            painter.drawText(rect, flags, text)
