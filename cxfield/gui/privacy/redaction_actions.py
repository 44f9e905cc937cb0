"""The Privacy menu of the main window: review the selected session's redactions
(Ctrl+Shift+R) and see which sessions wait for their review before sync and export."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox

from cxfield.gui.privacy.redaction_review import RedactionReview
from cxfield.privacy import outgoing


class RedactionActions(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx  # type: ignore[attr-defined]
        self.dialog: RedactionReview | None = None
        menu = window.menuBar().addMenu("&Privacy")
        self.menu = menu
        self.review_action = QAction("&Review redactions of the selected session…", window)
        self.review_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.review_action.triggered.connect(self.review_selected)
        menu.addAction(self.review_action)
        self.waiting_action = QAction("Sessions &waiting for review…", window)
        self.waiting_action.triggered.connect(self.show_waiting)
        menu.addAction(self.waiting_action)

    def review_selected(self) -> None:
        session_id = self.window.current_session_id()  # type: ignore[attr-defined]
        if session_id is None:
            self.window.statusBar().showMessage("Select a session first.", 4000)
            return
        self.dialog = RedactionReview(self.ctx, session_id, self.window)
        self.dialog.resize(1100, 680)
        self.dialog.finished.connect(lambda _r: self.window.refresh())  # type: ignore[attr-defined]
        self.dialog.open()

    def waiting_lines(self) -> list[str]:
        held = outgoing.prepare(self.ctx.db, scan=False).held
        return outgoing.describe(self.ctx.db, held)

    def show_waiting(self) -> None:
        lines = self.waiting_lines()
        text = "\n".join(lines) if lines else "No session waits for a redaction review."
        QMessageBox.information(self.window, "Sessions waiting for review", text)
