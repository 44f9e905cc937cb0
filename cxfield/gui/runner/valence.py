"""The labelled face scale for valence −2..+2 (keys 1–5).

Each choice shows a drawn face, its key number and its word, so colour is never the only
cue; the chosen one also gets a thick outline.  The scale takes the keyboard focus as one
whole (its frame is drawn around all five faces): a focus mark on a single face would look
like an answer already given on a step that has none."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QAbstractButton, QButtonGroup, QHBoxLayout, QWidget

from cxfield.domain.rating import rating_key, rating_text
from cxfield.domain.vocabulary import VALENCE_LABELS
from cxfield.gui.widgets import FOCUS_COLOUR, draw_face

#: inside a face button: margin, the smallest face, the gap between face and words
_MARGIN, _MIN_FACE, _GAP = 6, 40, 2
_TEXT_FLAGS = int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop) | int(
    Qt.TextFlag.TextWordWrap
)


class FaceButton(QAbstractButton):
    def __init__(self, valence: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.valence = valence
        self.key = rating_key(valence)
        self.setCheckable(True)
        # The scale holds the focus; the faces are chosen with 1–5 or the mouse.
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        label = VALENCE_LABELS[valence]
        self.setText(label)
        self.setAccessibleName(rating_text(valence))
        self.setToolTip(f"{label} — key {self.key}")

    def caption(self) -> str:
        return f"{self.key}\n{self.text()}"

    def _text_height(self, width: int) -> int:
        """Height of the number and the word(s) when wrapped to ``width``."""
        bold = self.font()
        bold.setBold(True)  # the chosen face's words are bold: size for those
        metrics = QFontMetrics(bold)
        return metrics.boundingRect(
            QRect(0, 0, max(1, width), 10_000), _TEXT_FLAGS, self.caption()
        ).height()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        width = 96
        return QSize(width, _MARGIN * 2 + _MIN_FACE + _GAP + self._text_height(width - 16))

    def sizeHint(self) -> QSize:  # noqa: N802
        width = 120
        return QSize(width, max(132, _MARGIN * 2 + 64 + _GAP + self._text_height(width - 16)))

    def areas(self) -> tuple[QRectF, QRectF, int]:
        """(face, words, height the words need): the words get all the room they need,
        the face what is left (so "1 Very negative" is never cut off)."""
        r = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        text_width = int(r.width()) - 10
        needed = self._text_height(text_width)
        face_height = max(float(_MIN_FACE), min(r.height() * 0.55, r.height() - needed - 10))
        face = QRectF(r.left(), r.top() + 4, r.width(), face_height)
        words = QRectF(r.left() + 5, face.bottom() + _GAP, text_width, r.bottom() - face.bottom())
        return face, words, needed

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
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(r, 10, 10)
        face, words, _needed = self.areas()
        draw_face(painter, face, self.valence, filled=True)
        painter.setPen(palette.text().color())
        font = painter.font()
        font.setBold(self.isChecked())
        painter.setFont(font)
        painter.drawText(words, _TEXT_FLAGS, self.caption())


class ValenceScale(QWidget):
    """Five face buttons; ``valence_chosen`` fires with −2..+2 or None (chosen one again)."""

    valence_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("How did this step feel? Keys 1 to 5")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(5, 5, 5, 5)  # room for the focus frame
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

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        if not self.hasFocus():
            return
        painter = QPainter(self)
        pen = QPen(QColor(FOCUS_COLOUR), 3)
        painter.setPen(pen)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1.5, 1.5, -1.5, -1.5), 8, 8)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusOutEvent(event)
        self.update()
