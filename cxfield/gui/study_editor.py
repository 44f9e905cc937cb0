"""Create a study (from a template or an empty map) and edit its fields: name, program,
agency, description, consent text (a change makes a new version), segment attributes for
the equity lens, study-specific emotions, the A-11 survey choice, the staff side (the staff
roles and the segment attributes asked of staff) and its privacy (end-to-end encryption,
retention: :mod:`cxfield.gui.privacy.privacy_tab`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.domain.rules import clean_roles
from cxfield.domain.survey import EFFECTIVENESS_VARIANTS, TRUST_VARIANTS
from cxfield.gui.privacy.privacy_tab import PrivacyTab
from cxfield.gui.widgets import FormLabel, keep_tab_for_focus, keep_tabs_whole, show_error
from cxfield.services import journey_editor, studies, templates
from cxfield.storage.models import Study

EMPTY = "__empty__"


class NewStudyDialog(QDialog):
    """Pick a template (or an empty map) and a name."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.study: Study | None = None
        self.setWindowTitle("New study")
        layout = QVBoxLayout(self)
        label = QLabel("Start &from:")
        self.choices = QListWidget()
        self.choices.setAccessibleName("Study templates")
        label.setBuddy(self.choices)
        for template in templates.list_templates():
            item = QListWidgetItem(f"{template.title}  ({template.name})")
            item.setData(Qt.ItemDataRole.UserRole, template.name)
            self.choices.addItem(item)
        empty = QListWidgetItem("Empty journey map")
        empty.setData(Qt.ItemDataRole.UserRole, EMPTY)
        self.choices.addItem(empty)
        self.choices.setCurrentRow(0)
        self.name = QLineEdit()
        self.name.setAccessibleName("Study name")
        self.name.setPlaceholderText("e.g. Eastside office, spring 2026")
        name_label = QLabel("Study &name:")
        name_label.setBuddy(self.name)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._create)
        buttons.rejected.connect(self.reject)
        for widget in (label, self.choices, name_label, self.name, buttons):
            layout.addWidget(widget)
        self.resize(520, 380)

    def _create(self) -> None:
        choice = self.choices.currentItem()
        key = str(choice.data(Qt.ItemDataRole.UserRole)) if choice else EMPTY
        try:
            if key == EMPTY:
                self.study = studies.create_study(self.ctx.db, Study(name=self.name.text()))
            else:
                definition = templates.load_template(key)
                self.study = templates.create_from_definition(
                    self.ctx.db, definition, name=self.name.text() or None
                )
        except CxfieldError as exc:
            show_error(self, exc)
            self.name.setFocus()
            return
        self.accept()


