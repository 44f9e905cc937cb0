"""The Review menu of the main window and the count in its status bar: sessions waiting
for review (a supervisor) or sessions returned to you (a researcher)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow

from cxfield.gui.review.profile_dialog import ProfileDialog
from cxfield.gui.review.queue_window import ReviewQueueWindow
from cxfield.gui.review.review_view import ReviewSessionView
from cxfield.services import review_queue

QUEUE_SHORTCUT = "Ctrl+Shift+Q"
REVIEW_SHORTCUT = "Ctrl+Shift+V"


class ReviewActions(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx  # type: ignore[attr-defined]
        self.queue: ReviewQueueWindow | None = None
        self.view: ReviewSessionView | None = None
        menu = window.menuBar().addMenu("Re&view")
        queue = QAction("&Queue…", window)
        self.queue_action = queue
        queue.setShortcut(QKeySequence(QUEUE_SHORTCUT))
        queue.triggered.connect(self.open_queue)
        menu.addAction(queue)
        selected = QAction("&Review the selected session…", window)
        selected.setShortcut(QKeySequence(REVIEW_SHORTCUT))
        selected.triggered.connect(self.review_selected)
        menu.addAction(selected)
        menu.addSeparator()
        profile = QAction("Your &profile…", window)
        profile.triggered.connect(self.choose_profile)
        menu.addAction(profile)
        self.count_label = QLabel()
        self.count_label.setObjectName("reviewCount")
        self.count_label.setAccessibleName("Review")
        window.statusBar().addPermanentWidget(self.count_label)
        self.refresh_count()

    def refresh_count(self) -> None:
        waiting = review_queue.waiting_count(self.ctx.db)
        self.queue_action.setText("&Queue…" if waiting.reviewer else "Returned to &you…")
        line = waiting.line
        self.count_label.setText(line)
        self.count_label.setVisible(bool(line))

    def _changed(self) -> None:
        self.window.refresh()  # type: ignore[attr-defined]
        self.refresh_count()

    def choose_profile(self) -> ProfileDialog:
        """Who you are on this laptop (offline: a supervisor profile reviews here)."""
        dialog = ProfileDialog(self.ctx, self.window)
        dialog.accepted.connect(self._changed)
        dialog.open()
        return dialog

    def open_queue(self) -> ReviewQueueWindow:
        if self.queue is None or not self.queue.isVisible():
            self.queue = ReviewQueueWindow(self.ctx, self.window)
            self.queue.setWindowFlag(Qt.WindowType.Window)
            self.queue.changed.connect(self._changed)
        self.queue.show()
        self.queue.raise_()
        self.queue.activateWindow()
        self.queue.table.setFocus()
        return self.queue

    def review_selected(self) -> ReviewSessionView | None:
        """The selected session in review mode (also a researcher answering comments)."""
        session_id = self.window.current_session_id()  # type: ignore[attr-defined]
        if session_id is None:
            self.window.statusBar().showMessage("Select a session first.", 4000)
            return None
        view = ReviewSessionView(self.ctx, session_id, self.window)
        view.setWindowFlag(Qt.WindowType.Window)
        view.decided.connect(lambda _sid: self._changed())
        self.view = view
        view.show()
        view.activateWindow()
        return view
