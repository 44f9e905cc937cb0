"""The models page: installed Whisper models, import from a USB stick with a progress bar,
verify, download (when online), remove, the default model for transcription, and the
switches for transcription while recording and silence skipping."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.gui.transcription_jobs import ProgressTask
from cxfield.gui.widgets import enter_stays_in_field, keep_tab_for_focus
from cxfield.services import transcription
from cxfield.transcribe.model_store import ModelStore, official_models


class ModelsPage(QWidget):
    HEADERS = ("Model", "Size", "Languages", "Verified", "Note")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.store = ModelStore(ctx.paths.models)
        self.task: ProgressTask | None = None

        heading = QLabel("Transcription models")
        heading.setObjectName("heading")
        where = QLabel(
            f"Models live in <code>{ctx.paths.models}</code>. Copy a Whisper <b>.pt</b> file "
            "from a USB stick with <i>Import</i>; official files (tiny, base, small, medium, "
            "large, turbo) are checked against whisper's own SHA-256."
        )
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setAccessibleName("Installed models")
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        keep_tab_for_focus(self.table)

        self.import_button = QPushButton("&Import .pt file…")
        self.verify_button = QPushButton("&Verify")
        self.download_button = QPushButton("&Download…")
        self.remove_button = QPushButton("&Remove")
        self.default_button = QPushButton("Use for &transcription")
        self.import_button.clicked.connect(self._choose_import)
        self.verify_button.clicked.connect(self._verify_selected)
        self.download_button.clicked.connect(self._choose_download)
        self.remove_button.clicked.connect(self._remove_selected)
        self.default_button.clicked.connect(self._make_default)
        buttons = QHBoxLayout()
        for button in (
            self.import_button, self.verify_button, self.download_button,
            self.remove_button, self.default_button,
        ):  # fmt: skip
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setAccessibleName("Import or verification progress")
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setObjectName("modelStatus")
        self.default_label = QLabel()

        # installation-wide switches (a study's language/translation live in its transcript)
        options = transcription.get_options(ctx.db)
        self.live_check = QCheckBox(
            "Transcribe &while recording, so the transcript is ready when the interview ends"
        )
        self.live_check.setAccessibleName("Transcribe while recording")
        self.live_check.setToolTip(
            "Finished stretches are transcribed during the interview by one low-priority "
            "process, so the recording is never disturbed. Needs an installed model."
        )
        self.live_check.setChecked(options.live)
        self.silence_check = QCheckBox(
            "&Skip silence (faster; times stay on the recording's clock)"
        )
        self.silence_check.setAccessibleName("Skip silence")
        self.silence_check.setToolTip("The model is not run on stretches without speech.")
        self.silence_check.setChecked(options.skip_silence)
        self.live_check.toggled.connect(self._save_switches)
        self.silence_check.toggled.connect(self._save_switches)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(where)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.default_label)
        layout.addLayout(buttons)
        layout.addWidget(self.live_check)
        layout.addWidget(self.silence_check)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.setStyleSheet("QLabel#heading { font-size: 15pt; font-weight: 600; }")
        self.refresh()

    # --- data ----------------------------------------------------------------------

    def refresh(self) -> None:
        models = self.store.list()
        self.table.setRowCount(len(models))
        for row, model in enumerate(models):
            verified = ("Yes — official" if model.official else "Yes") if model.verified else "No"
            values = (
                model.name, f"{model.size_bytes / 1e6:,.0f} MB", model.languages, verified,
                model.problem,
            )  # fmt: skip
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, model.name)
                if col == 3 and not model.verified:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, col, item)
        default = transcription.get_options(self.ctx.db).model
        installed = {m.name for m in models}
        note = "" if default in installed else " — not installed"
        self.default_label.setText(f"Model used for transcription: <b>{default}</b>{note}")
        if not models:
            self._say("No model installed yet. Import a .pt file, or download one when online.")
        self._selection_changed()

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def _selection_changed(self) -> None:
        busy = self.task is not None
        has = self.selected_name() is not None
        for button in (self.verify_button, self.remove_button, self.default_button):
            button.setEnabled(has and not busy)
        self.import_button.setEnabled(not busy)
        self.download_button.setEnabled(not busy)

    # --- actions -------------------------------------------------------------------

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a Whisper model", str(Path.home()), "Whisper checkpoints (*.pt)"
        )
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path, name: str | None = None) -> ProgressTask:
        """Copy and verify a checkpoint in the background (the progress bar follows)."""
        return self._run(
            f"Importing {path.name}…",
            lambda progress: self.store.import_file(path, name, progress),
            lambda model: (
                f"Installed {model.name}: verified"
                + (" against the official checksum." if model.official else ".")
            ),
        )

    def verify(self, name: str) -> ProgressTask:
        return self._run(
            f"Verifying {name}…",
            lambda progress: self.store.verify(name, progress),
            lambda model: f"{model.name} is intact.",
        )

    def _verify_selected(self) -> None:
        name = self.selected_name()
        if name:
            self.verify(name)

    def _choose_download(self) -> None:
        names = list(official_models())
        name, ok = QInputDialog.getItem(
            self, "Download a model", "Official model (needs the internet):", names, 1, False
        )
        if ok and name:
            self._run(
                f"Downloading {name}…",
                lambda progress: self.store.download(name, on_progress=progress),
                lambda model: f"Installed {model.name}.",
            )

    def _remove_selected(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        answer = QMessageBox.question(self, "Remove model", f"Delete the model {name}?")
        if answer == QMessageBox.StandardButton.Yes:
            self.store.remove(name)
            self.refresh()
            self._say(f"Removed {name}.")

    def _make_default(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        options = transcription.get_options(self.ctx.db)
        options.model = name
        transcription.set_options(self.ctx.db, options)
        self.refresh()
        self._say(f"New transcriptions use {name}.")

    def _save_switches(self) -> None:
        options = transcription.get_options(self.ctx.db)
        options.live = self.live_check.isChecked()
        options.skip_silence = self.silence_check.isChecked()
        transcription.set_options(self.ctx.db, options)
        live = "on" if options.live else "off"
        skip = "skipped" if options.skip_silence else "transcribed too"
        self._say(f"Transcription while recording is {live}; silence is {skip}.")

    def _run(self, label: str, work: object, done_text: object) -> ProgressTask:
        self._say(label)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        task = ProgressTask(work)  # type: ignore[arg-type]
        self.task = task
        task.progress.connect(self._on_progress)
        task.succeeded.connect(
            lambda model: self._finished(done_text(model))  # type: ignore[operator]
        )
        task.failed.connect(lambda message: self._finished(message, error=True))
        self._selection_changed()
        task.start()
        return task

    def _on_progress(self, done: float, total: float) -> None:
        self.progress.setValue(int(1000 * done / total) if total else 0)

    def _finished(self, message: str, error: bool = False) -> None:
        self.task = None
        self.progress.setVisible(False)
        self.refresh()  # first: with no model installed it says so, which must not hide why
        self._say(message, error)

    def _say(self, message: str, error: bool = False) -> None:
        self.status.setText(message)
        self.status.setStyleSheet("color: #b71c1c;" if error else "")


def show_models_dialog(ctx: AppContext, parent: QWidget | None = None) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle("Transcription models")
    dialog.resize(820, 460)
    layout = QVBoxLayout(dialog)
    layout.addWidget(ModelsPage(ctx, dialog))
    enter_stays_in_field(dialog)  # Enter on the list must not open "Import .pt file…"
    dialog.show()
    return dialog
