"""The comments beside the items of a session in review mode: each thread with what it is
about, replies indented; R (or Enter) on a comment answers it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from cxfield.services import review
from cxfield.services.review import anchor_label
from cxfield.storage.models import ReviewComment


class CommentsPanel(QWidget):
    #: the user asked to answer this comment
    reply_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.heading = QLabel("Comments")
        self.heading.setObjectName("heading")
        self.list = QListWidget()
        self.list.setAccessibleName("Review comments")
        self.list.setWordWrap(True)
        self.list.setToolTip("R or Enter answers the highlighted comment")
        self.heading.setBuddy(self.list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        for keys in ("R", "Return", "Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.list)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self._reply)
        self.setMinimumWidth(230)

    def show_comments(self, detail: dict[str, Any], comments: list[ReviewComment]) -> None:
        self.list.clear()
        threads = review.threads(comments)
        self.heading.setText(f"Comments ({len(comments)})" if comments else "Comments (none)")
        for thread in threads:
            first = thread.comment
            text = (
                f"{anchor_label(detail, first)}\n{first.author_name} · "
                f"{first.at.astimezone():%d %b %H:%M}\n{first.text}"
            )
            self._add(text, first.id, bold=True)
            for answer in thread.replies:
                self._add(f"    ↳ {answer.author_name}: {answer.text}", first.id)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _add(self, text: str, thread_id: str, *, bold: bool = False) -> None:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, thread_id)
        if bold:
            font = item.font()
            font.setBold(True)
            item.setFont(font)
        self.list.addItem(item)

    def current_thread(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _reply(self) -> None:
        thread = self.current_thread()
        if thread:
            self.reply_requested.emit(thread)
