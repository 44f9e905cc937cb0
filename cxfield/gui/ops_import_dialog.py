"""Study → Import operations data… (Ctrl+Shift+O): a queue-management export, a case
system's dates or call-centre times, from CSV or XLSX.

The dialog previews the file's first rows, says which columns look like times (and which
like a site), and lets the lead say, per column, which step a customer entered at that time
(or that it ends the last step, or names the site) — every choice a combo box reached with
Tab.  The import itself is :func:`cxfield.services.ops_import.import_operations`, off the
GUI thread: the whole file is checked first; a file with bad rows is refused, naming them,
and nothing is imported."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.gui.widgets import (
    FOCUS_STYLE,
    FormLabel,
    enter_stays_in_field,
    error_text,
    keep_tab_for_focus,
)
from cxfield.gui.workers import run_in_thread
from cxfield.services import analysis, ops_files, ops_import, studies
from cxfield.services.ops_files import ColumnPreview, OpsPreview
from cxfield.services.ops_import import OpsImportResult

NOT_USED, END, SITE = "", "__end__", "__site__"
#: column names that suggest the end of the last step
_END_WORDS = ("end", "closed", "done", "finished", "completed", "left")


def guess_role(column: ColumnPreview, steps: list[tuple[str, str]]) -> str:
    """What a column probably holds: a step it is named after (times only), the end, the
    site, or nothing.  ``steps``: (step id, name)."""
    name = column.name.casefold()
    if column.looks_like_site:
        return SITE
    if not column.looks_like_times:
        return NOT_USED
    for step_id, step_name in steps:
        if step_name.casefold() in name or name in step_name.casefold():
            return step_id
    if any(word in name for word in _END_WORDS):
        return END
    return NOT_USED


class OpsImportDialog(QDialog):
    def __init__(self, ctx: AppContext, study_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.study_id = study_id
        self.preview: OpsPreview | None = None
        self.imported: OpsImportResult | None = None
        study = studies.get_study(ctx.db, study_id)
        journey = studies.get_journey(ctx.db, study_id)
        numbers = analysis.step_numbers(journey)
        self.steps = [(s.id, s.name) for s in journey.steps]
        self.step_labels = {s.id: f"{numbers[s.id]}. {s.name}" for s in journey.steps}
        self.setWindowTitle(f"Import operations data — {study.name}")
        self.setStyleSheet(FOCUS_STYLE + "QWidget { font-size: 11pt; }")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Each row is one customer. For each column holding a time, choose the step the "
            "customer entered then; a step lasts until the next chosen column's time, and the "
            "end column ends the last one. The whole file is checked first: a file with bad "
            "rows is refused, naming them, and nothing is imported. The same file or rows "
            "imported again are not counted twice."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setAccessibleName("Operations file (CSV or XLSX)")
        self.path.setPlaceholderText("queue export .csv or .xlsx")
        self.path.editingFinished.connect(self._load_typed)
        row.addWidget(FormLabel("&File:", self.path))
        row.addWidget(self.path, 1)
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        layout.addLayout(row)
        self.sample = QTableWidget(0, 0)
        self.sample.setAccessibleName("The file's first rows")
        self.sample.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sample.setMaximumHeight(190)
        keep_tab_for_focus(self.sample)
        layout.addWidget(self.sample)
        self.mapping_box = QWidget()
        self.mapping = QFormLayout(self.mapping_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.mapping_box)
        layout.addWidget(scroll, 1)
        self.order = QLabel()
        self.order.setWordWrap(True)
        self.order.setTextFormat(Qt.TextFormat.PlainText)
        self.order.setAccessibleName("How the columns will be read")
        layout.addWidget(self.order)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setAccessibleName("Import result")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.import_button = QPushButton("&Import")
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self._import)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.import_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.combos: dict[str, QComboBox] = {}
        enter_stays_in_field(self)  # Enter in a field never imports
        self.resize(1000, 680)

    # --- the file ---------------------------------------------------------------------

    def _browse(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, "Operations file", "", "Operations data (*.csv *.xlsx *.txt *.tsv)"
        )
        if name:
            self.path.setText(name)
            self.load(Path(name))

    def _load_typed(self) -> None:
        text = self.path.text().strip()
        if text and (self.preview is None or Path(text).name != self.preview.name):
            self.load(Path(text).expanduser())

    def load(self, path: Path) -> None:
        """Preview ``path``: its first rows, and a combo per column with a guess."""
        try:
            preview = ops_files.preview(path)
        except CxfieldError as exc:
            self._say(error_text(exc), ok=False)
            return
        self.preview = preview
        self._fill_sample(preview)
        self._fill_mapping(preview)
        self._say(
            f"{preview.name}: {preview.rows:,} rows, {len(preview.columns)} columns. Columns "
            "marked ⏱ look like times.",
            ok=True,
        )

    def _fill_sample(self, preview: OpsPreview) -> None:
        self.sample.clear()
        self.sample.setColumnCount(len(preview.columns))
        self.sample.setHorizontalHeaderLabels(
            [("⏱ " if c.looks_like_times else "") + c.name for c in preview.columns]
        )
        rows = max((len(c.samples) for c in preview.columns), default=0)
        self.sample.setRowCount(rows)
        for col, column in enumerate(preview.columns):
            for row, value in enumerate(column.samples):
                self.sample.setItem(row, col, QTableWidgetItem(value))
        self.sample.resizeColumnsToContents()

    def _fill_mapping(self, preview: OpsPreview) -> None:
        while self.mapping.rowCount():
            self.mapping.removeRow(0)
        self.combos = {}
        for column in preview.columns:
            combo = QComboBox()
            combo.addItem("— not used —", NOT_USED)
            for step_id, step_label in self.step_labels.items():
                combo.addItem(f"enters {step_label}", step_id)
            combo.addItem("ends the last step", END)
            combo.addItem("names the site", SITE)
            combo.setCurrentIndex(max(0, combo.findData(guess_role(column, self.steps))))
            combo.setAccessibleName(f"Column {column.name}")
            combo.currentIndexChanged.connect(lambda _i: self._show_order())
            hint = (
                "⏱ times" if column.looks_like_times else "site?" if column.looks_like_site else ""
            )
            sample = column.example or "(empty)"
            label = QLabel(f"<b>{_escape(column.name)}</b>  {hint}  e.g. {_escape(sample)}")
            label.setBuddy(combo)
            self.mapping.addRow(label, combo)
            self.combos[column.name] = combo
        self._show_order()

    # --- the mapping ------------------------------------------------------------------

    def chosen(self) -> tuple[list[tuple[str, str]], str | None, str | None]:
        """(column, step id) in the file's column order, the end column, the site column."""
        pairs: list[tuple[str, str]] = []
        end = site = None
        for name, combo in self.combos.items():
            value = str(combo.currentData() or "")
            if value == END:
                end = name
            elif value == SITE:
                site = name
            elif value:
                pairs.append((name, value))
        return pairs, end, site

    def _show_order(self) -> None:
        pairs, end, site = self.chosen()
        self.import_button.setEnabled(bool(pairs))
        if not pairs:
            self.order.setText("Choose the step at least one time column opens.")
            return
        steps = " → ".join(f"{column} opens {self.step_labels[s]}" for column, s in pairs)
        tail = f"; {end} ends the last step" if end else "; the last step has no end column"
        where = f"; sites from {site}" if site else ""
        self.order.setText(f"Read as: {steps}{tail}{where}.")

    # --- import -----------------------------------------------------------------------

    def _import(self) -> None:
        pairs, end, site = self.chosen()
        path = Path(self.path.text().strip()).expanduser()
        self.import_button.setEnabled(False)
        self._say("Checking every row…", ok=True)
        database, study_id = self.ctx.db, self.study_id
        run_in_thread(
            lambda: ops_import.import_operations(
                database, study_id, path, pairs, end_column=end, site_column=site
            ),
            self._imported,
            self._failed,
            self,
        )

    def _imported(self, result: OpsImportResult) -> None:
        self.imported = result
        self.import_button.setEnabled(True)
        if result.already_imported_at is not None:
            text = (
                f"{result.source} was imported on {result.already_imported_at:%Y-%m-%d %H:%M} "
                "UTC; nothing added."
            )
        else:
            text = (
                f"Imported {result.source}: {result.rows:,} rows, {result.added:,} new, "
                f"{result.duplicates:,} already in the study."
            )
        self._say(text, ok=True)
        QMessageBox.information(self, "Operations data", text)

    def _failed(self, error: Exception) -> None:
        self.import_button.setEnabled(True)
        self._say(error_text(error), ok=False)

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setStyleSheet("" if ok else "color: #b71c1c;")
        self.message.setText(text)


def _escape(text: str) -> str:
    return html.escape(text)
