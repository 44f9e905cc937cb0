"""The capture features in the main window: the Study and Session menus, a toolbar, the
windows they open (editor, participants, runner, session view, journey map) and the
start-up offer to resume an unfinished session.

Kept out of main_window.py so that file stays small; the main window creates one
``CaptureActions(window)`` and the application calls ``offer_resume()`` after showing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QWidget,
)

from cxfield.domain.errors import CxfieldError
from cxfield.gui.widgets import show_error
from cxfield.services import capture, studies, templates
from cxfield.services import sessions as session_service

if TYPE_CHECKING:
    # The runner (the recorder: numpy, PortAudio), the session view, the journey map and
    # the editors are imported when first opened, not at start-up
    # (tests/test_startup_imports.py).
    from cxfield.gui.runner.session_runner import SessionRunner


class CaptureActions(QObject):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx  # type: ignore[attr-defined]
        self.open_windows: dict[str, QWidget] = {}
        self.actions: dict[str, QAction] = {}
        study_menu = window.menuBar().addMenu("&Study")
        session_menu = window.menuBar().addMenu("S&ession")
        toolbar = QToolBar("Capture")
        toolbar.setObjectName("captureToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        window.addToolBar(toolbar)
        entries = (
            (study_menu, "new", "&New study from template…", "Ctrl+Shift+N", self.new_study, True),
            (study_menu, "edit", "&Edit study…", "Ctrl+Shift+E", self.edit_study, True),
            (study_menu, "map_edit", "Edit journey &map…", "Ctrl+Shift+M", self.edit_map, False),
            (study_menu, "participants", "&Participants…", "Ctrl+Shift+P", self.participants, True),
            (study_menu, "ops", "Import &operations data…", "Ctrl+Shift+O", self.import_ops, False),
            (study_menu, None, None, None, None, False),
            (study_menu, "import", "&Import study definition…", "", self.import_study, False),
            (study_menu, "export_def", "E&xport study definition…", "", self.export_study, False),
            (session_menu, "start", "&Start session…", "Ctrl+R", self.start_session, True),
            (session_menu, "open", "&Open session", "Ctrl+O", self.open_selected, True),
            (session_menu, "resume", "&Resume unfinished session…", "", self.offer_resume, False),
            (session_menu, None, None, None, None, False),
            (session_menu, "map", "&Journey map", "Ctrl+M", self.journey_map, True),
        )
        for menu, key, text, shortcut, slot, on_toolbar in entries:
            if key is None:
                menu.addSeparator()
                continue
            action = QAction(str(text), window)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(slot)
            menu.addAction(action)
            self.actions[key] = action
            if on_toolbar:
                toolbar.addAction(action)
        window.session_table.activated.connect(lambda _i: self.open_selected())  # type: ignore[attr-defined]

    # --- helpers --------------------------------------------------------------------

    def _study_id(self) -> str | None:
        study_id: str | None = self.window.current_study_id()  # type: ignore[attr-defined]
        if study_id is None:
            QMessageBox.information(self.window, "cxfield", "Select or create a study first.")
        return study_id

    def _refresh(self) -> None:
        self.window.refresh()  # type: ignore[attr-defined]

    def _select_study(self, study_id: str) -> None:
        self.window.refresh()  # type: ignore[attr-defined]
        lst = self.window.study_list  # type: ignore[attr-defined]
        for row in range(lst.count()):
            if lst.item(row).data(Qt.ItemDataRole.UserRole) == study_id:
                lst.setCurrentRow(row)

    def _show(self, key: str, widget: QWidget) -> None:
        self.open_windows[key] = widget
        widget.show()
        widget.raise_()
        widget.activateWindow()

    # --- studies --------------------------------------------------------------------

    def new_study(self) -> None:
        from cxfield.gui.study_editor import NewStudyDialog

        dialog = NewStudyDialog(self.ctx, self.window)
        if dialog.exec() and dialog.study is not None:
            self._select_study(dialog.study.id)
            if not studies.get_journey(self.ctx.db, dialog.study.id).steps:
                self.edit_map()

    def edit_study(self) -> None:
        study_id = self._study_id()
        from cxfield.gui.study_editor import StudyEditorDialog

        if study_id and StudyEditorDialog(self.ctx, study_id, self.window).exec():
            self._refresh()

    def import_ops(self) -> None:
        """A queue export, case dates or call times beside the study's emotions."""
        study_id = self._study_id()
        if study_id:
            from cxfield.gui.ops_import_dialog import OpsImportDialog

            OpsImportDialog(self.ctx, study_id, self.window).exec()
            self._refresh()

    def edit_map(self) -> None:
        study_id = self._study_id()
        if study_id:
            from cxfield.gui.journey.journey_editor import JourneyEditorDialog

            JourneyEditorDialog(self.ctx, study_id, self.window).exec()
            self._refresh()

    def participants(self) -> None:
        study_id = self._study_id()
        if study_id:
            from cxfield.gui.participants_dialog import ParticipantsDialog

            ParticipantsDialog(self.ctx, study_id, self.window).exec()
            self._refresh()

    def import_study(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Import study definition", str(Path.home()), "Study (*.json)"
        )
        if not path:
            return
        name, ok = QInputDialog.getText(
            self.window, "Import study", "Name (leave empty to keep the file's name):"
        )
        if not ok:
            return
        try:
            study = templates.import_definition(self.ctx.db, Path(path), name=name or None)
        except CxfieldError as exc:
            show_error(self.window, exc)
            return
        self._select_study(study.id)

    def export_study(self) -> None:
        study_id = self._study_id()
        if not study_id:
            return
        study = studies.get_study(self.ctx.db, study_id)
        suggestion = str(Path.home() / f"{study.name}.cxfield-study.json")
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export study definition", suggestion, "Study (*.json)"
        )
        if path:
            try:
                templates.write_definition(self.ctx.db, study_id, Path(path))
            except CxfieldError as exc:
                show_error(self.window, exc)

    def journey_map(self) -> None:
        from cxfield.gui.journey.journey_map_view import JourneyMapView

        study_id = self._study_id()
        if study_id:
            self._show(f"map:{study_id}", JourneyMapView(self.ctx, study_id))

    # --- sessions -------------------------------------------------------------------

    def start_session(self) -> None:
        from cxfield.gui.runner.start_session import StartSessionDialog

        dialog = StartSessionDialog(self.ctx, self.window.current_study_id(), self.window)  # type: ignore[attr-defined]
        if dialog.exec() and dialog.session_id:
            self._refresh()
            self.open_runner(dialog.session_id)

    def open_selected(self) -> None:
        table = self.window.session_table  # type: ignore[attr-defined]
        index = table.currentIndex()
        if not index.isValid():
            QMessageBox.information(self.window, "cxfield", "Select a session first.")
            return
        summary = self.window.session_model.session_at(index.row())  # type: ignore[attr-defined]
        if summary.status == "draft":
            self.open_runner(summary.id)
        else:
            self.open_view(summary.id)

    def open_runner(self, session_id: str) -> SessionRunner | None:
        from cxfield.gui.runner.session_runner import SessionRunner

        existing = self.open_windows.get(f"runner:{session_id}")
        if isinstance(existing, SessionRunner) and existing.isVisible():
            existing.raise_()
            existing.activateWindow()
            return existing
        try:
            runner = SessionRunner(self.ctx, session_id)
        except CxfieldError as exc:
            show_error(self.window, exc)
            return None
        runner.session_closed.connect(lambda _sid: self._refresh())
        runner.session_finished.connect(self.open_view)
        queue = getattr(self.window, "transcription_runner", None)
        if queue is not None:  # live transcription failed: the batch queue takes over
            runner.transcription_queued.connect(lambda _sid: queue.start())
        self._show(f"runner:{session_id}", runner)
        return runner

    def open_view(self, session_id: str) -> None:
        from cxfield.gui.session_view import SessionView

        existing = self.open_windows.get(f"view:{session_id}")
        if isinstance(existing, SessionView) and existing.isVisible():
            # One view per session: a second one would replace (and free) the first while
            # its Transcript tab may still be transcribing.
            existing.reload()
            existing.raise_()
            existing.activateWindow()
            return
        try:
            view = SessionView(self.ctx, session_id)
        except CxfieldError as exc:
            show_error(self.window, exc)
            return
        view.edit_requested.connect(self._edit_from_view)
        self._show(f"view:{session_id}", view)

    def _edit_from_view(self, session_id: str) -> None:
        view = self.open_windows.get(f"view:{session_id}")
        refusal = capture.edit_refusal(self.ctx.db, session_id)
        if refusal:  # the view stays open: an approved session is read there
            QMessageBox.warning(view or self.window, "cxfield", refusal)
            return
        if view is not None:
            view.close()
        self.open_runner(session_id)

    def offer_resume(self) -> None:
        """At start-up: sessions left unfinished (closed or crashed) are offered again."""
        pending = capture.unfinished_sessions(self.ctx.db)
        if not pending:
            return
        detail = {s.id: s for s in pending}
        # Names a researcher recognises: who, what, which study, when.
        summaries = {s.id: s for s in session_service.list_sessions(self.ctx.db)}
        labels = []
        for session in pending:
            started = session.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
            summary = summaries.get(session.id)
            who = (summary.participant_code if summary else None) or "no participant"
            study = summary.study if summary else ""
            labels.append(f"{who} · {session.mode.value} · {study} · started {started}")
        label, ok = QInputDialog.getItem(
            self.window,
            "Resume a session",
            "These sessions were not finished (the app was closed or stopped).\n"
            "Resume one now? Cancel keeps them as drafts for later.",
            labels,
            0,
            False,
        )
        if ok and label:
            session_id = pending[labels.index(label)].id
            self.open_runner(detail[session_id].id)
