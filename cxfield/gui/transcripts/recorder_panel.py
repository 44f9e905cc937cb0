"""The recording panel of the session runner: device, start/pause/resume/stop, elapsed time on
the recording's clock, a live level meter with clipping warning, the overflow count, and a
clear "no microphone" state (notes still work without a recording).

The recorder runs on PortAudio's and its own writer thread; this panel only *polls* it with a
timer on the GUI thread (20 Hz), so no Qt object is touched from another thread.

While recording, finished stretches are transcribed in the background when live
transcription is on and a model is installed
(:mod:`cxfield.gui.transcripts.live_transcription`); at stop only the last stretch remains,
then the segments are stored with the session.  Without a model, recording works exactly
the same and a quiet line says live transcription is off.

Use::

    panel = RecorderPanel(ctx)            # backend=FakeBackend() in tests
    panel.set_session(session_id)         # enabled only with recording consent
    note_fields = panel.note_fields()     # {} or {"recording_id", "recording_offset_frames"}
    panel.shutdown()                      # before the runner closes: stops and finalises

A live transcript still finishing when the runner closes goes on in the background; if the
app quits first, it goes back to the transcription queue at once (``LiveRun.abandon``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QRectF, QSize, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from cxfield.app import AppContext
from cxfield.audio.backend import (
    AudioBackend,
    NoMicrophoneError,
    SoundDeviceBackend,
    input_devices,
)
from cxfield.audio.recorder import FreeSpace, RecorderState
from cxfield.domain.errors import CxfieldError
from cxfield.gui.elided_label import ElidedLabel
from cxfield.gui.transcripts.live_transcription import LiveRun
from cxfield.services import live_transcript
from cxfield.services import recording as recording_service

POLL_MS = 50  # 20 level updates a second
LIVE_POLL_MS = 500  # collect finished stretches (the child works on its own)
METER_FLOOR_DB = -60.0
SILENT_INPUT_S = 2.0
NO_MIC_TEXT = (
    "No microphone found. Plug one in and press “Look again”. "
    "You can keep taking notes; they are saved without a recording."
)
NO_MIC_SHORT = "No microphone found: plug one in, press ↻. Notes are still saved."


def format_clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class LevelMeter(QWidget):
    """A horizontal peak meter from -60 dBFS to 0 dBFS; red when clipping."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.peak_dbfs = METER_FLOOR_DB
        self.clipping = False
        self.setMinimumHeight(18)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Input level")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(240, 18)

    def set_level(self, peak_dbfs: float, clipping: bool) -> None:
        self.peak_dbfs = max(METER_FLOOR_DB, min(0.0, peak_dbfs))
        self.clipping = clipping
        self.setAccessibleDescription(
            f"{self.peak_dbfs:.0f} dB" + (", clipping" if clipping else "")
        )
        self.update()

    @property
    def fraction(self) -> float:
        return (self.peak_dbfs - METER_FLOOR_DB) / -METER_FLOOR_DB

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(rect, QColor("#e6e6e6"))
        filled = QRectF(rect.x(), rect.y(), rect.width() * self.fraction, rect.height())
        if self.clipping:
            colour = QColor("#c62828")
        elif self.peak_dbfs > -6:
            colour = QColor("#f9a825")
        else:
            colour = QColor("#2e7d32")
        painter.fillRect(filled, colour)
        painter.setPen(QColor("#9e9e9e"))
        painter.drawRect(rect)
        painter.end()


