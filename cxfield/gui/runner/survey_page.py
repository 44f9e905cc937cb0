"""The A-11 post-transaction survey page of the runner.

Statements are shown with the exact wording (program and agency names filled in).  Each
Likert row takes keys 1–5 (0 or Delete clears) and moves on to the next row; every answer
is handed to the runner, which saves it at once."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cxfield.domain.survey import LIKERT_LABELS, V2_DRIVERS
from cxfield.gui.runner.capture_panel import TextField
from cxfield.gui.widgets import scroll_into_view
from cxfield.services.survey_answers import SurveyQuestion
from cxfield.storage.models import Study, SurveyResponse

# Line breaks only, the words are A-11's own scale labels.
_POINT_TEXT = {
    1: "1\nStrongly\ndisagree",
    2: "2\nDisagree",
    3: "3\nNeither agree\nnor disagree",
    4: "4\nAgree",
    5: "5\nStrongly\nagree",
}

_DRIVER_LABELS = {
    "effectiveness": "Effectiveness",
    "ease": "Ease",
    "efficiency": "Efficiency",
    "transparency": "Transparency",
    "humanity": "Humanity",
    "employee": "Employee helpfulness",
    "other": "Other",
}


class LikertRow(QFrame):
    answered = Signal(str, object)

    def __init__(self, number: int, question: SurveyQuestion) -> None:
        super().__init__()
        self.key = question.key
        self.setObjectName("likert")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(f"Question {number}: {question.text} Keys 1 to 5")
        layout = QVBoxLayout(self)
        text = QLabel(f"{number}. {question.text}")
        text.setObjectName("statement")
        text.setWordWrap(True)
        layout.addWidget(text)
        row = QHBoxLayout()
        self.group = QButtonGroup(self)
        self.buttons: dict[int, QPushButton] = {}
        for point, label in LIKERT_LABELS.items():
            button = QPushButton(_POINT_TEXT[point])
            button.setObjectName("point")
            button.setCheckable(True)
            button.setAccessibleName(f"{point} {label}")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the row takes the keys
            self.group.addButton(button, point)
            self.buttons[point] = button
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.group.idClicked.connect(lambda point: self.answered.emit(self.key, point))

    def set_value(self, value: int | None) -> None:
        self.group.setExclusive(False)
        for point, button in self.buttons.items():
            button.setChecked(point == value)
        self.group.setExclusive(True)

    def value(self) -> int | None:
        checked = self.group.checkedId()
        return checked if checked > 0 else None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        text = event.text()
        if text in {"1", "2", "3", "4", "5"}:
            self.set_value(int(text))
            self.answered.emit(self.key, int(text))
            self.focusNextChild()
            return
        if text == "0" or event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.set_value(None)
            self.answered.emit(self.key, None)
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        super().focusInEvent(event)
        scroll_into_view(self)
        self.update()


class SurveyPage(QWidget):
    #: (answer key, value) — value is int | None, list[str] or str
    answered = Signal(str, object)
    #: the comments text changed (the runner debounces)
    comments_edited = Signal()

    def __init__(self, study: Study, questions: list[SurveyQuestion]) -> None:
        super().__init__()
        self._loading = False
        layout = QVBoxLayout(self)
        title = QLabel("A-11 customer survey")
        title.setObjectName("stepTitle")
        layout.addWidget(title)
        intro = QLabel(
            f"About: <b>{study.program or study.name}</b>. Read each statement exactly as "
            "written; the customer answers from 1 (strongly disagree) to 5 (strongly agree). "
            "Keys 1–5 answer and move on; 0 clears."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.rows: dict[str, LikertRow] = {}
        self.drivers: dict[str, dict[str, QCheckBox]] = {}
        self.comments: TextField | None = None
        for number, question in enumerate(questions, 1):
            if question.kind == "likert":
                row = LikertRow(number, question)
                row.answered.connect(self._answer)
                self.rows[question.key] = row
                layout.addWidget(row)
            elif question.kind == "drivers":
                layout.addWidget(self._drivers(number, question))
            else:
                label = QLabel(f"{number}. {question.text}")
                label.setObjectName("statement")
                label.setWordWrap(True)
                self.comments = TextField("Free text (optional)", question.text)
                self.comments.setFixedHeight(72)
                self.comments.textChanged.connect(self._comments_changed)
                label.setBuddy(self.comments)
                layout.addWidget(label)
                layout.addWidget(self.comments)
        layout.addStretch(1)

    def _drivers(self, number: int, question: SurveyQuestion) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        label = QLabel(f"{number}. {question.text}")
        label.setObjectName("statement")
        grid.addWidget(label, 0, 0, 1, 4)
        boxes: dict[str, QCheckBox] = {}
        for index, driver in enumerate(V2_DRIVERS):
            check = QCheckBox(_DRIVER_LABELS.get(driver, driver))
            check.setAccessibleName(f"{question.text} {_DRIVER_LABELS.get(driver, driver)}")
            check.toggled.connect(lambda _on, key=question.key: self._drivers_changed(key))
            grid.addWidget(check, 1 + index // 4, index % 4)
            boxes[driver] = check
        self.drivers[question.key] = boxes
        return box

    def load(self, response: SurveyResponse | None) -> None:
        self._loading = True
        try:
            for key, row in self.rows.items():
                row.set_value(getattr(response, key) if response else None)
            for key, boxes in self.drivers.items():
                chosen = set(getattr(response, key) if response else [])
                for driver, check in boxes.items():
                    check.setChecked(driver in chosen)
            if self.comments is not None:
                self.comments.setPlainText(response.comments if response else "")
        finally:
            self._loading = False

    def first_focus(self) -> QWidget | None:
        return next(iter(self.rows.values()), None)

    def comments_text(self) -> str:
        return self.comments.toPlainText() if self.comments else ""

    def _answer(self, key: str, value: Any) -> None:
        if not self._loading:
            self.answered.emit(key, value)

    def _drivers_changed(self, key: str) -> None:
        if not self._loading:
            chosen = [d for d, check in self.drivers[key].items() if check.isChecked()]
            self.answered.emit(key, chosen)

    def _comments_changed(self) -> None:
        if not self._loading:
            self.comments_edited.emit()
