"""Start a session: study, mode, participant (with consent), site and researcher.

The last site and researcher are remembered on this laptop."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError, ValidationError
from cxfield.domain.vocabulary import SessionMode
from cxfield.gui.participants_dialog import ConsentDialog
from cxfield.gui.widgets import FOCUS_STYLE, show_error
from cxfield.services import capture, participants, sites, studies

LAST_SITE, LAST_RESEARCHER = "runner.last_site", "runner.last_researcher"


class StartSessionDialog(QDialog):
    def __init__(
        self, ctx: AppContext, study_id: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session_id: str | None = None
        self.setWindowTitle("Start a session")
        self.setStyleSheet(FOCUS_STYLE + "QWidget { font-size: 12pt; }")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.study = QComboBox()
        for summary in studies.list_studies(ctx.db):
            self.study.addItem(summary.name, summary.id)
        if study_id:
            self.study.setCurrentIndex(max(0, self.study.findData(study_id)))
        self.study.currentIndexChanged.connect(lambda _i: self._load_participants())
        form.addRow("Stu&dy", self.study)  # Alt+S is Start

        modes = QHBoxLayout()
        self.interview = QRadioButton("&Interview")
        self.observation = QRadioButton("&Observation")
        self.interview.setChecked(True)
        self.interview.toggled.connect(lambda _on: self._load_participants())
        modes.addWidget(self.interview)
        modes.addWidget(self.observation)
        form.addRow("Mode", modes)

        row = QHBoxLayout()
        self.participant = QComboBox()
        self.participant.setAccessibleName("Participant")
        row.addWidget(self.participant, 1)
        add = QPushButton("&New participant…")
        add.clicked.connect(self._new_participant)
        row.addWidget(add)
        # A label made here, with its buddy: addRow(text, layout) has no widget to give
        # Alt+P to, and showed "&Participant" as it is.
        participant_label = QLabel("&Participant")
        participant_label.setBuddy(self.participant)
        form.addRow(participant_label, row)
        self.consent_note = QLabel()
        self.consent_note.setWordWrap(True)
        form.addRow("", self.consent_note)
        self.participant.currentIndexChanged.connect(lambda _i: self._consent_note())

        self.site = QComboBox()
        self.site.setEditable(True)
        self.site.setAccessibleName("Site; type a new name to add one")
        for site in sites.list_sites(ctx.db):
            self.site.addItem(site.name, site.id)
        self.researcher = QComboBox()
        self.researcher.setEditable(True)
        self.researcher.setAccessibleName("Researcher; type a new name to add one")
        for person in sites.list_researchers(ctx.db):
            self.researcher.addItem(person.name, person.id)
        self._remembered(self.site, LAST_SITE)
        self._remembered(self.researcher, LAST_RESEARCHER)
        form.addRow("Si&te", self.site)  # Alt+I is Interview
        form.addRow("&Researcher", self.researcher)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Start")
        buttons.accepted.connect(self._start)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._load_participants()
        self.resize(640, 360)

    def _remembered(self, combo: QComboBox, key: str) -> None:
        index = combo.findData(self.ctx.db.get_setting(key))
        combo.setCurrentIndex(index if index >= 0 else (0 if combo.count() else -1))

    def study_id(self) -> str | None:
        data = self.study.currentData()
        return str(data) if data else None

    def _load_participants(self, select: str | None = None) -> None:
        self.participant.clear()
        study_id = self.study_id()
        if study_id is None:
            return
        if self.observation.isChecked():
            self.participant.addItem("— none (observing the process) —", None)
        for info in participants.list_participants(self.ctx.db, study_id):
            if info.withdrawn:
                continue
            consent = (
                "recording ✓"
                if info.recording_consent
                else ("notes only" if info.interview_consent else "no consent yet")
            )
            person = info.participant
            who = f"{person.code} · staff, {person.role}" if person.role else person.code
            self.participant.addItem(f"{who} ({consent})", person.id)
        if select:
            self.participant.setCurrentIndex(max(0, self.participant.findData(select)))
        self._consent_note()

    def _consent_note(self) -> None:
        pid = self.participant.currentData()
        if not pid:
            self.consent_note.setText("")
            return
        info = participants.participant_info(self.ctx.db, str(pid))
        if not info.interview_consent:
            text = "No interview consent yet: use New participant… or Participants to record it."
        elif info.recording_consent:
            text = "Interview and recording consent given."
        else:
            text = "Interview consent only: notes, no recording."
        self.consent_note.setText(text)

    def _new_participant(self) -> None:
        study_id = self.study_id()
        if study_id is None:
            return
        dialog = ConsentDialog(self.ctx, study_id, parent=self)
        if dialog.exec():
            self._load_participants(dialog.participant_id)

    def _picked(self, combo: QComboBox, add: object) -> str | None:
        text = combo.currentText().strip()
        if not text:
            return None
        index = combo.findText(text)
        if index >= 0 and combo.itemData(index):
            return str(combo.itemData(index))
        return str(add(self.ctx.db, text).id)  # type: ignore[operator]

    def _start(self) -> None:
        study_id = self.study_id()
        try:
            if study_id is None:
                raise ValidationError("Create a study first.")
            site_id = self._picked(self.site, sites.add_site)
            researcher_id = self._picked(self.researcher, sites.add_researcher)
            pid = self.participant.currentData()
            session = capture.start_session(
                self.ctx.db,
                study_id,
                mode=SessionMode.OBSERVATION if self.observation.isChecked() else "interview",
                participant_id=str(pid) if pid else None,
                site_id=site_id,
                researcher_id=researcher_id,
            )
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.ctx.db.set_setting(LAST_SITE, site_id)
        self.ctx.db.set_setting(LAST_RESEARCHER, researcher_id)
        self.session_id = session.id
        self.accept()