class RecorderPanel(QWidget):
    """Records the session's microphone through :mod:`cxfield.services.recording`."""

    recording_started = Signal(str)  # recording id
    recording_stopped = Signal(dict)  # the summary from ActiveRecording.stop()
    message = Signal(str)  # something the user must know (disk full, no microphone...)
    #: a live transcript finished: session id, job state (done/queued/cancelled), message
    transcript_finished = Signal(str, str, str)

    def __init__(
        self,
        ctx: AppContext,
        backend: AudioBackend | None = None,
        parent: QWidget | None = None,
        *,
        free_space: FreeSpace | None = None,
        compact: bool = False,
    ) -> None:
        """``compact``: one row (plus a message line) for the session runner's top bar."""
        super().__init__(parent)
        self.compact = compact
        self.ctx = ctx
        self.backend: AudioBackend = backend or SoundDeviceBackend()
        self.free_space = free_space
        self.session_id: str | None = None
        self.active: recording_service.ActiveRecording | None = None
        self._consent_reason = "Open a session to record."
        self._consented = False
        self._has_mic = False
        self._info_from_state = False
        #: live transcriptions: the current recording's, and earlier ones still finishing
        self.live_runs: list[LiveRun] = []

        self.status = QLabel()
        self.status.setObjectName("recStatus")
        self.elapsed = QLabel(format_clock(0))
        self.elapsed.setObjectName("recElapsed")
        self.elapsed.setAccessibleName("Recording time")
        self.meter = LevelMeter()
        self.clip_warning = QLabel("Clipping — move the microphone back or speak more softly")
        self.clip_warning.setObjectName("recClip")
        self.clip_warning.setVisible(False)
        self.overflows = QLabel()
        self.overflows.setAccessibleName("Input overflows")
        self.device = QComboBox()
        self.device.setAccessibleName("Microphone")
        self.device.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.device.activated.connect(self._device_chosen)
        self.rescan = QPushButton("Look again")
        self.rescan.setToolTip("List the microphones again (after plugging one in)")
        self.rescan.clicked.connect(self.refresh_devices)
        self.record_button = QPushButton("● Record")
        self.record_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.clicked.connect(self.stop)
        self.info: QLabel = ElidedLabel(min_chars=12) if compact else QLabel()
        self.info.setWordWrap(not compact)
        self.info.setObjectName("recInfo")
        self.info.setAccessibleName("Recorder message")
        self.live_label: QLabel = ElidedLabel(min_chars=10) if compact else QLabel()
        self.live_label.setObjectName("recLive")
        self.live_label.setAccessibleName("Live transcription")

        if compact:
            self._layout_compact()
        else:
            self._layout_full()
        self.setStyleSheet(
            "QLabel#recStatus { font-weight: 600; font-size: 12pt; }"
            "QLabel#recElapsed { font-family: monospace; font-size: 16pt; }"
            "QLabel#recClip { color: #c62828; font-weight: 600; }"
            "QLabel#recInfo { color: #444; }"
            "QLabel#recLive { color: #546e7a; font-size: 11pt; }"
        )

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.live_timer = QTimer(self)
        self.live_timer.setInterval(LIVE_POLL_MS)
        self.live_timer.timeout.connect(self.poll_live)
        self._list_devices()
        self._update()

    def _layout_full(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 8, 8, 8)
        top = QHBoxLayout()
        top.addWidget(self.status)
        top.addStretch(1)
        top.addWidget(self.elapsed)
        grid.addLayout(top, 0, 0, 1, 4)
        grid.addWidget(self.meter, 1, 0, 1, 3)
        grid.addWidget(self.overflows, 1, 3)
        grid.addWidget(self.clip_warning, 2, 0, 1, 4)
        mic_label = QLabel("&Microphone:")
        mic_label.setBuddy(self.device)
        grid.addWidget(mic_label, 3, 0)
        grid.addWidget(self.device, 3, 1, 1, 2)
        grid.addWidget(self.rescan, 3, 3)
        buttons = QHBoxLayout()
        for button in (self.record_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        grid.addLayout(buttons, 4, 0, 1, 4)
        grid.addWidget(self.info, 5, 0, 1, 4)
        grid.addWidget(self.live_label, 6, 0, 1, 4)

    def _layout_compact(self) -> None:
        """One row that fits a 1366 px screen: only the controls that apply now are shown
        (device and Record when idle; time, level, overflows, Pause and Stop while
        recording); messages shrink with "…" and show whole in their tooltip."""
        self.clip_warning.setText("Clipping!")
        self.clip_warning.setToolTip("Move the microphone back or speak more softly")
        self.meter.setFixedWidth(130)
        self.device.setMaximumWidth(220)
        self.device.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.device.setMinimumContentsLength(12)
        self.rescan.setText("↻")
        self.rescan.setAccessibleName("Look again for microphones")
        self.rescan.setMaximumWidth(40)
        self.elapsed.setStyleSheet("font-size: 13pt;")
        self.elapsed.setToolTip("Time on the recording (pauses not counted)")
        self.overflows.setToolTip("Audio blocks lost by the sound card or the disk")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.status, self.elapsed, self.meter, self.clip_warning, self.overflows,
            self.device, self.rescan, self.record_button, self.pause_button, self.stop_button,
        ):  # fmt: skip
            row.addWidget(widget)
        row.addSpacing(8)
        row.addWidget(self.info, 10)
        row.addStretch(1)  # when there is no message: the controls keep their size
        row.addSpacing(8)
        row.addWidget(self.live_label)

    # --- session and devices ------------------------------------------------------------

    def set_session(self, session_id: str | None) -> None:
        """Show the panel for a session; recording is enabled only with recording consent."""
        if self.active is not None and session_id != self.session_id:
            self.stop()
        self.session_id = session_id
        if session_id is None:
            self._consented, self._consent_reason = False, "Open a session to record."
        else:
            consent = recording_service.recording_consent(self.ctx.db, session_id)
            self._consented, self._consent_reason = consent.allowed, consent.reason
        self._update()
        self.show_live_status()

    def refresh_devices(self) -> None:
        """“Look again”: ask PortAudio for the devices anew (a microphone plugged in)."""
        refresh = getattr(self.backend, "refresh", None)
        if callable(refresh) and self.active is None:
            refresh()
        self._list_devices()

    def _list_devices(self) -> None:
        devices = input_devices(self.backend)
        remembered = recording_service.remembered_input_device(self.ctx.db)
        self.device.clear()
        self._has_mic = bool(devices)
        if devices:
            self.device.addItem("System default", None)
            for dev in devices:
                self.device.addItem(f"{dev.name} ({dev.hostapi})", dev.name)
            found = self.device.findData(remembered)
            self.device.setCurrentIndex(max(found, 0))
        else:
            self.device.addItem("No microphone", None)
        self._update()

    def selected_device(self) -> str | None:
        data = self.device.currentData()
        return data if isinstance(data, str) else None

    def _device_chosen(self, _index: int) -> None:
        recording_service.remember_input_device(self.ctx.db, self.selected_device())

    # --- recording ------------------------------------------------------------------

    def start(self) -> None:
        if self.active is not None or self.session_id is None or not self._consented:
            return
        try:
            self.active = recording_service.start_session_recording(
                self.ctx.db,
                self.ctx.paths.root,
                self.session_id,
                self.backend,
                device=self.selected_device(),
                free_space=self.free_space,
            )
        except NoMicrophoneError as exc:
            self._has_mic = False
            self._tell(str(exc))
        except CxfieldError as exc:
            self._tell(str(exc))
        else:
            self.timer.start()
            self._set_info("")
            if self.active.notice:  # the laptop key was made now: a lost key is lost audio
                self._tell(self.active.notice)
            self.live_runs = [run for run in self.live_runs if not run.done]
            if self._live_availability().on:  # off or no model: record exactly as before
                self.live_runs.append(LiveRun(self.ctx, self.active.recording_id))
                self.live_timer.start()
            self.recording_started.emit(self.active.recording_id)
        self._update()
        self.show_live_status()

    def toggle_pause(self) -> None:
        if self.active is None:
            return
        if self.active.recorder.state is RecorderState.PAUSED:
            self.active.resume()
        else:
            self.active.pause()
        self._update()

    def stop(self) -> dict[str, Any] | None:
        active, self.active = self.active, None
        if active is None:
            return None
        self.timer.stop()
        summary = active.stop()
        for run in self.live_runs:
            if run.recording_id == active.recording_id:
                # the last stretch is transcribed on a thread; the GUI polls for the end
                run.finish(discarded=bool(summary["deleted"]))
        self.meter.set_level(METER_FLOOR_DB, False)
        if summary["failure"]:
            self._tell(summary["failure"])
        else:
            self._set_info(
                f"Saved {format_clock(summary['duration_s'])} of audio "
                f"({summary['overflows']} input overflows)."
            )
        self.recording_stopped.emit(summary)
        self._update()
        self.show_live_status()
        return summary

    def shutdown(self) -> None:
        """Stop and finalise before the window closes (the file is valid either way).

        Live transcripts still finishing go on while the app runs; when the app quits
        before one is stored, its job goes back to the queue at once (instead of staying
        ``running`` until its heartbeat goes stale) and its child process is stopped."""
        self.stop()
        app = QCoreApplication.instance()
        if app is None:
            return
        for run in self.live_runs:
            if not run.done:
                # Qt holds a bound method weakly: a run nobody keeps any more is dropped
                app.aboutToQuit.connect(run.abandon)

    def note_fields(self) -> dict[str, Any]:
        """Recording fields for a note taken now ({} when nothing is recording)."""
        return self.active.note_fields() if self.active is not None else {}

    def _set_info(self, text: str, *, from_state: bool = False, tip: str | None = None) -> None:
        self.info.setText(text)
        if tip:
            self.info.setToolTip(tip)
        self._info_from_state = from_state
        self.info.setVisible(bool(text) or not self.compact)

    def _tell(self, text: str) -> None:
        self._set_info(text)
        self.message.emit(text)

    # --- live transcription -------------------------------------------------------------

    def current_live(self) -> LiveRun | None:
        """The recording's live transcription (while recording), else the latest one."""
        if self.active is not None:
            mine = [r for r in self.live_runs if r.recording_id == self.active.recording_id]
            return mine[0] if mine else None
        return self.live_runs[-1] if self.live_runs else None

    def poll_live(self) -> None:
        """Collect finished stretches; when a transcript is stored, say so once."""
        active_id = self.active.recording_id if self.active is not None else None
        for run in list(self.live_runs):
            if run.recording_id == active_id:
                run.poll(LIVE_POLL_MS / 1000)
            if run.done and not run.reported:
                run.reported = True
                outcome = run.outcome
                state = outcome.state if outcome is not None else ("failed" if run.error else "")
                if state and self.session_id is not None:
                    self.transcript_finished.emit(self.session_id, state, run.status(False))
            if run.reported and run is not self.current_live():
                self.live_runs.remove(run)
        busy = [r for r in self.live_runs if r.starting or r.finishing]
        busy += [r for r in self.live_runs if r.recording_id == active_id and not r.off]
        if not busy:
            self.live_timer.stop()
        self.show_live_status()

    def show_live_status(self) -> None:
        """The quiet line: live transcription on/off (and why), progress, or the result."""
        run = self.current_live()
        text = run.status(self.active is not None) if run is not None else ""
        if not text and self._consented and self._has_mic and self.session_id is not None:
            text = self._live_availability().text
        self.live_label.setText(text)
        self.live_label.setVisible(bool(text))

    def _live_availability(self) -> live_transcript.LiveAvailability:
        study_id = None
        if self.session_id is not None:
            from cxfield.storage.models import ResearchSession

            with self.ctx.db.session() as db:
                row = db.get(ResearchSession, self.session_id)
                study_id = row.study_id if row is not None else None
        return live_transcript.availability(self.ctx.db, self.ctx.paths.models, study_id)

    # --- the 20 Hz poll -----------------------------------------------------------------

    def poll(self) -> None:
        active = self.active
        if active is None:
            return
        recorder = active.recorder
        if recorder.halted:  # disk full or write error: the file is already valid
            self.stop()
            return
        level = recorder.level()
        self.meter.set_level(level.peak_dbfs, level.clipping)
        self.clip_warning.setVisible(level.clipping)
        self.elapsed.setText(format_clock(recorder.elapsed_s))
        lost = recorder.overflows + recorder.dropped_blocks
        self.overflows.setText(f"Overflows: {lost}")
        self.overflows.setStyleSheet("color: #c62828; font-weight: 600;" if lost else "")
        silent = recorder.seconds_since_last_block()
        if recorder.state is RecorderState.RECORDING and silent > SILENT_INPUT_S:
            self._set_info("No audio is arriving from the microphone. Check the cable.")
        elif self._info_from_state is False and self.info.text().startswith("No audio is"):
            self._set_info("")  # audio arrives again

    def _update(self) -> None:
        active = self.active
        state = active.recorder.state if active is not None else None
        recording = state in (RecorderState.RECORDING, RecorderState.PAUSED)
        can_record = self._consented and self._has_mic and not recording
        self.record_button.setEnabled(can_record)
        self.pause_button.setEnabled(recording)
        self.pause_button.setText("Resume" if state is RecorderState.PAUSED else "Pause")
        self.stop_button.setEnabled(recording)
        self.device.setEnabled(self._has_mic and not recording)
        self.rescan.setEnabled(not recording)
        if self.compact:  # only what applies now, so that the row fits 1366 px
            for widget in (self.elapsed, self.meter, self.overflows, self.pause_button,
                           self.stop_button):  # fmt: skip
                widget.setVisible(recording)
            self.device.setVisible(not recording and self._has_mic and self._consented)
            self.rescan.setVisible(not recording and self._consented)
            self.record_button.setVisible(not recording)
        if state is RecorderState.RECORDING:
            self.status.setText("● Recording")
            self.status.setStyleSheet("color: #c62828;")
        elif state is RecorderState.PAUSED:
            self.status.setText("Paused")
            self.status.setStyleSheet("color: #ef6c00;")
        else:
            self.status.setStyleSheet("")
            if not self._consented:
                self.status.setText("Recording off")
                self._set_info(self._consent_reason, from_state=True)
            elif not self._has_mic:
                self.status.setText("No microphone")
                short = NO_MIC_SHORT if self.compact else NO_MIC_TEXT
                self._set_info(short, from_state=True, tip=NO_MIC_TEXT)
            else:
                self.status.setText("Not recording")
                if self._info_from_state:  # an earlier state's reason no longer applies
                    self._set_info("")
            self.overflows.setText("Overflows: 0" if active is None else self.overflows.text())
        self.clip_warning.setVisible(False if not recording else self.clip_warning.isVisible())
