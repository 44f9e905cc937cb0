"""The live session runner: the screen a researcher uses in front of a customer.

Steps grouped by stage on the left (current one highlighted), the capture panel in the
middle, timestamped notes on the right, an elapsed timer on top.  Every choice is saved
at once; typing is saved after a 400 ms pause and on every step change or close, so
nothing typed is lost.  One runner per session (a lock file in the data directory).

Seams for other features: ``add_recorder_widget(widget)`` puts a recorder into the top
bar; ``state.recording_allowed`` says whether recording consent was given."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTextEdit,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.audio.backend import AudioBackend
from cxfield.domain.errors import ConflictError, CxfieldError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.domain.vocabulary import ParticipantKind, SessionMode, SessionStatus
from cxfield.gui.elided_label import ElidedLabel
from cxfield.gui.runner.capture_panel import CapturePanel
from cxfield.gui.runner.note_bar import NoteBar, format_offset
from cxfield.gui.runner.runner_notes import NOTE_DRAFT_KEY, RunnerNotes
from cxfield.gui.runner.runner_observation import RunnerObservation
from cxfield.gui.runner.runner_steps import RunnerSteps, StepList
from cxfield.gui.runner.runner_style import RUNNER_STYLE, SHORTCUT_HELP, SURVEY
from cxfield.gui.runner.survey_page import SurveyPage
from cxfield.gui.transcripts.recorder_panel import RecorderPanel
from cxfield.gui.widgets import Debouncer, show_error
from cxfield.services import capture, runner_lock, survey_answers
from cxfield.services.capture import RunnerState


def lock_dir(ctx: AppContext) -> Any:
    return ctx.paths.root / "locks"


#: beyond this the running clock of a draft is replaced by its start date
STALE_CLOCK_MS = 12 * 3600 * 1000
#: local setting: the step the researcher was on (the runner reopens there after a crash)
CURRENT_STEP_KEY = "runner.current_step."
#: widgets that take typed text: while one has the focus no single-key shortcut may fire
TEXT_ENTRY = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)


def takes_text(widget: QWidget | None) -> bool:
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, TEXT_ENTRY)


class SessionRunner(RunnerNotes, RunnerObservation, RunnerSteps, QMainWindow):
    """Raises ConflictError from the constructor if another runner holds the session."""

    session_finished = Signal(str)
    session_closed = Signal(str)
    #: live transcription failed and the recording went to the batch queue (session id)
    transcription_queued = Signal(str)

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
        self.lock = runner_lock.acquire(lock_dir(ctx), session_id)
        try:
            refusal = capture.edit_refusal(ctx.db, session_id)
            if refusal:  # approved or rejected: read-only, never half-open for typing
                raise ConflictError(refusal)
            self.state: RunnerState = capture.load_runner_state(ctx.db, session_id)
        except BaseException:
            self.lock.release()
            raise
        if self.state.session.status == SessionStatus.DRAFT:
            capture.remember_unfinished(ctx.db, session_id)
        self.observing = self.state.session.mode == SessionMode.OBSERVATION
        person = self.state.participant
        self.staff_member = person is not None and person.kind == ParticipantKind.STAFF
        # The A-11 survey asks a customer: an observation of the process has no one to ask,
        # and a staff member is not its customer.
        self.has_survey = not self.staff_member and not (self.observing and person is None)
        self.current: str | None = None
        self._pending: dict[str, dict[str, Any]] = {}
        self._text_step: str | None = None
        self._closing_done = False
        self._typing = False
        self._build()
        self._fit_screen()
        # Interviews get the recorder in the top bar; it is enabled only with recording consent.
        self.recorder: RecorderPanel | None = None
        self._note_recording: dict[str, Any] = {}
        if not self.observing:
            self.recorder = RecorderPanel(ctx, audio_backend, compact=True)
            self.recorder.set_session(session_id)
            self.recorder.message.connect(lambda text: self._set_status(text, ok=False))
            self.recorder.transcript_finished.connect(self._transcript_finished)
            self.add_recorder_widget(self.recorder)
        self._build_shortcuts()
        self._text_saver = Debouncer(self._save_texts)
        self._survey_saver = Debouncer(self._save_survey_comments)
        self._draft_saver = Debouncer(self._save_note_draft, 300)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._flush_pending)
        self._clock = QTimer(self)
        self._clock.timeout.connect(self._tick)
        self._clock.start(1000)
        self._rebuild_steps()
        self.note_bar.show_notes(self.state.notes)
        self._restore_note_draft(ctx.db.get_setting(NOTE_DRAFT_KEY + session_id, ""))
        # Back where the researcher was (a crash, a close); else the first step not captured.
        was_on = ctx.db.get_setting(CURRENT_STEP_KEY + session_id)
        first = was_on if was_on in self._items else self._first_open_step()
        if first:
            self.go_to(first)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_moved)
        self._tick()
        self._set_status("All changes saved", ok=True)
        QTimer.singleShot(0, self._back_to_panel)

    # --- layout ---------------------------------------------------------------------

    def _build(self) -> None:
        st = self.state
        who = st.participant.code if st.participant else "no participant"
        if st.participant is not None and st.participant.kind == ParticipantKind.STAFF:
            who += f" · staff, {st.participant.role}"
        mode = "Observation" if self.observing else "Interview"
        self.setWindowTitle(f"{mode} · {who} · {st.study.name} — cxfield runner")
        self.setStyleSheet(RUNNER_STYLE)
        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(10, 6, 10, 6)

        # Two rows so that the runner fits a 1366×768 laptop: who/what and the clock on top,
        # the recorder's controls below; long texts shrink with "…" (whole in the tooltip).
        top = QHBoxLayout()
        place = f" · {st.site.name}" if st.site else ""
        consent = ""
        if not self.observing:
            allowed = st.recording_allowed
            consent = " · recording consent ✓" if allowed else " · no recording consent"
        self.participant_label = QLabel(who)
        self.participant_label.setObjectName("participant")
        self.participant_label.setAccessibleName("Participant")
        top.addWidget(self.participant_label)
        self.header = ElidedLabel(f"· {mode} · {st.study.name}{place}{consent}", min_chars=14)
        self.header.setObjectName("header")
        self.header.setAccessibleName("Session")
        top.addWidget(self.header, 1)
        self.status = ElidedLabel(min_chars=12)
        self.status.setObjectName("saveStatus")
        self.status.setAccessibleName("Save status")
        top.addWidget(self.status)
        self.elapsed = QLabel("00:00:00")
        self.elapsed.setObjectName("elapsed")
        self.elapsed.setAccessibleName("Elapsed time")
        top.addWidget(self.elapsed)
        self.finish_button = QPushButton("&Finish session…")
        self.finish_button.setToolTip("Ctrl+Shift+F")
        self.finish_button.clicked.connect(self.finish)
        top.addWidget(self.finish_button)
        outer.addLayout(top)
        self.recorder_slot = QHBoxLayout()
        outer.addLayout(self.recorder_slot)

        self.steps = StepList()
        self.steps.currentItemChanged.connect(self._item_changed)
        self.steps.escaped.connect(self._back_to_panel)

        self.panel = CapturePanel(st.emotions)
        if self.staff_member:
            self.panel.staff_side = True
            self.panel.quote.setPlaceholderText("The staff member's own words…")
        self.panel.changed.connect(self._choice_changed)
        self.panel.text_edited.connect(self._text_edited)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.panel)
        self.survey = SurveyPage(st.study, survey_answers.survey_questions(st.study))
        self.survey.load(st.survey)
        self.survey.answered.connect(self._survey_answered)
        self.survey.comments_edited.connect(self._survey_saver_poke)
        survey_scroll = QScrollArea()
        survey_scroll.setWidgetResizable(True)
        survey_scroll.setWidget(self.survey)
        self.pages = QStackedWidget()
        self.pages.addWidget(scroll)
        self.pages.addWidget(survey_scroll)

        self.note_bar = NoteBar()
        self.note_bar.submitted.connect(self._add_note)
        self.note_bar.draft_changed.connect(lambda _t: self._draft_saver.poke())
        self.note_bar.escaped.connect(self._back_to_panel)
        self.note_bar.list.edit_requested.connect(self.edit_note)
        self.note_bar.list.delete_requested.connect(self.delete_note)
        self.note_bar.list.escaped.connect(self._back_to_panel)
        #: the note removed last, for Ctrl+Z
        self._deleted_note: str | None = None

        splitter = QSplitter()
        splitter.addWidget(self.steps)
        splitter.addWidget(self.pages)
        splitter.addWidget(self.note_bar)
        # Extra room on a large screen goes mostly to the capture panel, some to the step
        # list and the notes (long step names and notes stop being cut short).
        for index, stretch in enumerate((1, 4, 1)):
            splitter.setStretchFactor(index, stretch)
        splitter.setSizes([300, 720, 320])
        outer.addWidget(splitter, 1)
        # One line that fits 1366 px (F1 and the tooltip have every key).
        keys = "observation" if self.observing else "staff" if self.staff_member else "interview"
        self.help_line = ElidedLabel(SHORTCUT_HELP[keys], min_chars=20)
        self.help_line.setObjectName("hint")
        outer.addWidget(self.help_line)
        self.setCentralWidget(root)

    def _fit_screen(self) -> None:
        """1366×740 by default, never larger than the screen's free area (a laptop at
        1366×768 with a title bar and a panel must still show the bottom line)."""
        width, height = 1366, 740
        screen = self.screen()
        if screen is not None:
            free = screen.availableGeometry()
            frame = 40  # the window manager's title bar, which this size does not include
            width, height = min(width, free.width()), min(height, free.height() - frame)
        self.resize(width, max(height, self.minimumSizeHint().height()))

    def add_recorder_widget(self, widget: QWidget) -> None:
        """Seam for the audio recorder: shown in the top bar next to the timer."""
        self.recorder_slot.addWidget(widget)

    def _transcript_finished(self, session_id: str, state: str, _message: str) -> None:
        if state == "queued":  # live transcription failed: hand the recording to the queue
            self.transcription_queued.emit(session_id)

    def _build_shortcuts(self) -> None:
        self.capture_shortcuts: list[QShortcut] = []

        def key(seq: str, slot: Any, capture_only: bool = True) -> QShortcut:
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            if capture_only:
                self.capture_shortcuts.append(shortcut)
            return shortcut

        for number in range(1, 6):
            key(str(number), lambda v=number - 3: self.panel.valence.choose(v))
        key("0", lambda: self.panel.valence.choose(None))
        for letter in set(self.panel.emotion_keys.values()) | {"P"}:
            key(letter, lambda k=letter: self.panel.press_key(k))
        key("-", lambda: self.panel.step_intensity(-1))
        for plus in ("+", "="):
            key(plus, lambda: self.panel.step_intensity(+1))
        if self.observing:
            key("M", self.mark_entered)
            key("N", self.mark_next_entered)
            key("W", self.mark_left)
        for seq in ("PgDown", "Alt+Right", "Ctrl+Return"):
            key(seq, self.next_step, capture_only=False)
        for seq in ("PgUp", "Alt+Left"):
            key(seq, self.previous_step, capture_only=False)
        key("Ctrl+G", lambda: self.steps.setFocus(Qt.FocusReason.ShortcutFocusReason), False)
        key("Ctrl+N", lambda: self.begin_note(quote=False), False)
        key("Ctrl+Q", lambda: self.begin_note(quote=True), False)
        key("Ctrl+L", self.focus_notes, False)
        key("Ctrl+Z", self.undo_note_delete, False)
        key("Ctrl+U", self.open_survey, False)
        key("Ctrl+Shift+F", self.finish, False)
        key("Ctrl+W", self.close, False)
        key("F5", self.reload_journey, False)
        key("F1", self._help, False)

    # --- steps ----------------------------------------------------------------------

    def _item_changed(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        target = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if target:
            self.go_to(str(target), focus_list=True)
        elif self.current in self._items:  # a click on a stage header: stay on the step
            self.steps.blockSignals(True)
            self.steps.setCurrentItem(self._items[self.current])
            self.steps.blockSignals(False)

    def go_to(self, step_id: str, *, focus_list: bool = False) -> None:
        """Show a step (or the survey); pending typing is saved first."""
        if step_id == SURVEY and not self.has_survey:
            return
        self._text_saver.flush_now()
        self._survey_saver.flush_now()
        self.current = step_id
        on_survey = step_id == SURVEY
        self._update_key_shortcuts()
        if on_survey:
            self.pages.setCurrentIndex(1)
            first = self.survey.first_focus()
            if first and not focus_list:
                first.setFocus()
        else:
            step = self._step(step_id)
            if step is None:
                return
            self.pages.setCurrentIndex(0)
            removed = step.deleted_at is not None or step_id not in {
                s.id for s in self.state.journey.steps
            }
            self.panel.show_step(
                step, self._stage_name(step), self.state.captures.get(step_id), removed=removed
            )
            self._update_observation()
        item = self._items.get(step_id)
        if item is not None and self.steps.currentItem() is not item:
            self.steps.blockSignals(True)
            self.steps.setCurrentItem(item)
            self.steps.blockSignals(False)
        self.ctx.db.set_setting(CURRENT_STEP_KEY + self.session_id, step_id)

    def open_survey(self) -> None:
        """Ctrl+U: the A-11 survey, where there is a customer to ask."""
        if self.has_survey:
            self.go_to(SURVEY)
        elif self.staff_member:
            self._set_status("No survey: the A-11 survey asks customers, not staff", ok=False)
        else:
            self._set_status("No survey: this observation has no participant", ok=False)

    # --- keys -----------------------------------------------------------------------

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and new.window() is self:
            self._typing = takes_text(new)
            self._update_key_shortcuts()

    def _update_key_shortcuts(self) -> None:
        """Single keys (1–5, letters, −/+) act on the step shown, never while a text field
        has the focus (its letters are text) and not on the survey (its rows take 1–5)."""
        enabled = self.current != SURVEY and not self._typing
        for shortcut in self.capture_shortcuts:
            shortcut.setEnabled(enabled)

    def next_step(self) -> None:
        self._move(+1)

    def previous_step(self) -> None:
        self._move(-1)

    def _move(self, delta: int) -> None:
        full = self.places()
        walk = [*self.walk_order(), *([SURVEY] if self.has_survey else [])]
        if not walk:
            return
        here = full.index(self.current) if self.current in full else -1
        if delta > 0:
            target = next((s for s in walk if full.index(s) > here), walk[-1])
        else:
            target = next((s for s in reversed(walk) if full.index(s) < here), walk[0])
        self.go_to(target)
        # On a new step the keys come first: a digit meant as its rating must not land in
        # the quote or notes field that had the focus on the step before.
        self._back_to_panel()

    def reload_journey(self) -> None:
        """Pick up map edits made while the session is open (steps added or removed)."""
        self._flush_all()
        try:
            self.state = capture.load_runner_state(self.ctx.db, self.session_id)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self._rebuild_steps()
        if self.current and self.current != SURVEY:
            self.go_to(self.current)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            QTimer.singleShot(0, self._check_map_changed)

    def _check_map_changed(self) -> None:
        from cxfield.services.studies import get_journey

        try:
            live = {s.id for s in get_journey(self.ctx.db, self.state.study.id).steps}
        except CxfieldError:
            return
        if live != {s.id for s in self.state.journey.steps}:
            self.reload_journey()

    # --- saving ---------------------------------------------------------------------

    def _set_status(self, text: str, *, ok: bool) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.status.setText(f"✓ {text} {stamp}" if ok else f"⚠ {text}")
        self.status.setProperty("ok", ok)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def _queue(self, step_id: str, **changes: Any) -> None:
        self._pending.setdefault(step_id, {}).update(changes)

    def _flush_pending(self) -> bool:
        while self._pending:
            step_id, changes = next(iter(self._pending.items()))
            try:
                result = capture.save_capture(self.ctx.db, self.session_id, step_id, **changes)
            except ConflictError as exc:
                self._pending.clear()
                show_error(self, exc)
                return False
            except CxfieldError as exc:
                self._pending.pop(step_id)
                self._set_status(str(exc), ok=False)
                return False
            except Exception as exc:  # disk full, database locked: keep it and retry
                self._set_status(f"Not saved yet ({type(exc).__name__}); retrying…", ok=False)
                self._retry.start(1000)
                return False
            self._pending.pop(step_id)
            self.state.captures[step_id] = result.capture
            self._refresh_item(step_id)
            if result.step_removed and step_id == self.current:
                self.panel.set_removed(True)
        self._set_status("All changes saved", ok=True)
        return True

    def _choice_changed(self, field: str, value: object) -> None:
        if self.current and self.current != SURVEY:
            self._queue(self.current, **{field: value})
            self._flush_pending()

    def _text_edited(self) -> None:
        if self.current and self.current != SURVEY:
            self._text_step = self.current
            self.status.setText("Saving…")
            self._text_saver.poke()

    def _save_texts(self) -> None:
        if self._text_step is not None:
            self._queue(self._text_step, **self.panel.texts())
            self._text_step = None
            self._flush_pending()

    def _flush_all(self) -> None:
        self._text_saver.flush_now()
        self._survey_saver.flush_now()
        self._draft_saver.flush_now()
        self._flush_pending()

    # --- survey ---------------------------------------------------------------------

    def _survey_answered(self, key: str, value: object) -> None:
        try:
            self.state.survey = survey_answers.save_survey(
                self.ctx.db, self.session_id, **{key: value}
            )
            self._set_status("All changes saved", ok=True)
        except CxfieldError as exc:
            show_error(self, exc)

    def _survey_saver_poke(self) -> None:
        self.status.setText("Saving…")
        self._survey_saver.poke()

    def _save_survey_comments(self) -> None:
        self._survey_answered("comments", self.survey.comments_text())

    # --- clock, finish, close -------------------------------------------------------

    def _tick(self) -> None:
        end = self.state.session.ended_at
        done = end is not None and self.state.session.status != SessionStatus.DRAFT
        moment = as_utc(end) if end and done else utcnow()
        offset_ms = self._offset_ms(moment)
        if not done and offset_ms > STALE_CLOCK_MS:
            # A draft resumed on another day: "1063:23:55" would mean nothing to anyone.
            started = as_utc(self.state.session.started_at).astimezone()
            self.elapsed.setText(f"Started {started:%d %b %H:%M}")
            self.elapsed.setToolTip(
                "This session began on another day; note times still count from its start."
            )
        else:
            self.elapsed.setText(format_offset(offset_ms))
        if self.observing:
            self._update_observation()

    def finish(self) -> None:
        self._flush_all()
        if self._pending:
            QMessageBox.warning(self, "cxfield", "Some changes are not saved yet; try again.")
            return
        answer = QMessageBox.question(
            self,
            "Finish session",
            "Finish this session? It will be marked Submitted. You can still edit it until "
            "it is reviewed.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            capture.finish_session(self.ctx.db, self.session_id)
        except CxfieldError as exc:
            show_error(self, exc)
            return
        self.session_finished.emit(self.session_id)
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self._flush_all()
        if self._pending:
            answer = QMessageBox.warning(
                self,
                "cxfield",
                "Some changes could not be saved yet. Close anyway? (They are lost.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop timers and release the session lock (idempotent)."""
        if self._closing_done:
            return
        self._closing_done = True
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.disconnect(self._focus_moved)
        if self.recorder is not None:
            self.recorder.shutdown()  # finalise the recording before the window goes
        self._clock.stop()
        self._retry.stop()
        self.lock.release()
        self.session_closed.emit(self.session_id)

    def _help(self) -> None:
        QMessageBox.information(self, "Keyboard", SHORTCUT_HELP["full"])
