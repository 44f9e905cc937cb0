"""Sync → Conflicts…: records changed on two devices (and rows the hub refused, or that
clash with one here), each named in words, this laptop's version and the other one side by
side, Keep mine (Alt+M) / Keep theirs (Alt+T).

A choice is written here at once as a change of this laptop
(:func:`cxfield.sync.conflicts.choose`); it reaches the hub, and closes the conflict there
and on the other laptop, at the next sync — which the Sync menu starts when this window
closes."""

from __future__ import annotations

from PySide6.QtCore import (
    QItemSelectionModel,
    Qt,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.gui.row_table import RowTableModel
from cxfield.gui.sync.describe import (
    KIND_WORDS,
    compared_fields,
    describe_record,
    field_words,
    value_words,
)
from cxfield.gui.widgets import FOCUS_STYLE, show_error
from cxfield.sync import conflicts
from cxfield.sync.conflicts import ConflictView


def happened_words(conflict: ConflictView) -> str:
    text = KIND_WORDS.get(conflict.kind, conflict.kind)
    if conflict.kind == "conflict" and conflict.winner:
        text += f"; the hub holds {conflict.winner} for now"
    return text


def state_words(conflict: ConflictView) -> str:
    if conflict.resolution:
        return f"{conflict.resolution.capitalize()} kept — sent at the next sync"
    return "Waiting for your choice"


class ConflictTableModel(RowTableModel[tuple[ConflictView, str]]):
    HEADERS = ("Record", "What happened", "Fields", "State")
    TEXT_ROLES = (*RowTableModel.TEXT_ROLES, Qt.ItemDataRole.ToolTipRole)

    def cells(self, row: tuple[ConflictView, str]) -> tuple[str, ...]:
        conflict, words = row
        return (
            words,
            happened_words(conflict),
            ", ".join(field_words(f) for f in compared_fields(conflict)) or "—",
            state_words(conflict),
        )


class ConflictsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        #: how many choices were made here (the Sync menu syncs them when this closes)
        self.choices = 0
        self.setWindowTitle("Sync conflicts")
        self.setStyleSheet(FOCUS_STYLE + "QWidget { font-size: 11pt; }")

        self.model = ConflictTableModel()
        self.table = QTableView()
        self.table.setAccessibleName("Conflicts")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().currentRowChanged.connect(lambda _c, _p: self._show_current())

        self.title = QLabel()
        self.title.setObjectName("conflictTitle")
        self.title.setWordWrap(True)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.sides = QTableWidget(0, 3)
        self.sides.setAccessibleName("This laptop's version and the other side by side")
        self.sides.setHorizontalHeaderLabels(["Field", "Mine (this laptop)", "Theirs (the team)"])
        self.sides.verticalHeader().setVisible(False)
        self.sides.setWordWrap(True)
        self.sides.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        sides_header = self.sides.horizontalHeader()
        sides_header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        sides_header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        sides_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.title)
        detail_layout.addWidget(self.explanation)
        detail_layout.addWidget(self.sides, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)

        self.keep_mine = QPushButton("Keep &mine")
        self.keep_mine.setToolTip("Keep this laptop's version (Alt+M)")
        self.keep_mine.clicked.connect(lambda: self.keep("mine"))
        self.keep_theirs = QPushButton("Keep &theirs")
        self.keep_theirs.setToolTip("Keep the other version (Alt+T)")
        self.keep_theirs.clicked.connect(lambda: self.keep("theirs"))
        close = QPushButton("&Close")
        close.clicked.connect(self.accept)
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.keep_mine)
        buttons.addWidget(self.keep_theirs)
        buttons.addWidget(close)
        for button in (self.keep_mine, self.keep_theirs, close):
            button.setAutoDefault(False)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        screen = self.screen().availableGeometry()
        self.fit_to(screen.width(), screen.height())
        self.reload()
        self.table.setFocus()

    def fit_to(self, width: int, height: int) -> None:
        """A size for a screen of ``width`` × ``height``: room for both versions, never off
        the screen."""
        self.resize(min(1200, int(width * 0.8)), min(760, int(height * 0.8)))

    # --- data ---------------------------------------------------------------------------

    def reload(self, select_row: int = 0) -> None:
        found = conflicts.list_conflicts(self.ctx.db)
        db = self.ctx.db
        self.model.set_rows([(c, describe_record(db, c.table, c.theirs or c.mine)) for c in found])
        self.table.resizeRowsToContents()
        if found:
            row = min(select_row, len(found) - 1)
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        self._show_current()

    def current(self) -> ConflictView | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()][0]

    def _show_current(self) -> None:
        conflict = self.current()
        self.keep_mine.setEnabled(conflict is not None)
        self.keep_theirs.setEnabled(conflict is not None)
        self.sides.setRowCount(0)
        if conflict is None:
            self.title.setText("No conflicts: every record agrees with the team's hub.")
            self.explanation.setText("")
            return
        self.title.setText(f"<b>{self.model.rows[self.table.currentIndex().row()][1]}</b>")
        self.explanation.setText(self._explain(conflict))
        fields = compared_fields(conflict)
        bold = QFont()
        bold.setBold(True)
        for row, column in enumerate(fields):
            self.sides.insertRow(row)
            mine = value_words(column, (conflict.mine or {}).get(column))
            theirs = value_words(column, (conflict.theirs or {}).get(column))
            cells = (field_words(column), mine, theirs)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col and conflict.mine is not None and conflict.theirs is not None:
                    item.setFont(bold)
                self.sides.setItem(row, col, item)
        self.sides.resizeRowsToContents()

    def _explain(self, conflict: ConflictView) -> str:
        if conflict.kind == "refused":
            return (
                f"The hub refused this laptop's version: {conflict.message} "
                "Keep mine or Keep theirs closes it here; this laptop's copy stays as it is."
            )
        if conflict.kind == "clash":
            return (
                f"The team's version was not written here: {conflict.message} "
                "Keep mine or Keep theirs closes it; nothing is removed."
            )
        held = "yours" if conflict.winner == "mine" else "the other one"
        return (
            "This record was changed here and on another device before either had synced. "
            f"Both versions are kept; the hub holds {held} until you choose."
        )

    # --- choices ------------------------------------------------------------------------

    def keep(self, side: str) -> None:
        conflict = self.current()
        if conflict is None:
            return
        row = self.table.currentIndex().row()
        try:
            conflicts.choose(self.ctx.db, conflict.id, side)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.choices += 1
        if conflict.kind == "conflict":
            self.status.setText(f"Kept {side}; it reaches the hub when this window closes.")
        else:
            self.status.setText(f"Kept {side}; closed.")
        self.reload(select_row=row + (1 if conflict.kind == "conflict" else 0))
        self.table.setFocus()
