"""Review the redactions of one session: every candidate highlighted where it occurs,
accepted (A) or rejected (R) from the keyboard, a redaction added by selecting text
(Ctrl+D), names listed for the session (kept on this laptop only) and found everywhere.

Until every candidate is decided, a study that reviews before sync and export holds the
session: the heading says so."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.domain.clock import duration_text, parse_moment, typed_moment_text
from cxfield.domain.errors import CxfieldError
from cxfield.gui.widgets import FormLabel
from cxfield.privacy import audio, outgoing, review, store
from cxfield.privacy.detect import DetectorsMissing
from cxfield.privacy.kinds import Kind
from cxfield.privacy.texts import FieldText, session_texts

COLOURS = {"pending": "#ffe082", "accepted": "#37474f", "rejected": "#e0e0e0"}
MARKS = {"pending": "?", "accepted": "✓", "rejected": "✗"}


def _key(key: tuple[str, str, str]) -> str:
    return "|".join(key)


def _unkey(value: Any) -> tuple[str, str, str] | None:
    if not isinstance(value, str) or value.count("|") != 2:
        return None
    table, row_id, field = value.split("|")
    return (table, row_id, field)


class RedactionReview(QDialog):
    def __init__(self, ctx: AppContext, session_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session_id = session_id
        self.setWindowTitle("Review redactions")
        self.texts: dict[tuple[str, str, str], FieldText] = {}
        self.rows: list[Any] = []

        self.heading = QLabel()
        self.heading.setObjectName("heading")
        self.heading.setWordWrap(True)
        self.hold = QLabel()
        self.hold.setWordWrap(True)
        self.candidates = QListWidget()
        self.candidates.setAccessibleName("Redaction candidates")
        self.candidates.setWordWrap(True)
        self.candidates.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.candidates.currentRowChanged.connect(self._show_current)
        self.field = QComboBox()
        self.field.setAccessibleName("Text shown")
        self.field.currentIndexChanged.connect(self._show_field)
        self.view = QTextEdit()
        self.view.setReadOnly(True)
        self.view.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.view.setAccessibleName("Text with the candidates highlighted")
        self.kind = QComboBox()
        self.kind.setAccessibleName("Kind of the redaction to add")
        for kind in Kind:
            self.kind.addItem(kind.placeholder, kind)
        self.redact_button = QPushButton("Re&dact selection")
        self.redact_button.clicked.connect(self.redact_selection)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("A name to find everywhere (kept on this laptop only)")
        self.name_edit.setAccessibleName("Listed name")
        self.name_edit.returnPressed.connect(self.add_name)
        add_name = QPushButton("Add &name")
        add_name.clicked.connect(self.add_name)
        self.names = QLabel()
        self.names.setWordWrap(True)
        self.recording = QComboBox()
        self.recording.setAccessibleName("Recording to mute a stretch of")
        self.mute_from, self.mute_to = QLineEdit(), QLineEdit()
        for edit, name in ((self.mute_from, "from"), (self.mute_to, "to")):
            edit.setPlaceholderText("m:ss")
            edit.setAccessibleName(f"Mute {name} (seconds or m:ss)")
            edit.setMaximumWidth(90)
        self.mute_to.returnPressed.connect(self.mute_stretch)
        self.mute_button = QPushButton("&Mute stretch")
        self.mute_button.clicked.connect(self.mute_stretch)
        rescan = QPushButton("&Scan again")
        rescan.clicked.connect(lambda: self.reload(scan=True))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        hint = QLabel("A accept · R reject · U undo · Ctrl+D redact the selected text · Esc close")

        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.field)
        right_box.addWidget(self.view, 1)
        add_row = QHBoxLayout()
        add_row.addWidget(QLabel("Redact as"))
        add_row.addWidget(self.kind)
        add_row.addWidget(self.redact_button)
        add_row.addStretch(1)
        right_box.addLayout(add_row)
        splitter = QSplitter()
        splitter.addWidget(self.candidates)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        names_row = QHBoxLayout()
        names_row.addWidget(self.name_edit, 1)
        names_row.addWidget(add_name)
        names_row.addWidget(rescan)
        mute_row = QHBoxLayout()
        mute_row.addWidget(QLabel("Mute audio by hand:"))
        mute_row.addWidget(self.recording, 1)
        mute_row.addWidget(FormLabel("&from", self.mute_from))
        mute_row.addWidget(self.mute_from)
        mute_row.addWidget(QLabel("to"))
        mute_row.addWidget(self.mute_to)
        mute_row.addWidget(self.mute_button)
        bottom = QHBoxLayout()
        bottom.addWidget(hint, 1)
        bottom.addWidget(close)
        box = QVBoxLayout(self)
        box.addWidget(self.heading)
        box.addWidget(self.hold)
        box.addWidget(splitter, 1)
        box.addLayout(names_row)
        box.addWidget(self.names)
        box.addLayout(mute_row)
        box.addLayout(bottom)

        for key, state in (("A", "accepted"), ("R", "rejected"), ("U", "pending")):
            shortcut = QShortcut(QKeySequence(key), self.candidates)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(lambda s=state: self.decide(s))
        QShortcut(QKeySequence("Ctrl+D"), self).activated.connect(self.redact_selection)
        # Enter belongs to the field it is typed in (a name, a time), never to a button
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self._fill_recordings()
        self.reload(scan=True)
        self.candidates.setFocus()

    # --- data ----------------------------------------------------------------------------

    def reload(self, *, scan: bool = False, keep: str | None = None) -> None:
        problem = ""
        if scan:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                store.scan_sessions(self.ctx.db, [self.session_id])
            except DetectorsMissing as exc:
                problem = str(exc)
            finally:
                QApplication.restoreOverrideCursor()
        with self.ctx.db.engine.connect() as conn:
            texts = session_texts(conn, [self.session_id])[self.session_id]
            names = store.listed_names(conn, [self.session_id])[self.session_id]
        self.texts = {t.key: t for t in texts}
        self.rows = [r for r in store.candidates(self.ctx.db, session_id=self.session_id)]
        self.field.blockSignals(True)
        self.field.clear()
        for item in texts:
            label = f"{review.WHERE.get((item.table_name, item.field), item.field)}"
            if item.recording_id is not None:
                label += f" {int(item.start_s) // 60:02d}:{int(item.start_s) % 60:02d}"
            self.field.addItem(f"{label} — {item.text[:60]}", _key(item.key))
        self.field.blockSignals(False)
        self.candidates.blockSignals(True)
        self.candidates.clear()
        for row in self.rows:
            entry = QListWidgetItem(
                f"{MARKS[row.state]}  [{row.kind.upper()}]  {row.text}\n"
                f"      {row.state} · {review.where(row)} · score {row.score:.2f}"
            )
            entry.setToolTip(row.text)
            entry.setData(Qt.ItemDataRole.UserRole, row.id)
            self.candidates.addItem(entry)
        self.candidates.blockSignals(False)
        self.names.setText("Listed names: " + (", ".join(names) if names else "none yet"))
        self._update_heading(problem)
        index = next((i for i, r in enumerate(self.rows) if r.id == keep), -1)
        if index < 0:
            index = next((i for i, r in enumerate(self.rows) if r.state == "pending"), 0)
        if self.rows:
            self.candidates.setCurrentRow(index)
            self._show_current(index)
        elif texts:
            self._show_field(0)

    def _update_heading(self, problem: str) -> None:
        pending = sum(r.state == "pending" for r in self.rows)
        self.heading.setText(
            f"{len(self.rows)} candidates · {pending} to decide · "
            f"{sum(r.state == 'accepted' for r in self.rows)} redacted"
        )
        held = outgoing.prepare(self.ctx.db, [self.session_id], scan=False).held
        with self.ctx.db.engine.connect() as conn:
            reviews = store.session_settings(conn, [self.session_id])[self.session_id].review
        if problem:
            self.hold.setText(problem)
        elif self.session_id in held:
            self.hold.setText(f"Sync and exports of this session wait: {held[self.session_id]}.")
        elif pending and not reviews:
            # the study does not hold sessions: saying "Reviewed" here would be untrue
            self.hold.setText(
                "This study does not wait for a review before sync and export; "
                "accepted details leave the laptop as placeholders, the rest as written."
            )
        else:
            self.hold.setText("Reviewed: accepted details leave the laptop as placeholders.")

    # --- showing ---------------------------------------------------------------------------

    def _show_current(self, index: int) -> None:
        if not 0 <= index < len(self.rows):
            return
        row = self.rows[index]
        position = self.field.findData(_key((row.table_name, row.row_id, row.field)))
        if position >= 0:
            self.field.blockSignals(True)
            self.field.setCurrentIndex(position)
            self.field.blockSignals(False)
            self._show_field(position, current=row)

    def _show_field(self, position: int, current: Any = None) -> None:
        key = _unkey(self.field.itemData(position))
        item = self.texts.get(key) if key else None
        self.view.setPlainText(item.text if item else "")
        if item is None:
            return
        selections = []
        for row in self.rows:
            if (row.table_name, row.row_id, row.field) != key or row.end > len(item.text):
                continue
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(row.start)
            cursor.setPosition(row.end, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setBackground(QColor(COLOURS[row.state]))
            if row.state == "accepted":
                fmt.setForeground(QColor("white"))
            if row.state == "rejected":
                fmt.setFontStrikeOut(True)
            if current is not None and row.id == current.id:
                fmt.setFontUnderline(True)
                fmt.setFontWeight(700)
            selection.format = fmt
            selections.append(selection)
        self.view.setExtraSelections(selections)
        if current is not None:
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(current.start)
            self.view.setTextCursor(cursor)
            self.view.ensureCursorVisible()

    # --- actions ---------------------------------------------------------------------------

    def decide(self, state: str) -> None:
        index = self.candidates.currentRow()
        if not 0 <= index < len(self.rows):
            return
        row = store.decide(self.ctx.db, self.rows[index].id, state)
        following = next((r.id for r in self.rows[index + 1 :] if r.state == "pending"), row.id)
        self.reload(keep=following)

    def redact_selection(self) -> None:
        cursor = self.view.textCursor()
        key = _unkey(self.field.currentData())
        if not cursor.hasSelection() or key is None:
            self.hold.setText("Select the text to redact first (in the text on the right).")
            return
        start, end = sorted((cursor.anchor(), cursor.position()))
        try:
            kind = Kind(self.kind.currentData())
            added = store.add_manual(self.ctx.db, *key, start, end, kind)
        except ValueError as exc:
            self.hold.setText(str(exc))
            return
        self.reload(keep=added)

    def _fill_recordings(self) -> None:
        from sqlmodel import col, select

        from cxfield.storage.models import Recording

        with self.ctx.db.session() as db:
            found = db.exec(
                select(Recording)
                .where(Recording.session_id == self.session_id, col(Recording.deleted_at).is_(None))
                .order_by(col(Recording.started_at))
            ).all()
        for number, rec in enumerate(found, start=1):
            length = duration_text(rec.duration_s or 0.0)
            self.recording.addItem(f"Recording {number} ({length})", rec.id)
        for widget in (self.recording, self.mute_from, self.mute_to, self.mute_button):
            widget.setEnabled(bool(found))

    def mute_stretch(self) -> None:
        """Silence a stretch of the selected recording in its redacted copy (what uploads)."""
        recording_id = self.recording.currentData()
        if not recording_id:
            self.hold.setText("This session has no recording to mute.")
            return
        try:
            start = parse_moment(self.mute_from.text())
            end = parse_moment(self.mute_to.text())
            audio.add_mute(self.ctx.db, str(recording_id), start, end)
        except (ValueError, CxfieldError) as exc:
            self.hold.setText(str(exc))
            return
        self.hold.setText(
            f"Muted {typed_moment_text(start)}–{typed_moment_text(end)} of "
            f"{self.recording.currentText()} in its redacted copy."
        )
        self.mute_from.clear()
        self.mute_to.clear()
        self.mute_from.setFocus()

    def add_name(self) -> None:
        name = self.name_edit.text()
        try:
            store.add_name(self.ctx.db, self.session_id, name)
        except ValueError as exc:
            self.hold.setText(str(exc))
            return
        self.name_edit.clear()
        self.reload(scan=True)
