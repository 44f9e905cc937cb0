"""A one-line comment (Enter sends it, Esc cancels): a review comment, a reply, or the
reason of a decision.  Opened window-modal without blocking, so keys reach it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from cxfield.domain.errors import CxfieldError
from cxfield.gui.widgets import error_text


class CommentDialog(QDialog):
    """Calls ``send(text)``; a refusal (e.g. an empty reason) is shown in the dialog and
    it stays open with the text kept."""

    def __init__(
        self, parent: QWidget, title: str, about: str, send: Callable[[str], object]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.send = send
        self.about = QLabel(about)
        self.about.setWordWrap(True)
        self.text = QLineEdit()
        self.text.setAccessibleName("Comment")
        self.text.setPlaceholderText("Type the comment, then Enter")
        self.text.setMinimumWidth(520)
        self.problem = QLabel()
        self.problem.setObjectName("problem")
        self.problem.setStyleSheet("color: #a40000;")
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Send")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addWidget(self.text)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.text.setFocus()

    def accept(self) -> None:
        try:
            self.send(self.text.text())
        except CxfieldError as exc:
            self.problem.setText(error_text(exc))
            self.problem.show()
            self.text.setFocus()
            return
        super().accept()
