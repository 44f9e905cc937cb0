"""The main window: studies on the left, the selected study's sessions on the right."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from cxfield import __version__
from cxfield.app import AppContext
from cxfield.domain.wording import count_of
from cxfield.gui.capture_actions import CaptureActions
from cxfield.gui.redaction_actions import RedactionActions
from cxfield.gui.sync.sync_actions import SyncActions
from cxfield.gui.widgets import keep_tab_for_focus
from cxfield.services import sessions as session_service
from cxfield.services import studies as study_service
from cxfield.services.sessions import SessionSummary

_STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "approved": "Approved",
    "has_issues": "Has issues",
    "rejected": "Rejected",
}


class SessionTableModel(QAbstractTableModel):
    HEADERS = ("Started", "Participant", "Mode", "Status", "Researcher", "Site", "Steps captured")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[SessionSummary] = []

    def set_rows(self, rows: list[SessionSummary]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def session_at(self, row: int) -> SessionSummary:
        return self._rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.AccessibleTextRole,
        ):
            return None
        s = self._rows[index.row()]
        values = (
            s.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            s.participant_code or "—",
            s.mode.capitalize(),
            _STATUS_LABELS.get(s.status, s.status),
            s.researcher or "—",
            s.site or "—",
            str(s.captures),
        )
        return values[index.column()]


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(f"cxfield {__version__} — {ctx.paths.root}")
        self.resize(1280, 760)

        self.study_list = QListWidget()
        self.study_list.setAccessibleName("Studies")
        self.study_list.setWordWrap(True)
        self.study_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.study_list.currentItemChanged.connect(self._study_changed)

        self.session_model = SessionTableModel()
        self.session_table = QTableView()
        self.session_table.setAccessibleName("Sessions of the selected study")
        self.session_table.setModel(self.session_model)
        self.session_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.session_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.session_table.setAlternatingRowColors(True)
        self.session_table.verticalHeader().setVisible(False)
        self.session_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.session_table.horizontalHeader().setStretchLastSection(True)
        keep_tab_for_focus(self.session_table)

        self.study_title = QLabel()
        self.study_title.setObjectName("studyTitle")
        self.study_title.setWordWrap(True)
        self.study_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        right = QWidget()
        layout = QVBoxLayout(right)
        layout.addWidget(self.study_title)
        layout.addWidget(self.session_table, 1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        heading = QLabel("Studies")
        heading.setObjectName("heading")
        heading.setBuddy(self.study_list)
        left_layout.addWidget(heading)
        left_layout.addWidget(self.study_list, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([320, 960])
        self.setCentralWidget(splitter)
        self.setStyleSheet(
            "QLabel#heading { font-size: 15pt; font-weight: 600; }"
            "QLabel#studyTitle { font-size: 13pt; }"
            "QListWidget { font-size: 12pt; }"
            "QListWidget::item { padding: 6px; }"
        )

        self._build_menu()
        # Study and Session menus, toolbar and the windows they open (capture feature).
        self.capture_actions = CaptureActions(self)
        # The Sync menu and "Last synced …" in the status bar (team hub).
        self.sync_actions = SyncActions(self)
        # The Privacy menu: redaction review before sync and export (issue 14).
        self.redaction_actions = RedactionActions(self)
        self.refresh()

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        refresh = QAction("&Refresh", self)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        refresh.triggered.connect(self.refresh)
        file_menu.addAction(refresh)
        export_action = QAction("&Export…", self)
        export_action.setShortcut("Ctrl+E")
        export_action.triggered.connect(self._open_export)
        file_menu.addAction(export_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self._build_transcription_menu()

    def _build_transcription_menu(self) -> None:
        # Transcription: the models page, a session's transcript, and the job queue, which
        # resumes jobs a previous run left unfinished.
        from cxfield.gui.models_page import show_models_dialog
        from cxfield.gui.transcription_jobs import TranscriptionJobRunner

        self.transcription_runner = TranscriptionJobRunner(self.ctx, self)
        menu = self.menuBar().addMenu("&Transcription")
        models = QAction("&Models…", self)
        models.setShortcut(QKeySequence("Ctrl+Shift+T"))
        models.triggered.connect(lambda: show_models_dialog(self.ctx, self))
        menu.addAction(models)
        transcript = QAction("&Transcript of the selected session…", self)
        transcript.setShortcut(QKeySequence("Ctrl+T"))
        transcript.triggered.connect(self._open_transcript)
        menu.addAction(transcript)
        self.transcription_runner.start()

    def _open_transcript(self) -> None:
        from cxfield.gui.transcript_editor import TranscriptEditor

        rows = self.session_table.selectionModel().selectedRows()
        if not rows:
            self.statusBar().showMessage("Select a session first.", 4000)
            return
        session = self.session_model.session_at(rows[0].row())
        editor = TranscriptEditor(self.ctx, session.id, runner=self.transcription_runner)
        editor.setWindowTitle(f"Transcript — {session.participant_code or session.id[:8]}")
        editor.setWindowFlag(Qt.WindowType.Window)
        editor.setParent(self, Qt.WindowType.Window)
        editor.resize(1200, 760)
        editor.show()

    def _open_export(self) -> None:
        # Imported on first use: the exporters pull in reportlab, not needed at start-up.
        from cxfield.gui.export_dialog import open_export_dialog

        open_export_dialog(self)

    def refresh(self) -> None:
        """Reload the studies and the selected study's sessions.  The study and the session
        selected stay selected (F5 must not drop them); at start-up the study used last is
        selected again."""
        study_id = self.current_study_id() or study_service.remembered_study(self.ctx.db)
        session_id = self.current_session_id()
        self.study_list.blockSignals(True)  # one load below, not one per step of the rebuild
        try:
            self.study_list.clear()
            for study in study_service.list_studies(self.ctx.db):
                sessions = count_of(study.sessions, "session")
                item = QListWidgetItem(f"{study.name}\n{study.program} · {sessions}")
                item.setData(Qt.ItemDataRole.UserRole, study.id)
                item.setData(Qt.ItemDataRole.AccessibleTextRole, study.name)
                self.study_list.addItem(item)
                if study.id == study_id:
                    self.study_list.setCurrentItem(item)
            if self.study_list.currentItem() is None and self.study_list.count():
                self.study_list.setCurrentRow(0)
        finally:
            self.study_list.blockSignals(False)
        self.sync_actions.refresh_status()
        current = self.current_study_id()
        if current is None:
            self.study_title.setText(
                "No studies yet. Create one from a template, or try `cxfield demo`."
            )
            self.session_model.set_rows([])
            return
        self._show_study(current, select_session=session_id)

    def current_study_id(self) -> str | None:
        item = self.study_list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def current_session_id(self) -> str | None:
        index = self.session_table.currentIndex()
        rows = self.session_table.selectionModel().selectedRows()
        row = rows[0].row() if rows else (index.row() if index.isValid() else -1)
        if not 0 <= row < self.session_model.rowCount():
            return None
        return self.session_model.session_at(row).id

    def _study_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self._show_study(str(current.data(Qt.ItemDataRole.UserRole)))

    def _show_study(self, study_id: str, select_session: str | None = None) -> None:
        study = study_service.get_study(self.ctx.db, study_id)
        rows = session_service.list_sessions(self.ctx.db, study_id)
        self.study_title.setText(
            f"<b>{escape(study.name)}</b> — {escape(study.program)}<br>"
            f"{count_of(len(rows), 'session')}"
        )
        self.session_model.set_rows(rows)
        for row, summary in enumerate(rows):
            if summary.id == select_session:
                self.session_table.selectRow(row)
        study_service.remember_study(self.ctx.db, study_id)
