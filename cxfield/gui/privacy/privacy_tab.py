"""The Privacy page of Edit study: end-to-end encryption with the study's key (create it,
with the lost-key warning and the offer to export it; export, import, open sealed texts)
and retention (days that audio and transcripts are kept: after approval, or for audio after
its transcript was checked if the study says so)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError, ValidationError
from cxfield.domain.vocabulary import AudioClock
from cxfield.gui.widgets import FormLabel, show_error
from cxfield.privacy import keys, study_protection
from cxfield.privacy import review as redaction_review
from cxfield.privacy import settings as redaction_settings

KEEP = -1  # the spin boxes' "Keep" (no retention)
#: the audio's retention clock, as the combo box offers it
AUDIO_CLOCK_CHOICES = (
    (AudioClock.APPROVED.value, "when the session is approved"),
    (
        AudioClock.CHECKED.value,
        "when its transcript is checked (or approved, if that comes first)",
    ),
)


class CreateKeyDialog(QDialog):
    """Passphrase twice, under the warning that a lost key is lost data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Create the study's key")
        layout = QVBoxLayout(self)
        warning = QLabel(f"<b>Lost key = lost data.</b> {keys.LOST_KEY_WARNING}")
        warning.setWordWrap(True)
        warning.setAccessibleName("Warning: lost key is lost data")
        layout.addWidget(warning)
        form = QFormLayout()
        self.passphrase = QLineEdit()
        self.again = QLineEdit()
        for field, label in ((self.passphrase, "&Passphrase"), (self.again, "Passphrase a&gain")):
            field.setEchoMode(QLineEdit.EchoMode.Password)
            field.setAccessibleName(label.replace("&", ""))
            form.addRow(FormLabel(label, field), field)
        layout.addLayout(form)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 300)

    def _check(self) -> None:
        if self.passphrase.text() != self.again.text():
            self.message.setText("The two passphrases differ.")
            self.again.setFocus()
            return
        if len(self.passphrase.text()) < keys.MIN_PASSPHRASE:
            self.message.setText(f"At least {keys.MIN_PASSPHRASE} characters.")
            self.passphrase.setFocus()
            return
        self.accept()


