"""The transcript of a session: segments with times and speakers, the session's notes
inline at their times, the recording playing in sync (click a time to play it; the current
segment follows playback), text edits that are marked and keep the model's text, quotes
for journey steps from selected text, transcription with progress/cancel, and exports.
Speakers suggested from the voices show with a question mark until confirmed (Ctrl+3
accepts the suggestion of the selected lines; Ctrl+1 / Ctrl+2 set a speaker).  Ctrl+K (or
"Transcript checked") marks the transcript checked against the audio, and takes it back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.export import jobs
from cxfield.gui.transcripts.playback import PlaybackWidget
from cxfield.gui.transcripts.transcript_check_bar import SHORTCUT, TranscriptCheckBar
from cxfield.gui.transcripts.transcription_jobs import TranscriptionJobRunner
from cxfield.gui.widgets import error_text, keep_tab_for_focus
from cxfield.privacy.sealed_texts import SHOWN, shown
from cxfield.services import sessions as session_service
from cxfield.services import speakers as speaker_service
from cxfield.services import transcript, transcription
from cxfield.services.speakers import CHECK_NOTE
from cxfield.services.transcript import NoteMark, SegmentView
from cxfield.transcribe.export import FORMATS
from cxfield.transcribe.speakers import MAX_SPEAKERS

SPEAKERS = (
    ("interviewer", "&Interviewer"),
    ("participant", "&Participant"),
    ("unknown", "&Unknown"),
)
SPEAKER_LABELS = {"interviewer": "Interviewer", "participant": "Participant", "unknown": "—"}
COL_TIME, COL_SPEAKER, COL_TEXT, COL_EDIT = range(4)
LANGUAGES = (
    (None, "Detect"), ("en", "English"), ("es", "Spanish"), ("zh", "Chinese"),
    ("vi", "Vietnamese"), ("ar", "Arabic"), ("fr", "French"), ("ht", "Haitian Creole"),
    ("ko", "Korean"), ("ru", "Russian"), ("pt", "Portuguese"), ("tl", "Tagalog"),
)  # fmt: skip
DOCX = "docx"
NOTE_BACKGROUND = QColor("#fff8e1")
CURRENT_BACKGROUND = QColor("#d7e9fb")


ENGINE_LABELS = (
    ("openai-whisper", "openai-whisper"),
    ("ctranslate2", "CTranslate2 (faster)"),
)
SUGGESTED_COLOUR = QColor("#6a4c93")


def _speaker_item(row: SegmentView) -> QTableWidgetItem:
    """The speaker cell: a person's choice as is; a suggestion with a question mark, in
    italics and another colour, until someone confirms it."""
    if row.speaker == "unknown" and row.speaker_suggested:
        item = QTableWidgetItem(f"{SPEAKER_LABELS[row.speaker_suggested]}?")
        item.setToolTip(f"Suggested from the voices; Ctrl+3 accepts it. {CHECK_NOTE}")
        item.setForeground(QBrush(SUGGESTED_COLOUR))
        font = item.font()
        font.setItalic(True)
        item.setFont(font)
        item.setData(Qt.ItemDataRole.AccessibleTextRole, f"suggested {row.speaker_suggested}")
        return item
    return QTableWidgetItem(SPEAKER_LABELS.get(row.speaker, row.speaker))


def voices_spin(value: int) -> QSpinBox:
    """How many voices speaker suggestions tell apart: the interviewer and participants
    (2 by default; 3 or more for a family or an interpreter)."""
    spin = QSpinBox()
    spin.setRange(1, MAX_SPEAKERS)
    spin.setValue(min(max(int(value), 1), MAX_SPEAKERS))
    # room for the digit beside the arrows (its own size hint leaves it half hidden)
    spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("8888") + 32)
    spin.setToolTip(
        "Voices to tell apart: 2 for an interviewer and a participant, 3 or more when a "
        "family member or an interpreter speaks too"
    )
    return spin


def clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class TranscriptEditor(QWidget):
    def __init__(
        self,
        ctx: AppContext,
        session_id: str,
        runner: TranscriptionJobRunner | None = None,
        playback: PlaybackWidget | None = None,
        parent: QWidget | None = None,
        *,
        show_playback: bool = True,
    ) -> None:
        """``playback`` may be a player the caller already shows (the session view's);
        then ``show_playback=False`` leaves it where it is."""
        super().__init__(parent)
        self.ctx = ctx
        self.session_id = session_id
        self.runner = runner or TranscriptionJobRunner(ctx, self)
        self.rows: list[SegmentView | NoteMark] = []
        self.current_row: int | None = None
        self._loading = False
        self.detail = session_service.session_detail(ctx.db, session_id)

        # --- transcription bar ---
        self.transcribe_button = QPushButton("Transcri&be")
        self.transcribe_button.setToolTip("Transcribe this session's recording on this computer")
        self.transcribe_button.clicked.connect(self.transcribe)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.cancel_button.setVisible(False)
        self.job_progress = QProgressBar()
        self.job_progress.setAccessibleName("Transcription progress")
        self.job_progress.setRange(0, 1000)
        self.job_progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        # per-study options: language (many interviews are not in English), translation
        study_id = self.detail["study"]["id"] if self.detail["study"] else None
        self.study_id = study_id
        options = transcription.get_options(ctx.db, study_id)
        self.language_combo = QComboBox()
        self.language_combo.setAccessibleName("Spoken language")
        for code, name in LANGUAGES:
            self.language_combo.addItem(name, code)
        index = self.language_combo.findData(options.language)
        if index < 0 and options.language:
            self.language_combo.addItem(options.language, options.language)
            index = self.language_combo.count() - 1
        self.language_combo.setCurrentIndex(max(index, 0))
        self.translate_check = QCheckBox("Translate to English")
        self.translate_check.setChecked(options.translate)
        self.words_check = QCheckBox("Word times")
        self.words_check.setChecked(options.word_timestamps)
        self.speakers_check = QCheckBox("Suggest spea&kers")
        self.speakers_check.setAccessibleName("Suggest speakers after transcription")
        self.speakers_check.setToolTip(
            "After transcription, suggest interviewer or participant for every line from "
            "the voices (offline). " + CHECK_NOTE
        )
        self.speakers_check.setChecked(options.speaker_labels)
        # two voices by default; three or more for a family or an interpreter
        self.voices_spin = voices_spin(options.speakers)
        self.voices_spin.setAccessibleName("Voices to tell apart in this study")
        self.voices_spin.setEnabled(options.speaker_labels)
        self.speakers_check.toggled.connect(self.voices_spin.setEnabled)
        self.engine_combo = QComboBox()
        self.engine_combo.setAccessibleName("Transcription engine for this study")
        for engine, label in ENGINE_LABELS:
            self.engine_combo.addItem(label, engine)
        self.engine_combo.setCurrentIndex(max(self.engine_combo.findData(options.engine), 0))
        for box in (self.translate_check, self.words_check, self.speakers_check):
            box.toggled.connect(self._save_options)
        self.language_combo.currentIndexChanged.connect(self._save_options)
        self.engine_combo.currentIndexChanged.connect(self._save_options)
        self.voices_spin.valueChanged.connect(self._save_options)

        top = QHBoxLayout()
        top.addWidget(self.transcribe_button)
        top.addWidget(QLabel("Language:"))
        top.addWidget(self.language_combo)
        top.addWidget(self.translate_check)
        top.addWidget(self.words_check)
        top.addWidget(self.job_progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.status, 2)

        # --- playback ---
        self.playback = playback or PlaybackWidget(parent=self)
        recordings = self.detail["recordings"]
        self.recording = recordings[0] if recordings else None
        if self.recording is not None and self.playback.player is None:
            self.playback.load(ctx.paths.root / self.recording["path"])

        # --- segments ---
        self.table = QTableWidget(0, 4)
        self.table.setAccessibleName("Transcript segments and notes")
        self.table.setHorizontalHeaderLabels(("Time", "Speaker", "Text", "Edited"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_TIME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_SPEAKER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_TEXT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_EDIT, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.itemChanged.connect(self._item_changed)
        keep_tab_for_focus(self.table)
        self.table.cellClicked.connect(self._cell_clicked)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        speaker_row = QHBoxLayout()
        # wrapping, and a step list as wide as the window allows: the tab fits 1366 px
        # also beside the review comments
        speaker_caption = QLabel("Speaker of the selected lines:")
        speaker_caption.setWordWrap(True)
        speaker_row.addWidget(speaker_caption)
        self.speaker_buttons: dict[str, QPushButton] = {}
        for value, label in SPEAKERS:
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, v=value: self.set_speaker(v))
            speaker_row.addWidget(button)
            self.speaker_buttons[value] = button
        self.accept_button = QPushButton("Accept su&ggested (Ctrl+3)")
        self.accept_button.setToolTip(
            "Take the suggested speaker of the selected lines. " + CHECK_NOTE
        )
        self.accept_button.clicked.connect(self.accept_suggestions)
        self.suggestion_note = QLabel(CHECK_NOTE)
        self.suggestion_note.setObjectName("suggestionNote")
        self.suggestion_note.setWordWrap(True)
        self.suggestion_note.setVisible(False)
        self.play_button = QPushButton("▶ Play line")
        self.play_button.clicked.connect(self.play_selected)
        self.revert_button = QPushButton("Revert to model text")
        self.revert_button.clicked.connect(self.revert_selected)
        speaker_row.addStretch(1)
        speaker_row.addWidget(self.play_button)
        speaker_row.addWidget(self.revert_button)

        # --- quote panel ---
        quote_box = QGroupBox("Quote for the journey map")
        self.quote_text = QPlainTextEdit()
        self.quote_text.setReadOnly(True)
        self.quote_text.setAccessibleName("Text of the selected line; select words to quote")
        self.quote_text.setPlaceholderText("Select a line, then select the words to quote.")
        self.step_combo = QComboBox()
        self.step_combo.setAccessibleName("Journey step for the quote")
        self.step_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.step_combo.setMinimumContentsLength(16)
        for step in self.detail["steps"]:
            self.step_combo.addItem(f"{step['stage']} › {step['step']}", step["step_id"])
        self.quote_button = QPushButton("Make &quote")
        self.quote_button.clicked.connect(self.quote_selection)
        quote_layout = QVBoxLayout(quote_box)
        quote_layout.addWidget(self.quote_text, 1)
        quote_layout.addWidget(QLabel("Step:"))
        quote_layout.addWidget(self.step_combo)
        quote_layout.addWidget(self.quote_button)

        # --- exports ---
        export_row = QHBoxLayout()
        export_row.addWidget(QLabel("Export:"))
        self.export_buttons: dict[str, QPushButton] = {}
        for fmt in (*FORMATS, DOCX):
            button = QPushButton(fmt.upper())
            button.setAccessibleName(f"Export the transcript as {fmt.upper()}")
            button.clicked.connect(lambda _=False, f=fmt: self._choose_export(f))
            export_row.addWidget(button)
            self.export_buttons[fmt] = button
        export_row.addStretch(1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        suggestion_row = QHBoxLayout()
        suggestion_row.addWidget(self.suggestion_note, 100)
        suggestion_row.addStretch(1)  # with the note hidden the button keeps its size
        suggestion_row.addWidget(self.accept_button)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(suggestion_row)
        left_layout.addLayout(speaker_row)
        left_layout.addLayout(export_row)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(quote_box)
        splitter.setStretchFactor(0, 3)
        splitter.setSizes([820, 300])

        # the study's engine and speaker suggestions, on a row of their own (a 1280 px
        # window must show the whole top row), and the transcript's checked mark
        study_row = QHBoxLayout()
        engine_label = QLabel("Engine:")
        engine_label.setBuddy(self.engine_combo)
        study_row.addWidget(engine_label)
        study_row.addWidget(self.engine_combo)
        study_row.addWidget(self.speakers_check)
        voices_label = QLabel("&Voices:")
        voices_label.setBuddy(self.voices_spin)
        study_row.addWidget(voices_label)
        study_row.addWidget(self.voices_spin)
        study_row.addStretch(1)
        # checked against the audio (who, when): a study's retention can start there
        self.check_bar = TranscriptCheckBar(ctx, session_id, self._say, self)
        study_row.addWidget(self.check_bar)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(study_row)
        if show_playback:
            layout.addWidget(self.playback)
        layout.addWidget(splitter, 1)

        self.runner.job_started.connect(self._job_started)
        self.runner.progress.connect(self._job_progress)
        self.runner.job_finished.connect(self._job_finished)
        self.follow_timer = QTimer(self)
        self.follow_timer.setInterval(250)
        self.follow_timer.timeout.connect(lambda: self.follow(self.playback.position_s))
        self.follow_timer.start()
        QShortcut(QKeySequence("Ctrl+1"), self, lambda: self.set_speaker("interviewer"))
        QShortcut(QKeySequence("Ctrl+2"), self, lambda: self.set_speaker("participant"))
        QShortcut(QKeySequence("Ctrl+3"), self, self.accept_suggestions)
        QShortcut(QKeySequence(SHORTCUT), self, self.check_bar.toggle)
        self.reload()

    # --- loading -------------------------------------------------------------------

    def reload(self) -> None:
        # an encrypted study's texts not opened on this laptop: shown, never editable
        segments = [
            replace(s, text=shown(s.text), original_text=shown(s.original_text))
            for s in transcript.segments(self.ctx.db, self.session_id)
        ]
        notes = [
            replace(n, text=shown(n.text))
            for n in transcript.notes_on_recording(self.ctx.db, self.session_id)
        ]
        merged: list[tuple[float, int, SegmentView | NoteMark]] = [
            (s.start_s, 1, s) for s in segments
        ] + [(n.at_s, 0, n) for n in notes]
        self.rows = [row for _, _, row in sorted(merged, key=lambda t: (t[0], t[1]))]
        self._loading = True
        self.table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            self._fill(i, row)
        self._loading = False
        self.table.resizeRowsToContents()
        self.current_row = None
        if not segments:
            self.status.setText(
                "No transcript yet. Press Transcribe (the model runs on this computer)."
                if self.recording
                else "This session has no recording."
            )
        self.transcribe_button.setEnabled(self.recording is not None)
        self.suggestion_note.setVisible(any(s.speaker_suggested for s in segments))
        self.check_bar.refresh()
        self._selection_changed()

    def _fill(self, i: int, row: SegmentView | NoteMark) -> None:
        time_item = QTableWidgetItem(clock(row.at_s if isinstance(row, NoteMark) else row.start_s))
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if isinstance(row, NoteMark):
            tags = f" [{', '.join(row.tags)}]" if row.tags else ""
            items = [time_item, QTableWidgetItem("Note"), QTableWidgetItem(row.text + tags)]
            items.append(QTableWidgetItem(""))
            for item in items:
                item.setFlags(flags)
                item.setBackground(QBrush(NOTE_BACKGROUND))
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
        else:
            time_item.setToolTip("Click to play from here")
            text = QTableWidgetItem(row.text)
            text.setFlags(flags if row.text == SHOWN else flags | Qt.ItemFlag.ItemIsEditable)
            mark = QTableWidgetItem("✎ edited" if row.edited else "")
            if row.edited:
                mark.setToolTip(f"Model's text: {row.original_text}")
                text.setToolTip(f"Model's text: {row.original_text}")
            items = [time_item, _speaker_item(row), text, mark]
            for item in (items[0], items[1], items[3]):
                item.setFlags(flags)
        for col, item in enumerate(items):
            self.table.setItem(i, col, item)

    # --- playback ------------------------------------------------------------------

    def _cell_clicked(self, row: int, col: int) -> None:
        if col == COL_TIME and 0 <= row < len(self.rows):
            self.play_row(row)

    def play_row(self, row: int) -> None:
        item = self.rows[row]
        start = item.at_s if isinstance(item, NoteMark) else item.start_s
        self.playback.play_from(start, lead_in_s=0.0)
        self.follow(start)

    def play_selected(self) -> None:
        rows = self.selected_rows()
        if rows:
            self.play_row(rows[0])

    def follow(self, position_s: float) -> None:
        """Highlight the segment being played and keep it in view."""
        found = None
        for i, row in enumerate(self.rows):
            if isinstance(row, SegmentView) and row.start_s <= position_s:
                found = i
                if position_s < row.end_s:
                    break
        if found == self.current_row:
            return
        for row_index, colour in ((self.current_row, None), (found, CURRENT_BACKGROUND)):
            if row_index is None:
                continue
            for col in range(self.table.columnCount()):
                item = self.table.item(row_index, col)
                if item is not None:
                    item.setBackground(QBrush(colour) if colour else QBrush())
                    font = item.font()
                    font.setBold(colour is not None)
                    item.setFont(font)
        self.current_row = found
        target = self.table.item(found, COL_TEXT) if found is not None else None
        if target is not None:
            self.table.scrollToItem(target)

    # --- editing -------------------------------------------------------------------

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectedIndexes()})

    def selected_segments(self) -> list[SegmentView]:
        return [r for i in self.selected_rows() if isinstance(r := self.rows[i], SegmentView)]

    def _selection_changed(self) -> None:
        segments = self.selected_segments()
        for button in self.speaker_buttons.values():
            button.setEnabled(bool(segments))
        self.accept_button.setEnabled(any(s.speaker_suggested for s in segments))
        self.play_button.setEnabled(bool(self.selected_rows()) and self.recording is not None)
        self.revert_button.setEnabled(any(s.edited for s in segments))
        self.quote_text.setPlainText(" ".join(s.text for s in segments))
        sealed = any(s.text == SHOWN for s in segments)  # no quote of a placeholder
        self.quote_button.setEnabled(bool(segments) and not sealed and self.step_combo.count() > 0)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._loading or item.column() != COL_TEXT:
            return
        row = self.rows[item.row()]
        if not isinstance(row, SegmentView) or item.text().strip() == row.text:
            return
        try:
            updated = transcript.edit_text(self.ctx.db, row.id, item.text())
        except CxfieldError as exc:
            self._say(error_text(exc), error=True)
            self._loading = True
            item.setText(row.text)
            self._loading = False
            return
        self.rows[item.row()] = updated
        self._loading = True
        self._fill(item.row(), updated)
        self._loading = False
        self._say("Edit saved; the model's text is kept.")

    def set_speaker(self, speaker: str) -> None:
        """One click sets the speaker of every selected line."""
        segments = self.selected_segments()
        if not segments:
            return
        transcript.set_speaker(self.ctx.db, [s.id for s in segments], speaker)
        selected = self.selected_rows()
        self.reload()
        for row in selected:
            self.table.selectRow(row)
        self._say(
            f"{len(segments)} line(s) set to {SPEAKER_LABELS[speaker].strip('—') or 'unknown'}."
        )

    def accept_suggestions(self) -> None:
        """One key (Ctrl+3) takes the suggested speaker of every selected line."""
        segments = [s for s in self.selected_segments() if s.speaker_suggested]
        if not segments:
            self._say("No suggested speaker in the selected lines.")
            return
        count = speaker_service.confirm_suggestions(self.ctx.db, [s.id for s in segments])
        selected = self.selected_rows()
        self.reload()
        for row in selected:
            self.table.selectRow(row)
        self._say(f"{count} suggested speaker(s) accepted.")

    def revert_selected(self) -> None:
        for seg in self.selected_segments():
            if seg.edited:
                transcript.revert_text(self.ctx.db, seg.id)
        self.reload()

    def quote_selection(self) -> None:
        segments = self.selected_segments()
        if not segments or self.step_combo.currentIndex() < 0:
            return
        text = self.quote_text.textCursor().selectedText() or self.quote_text.toPlainText()
        step_id = str(self.step_combo.currentData())
        try:
            transcript.make_quote(
                self.ctx.db, self.session_id, step_id, text, segments[0].start_s,
                self.recording["id"] if self.recording else None,
            )  # fmt: skip
        except CxfieldError as exc:
            self._say(error_text(exc), error=True)
            return
        self._say(f"Quote added to {self.step_combo.currentText()}.")
        self.reload()

    # --- transcription and export ---------------------------------------------------

    def _save_options(self) -> None:
        """Options chosen here apply to every session of this study."""
        if self.study_id is None:
            return
        transcription.update_study_options(
            self.ctx.db,
            self.study_id,
            language=self.language_combo.currentData() or None,
            translate=self.translate_check.isChecked(),
            word_timestamps=self.words_check.isChecked(),
            speaker_labels=self.speakers_check.isChecked(),
            speakers=self.voices_spin.value(),
            engine=str(self.engine_combo.currentData()),
        )

    def transcribe(self) -> None:
        options = transcription.get_options(self.ctx.db, self.study_id)
        try:
            self.runner.enqueue_session(self.session_id, options)
        except CxfieldError as exc:
            self._say(error_text(exc), error=True)
            return
        self._say(f"Queued with model {options.model} ({options.engine})…")
        self.transcribe_button.setEnabled(False)

    def _job_started(self, _job_id: str, session_id: str) -> None:
        if session_id != self.session_id:
            return
        self.job_progress.setValue(0)
        self.job_progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self._say("Transcribing…")

    def _job_progress(self, _job_id: str, done: float, total: float, eta: float) -> None:
        if not self.job_progress.isVisible():
            return
        self.job_progress.setValue(int(1000 * done / total) if total else 0)
        left = f" — about {clock(eta)} left" if eta >= 0 else ""
        self.job_progress.setFormat(f"%p%  {clock(done)} of {clock(total)}{left}")

    def _job_finished(self, _job_id: str, state: str, message: str) -> None:
        self.job_progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.transcribe_button.setEnabled(self.recording is not None)
        # first: with no transcript yet reload says "No transcript yet", which must not
        # hide that the job was cancelled or why it failed
        self.reload()
        if state == "done":
            self._say(f"Transcribed: {message}.")
        elif state == "cancelled":
            self._say("Cancelled; nothing was stored.")
        else:
            self._say(message, error=True)

    def _choose_export(self, fmt: str) -> None:
        suggested = self.ctx.paths.exports / f"transcript-{self.session_id[:8]}.{fmt}"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export transcript ({fmt.upper()})", str(suggested)
        )
        if path:
            self.export(fmt, Path(path))

    def export(self, fmt: str, path: Path) -> Path | None:
        try:
            if fmt == DOCX:  # Word: speakers, times, notes, edits marked (cxfield.export)
                written = jobs.export_session_docx(self.ctx.db, self.session_id, path).paths[0]
            else:
                written = jobs.export_session_transcript(self.ctx.db, self.session_id, fmt, path)
        except CxfieldError as exc:
            self._say(error_text(exc), error=True)
            return None
        self._say(f"Exported {written}.")
        return written

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #b71c1c;" if error else "")

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.follow_timer.stop()
        if self.playback.parent() is self:
            self.playback.close_player()
        super().closeEvent(event)
