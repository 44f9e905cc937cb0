"""Small widgets and helpers the capture screens share: error boxes, a flow layout for
chips, a debouncer for autosave, valence colours and the drawn faces, the focus frame and
the keyboard rules of tables and dialogs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QLabel,
    QLayout,
    QLayoutItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTabWidget,
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

#: The colour of the focus frame (also what tests look for; drawn widgets such as the face
#: scale use it too).
FOCUS_COLOUR = "#1565c0"
#: Focus must always be visible: a 3-px frame on every focusable widget type the app uses,
#: flat buttons and chips included.  The application sets it once for every window
#: (:func:`cxfield.gui.application.create_application`); a window whose own style sheet
#: sets borders appends it again so that its :focus rules win.  Item views and text boxes
#: keep a 3-px box (1-px line and 2-px margin) when they lose focus, so gaining focus does
#: not move their contents — and the frame is drawn in full, not as a 1-px line.
FOCUS_STYLE = (
    "QListView, QTreeView, QTableView, QPlainTextEdit, QTextEdit"
    " { border: 1px solid #9e9e9e; margin: 2px; }"
    "QAbstractButton:focus, QComboBox:focus, QLineEdit:focus, QAbstractSpinBox:focus,"
    " QSlider:focus, QListView:focus, QTreeView:focus, QTableView:focus,"
    " QPlainTextEdit:focus, QTextEdit:focus"
    f" {{ outline: none; border: 3px solid {FOCUS_COLOUR}; margin: 0px; }}"
    f"QTabBar::tab:focus {{ border: 3px solid {FOCUS_COLOUR}; padding: 2px 6px; }}"
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


def error_text(error: Exception) -> str:
    """One clear sentence for user errors (as the app, not the CLI, says it); the type
    name for anything unexpected."""
    if isinstance(error, CxfieldError):
        return str(getattr(error, "in_app", "") or error)
    return f"{type(error).__name__}: {error}"


def show_error(parent: QWidget | None, error: Exception, title: str = "cxfield") -> None:
    QMessageBox.warning(parent, title, error_text(error))


def guarded(parent: QWidget | None, action: Callable[[], Any]) -> Any:
    """Run an action; show its CxfieldError as a message and return None instead."""
    try:
        return action()
    except CxfieldError as exc:
        show_error(parent, exc)
        return None


def keep_tab_for_focus(*views: QAbstractItemView) -> None:
    """Tab and Shift+Tab leave a table for the next field instead of walking its cells
    (a keyboard trap: the arrows move between cells)."""
    for view in views:
        view.setTabKeyNavigation(False)


class _TabsRelaidOnFocus(QObject):
    """The focused tab's frame (FOCUS_STYLE) is wider than a tab's own, but QTabBar lays its
    tabs out again only when its style changes: a tab chosen by its Alt key kept the
    focused size after the focus moved on, and its text was cut by a few pixels."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            QApplication.postEvent(watched, QEvent(QEvent.Type.StyleChange))
        return False


def keep_tabs_whole(tabs: QTabWidget) -> None:
    """Lay a tab widget's tabs out again whenever its tab bar gains or loses the focus."""
    relayout = _TabsRelaidOnFocus(tabs)
    tabs.tabBar().installEventFilter(relayout)


class FormLabel(QLabel):
    """A form field's label (Alt+underlined letter moves to ``buddy``) with two pixels to
    spare.  Qt makes a label exactly as wide as its text, but draws a first letter that
    leans left and is underlined (the T of "&Trust question") a pixel further right, so
    the last letter was cut."""

    def __init__(self, text: str, buddy: QWidget) -> None:
        super().__init__(text)
        self.setBuddy(buddy)

    def sizeHint(self) -> QSize:  # noqa: N802
        return super().sizeHint() + QSize(2, 0)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return super().minimumSizeHint() + QSize(2, 0)


class _EnterStaysInField(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if not (
            watched is self.parent()
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            return False
        button = QApplication.focusWidget()
        if isinstance(button, QPushButton) and button.isEnabled():
            button.click()  # Enter on a focused button still presses it
        return True  # never the dialog's default button


def enter_stays_in_field(dialog: QDialog) -> None:
    """Enter in a field must never press a button that creates something.  Enter that a
    field leaves unused reaches the dialog, which presses its default button — the first
    button ("Add stage") when none is chosen.  Here no button is the default (none is drawn
    as one) and Enter presses only a button that has focus.  Call it once the dialog's
    buttons exist."""
    for button in dialog.findChildren(QPushButton):
        button.setAutoDefault(False)
        button.setDefault(False)
    dialog.installEventFilter(_EnterStaysInField(dialog))


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