class PrivacyTab(QWidget):
    def __init__(self, ctx: AppContext, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.study_id = ctx, study_id
        layout = QVBoxLayout(self)
        box = QGroupBox("End-to-end encryption")
        inner = QVBoxLayout(box)
        intro = QLabel(
            "Transcripts, notes, quotes and audio leave this laptop sealed with the study's "
            "key: the hub cannot read them; supervisors who hold the key open them. "
            "Ratings, emotions, pain points, step times and A-11 answers stay readable for "
            "the shared journey map."
        )
        intro.setWordWrap(True)
        inner.addWidget(intro)
        self.key_state = QLabel("")
        self.key_state.setWordWrap(True)
        inner.addWidget(self.key_state)
        self.encrypt = QCheckBox("&Encrypt this study's texts and audio end to end")
        inner.addWidget(self.encrypt)
        row = QHBoxLayout()
        self.create_button = QPushButton("Create &key…")
        self.export_button = QPushButton("E&xport key…")
        self.import_button = QPushButton("&Import key…")
        self.open_button = QPushButton("&Open sealed texts…")
        for button, slot in (
            (self.create_button, self._create),
            (self.export_button, self._export),
            (self.import_button, self._import),
            (self.open_button, self._open),
        ):
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addStretch(1)
        inner.addLayout(row)
        layout.addWidget(box)

        box = QGroupBox("Retention")
        form = QFormLayout(box)
        self.audio_days, self.transcript_days = QSpinBox(), QSpinBox()
        self.audio_clock = QComboBox()
        self.audio_clock.setAccessibleName("The audio's days start")
        for value, text in AUDIO_CLOCK_CHOICES:
            self.audio_clock.addItem(text, value)
        self.audio_clock.setToolTip(
            "A transcript is marked checked in the session's transcript (Ctrl+K) or with "
            "cxfield transcripts check RECORDING_ID."
        )
        for spin, label in (
            (self.audio_days, "Delete &audio, days after its clock starts"),
            (self.transcript_days, "Delete &transcripts, days after approval"),
        ):
            spin.setRange(KEEP, study_protection.MAX_DAYS)
            spin.setSpecialValueText("Keep")
            # typed or stepped with Up/Down; without the arrow buttons (drawn over the
            # right edge) the focus frame shows all round
            spin.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
            spin.setAccessibleName(label.replace("&", ""))
            form.addRow(FormLabel(label, spin), spin)
            if spin is self.audio_days:
                clock_label = FormLabel("The audio's c&lock starts", self.audio_clock)
                form.addRow(clock_label, self.audio_clock)
        note = QLabel("Checked when the app starts and once a day.")
        note.setWordWrap(True)
        form.addRow(note)
        layout.addWidget(box)

        box = QGroupBox("Redaction")
        form = QFormLayout(box)
        self.review_redactions = QCheckBox("Re&view redactions before sync and export")
        self.review_redactions.setToolTip(
            "On: a session's personal details must be accepted or rejected (Privacy → "
            "Review redactions…) before it syncs or is exported."
        )
        form.addRow(self.review_redactions)
        self.case_patterns = QLineEdit()
        self.case_patterns.setPlaceholderText(r"e.g. SNAP-\d{8}; CASE-\d{6}")
        self.case_patterns.setAccessibleName("Case-number patterns, separated by semicolons")
        form.addRow(FormLabel("Case-number &patterns", self.case_patterns), self.case_patterns)
        self.words = QLineEdit()
        self.words.setPlaceholderText("e.g. names of local offices or staff; separated by ;")
        self.words.setAccessibleName("Study word list, separated by semicolons")
        form.addRow(FormLabel("Study &word list", self.words), self.words)
        layout.addWidget(box)
        layout.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        redaction = redaction_review.get_settings(self.ctx.db, self.study_id)
        self.review_redactions.setChecked(redaction.review)
        self.case_patterns.setText("; ".join(redaction.case_patterns))
        self.words.setText("; ".join(redaction.words))
        info = study_protection.get_protection(self.ctx.db, self.study_id)
        held = keys.load_study_key(self.ctx.paths.root, self.study_id, self.ctx.db.device_id)
        if not info.public_key:
            text = "No key yet: create one to turn encryption on."
        else:
            here = "kept on this laptop" if held else "not on this laptop (import it to read)"
            text = f"Key id {info.key_id}, {here}."
        self.key_state.setText(text)
        self.encrypt.setChecked(info.encrypt)
        self.encrypt.setEnabled(bool(info.public_key))
        self.create_button.setEnabled(not info.public_key)
        self.export_button.setEnabled(held is not None)
        self.open_button.setEnabled(held is not None)
        self.audio_days.setValue(KEEP if info.audio_days is None else info.audio_days)
        self.audio_clock.setCurrentIndex(max(self.audio_clock.findData(info.audio_clock), 0))
        self.transcript_days.setValue(
            KEEP if info.transcript_days is None else info.transcript_days
        )

    # --- keys -----------------------------------------------------------------------------

    def _create(self) -> None:
        dialog = CreateKeyDialog(self)
        if not dialog.exec():
            return
        try:
            created = study_protection.create_key(
                self.ctx.db, self.ctx.paths.root, self.study_id, dialog.passphrase.text()
            )
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.refresh()
        answer = QMessageBox.question(
            self,
            "Export the key now?",
            f"The key is kept in {created.store.where}.\n\n{keys.LOST_KEY_WARNING}\n\n"
            "Export it to a file now?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._export()

    def _export(self) -> None:
        locked = keys.load_study_key(self.ctx.paths.root, self.study_id, self.ctx.db.device_id)
        if locked is None:
            return
        target, _filter = QFileDialog.getSaveFileName(
            self, "Export the study key", f"study-{locked.key_id}.key", "Study keys (*.key)"
        )
        if not target:
            return
        keys.export_study_key(locked, Path(target))
        QMessageBox.information(
            self, "cxfield", f"Exported to {target}. It still needs the passphrase."
        )

    def _passphrase(self, title: str) -> str | None:
        text, ok = QInputDialog.getText(
            self, title, "Passphrase of the study key:", QLineEdit.EchoMode.Password
        )
        return text if ok else None

    def _import(self) -> None:
        source, _filter = QFileDialog.getOpenFileName(
            self, "Import a study key", "", "Study keys (*.key)"
        )
        if not source:
            return
        passphrase = self._passphrase("Import a study key")
        if passphrase is None:
            return
        try:
            study_protection.import_key(self.ctx.db, self.ctx.paths.root, Path(source), passphrase)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.refresh()

    def _open(self) -> None:
        passphrase = self._passphrase("Open sealed texts")
        if passphrase is None:
            return
        try:
            opened = study_protection.open_texts(
                self.ctx.db, self.ctx.paths.root, self.study_id, passphrase
            )
        except CxfieldError as exc:
            show_error(self, exc)
            return
        QMessageBox.information(self, "cxfield", f"Opened {opened} sealed texts.")

    # --- saving -----------------------------------------------------------------------------

    def _redaction_changes(self) -> dict[str, object]:
        def split(text: str) -> list[str]:
            return [part.strip() for part in text.split(";") if part.strip()]

        return {
            "review": self.review_redactions.isChecked(),
            "case_patterns": split(self.case_patterns.text()),
            "words": split(self.words.text()),
        }

    def check(self) -> None:
        """Raise what would be refused, before anything is written."""
        if self.encrypt.isChecked() and not self.encrypt.isEnabled():
            raise ValidationError("Create the study's key before turning encryption on.")
        current = redaction_review.get_settings(self.ctx.db, self.study_id)
        try:
            redaction_settings.checked(current, **self._redaction_changes())  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def save(self) -> None:
        def days(spin: QSpinBox) -> int | None:
            return None if spin.value() == KEEP else spin.value()

        if redaction_review.get_settings(self.ctx.db, self.study_id).as_json() != (
            redaction_settings.checked(
                redaction_review.get_settings(self.ctx.db, self.study_id),
                **self._redaction_changes(),  # type: ignore[arg-type]
            ).as_json()
        ):  # the study row changes (and syncs) only when a setting did
            redaction_review.set_settings(self.ctx.db, self.study_id, **self._redaction_changes())
        info = study_protection.get_protection(self.ctx.db, self.study_id)
        wanted = (days(self.audio_days), days(self.transcript_days))
        clock = str(self.audio_clock.currentData())
        if (*wanted, clock) != (info.audio_days, info.transcript_days, info.audio_clock):
            study_protection.set_retention(  # no row (and no sync) for nothing changed
                self.ctx.db,
                self.study_id,
                audio_days=wanted[0],
                transcript_days=wanted[1],
                audio_clock=clock,
            )
        if info.public_key and info.encrypt != self.encrypt.isChecked():
            study_protection.set_encrypt(self.ctx.db, self.study_id, self.encrypt.isChecked())
