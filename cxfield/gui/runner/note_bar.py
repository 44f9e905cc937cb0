"""Timestamped notes and quotes of the runner (Ctrl+N / Ctrl+Q).

The moment is stamped when the key is pressed, not when typing ends.  The draft being
typed is kept in a local setting as you type, so even an unsent note survives a crash."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cxfield.domain.clock import moment_text
from cxfield.domain.tags import TAG_HINT, split_tags
from cxfield.domain.vocabulary import NoteTag
from cxfield.storage.models import Note

_TAG_LABELS = {
    NoteTag.QUOTE: "quote",
    NoteTag.PAIN_POINT: "pain point",
    NoteTag.IDEA: "idea",
    NoteTag.WORKAROUND: "workaround",
    NoteTag.BARRIER: "barrier",
    NoteTag.HARM: "harm",
    NoteTag.EQUITY: "equity",
}


def format_offset(ms: int) -> str:
    """A note's time, written as the PDFs write it (one rule: cxfield.domain.clock)."""
    return moment_text(ms / 1000)


class NoteInput(QLineEdit):
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class NoteList(QListWidget):
    """The session's notes: Enter or F2 edits the selected one, Delete removes it, Esc goes
    back to the keys."""

    edit_requested = Signal(str)
    delete_requested = Signal(str)
    escaped = Signal()

    def selected_note(self) -> str | None:
        item = self.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        note_id = self.selected_note()
        key = event.key()
        if note_id and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2):
            self.edit_requested.emit(note_id)
            return
        if note_id and key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_requested.emit(note_id)
            return
        if key == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)

    def keyboardSearch(self, search: str) -> None:  # noqa: N802
        """Letters are the runner's keys: typing must never move the selection."""


def note_with_tags(text: str, tags: list[str]) -> str:
    """A note's text with its tags as #tags, the form the note field understands."""
    return " ".join([text, *(f"#{tag}" for tag in tags)])


def ask_note_edit(
    parent: QWidget, offset_ms: int, text: str, tags: list[str]
) -> tuple[str, list[str]] | None:
    """Ask for a note's new text (its tags as #tags); None when the user cancels."""
    answer, ok = QInputDialog.getText(
        parent,
        "Edit note",
        f"Note at {format_offset(offset_ms)} (tags: {TAG_HINT}):",
        text=note_with_tags(text, tags),
    )
    return split_tags(answer) if ok else None


class NoteBar(QWidget):
    #: (text, tags, stamped moment or None)
    submitted = Signal(str, list, object)
    draft_changed = Signal(str)
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel("Notes and quotes")
        heading.setObjectName("section")
        layout.addWidget(heading)
        self.list = NoteList()
        self.list.setAccessibleName(
            "Timestamped notes and quotes; Enter or F2 edits the selected note, Delete removes it"
        )
        self.list.setToolTip("Enter or F2: edit · Delete: remove (Ctrl+Z brings it back)")
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(
            lambda item: self.list.edit_requested.emit(str(item.data(Qt.ItemDataRole.UserRole)))
        )
        heading.setBuddy(self.list)
        layout.addWidget(self.list, 1)
        self.stamp = QLabel("Ctrl+N note · Ctrl+Q quote · Ctrl+L edit or remove")
        self.stamp.setObjectName("hint")
        self.stamp.setWordWrap(True)  # the notes column may be narrow (1366 px)
        layout.addWidget(self.stamp)
        self.input = NoteInput()
        self.input.setAccessibleName("Note text; #idea style tags allowed; Enter saves")
        self.input.setPlaceholderText("Type a note, Enter to save")
        self.input.returnPressed.connect(self._submit)
        self.input.textEdited.connect(self.draft_changed.emit)
        self.input.escaped.connect(self.escaped.emit)
        layout.addWidget(self.input)
        grid = QGridLayout()
        self.tags: dict[str, QCheckBox] = {}
        for index, (tag, label) in enumerate(_TAG_LABELS.items()):
            check = QCheckBox(label)
            check.setAccessibleName(f"Tag {label}")
            grid.addWidget(check, index // 3, index % 3)
            self.tags[tag.value] = check
        layout.addLayout(grid)
        self.add = QPushButton("Add note")
        self.add.clicked.connect(self._submit)
        layout.addWidget(self.add)
        self._moment: datetime | None = None

    def begin(self, moment: datetime, offset_ms: int, *, quote: bool) -> None:
        """Ctrl+N / Ctrl+Q: stamp the moment and put the cursor in the field."""
        self._moment = moment
        self._show_stamp(offset_ms, quote=quote)
        self.tags[NoteTag.QUOTE.value].setChecked(quote)
        self.input.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def resume(self, offset_ms: int, *, quote: bool) -> None:
        """Ctrl+N / Ctrl+Q on a draft already stamped: back into it, keeping its moment."""
        if quote:
            self.tags[NoteTag.QUOTE.value].setChecked(True)
        self._show_stamp(offset_ms, quote=self.tags[NoteTag.QUOTE.value].isChecked())
        self.input.setFocus(Qt.FocusReason.ShortcutFocusReason)
        # a line edit selects everything it holds on such a focus: the next key would
        # replace the draft instead of going on with it
        self.input.deselect()
        self.input.end(False)

    def _show_stamp(self, offset_ms: int, *, quote: bool) -> None:
        kind = "Quote" if quote else "Note"
        self.stamp.setText(f"{kind} at {format_offset(offset_ms)} — Enter saves, Esc returns")

    def stamped_draft(self) -> datetime | None:
        """The moment of the note being typed, if it has text and was stamped."""
        return self._moment if self.input.text().strip() else None

    def draft_tags(self) -> list[str]:
        return [tag for tag, check in self.tags.items() if check.isChecked()]

    def set_draft(
        self,
        text: str,
        moment: datetime | None = None,
        offset_ms: int = 0,
        tags: list[str] | None = None,
    ) -> None:
        """A draft kept from before (a crash): its text, and the moment it was stamped."""
        self.input.setText(text)
        self._moment = moment if text else None
        for tag, check in self.tags.items():
            check.setChecked(tag in (tags or []))
        if self._moment is not None:
            self._show_stamp(offset_ms, quote=NoteTag.QUOTE.value in (tags or []))

    def show_notes(self, notes: list[Note], select: str | None = None) -> None:
        self.list.clear()
        for note in notes:
            tags = f"  [{', '.join(t.replace('_', ' ') for t in note.tags)}]" if note.tags else ""
            item = QListWidgetItem(f"{format_offset(note.session_offset_ms)}  {note.text}{tags}")
            item.setData(Qt.ItemDataRole.UserRole, note.id)
            self.list.addItem(item)
            if note.id == select:
                self.list.setCurrentItem(item)
        if select is None:
            self.list.scrollToBottom()

    def _submit(self) -> None:
        text, tags = split_tags(self.input.text())
        if not text:
            return
        tags = [t for t, check in self.tags.items() if check.isChecked()] + [
            t for t in tags if not self.tags[t].isChecked()
        ]
        self.submitted.emit(text, tags, self._moment)

    def clear_after_save(self) -> None:
        self.input.clear()
        self._moment = None
        for check in self.tags.values():
            check.setChecked(False)
        self.stamp.setText("Saved. Ctrl+N note · Ctrl+Q quote · Ctrl+L edit")
        self.draft_changed.emit("")