class StudyEditorDialog(QDialog):
    """Edit a study's fields; Save applies everything or nothing (and says why)."""

    def __init__(self, ctx: AppContext, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.study = studies.get_study(ctx.db, study_id)
        self.setWindowTitle(f"Edit study — {self.study.name}")
        self.setStyleSheet("QWidget { font-size: 11pt; }")
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        keep_tabs_whole(self.tabs)
        self.tabs.addTab(self._details(), "&Details")
        self.tabs.addTab(self._consent(), "&Consent")
        self.tabs.addTab(self._segments(), "&Segments")
        self.tabs.addTab(self._survey(), "Emotions and s&urvey")
        self.tabs.addTab(self._staff(), "Sta&ff")
        self.privacy = PrivacyTab(ctx, study_id)
        self.tabs.addTab(self.privacy, "P&rivacy")
        layout.addWidget(self.tabs)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(860, 600)

    def _details(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        s = self.study
        self.name = QLineEdit(s.name)
        self.program = QLineEdit(s.program)
        self.agency = QLineEdit(s.agency)
        self.description = QPlainTextEdit(s.description)
        self.description.setTabChangesFocus(True)
        for label, widget in (
            ("&Name", self.name),
            ("&Program or service (fills the A-11 questions)", self.program),
            ("&Agency", self.agency),
            ("D&escription", self.description),
        ):
            widget.setAccessibleName(label.replace("&", ""))
            form.addRow(FormLabel(label, widget), widget)
        return page

    def _consent(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        history = journey_editor.consent_history(self.ctx.db, self.study.id)
        intro = QLabel(
            f"Current version: {self.study.consent_version} ({len(history)} version(s) "
            "kept). Changing the text makes a new version; consents already given "
            "keep the text they saw."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.consent = QPlainTextEdit(self.study.consent_text)
        self.consent.setTabChangesFocus(True)
        self.consent.setAccessibleName("Consent text")
        layout.addWidget(self.consent)
        return page

    def _segments(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        intro = QLabel(
            "Segment attributes for the equity lens. Values separated by commas; "
            '"prefer not to say" is always offered. Leave a row empty to remove it.'
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.segments = _attribute_table(self.study.segment_attributes, "Segment attributes")
        layout.addWidget(self.segments)
        return page

    def _staff(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.staff_roles = QPlainTextEdit("\n".join(self.study.staff_roles))
        self.staff_roles.setTabChangesFocus(True)
        self.staff_roles.setAccessibleName("Staff roles, one per line")
        self.staff_roles.setMaximumHeight(150)
        layout.addWidget(FormLabel("Staff &roles (one per line)", self.staff_roles))
        layout.addWidget(self.staff_roles)
        intro = QLabel(
            "Segment attributes asked of staff (years in post, office), kept apart from the "
            "customers'. An attribute without values takes any answer."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.staff_segments = _attribute_table(
            self.study.staff_segment_attributes, "Staff segment attributes"
        )
        layout.addWidget(self.staff_segments)
        return page

    def _survey(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        # Each label above its field: the question wordings get the dialog's whole width
        # and are read in full (beside their labels they were cut off at 1366×768).
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.emotions = QLineEdit(", ".join(self.study.extra_emotions))
        self.emotions.setAccessibleName("Study-specific emotions, comma separated")
        form.addRow(
            FormLabel("Study-specific &emotions (comma separated)", self.emotions), self.emotions
        )
        self.version = QComboBox()
        self.version.addItem("Version 1 — satisfaction and the drivers (1–5)", "v1")
        self.version.addItem("Version 2 — trust, what went well / not so well", "v2")
        self.version.setCurrentIndex(0 if str(self.study.survey_version) == "v1" else 1)
        self.trust = QComboBox()
        for key, text in TRUST_VARIANTS.items():
            self.trust.addItem(text, key)
        self.trust.setCurrentIndex(list(TRUST_VARIANTS).index(self.study.survey_trust_variant))
        self.effectiveness = QComboBox()
        for key, text in EFFECTIVENESS_VARIANTS.items():
            self.effectiveness.addItem(text, key)
        self.effectiveness.setCurrentIndex(
            list(EFFECTIVENESS_VARIANTS).index(self.study.survey_effectiveness_variant)
        )
        self.population = QLineEdit(self.study.a11_population)
        self.population.setPlaceholderText("e.g. veterans")
        self.population.setToolTip(
            "Fills “[relevant population]” in the trust question about our country’s commitment"
        )
        field: QWidget
        for label, field in (
            ("A-11 survey &version", self.version),
            ("&Trust question", self.trust),
            ("Po&pulation (commitment question)", self.population),
            ("E&ffectiveness question", self.effectiveness),
        ):
            field.setAccessibleName(label.replace("&", ""))
            form.addRow(FormLabel(label, field), field)
        for combo in (self.version, self.trust, self.effectiveness):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.trust.currentIndexChanged.connect(self._trust_changed)
        self._trust_changed()
        return page

    def _trust_changed(self) -> None:
        self.population.setEnabled(self.trust.currentData() == "commitment")
        self.trust.setToolTip(self.trust.currentText())  # the whole wording when cut short

    def segment_rows(self, table: QTableWidget | None = None) -> list[dict[str, object]]:
        table = table if table is not None else self.segments
        result: list[dict[str, object]] = []
        for row in range(table.rowCount()):
            label_item = table.item(row, 0)
            values_item = table.item(row, 1)
            label = label_item.text().strip() if label_item else ""
            values = [v.strip() for v in (values_item.text() if values_item else "").split(",")]
            if not label and not any(values):
                continue
            entry: dict[str, object] = {"label": label, "values": [v for v in values if v]}
            key = label_item.data(Qt.ItemDataRole.UserRole) if label_item else None
            if key:
                entry["key"] = key
            result.append(entry)
        return result

    def _save(self) -> None:
        # Validate everything before writing anything, so a bad field changes nothing.
        try:
            segments = journey_editor.validate_segment_attributes(self.segment_rows())
            staff_segments = journey_editor.validate_segment_attributes(
                self.segment_rows(self.staff_segments), open_allowed=True
            )
            roles = clean_roles(self.staff_roles.toPlainText().splitlines())
            if not roles:
                raise CxfieldError("A study needs at least one staff role.")
            if not self.consent.toPlainText().strip():
                raise CxfieldError("The consent text must not be empty.")
            self.privacy.check()
            journey_editor.update_study(
                self.ctx.db,
                self.study.id,
                name=self.name.text(),
                program=self.program.text(),
                agency=self.agency.text(),
                a11_population=self.population.text(),
                description=self.description.toPlainText(),
                extra_emotions=[e for e in self.emotions.text().split(",")],
                survey_version=self.version.currentData(),
                survey_trust_variant=self.trust.currentData(),
                survey_effectiveness_variant=self.effectiveness.currentData(),
            )
            journey_editor.set_segment_attributes(self.ctx.db, self.study.id, segments)
            journey_editor.set_staff_profile(self.ctx.db, self.study.id, roles, staff_segments)
            journey_editor.set_consent_text(self.ctx.db, self.study.id, self.consent.toPlainText())
            self.privacy.save()
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.accept()


def _attribute_table(attributes: list[dict[str, object]], name: str) -> QTableWidget:
    """Attributes as rows of label and comma-separated values, with three empty rows."""
    table = QTableWidget(0, 2)
    table.setHorizontalHeaderLabels(["Attribute", "Values (comma separated)"])
    table.setAccessibleName(name)
    table.horizontalHeader().setStretchLastSection(True)
    table.setColumnWidth(0, 240)
    keep_tab_for_focus(table)  # arrows move between cells, Tab leaves
    for attribute in [*attributes, {}, {}, {}]:
        row = table.rowCount()
        table.insertRow(row)
        label = QTableWidgetItem(str(attribute.get("label", "")))
        label.setData(Qt.ItemDataRole.UserRole, attribute.get("key"))
        table.setItem(row, 0, label)
        values = attribute.get("values") or []
        shown = ", ".join(str(v) for v in values) if isinstance(values, list) else ""
        table.setItem(row, 1, QTableWidgetItem(shown))
    return table
