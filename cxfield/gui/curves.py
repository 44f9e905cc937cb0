"""Drawing emotion curves with QPainter: valence −2..+2 across steps.

Points carry shape and number labels as well as colour (red → green), so the curve reads
without colour too.  Used by the session view (one session) and the journey map (mean
with its spread per step)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cxfield.domain.journey import signed
from cxfield.domain.rating import rating_text, scale_point
from cxfield.domain.vocabulary import VALENCE_LABELS
from cxfield.gui.widgets import valence_colour


@dataclass(frozen=True)
class CurvePoint:
    x: float  # centre of the step's column, in pixels
    mean: float | None
    spread: float | None = None
    n: int = 0


def valence_y(value: float, band: QRectF) -> float:
    return band.top() + (2 - value) / 4 * band.height()


def draw_axis(
    painter: QPainter, band: QRectF, left: float, *, labels: bool = True, words: bool = True
) -> None:
    """Horizontal guide lines at −2..+2 with their numbers (and words if room)."""
    painter.save()
    small = QFont(painter.font())
    small.setPointSizeF(max(7.0, small.pointSizeF() * 0.8))
    painter.setFont(small)
    for value in range(-2, 3):
        y = valence_y(value, band)
        pen = QPen(
            QColor("#b0bec5"), 1, Qt.PenStyle.SolidLine if value == 0 else Qt.PenStyle.DotLine
        )
        painter.setPen(pen)
        painter.drawLine(QPointF(left, y), QPointF(band.right(), y))
        if labels:
            painter.setPen(QColor("#37474f"))
            text = (
                f"{signed(value)} {VALENCE_LABELS[value]}"
                if words and band.height() > 120
                else signed(value)
            )
            painter.drawText(
                QRectF(band.left(), y - 9, left - band.left() - 6, 18),
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                text,
            )
    painter.restore()


def draw_curve(
    painter: QPainter,
    band: QRectF,
    points: Sequence[CurvePoint],
    *,
    radius: float = 7.0,
    dashed: bool = False,
    show_values: bool = True,
) -> None:
    """Mean line with a ±1 SD band, coloured dots with the value written next to them."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    known = [p for p in points if p.mean is not None]
    # spread band: one translucent bar per step (mean ± SD, clipped to the scale)
    for p in known:
        if p.spread:
            assert p.mean is not None
            top = valence_y(min(2.0, p.mean + p.spread), band)
            bottom = valence_y(max(-2.0, p.mean - p.spread), band)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(96, 125, 139, 50))
            painter.drawRoundedRect(
                QRectF(p.x - radius * 1.4, top, radius * 2.8, bottom - top), 4, 4
            )
    if len(known) > 1:
        path = QPainterPath()
        for index, p in enumerate(known):
            assert p.mean is not None
            point = QPointF(p.x, valence_y(p.mean, band))
            if index == 0:
                path.moveTo(point)
            else:
                path.lineTo(point)
        pen = QPen(QColor("#263238"), 2.5)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
    for p in known:
        assert p.mean is not None
        centre = QPointF(p.x, valence_y(p.mean, band))
        painter.setPen(QPen(QColor("#212121"), 1.5))
        painter.setBrush(valence_colour(p.mean))
        painter.drawEllipse(centre, radius, radius)
        if show_values:
            painter.setPen(QColor("#212121"))
            painter.drawText(
                QRectF(p.x + radius + 2, centre.y() - 18, 60, 16),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                signed(p.mean, 1),
            )
    painter.restore()


class SessionCurve(QWidget):
    """One session's valence across its steps (a gap where a step has no valence)."""

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
        self.update()

    def paintEvent(self, _event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        left = 150.0
        band = QRectF(8, 16, self.width() - 24, self.height() - 90)
        draw_axis(painter, band, left)
        if not self.steps:
            return
        width = (band.right() - left) / len(self.steps)
        points = [
            CurvePoint(left + width * (i + 0.5), float(v) if v is not None else None)
            for i, (_name, v) in enumerate(self.steps)
        ]
        draw_curve(painter, band, points, show_values=False)
        painter.setPen(QColor("#212121"))
        for i, (name, value) in enumerate(self.steps):
            rect = QRectF(left + width * i + 2, band.bottom() + 8, width - 4, 64)
            label = name if value is None else f"{name}\n{scale_point(value)}"
            painter.drawText(
                rect, int(Qt.AlignmentFlag.AlignHCenter) | int(Qt.TextFlag.TextWordWrap), label
            )
