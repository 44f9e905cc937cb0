"""A finished session: emotion curve, captures per step, notes and quotes in order,
observation times.

Built from tabs so that other features can add theirs (a transcript editor, a recording
player): ``SessionView.add_tab(title, widget)``; ``add_toolbar_widget(widget)`` puts a
control (e.g. a player) above the tabs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.audio.backend import AudioBackend
from cxfield.domain.errors import CxfieldError
from cxfield.domain.rating import rating_text
from cxfield.gui.journey.curves import SessionCurve
from cxfield.gui.runner.note_bar import ask_note_edit, format_offset
from cxfield.gui.transcripts.playback import PlaybackWidget
from cxfield.gui.widgets import keep_tab_for_focus, keep_tabs_whole, show_error
from cxfield.privacy.sealed_texts import SHOWN, how_to_read, shown_tree
from cxfield.services import capture, observation, sessions


def _duration(seconds: float | None) -> str:
    return "—" if seconds is None else format_offset(int(seconds * 1000))


class SessionView(QMainWindow):
    #: the user asked to edit the session in the runner
    edit_requested = Signal(str)

    def __init__(
        self,
        ctx: AppContext,
        session_id: str,
        parent: QWidget | None = None,
        *,
        audio_backend: AudioBackend | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session_id = session_id
        self.setStyleSheet(
            "QWidget { font-size: 11pt; } QLabel#title { font-size: 16pt; font-weight: 600; }"
            " QLabel#sealedNotice { background: #fff4ce; color: #3b2f00; padding: 6px;"
            " border: 1px solid #e0c45c; }"
        )
        root = QWidget()
        self.layout_ = QVBoxLayout(root)
        top = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("title")
        self.title.setWordWrap(True)
        top.addWidget(self.title, 1)
        self.toolbar_slot = QHBoxLayout()
        top.addLayout(self.toolbar_slot)
        edit = QPushButton("&Edit in runner")
        edit.clicked.connect(lambda: self.edit_requested.emit(self.session_id))
        top.addWidget(edit)
        self.layout_.addLayout(top)
        # An encrypted study's texts pulled to a laptop without its key (sealed_texts)
        self.sealed_notice = QLabel()
        self.sealed_notice.setObjectName("sealedNotice")
        self.sealed_notice.setWordWrap(True)
        self.sealed_notice.setVisible(False)
        self.layout_.addWidget(self.sealed_notice)
        self.tabs = QTabWidget()
        keep_tabs_whole(self.tabs)
        self.tabs.setAccessibleName("Session views")
        self.layout_.addWidget(self.tabs, 1)
        self.setCentralWidget(root)

        self.curve = SessionCurve()
        self.captures = self._table(
            ("Stage", "Step", "Rating", "Emotions", "Intensity", "Pain", "Quote", "Notes")
        )
        overview = QWidget()
        box = QVBoxLayout(overview)
        box.addWidget(self.curve)
        box.addWidget(self.captures, 1)
        self.notes = self._table(("At", "Step", "Tags", "Text"))
        self.times = self._table(("Step", "Entered", "Left", "In step", "Waited before", "Visits"))
        self.tabs.addTab(overview, "&Overview")
        self.tabs.addTab(self.notes, "&Notes and quotes")
        self.times_index = self.tabs.addTab(self.times, "O&bservation times")
        for number in range(1, 10):  # Alt+N: the Nth tab shown (a hidden one is not counted)
            QShortcut(QKeySequence(f"Alt+{number}"), self).activated.connect(
                lambda n=number: self.show_tab(n)
            )
        # The recording: a player above the tabs; clicking a note plays from just before it.
        self.player = PlaybackWidget(audio_backend)
        self.player.setMinimumWidth(380)
        self.add_toolbar_widget(self.player)
        self.recording: dict[str, Any] | None = None
        self.notes.cellClicked.connect(self.play_note)
        self.notes.cellActivated.connect(self.play_note)
        # Notes stay correctable until the session is reviewed: F2 edits, Delete removes,
        # Ctrl+Z brings the removed note back.
        self.notes.setToolTip("Enter plays · F2 edits · Delete removes (Ctrl+Z brings it back)")
        for keys, slot in (("F2", self.edit_note), ("Delete", self.delete_note)):
            shortcut = QShortcut(QKeySequence(keys), self.notes)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(slot)
        QShortcut(QKeySequence("Ctrl+Z"), self).activated.connect(self.undo_note_delete)
        self._deleted_note: str | None = None
        # The transcript tab shares this view's player (cxfield.gui.transcripts.transcript_editor).
        from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

        self.transcript = TranscriptEditor(
            ctx, session_id, playback=self.player, show_playback=False
        )
        self.add_tab("&Transcript", self.transcript)
        # Every change after the first submission (cxfield.gui.review.history_tab).
        from cxfield.gui.review.history_tab import HistoryTab

        self.history = HistoryTab(ctx, session_id)
        self.add_tab("&History", self.history)
        QShortcut(QKeySequence("Ctrl+W"), self).activated.connect(self.close)
        QShortcut(QKeySequence("F5"), self).activated.connect(self.reload)
        self.resize(1280, 760)
        self.reload()

    def show_tab(self, number: int) -> None:
        """The ``number``-th visible tab (1 = the first), if there are that many."""
        shown = [i for i in range(self.tabs.count()) if self.tabs.isTabVisible(i)]
        if 0 < number <= len(shown):
            self.tabs.setCurrentIndex(shown[number - 1])

    def add_tab(self, title: str, widget: QWidget) -> int:
        """Seam for other features (transcript, recordings): returns the tab index."""
        return self.tabs.addTab(widget, title)

    def add_toolbar_widget(self, widget: QWidget) -> None:
        """Seam for a control shown above the tabs (e.g. a recording player)."""
        self.toolbar_slot.addWidget(widget)

    @staticmethod
    def _table(headers: tuple[str, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # One highlighted row, always the current one: F2 and Delete act on what is seen
        # (with several selectable, Ctrl+Home moved the current row but not the highlight).
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        keep_tab_for_focus(table)
        table.setWordWrap(True)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.setAccessibleName(" / ".join(headers))
        return table

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple[Any, ...]], select: int | None = None) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem("" if value is None else str(value))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                table.setItem(r, c, item)
        table.resizeRowsToContents()
        if rows:  # a row is highlighted from the start, so keys act on a row one can see
            current = table.currentRow()
            table.selectRow(select if select is not None else max(0, current))

    def reload(self, select_note: str | None = None) -> None:
        detail, sealed = shown_tree(sessions.session_detail(self.ctx.db, self.session_id))
        self.sealed_notice.setText(
            how_to_read(sealed, detail["study"]["id"]) if sealed and detail["study"] else ""
        )
        self.sealed_notice.setVisible(bool(sealed))
        self.detail = detail
        who = detail["participant_code"] or "no participant"
        study = detail["study"]["name"] if detail["study"] else ""
        self.setWindowTitle(f"Session {who} — {study}")
        self.title.setText(
            f"{who} · {detail['mode'].capitalize()} · {detail['status'].replace('_', ' ')} · "
            f"{study} · {detail['site'] or 'no site'} · {detail['researcher'] or ''}"
        )
        steps = [row for row in detail["steps"]]
        interview = detail["mode"] == "interview"
        self.curve.set_steps(
            [
                (row["step"], row["capture"]["valence"] if row["capture"] else None)
                for row in steps
                if row["capture"] or (interview and row["lane"] in ("user", "frontstage"))
            ]
        )
        capture_rows = []
        for row in steps:
            cap = row["capture"]
            if cap is None:
                continue
            capture_rows.append(
                (
                    row["stage"],
                    row["step"],
                    rating_text(cap["valence"]),
                    ", ".join(cap["emotions"]),
                    cap["intensity"] or "",
                    "yes" if cap["pain_point"] else "",
                    cap["quote"],
                    cap["notes"],
                )
            )
        self._fill(self.captures, capture_rows)
        names = {row["step_id"]: row["step"] for row in steps}
        note_ids = [n["id"] for n in detail["notes"]]
        self._fill(
            self.notes,
            [
                (
                    format_offset(int(n["offset_s"] * 1000)),
                    names.get(n["step_id"], ""),
                    ", ".join(t.replace("_", " ") for t in n["tags"]),
                    n["text"],
                )
                for n in detail["notes"]
            ],
            select=note_ids.index(select_note) if select_note in note_ids else None,
        )
        self._load_recording(None)
        timeline = observation.timeline(self.ctx.db, self.session_id)
        self._fill(
            self.times,
            [
                (
                    names.get(step_id, "(removed step)"),
                    t.entered.astimezone().strftime("%H:%M:%S") if t.entered else "",
                    t.left.astimezone().strftime("%H:%M:%S") if t.left else "",
                    _duration(t.step_s),
                    _duration(t.wait_s),
                    str(t.visits),
                )
                for step_id, t in timeline.items()
            ],
        )
        self.tabs.setTabVisible(self.times_index, bool(timeline))
        if hasattr(self, "history"):
            self.history.reload()

    # --- the recording --------------------------------------------------------------

    def _playable(self) -> list[dict[str, Any]]:
        states = ("complete", "recovered", "imported")
        return [r for r in self.detail["recordings"] if r["state"] in states]

    def _load_recording(self, recording_id: str | None) -> None:
        playable = self._playable()
        chosen = next((r for r in playable if r["id"] == recording_id), None)
        chosen = chosen or (self.recording if self.recording in playable else None)
        chosen = chosen or (playable[0] if playable else None)
        self.player.setVisible(chosen is not None)
        if chosen is None:
            self.player.close_player()
        elif chosen != self.recording or self.player.player is None:
            self.player.load(self.ctx.paths.root / chosen["path"])
        self.recording = chosen

    def _selected_note(self) -> dict[str, Any] | None:
        """The highlighted note (None when no row is highlighted)."""
        rows = self.notes.selectionModel().selectedRows()
        notes = self.detail["notes"]
        row = rows[0].row() if rows else -1
        return notes[row] if 0 <= row < len(notes) else None

    def edit_note(self) -> None:
        note = self._selected_note()
        if note is None:
            return
        if note["text"] == SHOWN:
            self.statusBar().showMessage(
                "This note is encrypted: open the study key (Edit study → Privacy) to read or "
                "edit it.",
                8000,
            )
            return
        edited = ask_note_edit(self, int(note["offset_s"] * 1000), note["text"], note["tags"])
        if edited is not None and self._notes_action(
            lambda: capture.update_note(self.ctx.db, note["id"], text=edited[0], tags=edited[1])
        ):
            self.reload(select_note=note["id"])

    def delete_note(self) -> None:
        note = self._selected_note()
        if note is not None and self._notes_action(
            lambda: capture.delete_note(self.ctx.db, note["id"])
        ):
            self._deleted_note = note["id"]
            self.reload()
            self.statusBar().showMessage("Note removed — Ctrl+Z brings it back", 8000)

    def undo_note_delete(self) -> None:
        note_id = self._deleted_note
        if note_id and self._notes_action(lambda: capture.restore_note(self.ctx.db, note_id)):
            self._deleted_note = None
            self.reload(select_note=note_id)
            self.statusBar().showMessage("Note brought back", 4000)

    def _notes_action(self, action: Callable[[], object]) -> bool:
        """Run a note change; a reviewed session's refusal is shown, not raised."""
        try:
            action()
        except CxfieldError as exc:
            show_error(self, exc)
            return False
        return True

    def play_note(self, row: int, _column: int = 0) -> None:
        """Play the recording from a few seconds before the note (if it has a position)."""
        notes = self.detail["notes"]
        if not 0 <= row < len(notes) or notes[row]["recording_offset_frames"] is None:
            return
        note = notes[row]
        self._load_recording(note["recording_id"])
        if self.recording is not None and self.recording["id"] == note["recording_id"]:
            self.player.play_note(note["recording_offset_frames"], self.recording["sample_rate"])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.player.close_player()
        super().closeEvent(event)
