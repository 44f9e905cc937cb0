"""The labelled face scale for valence −2..+2 (keys 1–5).

Each choice shows a drawn face, its key number and its word, so colour is never the only
cue; the chosen one also gets a thick outline."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractButton, QButtonGroup, QHBoxLayout, QWidget

from cxfield.domain.vocabulary import VALENCE_LABELS
from cxfield.gui.widgets import draw_face


class FaceButton(QAbstractButton):
    def __init__(self, valence: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.valence = valence
        self.key = valence + 3
        self.setCheckable(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        label = VALENCE_LABELS[valence]
        self.setText(label)
        self.setAccessibleName(f"{label} ({self.key})")
        self.setToolTip(f"{label} — key {self.key}")
        self.setMinimumSize(96, 118)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(120, 132)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        palette = self.palette()
        if self.isChecked():
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.highlight().color().lighter(170))
            painter.drawRoundedRect(r, 10, 10)
        pen = painter.pen()
        pen.setColor(palette.text().color() if self.isChecked() else palette.mid().color())
        pen.setWidth(4 if self.isChecked() else 1)
        if self.hasFocus():
            pen.setColor(palette.highlight().color())
            pen.setWidth(4)
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(r, 10, 10)
        face = QRectF(r.left(), r.top() + 6, r.width(), r.height() * 0.52)
        draw_face(painter, face, self.valence, filled=True)
        painter.setPen(palette.text().color())
        font = painter.font()
        font.setBold(self.isChecked())
        painter.setFont(font)
        text = QRectF(r.left() + 2, face.bottom() + 2, r.width() - 4, r.bottom() - face.bottom())
        painter.drawText(
            text,
            int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            | int(Qt.TextFlag.TextWordWrap),
            f"{self.key}\n{self.text()}",
        )


class ValenceScale(QWidget):
    """Five face buttons; ``valence_chosen`` fires with −2..+2 or None (chosen one again)."""

    valence_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("How did this step feel? Keys 1 to 5")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)  # so the chosen face can be clicked off again
        self.buttons: dict[int, FaceButton] = {}
        for valence in range(-2, 3):
            button = FaceButton(valence)
            self.group.addButton(button)
            self.buttons[valence] = button
            layout.addWidget(button)
            button.clicked.connect(lambda _checked=False, v=valence: self._clicked(v))
        self._value: int | None = None

    def value(self) -> int | None:
        return self._value

    def set_value(self, value: int | None) -> None:
        self._value = value
        for valence, button in self.buttons.items():
            button.setChecked(valence == value)

    def choose(self, value: int | None) -> None:
        """Set by keyboard or click and announce it."""
        self.set_value(value)
        self.valence_chosen.emit(value)

    def _clicked(self, valence: int) -> None:
        self.choose(None if self._value == valence else valence)
