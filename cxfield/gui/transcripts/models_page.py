"""The models page: installed Whisper models for both engines, import from a USB stick with
a progress bar (a .pt file or a CTranslate2 folder), conversion of a .pt to CTranslate2,
verify, download (when online), remove, the default model and engine for transcription, the
switches for transcription while recording, silence skipping and speaker suggestions, and
the interviewer's voice sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
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
from cxfield.gui.transcripts.transcript_editor import voices_spin
from cxfield.gui.transcripts.transcription_jobs import ProgressTask
from cxfield.gui.widgets import enter_stays_in_field, keep_tab_for_focus
from cxfield.services import transcription
from cxfield.services.speakers import CHECK_NOTE
from cxfield.transcribe.model_store import OPENAI_WHISPER as OPENAI
from cxfield.transcribe.model_store import ModelStore, official_models

ENGINE_NAMES = {"openai-whisper": "openai-whisper", "ctranslate2": "CTranslate2"}
ENGINE_LABELS = (
    ("openai-whisper", "openai-whisper (default)"),
    ("ctranslate2", "CTranslate2 — faster-whisper, int8, less memory"),
)


class ModelsPage(QWidget):
    HEADERS = ("Model", "Size", "Languages", "Verified", "Engine", "Note")

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
            "large, turbo) are checked against whisper's own SHA-256. The faster "
            "<b>CTranslate2</b> engine (int8, 3-4× less memory) needs a model folder: "
            "<i>Convert to CTranslate2</i> makes one from an installed .pt here, offline; "
            "or import a faster-whisper folder (model.bin, config.json, tokenizer.json, "
            "vocabulary) copied from a computer that has one."
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
        self.import_folder_button = QPushButton("Import &folder…")
        self.import_folder_button.setToolTip("Install a CTranslate2 (faster-whisper) model folder")
        self.convert_button = QPushButton("&Convert to CTranslate2")
        self.convert_button.setToolTip("Make the ctranslate2 engine's version of this .pt model")
        self.voice_button = QPushButton("I&nterviewer voice…")
        self.voice_button.setToolTip(
            "A 10-30 s sample of a researcher's voice, so speaker suggestions know which "
            "voice is the interviewer (kept on this computer only)"
        )
        self.verify_button = QPushButton("&Verify")
        self.download_button = QPushButton("&Download…")
        self.remove_button = QPushButton("&Remove")
        self.default_button = QPushButton("Use for &transcription")
        self.import_button.clicked.connect(self._choose_import)
        self.verify_button.clicked.connect(self._verify_selected)
        self.download_button.clicked.connect(self._choose_download)
        self.remove_button.clicked.connect(self._remove_selected)
        self.default_button.clicked.connect(self._make_default)
        self.import_folder_button.clicked.connect(self._choose_import_folder)
        self.convert_button.clicked.connect(self._convert_selected)
        self.voice_button.clicked.connect(self._choose_voice)
        buttons = QHBoxLayout()
        for button in (
            self.import_button, self.import_folder_button, self.convert_button,
            self.verify_button, self.download_button, self.remove_button, self.default_button,
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
        self.speakers_check = QCheckBox(
            "Suggest spea&kers after transcription (interviewer or participant, from the voices)"
        )
        self.speakers_check.setAccessibleName("Suggest speakers after transcription")
        self.speakers_check.setToolTip(CHECK_NOTE)
        self.speakers_check.setChecked(options.speaker_labels)
        self.voices_spin = voices_spin(options.speakers)
        self.voices_spin.setAccessibleName("Voices to tell apart")
        self.voices_spin.setEnabled(options.speaker_labels)
        self.speakers_check.toggled.connect(self.voices_spin.setEnabled)
        voices_label = QLabel("V&oices:")
        voices_label.setBuddy(self.voices_spin)
        speakers_row = QHBoxLayout()
        speakers_row.addWidget(self.speakers_check)
        speakers_row.addWidget(voices_label)
        speakers_row.addWidget(self.voices_spin)
        speakers_row.addStretch(1)
        self.engine_combo = QComboBox()
        self.engine_combo.setAccessibleName("Transcription engine")
        for engine, label in ENGINE_LABELS:
            self.engine_combo.addItem(label, engine)
        self.engine_combo.setCurrentIndex(max(self.engine_combo.findData(options.engine), 0))
        engine_label = QLabel("&Engine:")
        engine_label.setBuddy(self.engine_combo)
        self.live_check.toggled.connect(self._save_switches)
        self.silence_check.toggled.connect(self._save_switches)
        self.speakers_check.toggled.connect(self._save_switches)
        self.voices_spin.valueChanged.connect(self._save_switches)
        self.engine_combo.currentIndexChanged.connect(self._save_switches)
        engine_row = QHBoxLayout()
        engine_row.addWidget(engine_label)
        engine_row.addWidget(self.engine_combo)
        engine_row.addStretch(1)
        engine_row.addWidget(self.voice_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(where)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.default_label)
        layout.addLayout(buttons)
        layout.addLayout(engine_row)
        layout.addWidget(self.live_check)
        layout.addWidget(self.silence_check)
        layout.addLayout(speakers_row)
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
                ENGINE_NAMES[model.engine], model.problem,
            )  # fmt: skip
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, model.name)
                item.setData(Qt.ItemDataRole.UserRole + 1, model.engine)
                if col == 3 and not model.verified:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, col, item)
        options = transcription.get_options(self.ctx.db)
        default = options.model
        installed = {m.name for m in models if m.engine == options.engine}
        note = "" if default in installed else f" — not installed for {options.engine}"
        self.default_label.setText(
            f"Model used for transcription: <b>{default}</b> with the "
            f"{ENGINE_NAMES[options.engine]} engine{note}"
        )
        if not models:
            self._say("No model installed yet. Import a .pt file, or download one when online.")
        self._selection_changed()

    def selected_name(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def selected_engine(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole + 1)) if items else None

    def _selection_changed(self) -> None:
        busy = self.task is not None
        has = self.selected_name() is not None
        for button in (self.verify_button, self.remove_button, self.default_button):
            button.setEnabled(has and not busy)
        self.convert_button.setEnabled(has and not busy and self.selected_engine() == OPENAI)
        for button in (self.import_button, self.import_folder_button, self.download_button):
            button.setEnabled(not busy)

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

    def _choose_import_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Import a CTranslate2 (faster-whisper) model folder", str(Path.home())
        )
        if path:
            self.import_folder(Path(path))

    def import_folder(self, path: Path, name: str | None = None) -> ProgressTask:
        """Check, copy and load a CTranslate2 folder in the background."""
        return self._run(
            f"Importing {path.name}…",
            lambda progress: self.store.import_folder(path, name, progress),
            lambda model: f"Installed {model.name} for the CTranslate2 engine: checked and loaded.",
        )

    def convert(self, name: str) -> ProgressTask:
        """Convert an installed .pt to CTranslate2 offline (the bar shows the steps)."""
        steps = ("reading", "building", "converting", "checking")

        def work(progress: Any) -> Any:
            def step(text: str) -> None:
                done = next((i for i, s in enumerate(steps) if text.startswith(s)), 0)
                progress(done, len(steps))

            return self.store.convert(name, on_step=step)

        return self._run(
            f"Converting {name} to CTranslate2 (offline; a minute for small models)…",
            work,
            lambda model: f"Installed {model.name} for the CTranslate2 engine.",
        )

    def _convert_selected(self) -> None:
        name = self.selected_name()
        if name and self.selected_engine() == OPENAI:
            self.convert(name)

    def verify(self, name: str, engine: str = OPENAI) -> ProgressTask:
        return self._run(
            f"Verifying {name}…",
            lambda progress: self.store.verify(name, progress, engine),
            lambda model: f"{model.name} is intact.",
        )

    def _verify_selected(self) -> None:
        name = self.selected_name()
        if name:
            self.verify(name, self.selected_engine() or OPENAI)

    def _choose_voice(self) -> None:
        from cxfield.services import sites

        people = sites.list_researchers(self.ctx.db)
        if not people:
            self._say("Add a researcher first (in the start-session dialog).", error=True)
            return
        name, ok = QInputDialog.getItem(
            self, "Interviewer voice", "Researcher:", [p.name for p in people], 0, False
        )
        if not ok:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, f"A 10-30 s recording of {name} speaking", str(Path.home()),
            "Audio (*.wav *.flac *.mp3 *.m4a *.ogg *.opus)",
        )  # fmt: skip
        if path:
            researcher = next(p for p in people if p.name == name)
            self.enrol_voice(researcher.id, name, Path(path))

    def enrol_voice(self, researcher_id: str, name: str, path: Path) -> ProgressTask:
        from cxfield.services import speakers

        return self._run(
            f"Learning {name}'s voice…",
            lambda _progress: speakers.enrol_voice(self.ctx.db, researcher_id, path),
            lambda seconds: f"Stored {name}'s voice ({seconds} s sample, on this computer only).",
        )

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
        engine = self.selected_engine() or OPENAI
        answer = QMessageBox.question(
            self, "Remove model", f"Delete the model {name} ({ENGINE_NAMES[engine]})?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.store.remove(name, engine)
            self.refresh()
            self._say(f"Removed {name}.")

    def _make_default(self) -> None:
        name = self.selected_name()
        if name is None:
            return
        options = transcription.get_options(self.ctx.db)
        options.model = name
        options.engine = self.selected_engine() or OPENAI
        transcription.set_options(self.ctx.db, options)
        self.engine_combo.blockSignals(True)
        self.engine_combo.setCurrentIndex(max(self.engine_combo.findData(options.engine), 0))
        self.engine_combo.blockSignals(False)
        self.refresh()
        self._say(f"New transcriptions use {name} with the {ENGINE_NAMES[options.engine]} engine.")

    def _save_switches(self) -> None:
        options = transcription.get_options(self.ctx.db)
        options.live = self.live_check.isChecked()
        options.skip_silence = self.silence_check.isChecked()
        options.speaker_labels = self.speakers_check.isChecked()
        options.speakers = self.voices_spin.value()
        options.engine = str(self.engine_combo.currentData())
        transcription.set_options(self.ctx.db, options)
        self.refresh()
        live = "on" if options.live else "off"
        skip = "skipped" if options.skip_silence else "transcribed too"
        speakers = (
            f"suggested among {options.speakers} voices (check them)"
            if options.speaker_labels
            else "not suggested"
        )
        self._say(
            f"Engine {ENGINE_NAMES[options.engine]}; transcription while recording is {live}; "
            f"silence is {skip}; speakers are {speakers}."
        )

    def _run(self, label: str, work: object, done_text: object) -> ProgressTask:
        self._say(label)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        # owned by the page, so the thread's last reference never destroys it off the GUI
        # thread (export_dialog.ExportRunner)
        task = ProgressTask(work, self)  # type: ignore[arg-type]
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
    dialog.resize(980, 560)
    layout = QVBoxLayout(dialog)
    layout.addWidget(ModelsPage(ctx, dialog))
    enter_stays_in_field(dialog)  # Enter on the list must not open "Import .pt file…"
    dialog.show()
    return dialog
