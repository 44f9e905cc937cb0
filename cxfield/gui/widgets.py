"""Small widgets and helpers the capture screens share: error boxes, a flow layout for
chips, a debouncer for autosave, valence colours and the drawn faces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QLayout,
    QLayoutItem,
    QMessageBox,
    QScrollArea,
    QWidget,
    QWidgetItem,
)

from cxfield.domain.errors import CxfieldError

#: Valence −2..+2 on a red → green scale; never the only cue (faces, numbers and words too).
VALENCE_COLOURS: dict[int, str] = {
    -2: "#c0392b",
    -1: "#e67e22",
    0: "#9e9e9e",
    1: "#7cb342",
    2: "#2e7d32",
}

#: The colour of the focus frame (drawn widgets such as the face scale use it too).
FOCUS_COLOUR = QColor("#1565c0")

#: Focus must always be visible, also on flat buttons and chips.
FOCUS_STYLE = (
    "QPushButton:focus, QToolButton:focus, QCheckBox:focus, QRadioButton:focus,"
    " QComboBox:focus, QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus,"
    " QListWidget:focus, QTreeWidget:focus, QTableView:focus, QSpinBox:focus"
    " { outline: none; border: 3px solid #1565c0; }"
)


def valence_colour(value: float | None) -> QColor:
    if value is None:
        return QColor("#bdbdbd")
    low = max(-2, min(2, int(value // 1)))
    high = min(2, low + 1)
    t = max(0.0, min(1.0, value - low))
    a, b = QColor(VALENCE_COLOURS[low]), QColor(VALENCE_COLOURS[high])
    return QColor(
        int(a.red() + (b.red() - a.red()) * t),
        int(a.green() + (b.green() - a.green()) * t),
        int(a.blue() + (b.blue() - a.blue()) * t),
    )


def draw_face(painter: QPainter, rect: QRectF, valence: int, *, filled: bool = True) -> None:
    """A simple face whose mouth curves with valence (−2 deep frown .. +2 wide smile)."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    size = min(rect.width(), rect.height())
    box = QRectF(rect.center().x() - size / 2, rect.center().y() - size / 2, size, size).adjusted(
        2, 2, -2, -2
    )
    pen = QPen(QColor("#212121"), max(1.5, size / 18))
    painter.setPen(pen)
    painter.setBrush(valence_colour(valence) if filled else QColor("white"))
    painter.drawEllipse(box)
    eye = size / 11
    for dx in (-0.18, 0.18):
        centre = QPointF(box.center().x() + dx * size, box.top() + size * 0.38)
        painter.setBrush(QColor("#212121"))
        painter.drawEllipse(centre, eye / 2, eye / 2)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    mouth_y = box.top() + size * 0.66
    half = size * 0.22
    bend = valence * size * 0.07
    path = QPainterPath(QPointF(box.center().x() - half, mouth_y - bend / 2))
    path.quadTo(
        QPointF(box.center().x(), mouth_y + bend * 1.2),
        QPointF(box.center().x() + half, mouth_y - bend / 2),
    )
    painter.drawPath(path)
    painter.restore()


def scroll_into_view(widget: QWidget, margin: int = 40) -> None:
    """Scroll the nearest scroll area around ``widget`` so that it is seen (focus moved
    there by a key must never land out of sight)."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    inner = parent.widget() if isinstance(parent, QScrollArea) else None
    if isinstance(parent, QScrollArea) and inner is not None:
        # the whole widget (ensureWidgetVisible shows only a text field's cursor line)
        top = widget.mapTo(inner, QPoint(0, 0))
        half = widget.height() // 2
        parent.ensureVisible(top.x(), top.y() + half, 0, half + margin)


def show_error(parent: QWidget | None, error: Exception, title: str = "cxfield") -> None:
    """One clear sentence for user errors; the type name for anything unexpected."""
    text = str(error) if isinstance(error, CxfieldError) else f"{type(error).__name__}: {error}"
    QMessageBox.warning(parent, title, text)


def guarded(parent: QWidget | None, action: Callable[[], Any]) -> Any:
    """Run an action; show its CxfieldError as a message and return None instead."""
    try:
        return action()
    except CxfieldError as exc:
        show_error(parent, exc)
        return None


class Debouncer:
    """Calls ``flush`` once typing pauses for ``delay_ms`` (and on demand).

    Autosave of text fields: each keystroke restarts the timer; ``flush_now`` runs a
    pending save immediately (step change, window close)."""

    def __init__(self, flush: Callable[[], None], delay_ms: int = 400) -> None:
        self._flush = flush
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._fire)

    def poke(self) -> None:
        self._timer.start()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def flush_now(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._fire()

    def _fire(self) -> None:
        self._flush()


class FlowLayout(QLayout):
    """Lays children out left to right, wrapping to new lines (emotion chips)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802
        self._items.append(item)

    def addWidget(self, widget: QWidget) -> None:  # noqa: N802
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        gap = self.spacing()
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() and line > 0:
                x, y, line = rect.x(), y + line + gap, 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + gap
            line = max(line, hint.height())
        return y + line - rect.y()
