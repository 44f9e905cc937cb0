"""Playback of a session's recording: play/pause, a seek slider, the time, and
``play_from(seconds)`` so that clicking a note plays from a few seconds before it.

Use::

    player = PlaybackWidget()                 # backend=FakeBackend() in tests
    player.load(ctx.paths.root / recording["path"])
    player.play_note(note["recording_offset_frames"], recording["sample_rate"])
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from cxfield.audio.backend import AudioBackend, SoundDeviceBackend
from cxfield.audio.player import NOTE_LEAD_IN_S, Player
from cxfield.domain.errors import CxfieldError

POLL_MS = 100


def _clock(seconds: float) -> str:
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class PlaybackWidget(QWidget):
    message = Signal(str)

    def __init__(self, backend: AudioBackend | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend: AudioBackend = backend or SoundDeviceBackend()
        self.player: Player | None = None

        self.play_button = QPushButton("▶ Play")
        self.play_button.setAccessibleName("Play or pause the recording")
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setAccessibleName("Position in the recording")
        self.slider.setSingleStep(1000)
        self.slider.setPageStep(10_000)
        self.slider.sliderReleased.connect(self._slider_released)
        self.slider.valueChanged.connect(self._slider_moved)
        self.time = QLabel("00:00 / 00:00")
        self.time.setObjectName("playTime")
        self.info = QLabel()
        self.info.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.info)
        self.info.setVisible(False)
        self.setStyleSheet("QLabel#playTime { font-family: monospace; }")

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._tick)
        self._set_enabled(False)

    # --- API -------------------------------------------------------------------------

    def load(self, path: Path) -> bool:
        """Open a recording (a WAV in the data directory).  False, with a message, if not."""
        self.close_player()
        try:
            self.player = Player(self.backend, path)
        except (CxfieldError, OSError) as exc:
            self._tell(f"Cannot play {path.name}: {exc}")
            return False
        self.slider.setRange(0, int(self.player.duration_s * 1000))
        self.info.setVisible(False)
        self._set_enabled(True)
        self._tick()
        return True

    @property
    def position_s(self) -> float:
        return self.player.position_s if self.player else 0.0

    @property
    def playing(self) -> bool:
        return self.player is not None and self.player.playing

    def play(self) -> None:
        if self.player is None:
            return
        try:
            self.player.play()
        except CxfieldError as exc:
            self._tell(str(exc))
            return
        self.timer.start()
        self._tick()

    def pause(self) -> None:
        if self.player is not None:
            self.player.pause()
        self._tick()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def seek(self, seconds: float) -> None:
        if self.player is not None:
            self.player.seek(seconds)
            self._tick()

    def play_from(self, seconds: float, lead_in_s: float = NOTE_LEAD_IN_S) -> None:
        """Play from ``lead_in_s`` before ``seconds`` (a note's moment), not before the start."""
        if self.player is None:
            return
        self.player.seek(max(0.0, seconds - lead_in_s))
        self.play()

    def play_note(self, offset_frames: int, sample_rate: int) -> None:
        self.play_from(offset_frames / sample_rate)

    def close_player(self) -> None:
        self.timer.stop()
        if self.player is not None:
            self.player.close()
            self.player = None
        self._set_enabled(False)

    # --- internals -----------------------------------------------------------------------

    def _tell(self, text: str) -> None:
        self.info.setText(text)
        self.info.setVisible(True)
        self.message.emit(text)

    def _set_enabled(self, enabled: bool) -> None:
        self.play_button.setEnabled(enabled)
        self.slider.setEnabled(enabled)

    def _tick(self) -> None:
        player = self.player
        if player is None:
            return
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(player.position_s * 1000))
            self.slider.blockSignals(False)
        self.time.setText(f"{_clock(player.position_s)} / {_clock(player.duration_s)}")
        self.play_button.setText("❚❚ Pause" if player.playing else "▶ Play")
        if not player.playing:
            self.timer.stop()

    def _slider_released(self) -> None:
        self.seek(self.slider.value() / 1000)

    def _slider_moved(self, value: int) -> None:
        if not self.slider.isSliderDown():  # keyboard or click on the groove
            self.seek(value / 1000)
