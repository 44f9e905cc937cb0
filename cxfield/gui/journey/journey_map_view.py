"""The study's journey map window: the picture, and a segment filter that shows one
emotion curve per segment value side by side (the equity lens) with session counts and a
"too few sessions" note.  Data is loaded off the GUI thread and cached per segment key."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.operations import CORRELATION_CAUTION
from cxfield.gui.journey.curves import CurvePoint, draw_axis, draw_curve
from cxfield.gui.journey.journey_map_canvas import JourneyCanvas, MapData, load_map_data
from cxfield.gui.widgets import FOCUS_STYLE, FlowLayout, show_error
from cxfield.gui.workers import run_in_thread
from cxfield.services import analysis, studies
from cxfield.services.analysis import StepAggregate

#: zoom modes: fill the window's width (never below the natural size) / fit the whole map
FILL, FIT = "fill", "fit"


class SegmentCurvePanel(QWidget):
    """One segment value's curve over the customer-facing steps."""

    def __init__(
        self,
        title: str,
        sessions: int,
        too_few: bool,
        steps: list[tuple[int, str, StepAggregate | None]],
    ) -> None:
        """``steps``: (number on the journey map, name, aggregate) per customer step."""
        super().__init__()
        self.title, self.sessions, self.too_few, self.steps = title, sessions, too_few, steps
        self.setFixedSize(QSize(max(380, 70 + 44 * len(steps)), 250))
        note = " — too few sessions to compare" if too_few else ""
        self.label = f"{title} — {sessions} session{'' if sessions == 1 else 's'}"
        self.setAccessibleName(f"{self.label}{note}")

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def paintEvent(self, _event: object) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#fafafa"))
        painter.setPen(QColor("#b0bec5"))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        bold = QFont(self.font())
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor("#212121"))
        painter.drawText(
            QRectF(8, 4, self.width() - 16, 20),
            int(Qt.AlignmentFlag.AlignLeft),
            self.label,
        )
        painter.setFont(QFont(self.font()))
        if self.too_few:
            painter.setPen(QColor("#b71c1c"))
            painter.drawText(
                QRectF(8, 24, self.width() - 16, 18),
                int(Qt.AlignmentFlag.AlignLeft),
                f"⚠ Too few sessions to compare (fewer than {analysis.MIN_SESSIONS_PER_SEGMENT})",
            )
        band = QRectF(4, 48, self.width() - 12, self.height() - 84)
        left = 40.0
        draw_axis(painter, band, left, words=False)
        width = (band.right() - left) / max(1, len(self.steps))
        points = []
        for i, (number, _name, agg) in enumerate(self.steps):
            x = left + width * (i + 0.5)
            mean = agg.valence.mean if agg else None
            points.append(CurvePoint(x, mean, agg.valence.stdev if agg else None))
            painter.setPen(QColor("#455a64"))
            painter.drawText(
                QRectF(x - width / 2, band.bottom() + 4, width, 30),
                int(Qt.AlignmentFlag.AlignHCenter),
                str(number),
            )
        draw_curve(painter, band, points, radius=5, dashed=self.too_few, show_values=False)


def sides_text(data: MapData) -> str:
    """Under the map: the steps staff and customers agree hurt, and, with operations data,
    that correlation is not cause (plain text, one paragraph each)."""
    numbers = analysis.step_numbers(data.journey)
    names = {step.id: html.escape(step.name) for step in data.journey.steps}
    parts = []
    if data.staff_interviews:
        agreed = [
            f"{numbers[a.step_id]}. {names[a.step_id]} (customers {a.customer_pains} of "
            f"{a.customer_captures}, staff {a.staff_pains} of {a.staff_captures})"
            for a in data.agreement
        ]
        rule = "at least a quarter of each side's captures are pain points"
        if agreed:
            parts.append(
                f"<b>Staff and customers agree this step hurts</b> ({rule}): " + "; ".join(agreed)
            )
        else:
            parts.append(f"No step is flagged as painful by both staff and customers ({rule}).")
    if data.ops is not None:
        parts.append(
            f"Operations: {data.ops.records:,} records, {data.ops.first_day} to "
            f"{data.ops.last_day}. {CORRELATION_CAUTION}"
        )
    return "<br><br>".join(parts)


