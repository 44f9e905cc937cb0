"""The History tab of the session view: every change after the first submission."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.gui.widgets import keep_tab_for_focus
from cxfield.services.history import session_history, short

HEADERS = ("When", "Who", "What", "Before", "After")


class HistoryTab(QWidget):
    def __init__(self, ctx: AppContext, session_id: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.session_id = session_id
        self.empty = QLabel("No changes since the session was first submitted.")
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setAccessibleName("History: when, who, what, before, after")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        keep_tab_for_focus(self.table)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)

    def reload(self) -> None:
        entries = session_history(self.ctx.db, self.session_id)
        self.table.setRowCount(len(entries))
        for r, entry in enumerate(entries):
            values = (
                entry.at.astimezone().strftime("%Y-%m-%d %H:%M"),
                entry.actor,
                entry.what,
                short(entry.before, 80),
                entry.after_text(80),
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if c >= 3:
                    shown = entry.before if c == 3 else entry.after
                    item.setToolTip(str(shown) + (f"\n{entry.comment}" if c == 4 else ""))
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self.empty.setVisible(not entries)
        if entries:
            self.table.selectRow(len(entries) - 1)
