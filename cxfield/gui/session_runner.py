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
from PySide6.QtGui import QCloseEvent, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.audio.backend import AudioBackend
from cxfield.domain.errors import ConflictError, CxfieldError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.domain.journey import signed
from cxfield.domain.vocabulary import BlueprintLane, SessionMode, SessionStatus
from cxfield.gui.capture_panel import CapturePanel
from cxfield.gui.elided_label import ElidedLabel
from cxfield.gui.note_bar import NoteBar, format_offset
from cxfield.gui.recorder_panel import RecorderPanel
from cxfield.gui.runner_notes import NOTE_DRAFT_KEY, RunnerNotes
from cxfield.gui.runner_observation import RunnerObservation
from cxfield.gui.runner_style import RUNNER_STYLE, SHORTCUT_HELP, SURVEY
from cxfield.gui.survey_page import SurveyPage
from cxfield.gui.widgets import Debouncer, show_error
from cxfield.services import capture, runner_lock, survey_answers
from cxfield.services.capture import RunnerState
from cxfield.storage.models import Step


def lock_dir(ctx: AppContext) -> Any:
    return ctx.paths.root / "locks"


#: beyond this the running clock of a draft is replaced by its start date
STALE_CLOCK_MS = 12 * 3600 * 1000


class SessionRunner(RunnerNotes, RunnerObservation, QMainWindow):
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
            self.state: RunnerState = capture.load_runner_state(ctx.db, session_id)
        except BaseException:
            self.lock.release()
            raise
        if self.state.session.status == SessionStatus.DRAFT:
            capture.remember_unfinished(ctx.db, session_id)
        self.observing = self.state.session.mode == SessionMode.OBSERVATION
        self.current: str | None = None
        self._pending: dict[str, dict[str, Any]] = {}
        self._text_step: str | None = None
        self._closing_done = False
        self.resize(1366, 740)
        self._build()
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
        self.note_bar.set_draft(str(ctx.db.get_setting(NOTE_DRAFT_KEY + session_id, "") or ""))
        first = self._first_open_step()
        if first:
            self.go_to(first)
        self._tick()
        self._set_status("All changes saved", ok=True)
        QTimer.singleShot(0, self._back_to_panel)

    # --- layout ---------------------------------------------------------------------

    def _build(self) -> None:
        st = self.state
        who = st.participant.code if st.participant else "no participant"
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

        self.steps = QTreeWidget()
        self.steps.setHeaderHidden(True)
        self.steps.setAccessibleName("Journey steps; Up and Down to move, current is highlighted")
        self.steps.setRootIsDecorated(False)
        self.steps.setIndentation(14)
        self.steps.currentItemChanged.connect(self._item_changed)

        self.panel = CapturePanel(st.emotions)
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
        splitter.setSizes([290, 720, 320])
        outer.addWidget(splitter, 1)
        help_line = QLabel(SHORTCUT_HELP["observation" if self.observing else "interview"])
        help_line.setObjectName("hint")
        help_line.setWordWrap(True)
        outer.addWidget(help_line)
        self.setCentralWidget(root)

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
        key("Ctrl+U", lambda: self.go_to(SURVEY), False)
        key("Ctrl+Shift+F", self.finish, False)
        key("Ctrl+W", self.close, False)
        key("F5", self.reload_journey, False)
        key("F1", self._help, False)

    # --- steps ----------------------------------------------------------------------

    def _step(self, step_id: str) -> Step | None:
        for step in self.state.journey.steps + self.state.removed_steps:
            if step.id == step_id:
                return step
        return None

    def _stage_name(self, step: Step) -> str:
        if step.id not in {s.id for s in self.state.journey.steps}:
            return "Removed from map"
        for stage in self.state.journey.stages:
            if stage.stage.id == step.stage_id:
                return stage.stage.name
        return "Removed from map"

    def step_order(self) -> list[str]:
        return [s.id for s in self.state.journey.steps] + [s.id for s in self.state.removed_steps]

    def walk_order(self) -> list[str]:
        """Steps that next/previous visit: in an interview, the ones the customer sees
        (backstage and support steps stay reachable from the list)."""
        if self.observing:
            return self.step_order()
        order = []
        for step_id in self.step_order():
            step = self._step(step_id)
            if step is not None and step.lane in (BlueprintLane.USER, BlueprintLane.FRONTSTAGE):
                order.append(step_id)
        return order or self.step_order()

    def _first_open_step(self) -> str | None:
        order = self.walk_order()
        for step_id in order:
            if step_id not in self.state.captures:
                return step_id
        return order[0] if order else SURVEY

    def _label(self, step: Step) -> str:
        cap = self.state.captures.get(step.id)
        marks = []
        if cap is not None:
            if cap.valence is not None:
                marks.append(signed(cap.valence))
            if cap.pain_point:
                marks.append("pain")
            if cap.observed_start is not None:
                marks.append(as_utc(cap.observed_start).astimezone().strftime("%H:%M:%S"))
        filled = cap is not None and (marks or cap.emotions or cap.quote or cap.notes)
        done = "✓ " if filled else "   "
        lane = "" if step.lane == BlueprintLane.USER else f"  · {step.lane.value}"
        return f"{done}{step.name}{lane}" + (f"   ({', '.join(marks)})" if marks else "")

    def _rebuild_steps(self) -> None:
        self.steps.blockSignals(True)
        self.steps.clear()
        self._items: dict[str, QTreeWidgetItem] = {}
        groups = [(s.stage.name, s.steps) for s in self.state.journey.stages]
        walk = set(self.walk_order())
        if self.state.removed_steps:
            groups.append(("Removed from map", self.state.removed_steps))
        for stage_name, steps in groups:
            head = QTreeWidgetItem([stage_name.upper()])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            self.steps.addTopLevelItem(head)
            for step in steps:
                item = QTreeWidgetItem([self._label(step)])
                item.setData(0, Qt.ItemDataRole.UserRole, step.id)
                item.setData(0, Qt.ItemDataRole.AccessibleTextRole, self._label(step))
                if not self.observing and step.id not in walk:
                    item.setForeground(0, QColor("#607d8b"))
                head.addChild(item)
                self._items[step.id] = item
            head.setExpanded(True)
        survey = QTreeWidgetItem(["A-11 SURVEY  (Ctrl+U)"])
        survey.setData(0, Qt.ItemDataRole.UserRole, SURVEY)
        self.steps.addTopLevelItem(survey)
        self._items[SURVEY] = survey
        if self.current in self._items:
            self.steps.setCurrentItem(self._items[self.current])
            self._bold(self.current)
        self.steps.blockSignals(False)

    def _bold(self, step_id: str | None) -> None:
        for sid, item in self._items.items():
            font = item.font(0)
            font.setBold(sid == step_id)
            item.setFont(0, font)

    def _refresh_item(self, step_id: str) -> None:
        step = self._step(step_id)
        item = self._items.get(step_id)
        if step is not None and item is not None:
            item.setText(0, self._label(step))
            item.setData(0, Qt.ItemDataRole.AccessibleTextRole, self._label(step))

    def _item_changed(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        if item is None:
            return
        target = item.data(0, Qt.ItemDataRole.UserRole)
        if target:
            self.go_to(str(target), focus_list=True)

    def go_to(self, step_id: str, *, focus_list: bool = False) -> None:
        """Show a step (or the survey); pending typing is saved first."""
        self._text_saver.flush_now()
        self._survey_saver.flush_now()
        self.current = step_id
        on_survey = step_id == SURVEY
        for shortcut in self.capture_shortcuts:
            shortcut.setEnabled(not on_survey)
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
        self._bold(step_id)

    def next_step(self) -> None:
        self._move(+1)

    def previous_step(self) -> None:
        self._move(-1)

    def _move(self, delta: int) -> None:
        full = [*self.step_order(), SURVEY]
        walk = [*self.walk_order(), SURVEY]
        here = full.index(self.current) if self.current in full else -1
        if delta > 0:
            target = next((s for s in walk if full.index(s) > here), walk[-1])
        else:
            target = next((s for s in reversed(walk) if full.index(s) < here), walk[0])
        self.go_to(target)

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
        if self.recorder is not None:
            self.recorder.shutdown()  # finalise the recording before the window goes
        self._clock.stop()
        self._retry.stop()
        self.lock.release()
        self.session_closed.emit(self.session_id)

    def _help(self) -> None:
        QMessageBox.information(self, "Keyboard", SHORTCUT_HELP["full"])
