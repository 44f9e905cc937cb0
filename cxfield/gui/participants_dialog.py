"""Participants of a study and the consent dialog.

A participant is a customer (P-001) or a staff member (S-001) with one of the study's staff
roles; each answers their own segment attributes.  The consent dialog shows the study's
current consent text and records interview consent and, separately, recording consent
(which needs interview consent).  Withdrawing marks the participant and offers to really
delete their sessions' content."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.domain.vocabulary import PREFER_NOT_TO_SAY, ParticipantKind
from cxfield.domain.wording import count_of
from cxfield.gui.widgets import (
    FormLabel,
    enter_stays_in_field,
    keep_tab_for_focus,
    show_error,
)
from cxfield.services import participants, studies
from cxfield.services.participants import ParticipantInfo


class ConsentDialog(QDialog):
    """Add a participant (or record new consent for one) with segment values."""

    def __init__(
        self,
        ctx: AppContext,
        study_id: str,
        participant: ParticipantInfo | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.study = studies.get_study(ctx.db, study_id)
        self.existing = participant
        self.participant_id: str | None = participant.participant.id if participant else None
        code = participant.participant.code if participant else "new participant"
        self.setWindowTitle(f"Consent — {code}")
        self.setStyleSheet("QWidget { font-size: 12pt; }")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                f"<b>{self.study.name}</b> — consent text version {self.study.consent_version}. "
                "Read it to the participant."
            )
        )
        text = QTextBrowser()
        text.setPlainText(self.study.consent_text or "(This study has no consent text yet.)")
        text.setAccessibleName("Consent text")
        text.setMinimumHeight(160)
        layout.addWidget(text, 1)

        kinds = QHBoxLayout()
        self.customer = QRadioButton("C&ustomer (P-…)")
        self.staff = QRadioButton("Sta&ff member (S-…)")
        group = QButtonGroup(self)
        for button in (self.customer, self.staff):
            group.addButton(button)
            kinds.addWidget(button)
        kinds.addStretch(1)
        kind = participant.participant.kind if participant else ParticipantKind.CUSTOMER
        (self.staff if kind == ParticipantKind.STAFF else self.customer).setChecked(True)
        if participant is not None:  # a code says who someone is: it never changes
            self.customer.setEnabled(False)
            self.staff.setEnabled(False)
        layout.addLayout(kinds)
        self.form = QFormLayout()
        self.role = QComboBox()
        self.role.setAccessibleName("Staff role")
        for role in self.study.staff_roles:
            self.role.addItem(role, role)
        current_role = participant.participant.role if participant else ""
        if current_role and self.role.findData(current_role) < 0:
            self.role.addItem(f"{current_role} (no longer listed)", current_role)
        self.role.setCurrentIndex(max(0, self.role.findData(current_role)))
        self.role_label = FormLabel("&Role", self.role)
        self.segment_boxes: dict[str, QComboBox] = {}
        self._current = participant.participant.segments if participant else {}
        layout.addLayout(self.form)
        self.staff.toggled.connect(lambda _on: self._build_form())
        self._build_form()

        self.interview = QCheckBox("The participant agrees to be &interviewed")
        self.recording = QCheckBox("The participant agrees to the conversation being &recorded")
        self.recording.setEnabled(False)
        self.interview.toggled.connect(self._interview_toggled)
        if participant and participant.consent and not participant.withdrawn:
            self.interview.setChecked(participant.consent.interview_consent)
            self.recording.setChecked(participant.consent.recording_consent)
        layout.addWidget(self.interview)
        layout.addWidget(self.recording)
        note = QLabel(
            "No recording is possible without recording consent. Notes-only sessions "
            "need interview consent only."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # Enter in a segment box must not add the participant: Tab to Save, then Enter.
        enter_stays_in_field(self)
        self.resize(720, 620)

    def kind(self) -> ParticipantKind:
        return ParticipantKind.STAFF if self.staff.isChecked() else ParticipantKind.CUSTOMER

    def _build_form(self) -> None:
        """The role (staff) and the segment questions of the chosen kind of participant."""
        while self.form.rowCount():
            row = self.form.takeRow(0)
            for item in (row.labelItem, row.fieldItem):
                widget = item.widget() if item is not None else None
                if widget is not None and widget not in (self.role, self.role_label):
                    widget.hide()
                    widget.deleteLater()
        staff = self.kind() is ParticipantKind.STAFF
        self.role.setVisible(staff)
        self.role_label.setVisible(staff)
        if staff:
            self.form.addRow(self.role_label, self.role)
        self.segment_boxes = {}
        attributes = participants.segment_definitions(self.study, self.kind())
        for attribute in attributes:
            combo = QComboBox()
            raw = attribute.get("values")
            values = [str(v) for v in raw] if isinstance(raw, list) else []
            key = str(attribute["key"])
            if values:
                combo.addItem("— not asked —", "")
                for value in values:
                    combo.addItem(value, value)
                combo.addItem(PREFER_NOT_TO_SAY, PREFER_NOT_TO_SAY)
                combo.setCurrentIndex(max(0, combo.findData(self._current.get(key, ""))))
            else:  # an open question (an office's name): type the answer
                combo.setEditable(True)
                combo.addItem("", "")
                combo.setCurrentText(self._current.get(key, ""))
            label = str(attribute.get("label", key))
            combo.setAccessibleName(label)
            self.form.addRow(FormLabel(label + " (optional)", combo), combo)
            self.segment_boxes[key] = combo

    def _segment_values(self) -> dict[str, str | None]:
        return {
            key: (combo.currentText().strip() if combo.isEditable() else combo.currentData())
            for key, combo in self.segment_boxes.items()
        }

    def _interview_toggled(self, on: bool) -> None:
        self.recording.setEnabled(on)
        if not on:
            self.recording.setChecked(False)

    def _save(self) -> None:
        segments = self._segment_values()
        staff = self.kind() is ParticipantKind.STAFF
        role = str(self.role.currentData() or "") if staff else None
        try:
            if self.participant_id is None:
                person = participants.add_participant(
                    self.ctx.db, self.study.id, segments, kind=self.kind(), role=role
                )
                self.participant_id = person.id
            else:
                participants.update_segments(self.ctx.db, self.participant_id, segments)
                if staff and role and self.existing and role != self.existing.participant.role:
                    participants.update_role(self.ctx.db, self.participant_id, role)
            participants.record_consent(
                self.ctx.db,
                self.participant_id,
                interview=self.interview.isChecked(),
                recording=self.recording.isChecked(),
            )
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.accept()


class ParticipantsDialog(QDialog):
    HEADERS = (
        "Code",
        "Who",
        "Segments",
        "Interview consent",
        "Recording consent",
        "Sessions",
        "Status",
    )

    def __init__(self, ctx: AppContext, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.study_id = study_id
        study = studies.get_study(ctx.db, study_id)
        self.setWindowTitle(f"Participants — {study.name}")
        self.setStyleSheet("QWidget { font-size: 11pt; }")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(0, len(self.HEADERS))
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.setAccessibleName("Participants")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        # Every column as wide as its header and values ("Interview consent" was cut to
        # "erview cons"); the segments take what is left.
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        keep_tab_for_focus(self.table)
        # Enter (or a double click) on a row opens its consent, never "Add participant".
        self.table.activated.connect(lambda _i: self.consent())
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        for text, slot in (
            ("&Add participant…", self.add),
            ("&Consent and segments…", self.consent),
            ("&Withdraw…", self.withdraw),
            ("Close", self.accept),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        layout.addLayout(row)
        enter_stays_in_field(self)
        self.resize(980, 520)
        self.infos: list[ParticipantInfo] = []
        self.reload()

    def reload(self, select: str | None = None) -> None:
        self.infos = participants.list_participants(self.ctx.db, self.study_id)
        self.table.setRowCount(len(self.infos))
        for r, info in enumerate(self.infos):
            p = info.participant
            segments = ", ".join(f"{v}" for v in p.segments.values()) or "—"
            who = f"staff · {p.role}" if p.kind == ParticipantKind.STAFF else "customer"
            values = (
                p.code,
                who,
                segments,
                "yes" if info.interview_consent else "no",
                "yes" if info.recording_consent else "no",
                str(info.sessions),
                "withdrawn" if p.withdrawn else "active",
            )
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))
            if p.id == select:
                self.table.selectRow(r)
        if self.table.currentRow() < 0 and self.infos:
            self.table.selectRow(0)

    def current(self) -> ParticipantInfo | None:
        row = self.table.currentRow()
        return self.infos[row] if 0 <= row < len(self.infos) else None

    def add(self) -> None:
        dialog = ConsentDialog(self.ctx, self.study_id, parent=self)
        if dialog.exec():
            self.reload(dialog.participant_id)

    def consent(self) -> None:
        info = self.current()
        if info is None:
            return
        if info.withdrawn:
            QMessageBox.information(self, "cxfield", f"{info.participant.code} has withdrawn.")
            return
        dialog = ConsentDialog(self.ctx, self.study_id, info, parent=self)
        if dialog.exec():
            self.reload(info.participant.id)

    def withdraw(self) -> None:
        info = self.current()
        if info is None or info.withdrawn:
            return
        box = QMessageBox(self)
        box.setWindowTitle("Withdraw consent")
        box.setText(
            f"{info.participant.code} withdraws consent. They will be marked as withdrawn."
            f"\n\nAlso delete the content of their {count_of(info.sessions, 'session')} — "
            "captures, notes, transcripts, survey answers and audio files? This cannot be "
            "undone."
        )
        delete = box.addButton(
            "Withdraw and delete content", QMessageBox.ButtonRole.DestructiveRole
        )
        keep = box.addButton("Withdraw, keep sessions", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked not in (delete, keep):
            return
        try:
            result = participants.withdraw(
                self.ctx.db,
                info.participant.id,
                delete_content=clicked is delete,
                data_root=self.ctx.paths.root,
            )
        except CxfieldError as exc:
            show_error(self, exc)
            return
        if clicked is delete:
            QMessageBox.information(
                self,
                "cxfield",
                f"Deleted {count_of(result.sessions_deleted, 'session')} and "
                f"{count_of(result.files_deleted, 'audio file')}.",
            )
        self.reload(info.participant.id)
