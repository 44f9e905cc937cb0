"""The runner's timestamped notes: Ctrl+N / Ctrl+Q stamp the moment (and the recording's
clock), Enter saves; Ctrl+L goes to the list, where Enter/F2 edits a note, Delete removes it
and Ctrl+Z brings it back.  Mixed into :class:`~cxfield.gui.runner.session_runner.SessionRunner`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from cxfield.domain.errors import CxfieldError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.gui.runner.note_bar import ask_note_edit
from cxfield.gui.runner.runner_style import SURVEY
from cxfield.gui.widgets import show_error
from cxfield.services import capture

if TYPE_CHECKING:
    from cxfield.app import AppContext
    from cxfield.gui.runner.capture_panel import CapturePanel
    from cxfield.gui.runner.note_bar import NoteBar
    from cxfield.gui.runner.survey_page import SurveyPage
    from cxfield.gui.transcripts.recorder_panel import RecorderPanel
    from cxfield.services.capture import RunnerState

NOTE_DRAFT_KEY = "runner.note_draft."


class RunnerNotes(QWidget if TYPE_CHECKING else object):  # type: ignore[misc]
    """Note handling of the session runner (needs the runner's attributes below)."""

    if TYPE_CHECKING:
        ctx: AppContext
        session_id: str
        state: RunnerState
        current: str | None
        recorder: RecorderPanel | None
        note_bar: NoteBar
        panel: CapturePanel
        survey: SurveyPage
        _note_recording: dict[str, Any]
        _deleted_note: str | None

        def _set_status(self, text: str, *, ok: bool) -> None: ...

    def _offset_ms(self, moment: datetime) -> int:
        return int((moment - as_utc(self.state.session.started_at)).total_seconds() * 1000)

    def begin_note(self, *, quote: bool) -> None:
        stamped = self.note_bar.stamped_draft()
        if stamped is not None:  # a note already being typed (or kept from a crash)
            self.note_bar.resume(self._offset_ms(stamped), quote=quote)
            return
        moment = utcnow()
        # the recording's clock at the key press (exact across pauses), like the moment
        self._note_recording = self.recorder.note_fields() if self.recorder else {}
        self.note_bar.begin(moment, self._offset_ms(moment), quote=quote)

    def _add_note(self, text: str, tags: list[str], moment: object) -> None:
        step = self.current if self.current and self.current != SURVEY else None
        recording = self._note_recording if isinstance(moment, datetime) else {}
        if not recording and self.recorder is not None:
            recording = self.recorder.note_fields()
        try:
            capture.add_note(
                self.ctx.db,
                self.session_id,
                text,
                tags=tags,
                step_id=step,
                at=moment if isinstance(moment, datetime) else None,
                **recording,
            )
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.note_bar.clear_after_save()
        self._note_recording = {}
        self._save_note_draft()
        self._show_notes()
        self._set_status("Note saved", ok=True)
        self._back_to_panel()

    def focus_notes(self) -> None:
        """Ctrl+L: into the list of notes (the latest selected) to edit or remove one."""
        notes = self.note_bar.list
        if notes.count() and notes.currentItem() is None:
            notes.setCurrentRow(notes.count() - 1)
        notes.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _show_notes(self, select: str | None = None) -> None:
        self.state.notes = capture.load_runner_state(self.ctx.db, self.session_id).notes
        self.note_bar.show_notes(self.state.notes, select)

    def edit_note(self, note_id: str) -> None:
        note = next((n for n in self.state.notes if n.id == note_id), None)
        if note is None:
            return
        edited = ask_note_edit(self, note.session_offset_ms, note.text, note.tags)
        if edited is None:
            return
        body, tags = edited
        try:
            capture.update_note(self.ctx.db, note_id, text=body, tags=tags)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self._show_notes(select=note_id)
        self._set_status("Note changed", ok=True)

    def delete_note(self, note_id: str) -> None:
        try:
            capture.delete_note(self.ctx.db, note_id)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self._deleted_note = note_id
        self._show_notes()
        self._set_status("Note removed — Ctrl+Z brings it back", ok=True)

    def undo_note_delete(self) -> None:
        if self._deleted_note is None:
            return
        try:
            capture.restore_note(self.ctx.db, self._deleted_note)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        restored, self._deleted_note = self._deleted_note, None
        self._show_notes(select=restored)
        self._set_status("Note brought back", ok=True)

    def _save_note_draft(self) -> None:
        """The note being typed, with the moment it was stamped (and the recording's clock
        then), so a note restored after a crash keeps its time."""
        text = self.note_bar.input.text()
        moment = self.note_bar.stamped_draft()
        draft: dict[str, Any] | str = ""
        if text:
            draft = {
                "text": text,
                "at": moment.isoformat() if moment else None,
                "tags": self.note_bar.draft_tags(),
                "recording": self._note_recording if moment else {},
            }
        self.ctx.db.set_setting(NOTE_DRAFT_KEY + self.session_id, draft)

    def _restore_note_draft(self, draft: object) -> None:
        if isinstance(draft, str):  # kept by an earlier version: the text only
            self.note_bar.set_draft(draft)
            return
        if not isinstance(draft, dict):
            return
        at = draft.get("at")
        moment = as_utc(datetime.fromisoformat(at)) if isinstance(at, str) else None
        recording = draft.get("recording")
        self._note_recording = dict(recording) if isinstance(recording, dict) else {}
        self.note_bar.set_draft(
            str(draft.get("text") or ""),
            moment,
            self._offset_ms(moment) if moment else 0,
            [str(t) for t in draft.get("tags") or []],
        )

    def _back_to_panel(self) -> None:
        if self.current == SURVEY:
            first = self.survey.first_focus()
            if first:
                first.setFocus()
        else:
            self.panel.focus_scale()
