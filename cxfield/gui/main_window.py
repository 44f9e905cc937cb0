"""The main window: studies on the left, the selected study's sessions on the right.

Built in two steps for a fast start: the window itself (Qt only) is shown first; the
services, the menus that need them and the studies come with :meth:`MainWindow.attach`, once
the data directory is open.  Keep module-level imports here free of the database, the
services and the recorder (tests/test_startup_imports.py)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
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
from cxfield.domain.wording import count_of
from cxfield.gui.row_table import RowTableModel
from cxfield.gui.widgets import keep_tab_for_focus

if TYPE_CHECKING:
    from cxfield.app import AppContext
    from cxfield.gui.capture_actions import CaptureActions
    from cxfield.gui.sync.sync_actions import SyncActions
    from cxfield.gui.transcripts.transcription_jobs import TranscriptionJobRunner
    from cxfield.services.sessions import SessionSummary

#: how often the open app asks whether a day has passed since retention last ran
RETENTION_CHECK_MS = 60 * 60 * 1000

_STATUS_LABELS = {
    "draft": "Draft",
    "submitted": "Submitted",
    "approved": "Approved",
    "has_issues": "Has issues",
    "rejected": "Rejected",
}


class SessionTableModel(RowTableModel["SessionSummary"]):  # imported when type checking only
    HEADERS = ("Started", "Participant", "Mode", "Status", "Researcher", "Site", "Steps captured")

    def session_at(self, row: int) -> SessionSummary:
        return self.rows[row]

    def cells(self, s: SessionSummary) -> tuple[str, ...]:
        return (
            s.started_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            s.participant_code or "—",
            s.mode.capitalize(),
            _STATUS_LABELS.get(s.status, s.status),
            s.researcher or "—",
            s.site or "—",
            str(s.captures),
        )


class MainWindow(QMainWindow):
    capture_actions: CaptureActions
    sync_actions: SyncActions
    transcription_runner: TranscriptionJobRunner

    def __init__(self, ctx: AppContext | None = None, data_root: Path | None = None) -> None:
        """With ``ctx``, ready at once; without, an empty window until :meth:`attach`."""
        super().__init__()
        self._ctx = ctx
        root = ctx.paths.root if ctx is not None else data_root
        self.setWindowTitle(f"cxfield {__version__}" + (f" — {root}" if root else ""))
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
        if ctx is None:
            self.study_title.setText("Opening the data folder…")
        else:
            self.attach(ctx)

    @property
    def ctx(self) -> AppContext:
        if self._ctx is None:
            raise RuntimeError("the main window has no data directory yet")
        return self._ctx

    @ctx.setter
    def ctx(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def attach(self, ctx: AppContext, *, later: bool = False) -> None:
        """The opened data directory: the menus that need it, then the studies.  The Sync
        menu (the HTTP client) and the job queue (the transcription services) come at once,
        or, with ``later``, in the next turn of the event loop, behind the usable window."""
        from cxfield.gui.capture_actions import CaptureActions

        self._ctx = ctx
        self.setWindowTitle(f"cxfield {__version__} — {ctx.paths.root}")
        self._build_transcription_menu()
        # Study and Session menus, toolbar and the windows they open (capture feature).
        self.capture_actions = CaptureActions(self)
        if later:
            self.refresh()
            QTimer.singleShot(0, self._attach_background)
        else:
            self._attach_sync()
            self.refresh()
            self.start_transcription_queue()

    def _attach_sync(self) -> None:
        from cxfield.gui.sync.sync_actions import SyncActions

        # The Sync menu and "Last synced …" in the status bar (team hub).
        self.sync_actions = SyncActions(self)
        # The Review menu and the review count in the status bar (supervisor review).
        from cxfield.gui.review.review_actions import ReviewActions

        self.review_actions = ReviewActions(self)
        self.review_actions.refresh_count()
        # The Privacy menu: redaction review before sync and export (issue 14).
        from cxfield.gui.privacy.redaction_actions import RedactionActions

        self.redaction_actions = RedactionActions(self)
        from cxfield.gui.privacy.laptop_key_actions import LaptopKeyActions

        self.laptop_key_actions = LaptopKeyActions(self, self.redaction_actions.menu)
        # Retention runs at every start (open_app) and then once a day while the app is open.
        self.retention_timer = QTimer(self)
        self.retention_timer.setInterval(RETENTION_CHECK_MS)
        self.retention_timer.timeout.connect(self._check_retention)
        self.retention_timer.start()

    def _attach_background(self) -> None:
        self._attach_sync()
        self.start_transcription_queue()

    def _check_retention(self) -> None:
        from cxfield.domain.errors import CxfieldError
        from cxfield.privacy import retention

        try:
            done = retention.run_if_due(self.ctx.db, self.ctx.paths.root)
        except (CxfieldError, OSError) as exc:
            self.statusBar().showMessage(f"Retention check failed: {exc}", 10000)
            return
        if done is not None and done.items:
            self.statusBar().showMessage(done.line(), 15000)
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

    def _build_transcription_menu(self) -> None:
        # Transcription: the models page, a session's transcript, and the job queue, which
        # resumes jobs a previous run left unfinished.
        menu = self.menuBar().addMenu("&Transcription")
        models = QAction("&Models…", self)
        models.setShortcut(QKeySequence("Ctrl+Shift+T"))
        models.triggered.connect(self._open_models)
        menu.addAction(models)
        transcript = QAction("&Transcript of the selected session…", self)
        transcript.setShortcut(QKeySequence("Ctrl+T"))
        transcript.triggered.connect(self._open_transcript)
        menu.addAction(transcript)

    def start_transcription_queue(self) -> None:
        """The job queue (the transcription services, numpy), resuming unfinished jobs."""
        from cxfield.gui.transcripts.transcription_jobs import TranscriptionJobRunner

        if getattr(self, "transcription_runner", None) is None:
            self.transcription_runner = TranscriptionJobRunner(self.ctx, self)
        self.transcription_runner.start()

    def _open_models(self) -> None:
        from cxfield.gui.transcripts.models_page import show_models_dialog

        show_models_dialog(self.ctx, self)

    def _open_transcript(self) -> None:
        from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

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
        if self._ctx is None:
            return
        # Imported on first use: the exporters pull in reportlab, not needed at start-up.
        from cxfield.gui.export_dialog import open_export_dialog

        open_export_dialog(self)

    def refresh(self) -> None:
        """Reload the studies and the selected study's sessions.  The study and the session
        selected stay selected (F5 must not drop them); at start-up the study used last is
        selected again."""
        if self._ctx is None:
            return
        from cxfield.services import studies as study_service

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
        if getattr(self, "sync_actions", None) is not None:  # None: still coming (attach)
            self.sync_actions.refresh_status()
        if getattr(self, "review_actions", None) is not None:
            self.review_actions.refresh_count()
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
        from cxfield.services import sessions as session_service
        from cxfield.services import studies as study_service

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
