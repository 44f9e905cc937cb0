"""The journey map's rows for the staff side and the operations data: staff pain points,
the operations lane (median and 90th-percentile time, customers per day) and the
correlation between a step's time and how it felt.  Mixed into
:class:`~cxfield.gui.journey.journey_map_canvas.JourneyCanvas`, which holds ``data``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QWidget

from cxfield.domain.clock import duration_text
from cxfield.domain.operations import correlation_short
from cxfield.gui.journey.curves import STAFF_COLOUR
from cxfield.services.step_records import flags_pain

if TYPE_CHECKING:
    from cxfield.gui.journey.journey_map_canvas import MapData

_WRAP = int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap)


def ops_text(data: MapData, step_id: str) -> str:
    """The operations lane's cell: median, p90 and customers (a day), one a line."""
    stat = data.ops.steps.get(step_id) if data.ops else None
    if stat is None:
        return ""
    lines = []
    if stat.median_s is not None and stat.p90_s is not None:
        lines += [f"median {duration_text(stat.median_s)}", f"p90 {duration_text(stat.p90_s)}"]
    lines.append(f"{stat.volume:,} customers, {stat.mean_per_day:.1f} a day")
    return "\n".join(lines)


def correlation_text(data: MapData, step_id: str) -> str:
    found = data.ops.correlations.get(step_id) if data.ops else None
    if found is None:
        return ""
    whose = "" if found.side == "customers" else " (staff)"
    return correlation_short(found.r, found.n, found.by) + whose


class JourneyRows(QWidget if TYPE_CHECKING else object):  # type: ignore[misc]
    if TYPE_CHECKING:
        data: MapData | None

    def _small(self, painter: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.9))
        painter.setFont(font)

    def _staff_pain_cell(self, painter: QPainter, cell: QRectF, step_id: str) -> None:
        assert self.data is not None
        agg = self.data.staff.get(step_id)
        if agg is None or not agg.captures:
            return
        customers = self.data.aggregates.get(step_id)
        both = (
            customers is not None
            and flags_pain(customers.pain_points, customers.captures)
            and flags_pain(agg.pain_points, agg.captures)
        )
        share = agg.pain_points / agg.captures * 100
        text = f"{agg.pain_points} of {agg.captures} ({share:.0f}%)"
        if both:
            text += "\n⚠ both sides: it hurts"
        painter.setPen(QColor("#b71c1c" if both else STAFF_COLOUR))
        painter.drawText(cell, _WRAP, text)

    def _ops_cell(self, painter: QPainter, cell: QRectF, step_id: str) -> None:
        assert self.data is not None
        text = ops_text(self.data, step_id)
        if text:
            self._small(painter)
            painter.setPen(QColor("#0d47a1"))
            painter.drawText(cell, _WRAP, text)
            painter.setFont(QFont(self.font()))

    def _correlation_cell(self, painter: QPainter, cell: QRectF, step_id: str) -> None:
        assert self.data is not None
        text = correlation_text(self.data, step_id)
        if text:
            self._small(painter)
            painter.setPen(QColor("#37474f"))
            painter.drawText(cell, _WRAP, text)
            painter.setFont(QFont(self.font()))
