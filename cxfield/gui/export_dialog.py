"""File → Export…: PDF reports, Word transcripts, CSV/Excel/JSON data, REFI-QDA projects
for QDA software and A-11 counts, off the GUI thread.

The export jobs (:mod:`cxfield.export.jobs`) take plain callbacks; :class:`ExportRunner`
is the one adapter that runs a job on a worker thread and turns its progress, result and
errors into Qt signals (delivered on the GUI thread).  Cancel sets an event the job checks
between pages and tables; a cancelled or failed export leaves no file behind."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.export import jobs
from cxfield.export.filters import ALL_STATUSES, FilterRequest, filter_choices
from cxfield.export.layout import ExportCancelled

KINDS = {
    "session": "Session summary (PDF)",
    "docx": "Session transcript (Word)",
    "report": "Study report (PDF)",
    "csv": "Study data: CSV tables (one file per table)",
    "xlsx": "Study data: Excel workbook (one sheet per table)",
    "json": "Study data: one JSON document",
    "qdpx": "Study for NVivo, MAXQDA, ATLAS.ti, QualCoder (REFI-QDA project)",
    "qdc": "Codebook only (REFI-QDA)",
    "a11": "A-11 quarterly counts (CSV)",
}
SESSION_KINDS = ("session", "docx")
#: data exports keep every status by default (analysts filter on it)
DATA_KINDS = ("csv", "xlsx", "json", "qdpx", "qdc")
FILTERED_KINDS = ("report", *DATA_KINDS)
_STATUS_LABELS = {"has_issues": "Has issues"}


class ExportRunner(QObject):
    """Runs one export job on a worker thread; reports through signals."""

    progress = Signal(int, int)
    finished = Signal(object)  # jobs.ExportResult
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject) -> None:
        # Owned by its dialog, so the thread's last reference, dropped as it ends, never
        # destroys the object off the GUI thread (a crash in Qt).
        super().__init__(parent)
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, job: Callable[..., jobs.ExportResult]) -> None:
        self._cancel.clear()
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, job: Callable[..., jobs.ExportResult]) -> None:
        try:
            result = job(on_progress=self.progress.emit, cancelled=self._cancel.is_set)
        except ExportCancelled:
            self.cancelled.emit()
        except CxfieldError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # the user sees one line; nothing is left half-written
            self.failed.emit(f"Export failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(result)


def _slug(text: str) -> str:
    return re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-").lower()[:60] or "export"


def quarters(today: date, count: int = 8) -> list[str]:
    """The current quarter and the ones before it, newest first."""
    year, q = today.year, (today.month - 1) // 3 + 1
    result = []
    for _ in range(count):
        result.append(f"{year}Q{q}")
        year, q = (year - 1, 4) if q == 1 else (year, q - 1)
    return result


class ExportDialog(QDialog):
    def __init__(
        self,
        ctx: AppContext,
        study_id: str,
        study_name: str,
        session: tuple[str, str] | None = None,  # (id, label)
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.study_id, self.study_name, self.session = ctx, study_id, study_name, session
        self.setWindowTitle(f"Export — {study_name}")
        self.setMinimumWidth(620)
        self.runner = ExportRunner(self)
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(self._cancelled)
        self.result_paths: list[Path] = []
        self._path_edited = False

        layout = QVBoxLayout(self)
        what = QGroupBox("What to export")
        what_layout = QVBoxLayout(what)
        self.kind_buttons: dict[str, QRadioButton] = {}
        for key, label in KINDS.items():
            if key in SESSION_KINDS:
                label += f" — {session[1]}" if session else " — select a session first"
            button = QRadioButton(label)
            button.toggled.connect(self._kind_changed)
            self.kind_buttons[key] = button
            what_layout.addWidget(button)
        for key in SESSION_KINDS:
            self.kind_buttons[key].setEnabled(session is not None)
        layout.addWidget(what)

        self.transcript = QCheckBox("Include the transcript as an appendix")
        self.transcript.setChecked(True)
        layout.addWidget(self.transcript)
        layout.addWidget(self._filters())

        self.quarter = QComboBox()
        self.quarter.addItems(quarters(datetime.now(UTC).date()))
        self.quarter.currentIndexChanged.connect(self._suggest_path)
        self.quarter_row = QWidget()
        q_layout = QFormLayout(self.quarter_row)
        q_layout.setContentsMargins(0, 0, 0, 0)
        q_layout.addRow("Quarter:", self.quarter)
        layout.addWidget(self.quarter_row)

        out_row = QHBoxLayout()
        self.output = QLineEdit()
        self.output.setAccessibleName("Output file or folder")
        self.output.textEdited.connect(self._edited)
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose)
        out_row.addWidget(QLabel("Save to:"))
        out_row.addWidget(self.output, 1)
        out_row.addWidget(choose)
        layout.addLayout(out_row)

        self.bar = QProgressBar()
        self.bar.setRange(0, jobs.SCALE)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.status = QLabel(" ")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.open_button = QPushButton("Open result")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_result)
        self.folder_button = QPushButton("Show folder")
        self.folder_button.setEnabled(False)
        self.folder_button.clicked.connect(self._show_folder)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.clicked.connect(self._cancel_or_close)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)

        self.kind_buttons["session" if session else "report"].setChecked(True)
        self._kind_changed()

    # -- form -----------------------------------------------------------------------

    def _filters(self) -> QGroupBox:
        choices = filter_choices(self.ctx.db, self.study_id)
        box = QGroupBox("Sessions to include")
        form = QFormLayout(box)
        today = QDate.currentDate()
        self.use_from, self.date_from = QCheckBox("From"), QDateEdit(today.addMonths(-3))
        self.use_to, self.date_to = QCheckBox("To"), QDateEdit(today)
        for check, edit in ((self.use_from, self.date_from), (self.use_to, self.date_to)):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
        dates = QHBoxLayout()
        for widget in (self.use_from, self.date_from, self.use_to, self.date_to):
            dates.addWidget(widget)
        dates.addStretch(1)
        form.addRow("Dates:", dates)
        self.site = QComboBox()
        self.site.addItem("Any site", None)
        for site_id, name in choices.sites:
            self.site.addItem(name, site_id)
        form.addRow("Site:", self.site)
        self.researcher = QComboBox()
        self.researcher.addItem("Anyone", None)
        for person_id, name in choices.researchers:
            self.researcher.addItem(name, person_id)
        form.addRow("Researcher:", self.researcher)
        self.segment = QComboBox()
        self.segment.addItem("Everyone", None)
        for key, label, values in choices.segments:
            for value in values:
                self.segment.addItem(f"{label}: {value}", f"{key}={value}")
        form.addRow("Segment:", self.segment)
        statuses = QHBoxLayout()
        self.status_boxes: dict[str, QCheckBox] = {}
        for name in ALL_STATUSES:
            box_ = QCheckBox(_STATUS_LABELS.get(name, name.capitalize()))
            box_.setChecked(name != "rejected")
            self.status_boxes[name] = box_
            statuses.addWidget(box_)
        statuses.addStretch(1)
        form.addRow("Status:", statuses)
        self.filter_box = box
        return box

    def kind(self) -> str:
        return next(k for k, b in self.kind_buttons.items() if b.isChecked())

    def _kind_changed(self, *_: object) -> None:
        if not any(b.isChecked() for b in self.kind_buttons.values()):
            return
        kind = self.kind()
        self.transcript.setVisible(kind == "session")
        self.filter_box.setVisible(kind in FILTERED_KINDS)
        self.quarter_row.setVisible(kind == "a11")
        defaults = self._default_statuses(kind)
        for name, box in self.status_boxes.items():
            box.setChecked(name in defaults)
        self._suggest_path()
        self.adjustSize()

    @staticmethod
    def _default_statuses(kind: str) -> tuple[str, ...]:
        if kind in DATA_KINDS:
            return ALL_STATUSES
        return tuple(n for n in ALL_STATUSES if n != "rejected")

    def _edited(self, _text: str) -> None:
        self._path_edited = True

    def _suggest_path(self, *_: object) -> None:
        if self._path_edited:
            return
        kind = self.kind() if any(b.isChecked() for b in self.kind_buttons.values()) else "report"
        stamp = datetime.now().strftime("%Y%m%d")
        base = _slug(self.study_name)
        session = _slug(self.session[1]) if self.session else ""
        names = {
            "session": f"{base}-session-{session}.pdf",
            "docx": f"{base}-transcript-{session}.docx",
            "xlsx": f"{base}-data-{stamp}.xlsx",
            "qdpx": f"{base}-{stamp}.qdpx",
            "qdc": f"{base}-codebook-{stamp}.qdc",
            "report": f"{base}-report-{stamp}.pdf",
            "csv": f"{base}-data-{stamp}",
            "json": f"{base}-{stamp}.json",
            "a11": f"{base}-a11-{self.quarter.currentText()}.csv",
        }
        self.output.setText(str(self.ctx.paths.exports / names[kind]))

    def _choose(self) -> None:
        current = self.output.text()
        if self.kind() == "csv":
            chosen = QFileDialog.getExistingDirectory(self, "Folder for the CSV tables", current)
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, "Export to", current)
        if chosen:
            self.output.setText(chosen)
            self._path_edited = True

    def request(self) -> FilterRequest:
        statuses = tuple(n for n, b in self.status_boxes.items() if b.isChecked())
        if statuses == self._default_statuses(self.kind()):
            statuses = ()  # the default: reports say "all except rejected", data keeps all
        return FilterRequest(
            date_from=self.date_from.date().toString("yyyy-MM-dd")
            if self.use_from.isChecked()
            else None,
            date_to=self.date_to.date().toString("yyyy-MM-dd") if self.use_to.isChecked() else None,
            site=self.site.currentData(),
            researcher=self.researcher.currentData(),
            segment=self.segment.currentData(),
            statuses=statuses,
        )

    # -- running ----------------------------------------------------------------------

    def job(self) -> Callable[..., jobs.ExportResult]:
        db, kind, path = self.ctx.db, self.kind(), Path(self.output.text().strip())
        if kind == "session" and self.session:
            session_id, transcript = self.session[0], self.transcript.isChecked()
            return lambda **kw: jobs.export_session_pdf(
                db, session_id, path, transcript=transcript, **kw
            )
        if kind == "docx" and self.session:
            session_id = self.session[0]
            return lambda **kw: jobs.export_session_docx(db, session_id, path, **kw)
        if kind == "a11":
            quarter = self.quarter.currentText()
            return lambda **kw: jobs.export_a11_csv(db, self.study_id, quarter, path, **kw)
        request = self.request()
        if kind == "qdpx":
            root = self.ctx.paths.root
            return lambda **kw: jobs.export_study_qdpx(db, root, self.study_id, path, request, **kw)
        run: Any = {
            "report": jobs.export_study_pdf,
            "csv": jobs.export_study_csv,
            "xlsx": jobs.export_study_xlsx,
            "json": jobs.export_study_json,
            "qdc": jobs.export_study_qdc,
        }[kind]
        return lambda **kw: run(db, self.study_id, path, request, **kw)

    def start(self) -> None:
        if self.runner.running:
            return
        if not self.output.text().strip():
            self.status.setText("Choose where to save the export.")
            return
        if self.kind() in FILTERED_KINDS and not any(
            b.isChecked() for b in self.status_boxes.values()
        ):
            self.status.setText("Tick at least one status.")
            return
        if self.kind() != "csv":
            self.ctx.paths.exports.mkdir(parents=True, exist_ok=True)
        self.result_paths = []
        self.open_button.setEnabled(False)
        self.folder_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.bar.setValue(0)
        self.status.setText("Exporting…")
        self.runner.start(self.job())

    def _progress(self, done: int, total: int) -> None:
        self.bar.setValue(int(done * jobs.SCALE / max(1, total)))

    def _done(self) -> None:
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")

    def _finished(self, result: jobs.ExportResult) -> None:
        self._done()
        self.bar.setValue(jobs.SCALE)
        self.result_paths = list(result.paths)
        where = self.result_paths[0] if len(self.result_paths) == 1 else self.result_paths[0].parent
        lines = [f"Saved to {where}" + (f" ({result.pages} pages)" if result.pages else "")]
        lines += result.messages
        self.status.setText("\n".join(lines))
        self.open_button.setEnabled(True)
        self.folder_button.setEnabled(True)

    def _failed(self, message: str) -> None:
        self._done()
        self.bar.setValue(0)
        self.status.setText(f"Not exported: {message}")

    def _cancelled(self) -> None:
        self._done()
        self.bar.setValue(0)
        self.status.setText("Cancelled; no file was written.")

    def _cancel_or_close(self) -> None:
        if self.runner.running:
            self.status.setText("Cancelling…")
            self.runner.cancel()
        else:
            self.accept()

    def open_result(self) -> bool:
        if not self.result_paths:
            return False
        target = self.result_paths[0] if self.kind() != "csv" else self.result_paths[0].parent
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(target))))

    def _show_folder(self) -> None:
        if self.result_paths:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result_paths[0].parent)))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        # Never leave a worker writing after the window is gone: cancel and wait for it.
        if self.runner.running:
            self.runner.cancel()
            self.runner.wait(30)
        super().closeEvent(event)


def open_export_dialog(window: Any) -> ExportDialog | None:
    """Open the dialog for the main window's selected study (and session, if one is)."""
    study_id = window.current_study_id()
    if study_id is None:
        return None
    from cxfield.services.studies import get_study

    study = get_study(window.ctx.db, study_id)
    session = None
    table, model = getattr(window, "session_table", None), getattr(window, "session_model", None)
    if table is not None and model is not None:
        rows = table.selectionModel().selectedRows()
        if rows:
            s = model.session_at(rows[0].row())
            when = s.started_at.strftime("%Y-%m-%d %H:%M")
            session = (s.id, f"{s.participant_code or s.mode.capitalize()}, {when}")
    dialog = ExportDialog(window.ctx, study_id, study.name, session, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