class JourneyMapView(QMainWindow):
    def __init__(self, ctx: AppContext, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.study_id = study_id
        self._cache: dict[str | None, MapData] = {}
        self._loading: str | None = None
        study = studies.get_study(ctx.db, study_id)
        self.study = study
        self.setWindowTitle(f"Journey map — {study.name}")
        self.setStyleSheet(FOCUS_STYLE + "QWidget { font-size: 10pt; }")
        root = QWidget()
        layout = QVBoxLayout(root)
        bar = QHBoxLayout()
        self.heading = QLabel(f"<b>{study.name}</b> — {study.program}")
        bar.addWidget(self.heading, 1)
        label = QLabel("Compare by &segment:")
        self.segment = QComboBox()
        self.segment.setAccessibleName("Compare the emotion curve by segment")
        self.segment.addItem("— all sessions together —", None)
        for attribute in study.segment_attributes:
            self.segment.addItem(str(attribute.get("label", attribute["key"])), attribute["key"])
        label.setBuddy(self.segment)
        self.segment.currentIndexChanged.connect(lambda _i: self.load())
        bar.addWidget(label)
        bar.addWidget(self.segment)
        layout.addLayout(bar)

        self.canvas = JourneyCanvas()
        content = QWidget()
        self.content_layout = QVBoxLayout(content)
        self.content_layout.addWidget(self.canvas)
        #: where staff and customers agree a step hurts, and the correlation's caution
        self.sides = QLabel()
        self.sides.setTextFormat(Qt.TextFormat.RichText)
        self.sides.setWordWrap(True)
        self.sides.setAccessibleName("Staff and customers; operations data")
        self.sides.hide()
        self.content_layout.addWidget(self.sides)
        self.segments_title = QLabel()
        self.segments_title.setWordWrap(True)
        self.content_layout.addWidget(self.segments_title)
        self.segments_box = QWidget()
        self.segments_flow = FlowLayout(self.segments_box, spacing=10)
        self.content_layout.addWidget(self.segments_box)
        self.content_layout.addStretch(1)
        self.scroller = QScrollArea()
        self.scroller.setWidget(content)
        self.scroller.setWidgetResizable(True)
        self.scroller.setAccessibleName("Journey map; arrow keys scroll")
        layout.addWidget(self.scroller, 1)
        self.setCentralWidget(root)
        QShortcut(QKeySequence("F5"), self).activated.connect(self.refresh)
        # Zoom: the picture fills a large screen's width by itself (never smaller than its
        # natural size, so it stays readable); Ctrl +/- zoom; Ctrl+0 fits the whole map.
        self.fit: str | None = FILL
        self.scroller.viewport().installEventFilter(self)
        for keys, step in (("Ctrl++", 1.25), ("Ctrl+=", 1.25), ("Ctrl+-", 0.8)):
            QShortcut(QKeySequence(keys), self).activated.connect(
                lambda step=step: self.zoom_by(step)
            )
        QShortcut(QKeySequence("Ctrl+0"), self).activated.connect(self.zoom_to_fit)
        QShortcut(QKeySequence("Ctrl+W"), self).activated.connect(self.close)
        self.resize(1366, 740)
        self.load()

    def zoom_by(self, factor: float) -> None:
        self.fit = None
        self.canvas.set_zoom(self.canvas.zoom * factor)

    def zoom_to_fit(self) -> None:
        """Ctrl+0: the whole map in the window, both ways, with no scrollbar (smaller than
        its natural size on a small screen).  With the equity lens open, the map fits and
        the segment curves scroll below it, as do the notes on staff and operations data."""
        self.fit = FIT
        self._apply_zoom()
        # the whole map is in view: from its top (not where the notes below had scrolled)
        self.scroller.verticalScrollBar().setValue(0)

    def _room(self) -> tuple[float, float]:
        """Width and height the canvas may take without a scrollbar appearing."""
        viewport = self.scroller.viewport()
        margins = self.content_layout.contentsMargins()
        width = viewport.width() - margins.left() - margins.right()
        height = viewport.height() - margins.top() - margins.bottom()
        # the segment curves (or the staff and operations notes) below will need the bar
        if self.segments_flow.count() or not self.sides.isHidden():
            width -= self.scroller.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        else:
            self.content_layout.invalidate()
            others = self.content_layout.minimumSize().height() - self.canvas.height()
            height = viewport.height() - others
        return float(width), float(height)

    def _apply_zoom(self) -> None:
        base = self.canvas.base_size()
        width, height = self._room()
        # the notes under the map wrap at the window's width, never past it
        self.sides.setMaximumWidth(max(300, int(width)))
        across = width / max(1, base.width())
        if self.fit == FIT:
            # a hair under, so rounding to whole pixels never makes it 1 px too big
            self.canvas.set_zoom(min(across, height / max(1, base.height())) * 0.999)
        elif self.fit == FILL:
            self.canvas.set_zoom(max(1.0, across * 0.999))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        resized = watched is self.scroller.viewport() and event.type() == QEvent.Type.Resize
        if resized and self.fit:
            self._apply_zoom()
        return super().eventFilter(watched, event)

    def refresh(self) -> None:
        self._cache.clear()
        self.load()

    def current_key(self) -> str | None:
        data = self.segment.currentData()
        return str(data) if data else None

    def load(self) -> None:
        key = self.current_key()
        if key in self._cache:
            self.show_data(self._cache[key])
            return
        self._loading = key
        self.statusBar().showMessage("Aggregating sessions…")
        database, study_id = self.ctx.db, self.study_id
        run_in_thread(
            lambda: load_map_data(database, study_id, key),
            lambda data: self._loaded(key, data),
            lambda exc: show_error(self, exc),
            self,
        )

    def _loaded(self, key: str | None, data: MapData) -> None:
        self._cache[key] = data
        if key == self.current_key():
            self.show_data(data)

    def show_data(self, data: MapData) -> None:
        self.statusBar().showMessage(
            f"{data.sessions} sessions (rejected ones left out) · Ctrl+Plus / Ctrl+Minus zoom, "
            "Ctrl+0 fit to the window"
        )
        self.canvas.set_data(data)
        self.sides.setText(sides_text(data))
        self.sides.setVisible(bool(self.sides.text()))
        while self.segments_flow.count():
            item = self.segments_flow.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        curves = data.segments
        if curves is None:
            self.segments_title.setText("")
            self.segments_title.hide()
            self.segments_box.setFixedHeight(0)
            self._apply_zoom()
            return
        self.segments_title.show()
        # numbered as on the map above ("3. Wait" there is "3" here), every lane counting
        numbers = analysis.step_numbers(data.journey)
        steps = [s for s in data.journey.steps if s.id in data.aggregates]
        legend = ", ".join(f"{numbers[s.id]} {s.name}" for s in steps)
        self.segments_title.setText(
            f"<b>Equity lens — {self.segment.currentText()}</b>: one curve per answer. "
            f"Steps: {legend}."
        )
        values = sorted(curves.curves, key=lambda v: (-curves.sessions.get(v, 0), v))
        for value in values:
            title = value or "not asked"
            panel = SegmentCurvePanel(
                title,
                curves.sessions.get(value, 0),
                curves.too_few(value),
                [(numbers[s.id], s.name, curves.curves[value].get(s.id)) for s in steps],
            )
            self.segments_flow.addWidget(panel)
            panel.show()  # hidden widgets count as empty in the layout's height
        width = max(self.scroller.viewport().width() - 30, 400)
        height = self.segments_flow.heightForWidth(width)
        self.segments_box.setFixedHeight(height)
        self._apply_zoom()
