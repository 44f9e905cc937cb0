"""Review → Queue: sessions waiting for review, oldest submission first, filtered by
study, site, researcher and state.  Enter opens the highlighted session in review mode;
after a decision there the next session of the queue opens.

For a researcher the same window is "Returned to you": their sessions that came back with
issues, each opening with its comments next to the items; resubmitting opens the next."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.review import STATUS_LABEL
from cxfield.domain.vocabulary import SessionStatus
from cxfield.gui.review.review_view import ReviewSessionView
from cxfield.gui.widgets import keep_tab_for_focus
from cxfield.services import review, review_queue, sites, studies

HEADERS = ("Submitted", "Status", "Participant", "Researcher", "Site", "Study", "Comments")


class ReviewQueueWindow(QMainWindow):
    #: something was decided (the main window refreshes its list and count)
    changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.reviewer = review.current_actor(ctx.db).is_reviewer
        self.setWindowTitle("Review queue" if self.reviewer else "Returned to you")
        self.view: ReviewSessionView | None = None
        self.items: list[review_queue.QueueItem] = []
        self.study = self._combo(
            "Study",
            [("All studies", None)] + [(s.name, s.id) for s in studies.list_studies(ctx.db)],
        )
        self.site = self._combo(
            "Site", [("All sites", None)] + [(s.name, s.id) for s in sites.list_sites(ctx.db)]
        )
        self.researcher = self._combo(
            "Researcher",
            [("All researchers", None)] + [(r.name, r.id) for r in sites.list_researchers(ctx.db)],
        )
        self.state = self._combo(
            "State", [(STATUS_LABEL[s], s.value) for s in SessionStatus if s != SessionStatus.DRAFT]
        )
        if not self.reviewer:  # a researcher: what came back to them
            self.state.setCurrentIndex(self.state.findData(SessionStatus.HAS_ISSUES.value))
            mine = self.researcher.findData(review.current_actor(ctx.db).id)
            if mine >= 0:
                self.researcher.setCurrentIndex(mine)
        filters = QHBoxLayout()
        for label, combo in (
            ("&Study", self.study),
            ("S&ite", self.site),
            ("&Researcher", self.researcher),
            ("Stat&e", self.state),
        ):
            caption = QLabel(label)
            caption.setBuddy(combo)
            filters.addWidget(caption)
            filters.addWidget(combo, 1)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setAccessibleName("Sessions waiting for review")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        keep_tab_for_focus(self.table)
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        self.summary = QLabel()
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.addLayout(filters)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        hint = QLabel("Enter opens the session in review mode · F5 reloads · Ctrl+W closes")
        hint.setObjectName("hint")
        layout.addWidget(hint)
        self.setCentralWidget(root)
        for combo in (self.study, self.site, self.researcher, self.state):
            combo.currentIndexChanged.connect(lambda _i: self.reload())
        QShortcut(QKeySequence("F5"), self).activated.connect(self.reload)
        QShortcut(QKeySequence("Ctrl+W"), self).activated.connect(self.close)
        self.setStyleSheet("QWidget { font-size: 11pt; }")
        self.resize(1100, 640)
        self.reload()
        self.table.setFocus()

    @staticmethod
    def _combo(name: str, entries: list[tuple[str, str | None]]) -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(name)
        for text, value in entries:
            combo.addItem(text, value)
        return combo

    def reload(self, select: str | None = None) -> None:
        current = select or self.current_id()
        self.items = review_queue.review_queue(
            self.ctx.db,
            [self.state.currentData()],
            study_id=self.study.currentData(),
            site=self.site.currentData(),
            researcher=self.researcher.currentData(),
        )
        self.table.setRowCount(len(self.items))
        for r, item in enumerate(self.items):
            s = item.session
            values = (
                item.submitted_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                STATUS_LABEL[SessionStatus(s.status)],
                s.participant_code or "—",
                s.researcher or "—",
                s.site or "—",
                s.study,
                str(item.comments),
            )
            for c, value in enumerate(values):
                cell = QTableWidgetItem(value)
                cell.setData(Qt.ItemDataRole.UserRole, s.id)
                self.table.setItem(r, c, cell)
        waiting = len(self.items)
        returned = not self.reviewer and self.state.currentData() == SessionStatus.HAS_ISSUES
        what = " returned to you" if returned else ""
        self.summary.setText(f"{waiting} session{'s' if waiting != 1 else ''}{what}, oldest first")
        ids = [i.session.id for i in self.items]
        if ids:
            self.table.selectRow(ids.index(current) if current in ids else 0)

    def current_id(self) -> str | None:
        row = self.table.currentRow()
        return self.items[row].session.id if 0 <= row < len(self.items) else None

    def open_row(self, row: int) -> ReviewSessionView | None:
        if not 0 <= row < len(self.items):
            return None
        return self.open_session(self.items[row].session.id)

    def open_session(self, session_id: str) -> ReviewSessionView:
        if self.view is not None:
            self.view.close()
            self.view.deleteLater()
        view = ReviewSessionView(self.ctx, session_id)  # its own window, kept by the queue
        view.decided.connect(self._after_decision)
        self.view = view
        view.show()
        view.raise_()
        view.activateWindow()
        view.captures.setFocus()
        return view

    def _after_decision(self, session_id: str) -> None:
        ids = [i.session.id for i in self.items]
        position = ids.index(session_id) if session_id in ids else 0
        self.changed.emit()
        self.reload()
        following = [i.session.id for i in self.items if i.session.id != session_id]
        if not following:
            if self.view is not None:
                self.view.statusBar().showMessage("The queue is empty.", 8000)
            return
        nxt = ids[position + 1] if position + 1 < len(ids) else following[0]
        if nxt not in following:
            nxt = following[0]
        self.reload(select=nxt)
        self.open_session(nxt)
