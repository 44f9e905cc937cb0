"""The journey map picture (QPainter): stages and steps as columns, the four blueprint
lanes as rows, and under them the customers' emotion curve (mean with its spread per step)
with the staff curve over it, each with its own n, pain-point counts of both sides, observed
times, the operations lane (median, p90, customers; the correlation with how it felt) and
representative quotes.

All numbers come from SQL aggregates (services/analysis.py) loaded by :func:`load_map_data`
off the GUI thread; painting only reads the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

from cxfield.domain.clock import duration_text
from cxfield.domain.journey import signed
from cxfield.domain.vocabulary import BlueprintLane, Channel, ParticipantKind
from cxfield.gui.journey.curves import CurvePoint, draw_axis, draw_curve
from cxfield.gui.journey.journey_map_rows import JourneyRows
from cxfield.services import analysis, ops_analysis, staff_research, studies
from cxfield.services.analysis import DurationStats, RankedText, SegmentCurves, StepAggregate
from cxfield.services.ops_analysis import OpsSummary
from cxfield.services.staff_research import PainAgreement, interview_count, of_kind
from cxfield.services.studies import Journey
from cxfield.storage.database import Database

GUTTER, COLUMN = 180.0, 168.0
LANE_H, CURVE_H, PAIN_H, TIME_H, QUOTE_H = 62.0, 240.0, 56.0, 30.0, 170.0
STAFF_PAIN_H, OPS_H, CORR_H = 44.0, 62.0, 44.0
LANE_COLOURS = {
    BlueprintLane.USER: "#e3f2fd",
    BlueprintLane.FRONTSTAGE: "#e8f5e9",
    BlueprintLane.BACKSTAGE: "#fff8e1",
    BlueprintLane.SUPPORT: "#f3e5f5",
}


def median_text(stats: DurationStats) -> str:
    """Median observed time as m:ss (n=…), written like the study report writes it (the
    report once showed 9:55 where the map said 9:54)."""
    return f"{duration_text(stats.median_s)} (n={stats.n})"


@dataclass
class MapData:
    journey: Journey
    aggregates: dict[str, StepAggregate]
    quotes: dict[str, list[RankedText]]
    times: dict[str, DurationStats]
    sessions: int
    segments: SegmentCurves | None = None
    labels: dict[str, str] = field(default_factory=dict)
    #: the staff side of the same journey (empty: no staff interviews)
    staff: dict[str, StepAggregate] = field(default_factory=dict)
    customer_interviews: int = 0
    staff_interviews: int = 0
    agreement: list[PainAgreement] = field(default_factory=list)
    ops: OpsSummary | None = None


def load_map_data(database: Database, study_id: str, segment_key: str | None) -> MapData:
    """Everything the picture needs, from a handful of GROUP BY queries: the curve, pain
    points, quotes, times and segments are the customers', the staff's side beside them."""
    journey = studies.get_journey(database, study_id)
    customers = of_kind(None, ParticipantKind.CUSTOMER)
    aggregates = analysis.step_aggregates(database, study_id, customers)
    staff = staff_research.staff_side(database, study_id)
    ops = ops_analysis.ops_summary(database, study_id)
    with database.session() as db:
        from sqlalchemy import func
        from sqlalchemy import select as sa_select

        ids = analysis.filtered_sessions(study_id, analysis.SessionFilter()).subquery()
        sessions = int(db.execute(sa_select(func.count()).select_from(ids)).scalar_one())
    data = MapData(
        journey=journey,
        aggregates=aggregates,
        quotes=analysis.representative_quotes(database, study_id, customers, per_step=2),
        times=analysis.observation_times(database, study_id, customers),
        sessions=sessions,
        staff=staff.aggregates,
        customer_interviews=interview_count(database, study_id, customers),
        staff_interviews=staff.interviews,
        agreement=staff_research.pain_agreement(journey, aggregates, staff.aggregates),
        ops=None if ops.empty else ops,
    )
    if segment_key:
        data.segments = analysis.segment_curves(database, study_id, segment_key, customers)
    return data


def _wrap_flags() -> int:
    return int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop) | int(
        Qt.TextFlag.TextWordWrap
    )


MIN_ZOOM, MAX_ZOOM = 0.5, 3.0


class JourneyCanvas(JourneyRows, QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.data: MapData | None = None
        #: drawing scale: 1 = the map's natural size; larger on a large screen or on request
        self.zoom = 1.0
        self.setAccessibleName("Journey map picture")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def base_size(self) -> QSize:
        """The picture's size at zoom 1."""
        steps = self.data.journey.steps if self.data else []
        width = int(GUTTER + COLUMN * max(1, len(steps)) + 20)
        rows = sum(height for _label, height, _cell in self.row_specs())
        height = int(self._curve_top() + CURVE_H + rows + 30)
        return QSize(width, height)

    def set_zoom(self, zoom: float) -> None:
        self.zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        base = self.base_size()
        self.setFixedSize(QSize(int(base.width() * self.zoom), int(base.height() * self.zoom)))
        self.update()

    def set_data(self, data: MapData) -> None:
        self.data = data
        self.set_zoom(self.zoom)
        self.setAccessibleDescription(self._summary())

    def _curve_top(self) -> float:
        return 34 + 56 + LANE_H * 4 + 14

    def _summary(self) -> str:
        assert self.data is not None
        parts = []
        for step in self.data.journey.steps:
            agg = self.data.aggregates.get(step.id)
            if agg and agg.valence.mean is not None:
                parts.append(
                    f"{step.name} {signed(agg.valence.mean, 1)}, {agg.pain_points} pain points"
                )
        return "; ".join(parts)

    def column_x(self, index: int) -> float:
        return GUTTER + COLUMN * index

    def paintEvent(self, _event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if self.data is None:
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), "Loading…")
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(self.zoom, self.zoom)  # vector drawing: sharp at any zoom
        self._paint_columns(painter)
        self._paint_lanes(painter)
        self._paint_curve(painter)
        self._paint_rows(painter)

    def _paint_columns(self, painter: QPainter) -> None:
        assert self.data is not None
        bold = QFont(painter.font())
        bold.setBold(True)
        index = 0
        for view in self.data.journey.stages:
            span = max(1, len(view.steps))
            rect = QRectF(self.column_x(index) + 2, 2, COLUMN * span - 4, 30)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#37474f"))
            painter.drawRoundedRect(rect, 6, 6)
            painter.setPen(QColor("white"))
            painter.setFont(bold)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), view.stage.name)
            index += len(view.steps)
        painter.setFont(QFont(self.font()))
        numbers = analysis.step_numbers(self.data.journey)
        for i, step in enumerate(self.data.journey.steps):
            rect = QRectF(self.column_x(i) + 4, 36, COLUMN - 8, 52)
            painter.setPen(QColor("#212121"))
            painter.drawText(rect, _wrap_flags(), f"{numbers[step.id]}. {step.name}")

    def _paint_lanes(self, painter: QPainter) -> None:
        assert self.data is not None
        top = 34 + 56
        steps = self.data.journey.steps
        right = self.column_x(len(steps))
        for row, lane in enumerate(BlueprintLane):
            y = top + row * LANE_H
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(LANE_COLOURS[lane]))
            painter.drawRect(QRectF(0, y, right, LANE_H))
            painter.setPen(QColor("#263238"))
            painter.drawText(
                QRectF(6, y, GUTTER - 12, LANE_H),
                int(Qt.AlignmentFlag.AlignVCenter) | int(Qt.TextFlag.TextWordWrap),
                lane.label,
            )
            if row:
                painter.setPen(QPen(QColor("#78909c"), 1, Qt.PenStyle.DashLine))
                painter.drawLine(
                    QRectF(0, y, right, 0).topLeft(), QRectF(0, y, right, 0).topRight()
                )
        for i, step in enumerate(steps):
            row = list(BlueprintLane).index(BlueprintLane(step.lane))
            card = QRectF(self.column_x(i) + 6, top + row * LANE_H + 5, COLUMN - 12, LANE_H - 10)
            painter.setPen(QPen(QColor("#546e7a"), 1))
            painter.setBrush(QColor("white"))
            painter.drawRoundedRect(card, 6, 6)
            painter.setPen(QColor("#212121"))
            painter.drawText(
                card.adjusted(4, 2, -4, -2),
                _wrap_flags(),
                f"{step.name}\n{Channel(step.channel).label}",
            )

    def _paint_curve(self, painter: QPainter) -> None:
        assert self.data is not None
        top = self._curve_top()
        steps = self.data.journey.steps
        band = QRectF(4, top + 24, self.column_x(len(steps)) - 4, CURVE_H - 44)
        painter.setPen(QColor("#212121"))
        title = QFont(painter.font())
        title.setBold(True)
        painter.setFont(title)
        heading = f"How each step felt — mean valence ± spread, {self.data.sessions} sessions"
        if self.data.staff_interviews:
            heading = (
                f"How each step felt — customers (solid, ± spread, "
                f"{self.data.customer_interviews} interviews) and staff (dashed, "
                f"{self.data.staff_interviews} interviews), each with its own n"
            )
        painter.drawText(QRectF(6, top, 1400, 20), int(Qt.AlignmentFlag.AlignLeft), heading)
        painter.setFont(QFont(self.font()))
        draw_axis(painter, band, GUTTER)
        points, staff_points = [], []
        for i, step in enumerate(steps):
            agg = self.data.aggregates.get(step.id)
            summary = agg.valence if agg else None
            points.append(
                CurvePoint(
                    self.column_x(i) + COLUMN / 2,
                    summary.mean if summary else None,
                    summary.stdev if summary else None,
                    summary.n if summary else 0,
                )
            )
            staff = self.data.staff.get(step.id)
            staff_n = staff.valence.n if staff else 0
            staff_points.append(
                CurvePoint(
                    self.column_x(i) + COLUMN / 2,
                    staff.valence.mean if staff else None,
                    None,
                    staff_n,
                )
            )
            # a customer step nobody rated: the curve is broken there, and says so
            label = ""
            if summary and summary.n:
                label = f"n = {summary.n}"
            elif step.lane == BlueprintLane.USER:
                label = "no ratings"
            if staff_n:
                label = f"{label or 'customers 0'} · staff {staff_n}"
            if label:
                painter.setPen(QColor("#546e7a"))
                painter.drawText(
                    QRectF(self.column_x(i), band.bottom() + 2, COLUMN, 16),
                    int(Qt.AlignmentFlag.AlignHCenter),
                    label,
                )
        with_staff = bool(self.data.staff_interviews)
        draw_curve(
            painter, band, points, beside=[p.mean for p in staff_points] if with_staff else None
        )
        if with_staff:
            draw_curve(
                painter, band, staff_points, radius=6, staff=True, beside=[p.mean for p in points]
            )

    def row_specs(self) -> list[tuple[str, float, Any]]:
        """The rows under the curve: (label, height, cell painter)."""
        rows: list[tuple[str, float, Any]] = [("Pain points", PAIN_H, self._pain_cell)]
        if self.data is not None and self.data.staff_interviews:
            rows.append(("Staff pain points", STAFF_PAIN_H, self._staff_pain_cell))
        rows.append(("Observed time", TIME_H, self._time_cell))
        if self.data is not None and self.data.ops is not None:
            rows.append(("Operations: median · p90 · customers", OPS_H, self._ops_cell))
            rows.append(("Time and feeling (correlation)", CORR_H, self._correlation_cell))
        rows.append(("What people said", QUOTE_H, self._quote_cell))
        return rows

    def _paint_rows(self, painter: QPainter) -> None:
        assert self.data is not None
        steps = self.data.journey.steps
        right = self.column_x(len(steps))
        y = self._curve_top() + CURVE_H
        for label, height, cell_painter in self.row_specs():
            painter.setPen(QColor("#263238"))
            painter.drawText(
                QRectF(6, y, GUTTER - 12, height),
                int(Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap),
                label,
            )
            painter.setPen(QPen(QColor("#cfd8dc"), 1))
            painter.drawLine(QPointF(0, y), QPointF(right, y))
            for i, step in enumerate(steps):
                cell = QRectF(self.column_x(i) + 6, y + 4, COLUMN - 12, height - 8)
                cell_painter(painter, cell, step.id)
            y += height

    def _pain_cell(self, painter: QPainter, cell: QRectF, step_id: str) -> None:
        assert self.data is not None
        agg = self.data.aggregates.get(step_id)
        count = agg.pain_points if agg else 0
        most = max([a.pain_points for a in self.data.aggregates.values()] + [1])
        if count:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#c62828"))
            painter.drawRect(QRectF(cell.left(), cell.top() + 22, cell.width() * count / most, 14))
        painter.setPen(QColor("#212121"))
        text = f"⚠ {count} pain point{'s' if count != 1 else ''}" if count else "—"
        painter.drawText(cell, int(Qt.AlignmentFlag.AlignLeft), text)

    def _time_cell(self, painter: QPainter, cell: QRectF, step_id: str) -> None:
        assert self.data is not None
        stats = self.data.times.get(step_id)
        if stats is None:
            return
        painter.setPen(QColor("#37474f"))
        painter.drawText(cell, int(Qt.AlignmentFlag.AlignLeft), median_text(stats))

    def _quote_cell(self, painter: QPainter, cell: QRectF, step_id: str) -> None:
        assert self.data is not None
        quotes = self.data.quotes.get(step_id, [])
        # The quote is isolated (FSI … PDI) so an Arabic quote keeps "×3" after it, not before.
        text = "\n\n".join(
            f"\u2068“{q.text}”\u2069" + (f" ×{q.count}" if q.count > 1 else "") for q in quotes
        )
        italic = QFont(self.font())
        italic.setPointSizeF(max(7.5, italic.pointSizeF() * 0.9))
        painter.setFont(italic)
        painter.setPen(QColor("#37474f"))
        painter.drawText(
            cell, int(Qt.AlignmentFlag.AlignLeft) | int(Qt.TextFlag.TextWordWrap), text
        )
        painter.setFont(QFont(self.font()))
