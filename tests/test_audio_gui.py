"""The recorder panel and the playback widget, offscreen, with a fake audio backend."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("PySide6")

from cxfield.app import AppContext  # noqa: E402
from cxfield.audio.backend import AudioDevice, NoAudioOutputError  # noqa: E402
from cxfield.gui.transcripts.playback import PlaybackWidget  # noqa: E402
from cxfield.gui.transcripts.recorder_panel import RecorderPanel  # noqa: E402
from cxfield.services.recording import remembered_input_device  # noqa: E402
from cxfield.services.sessions import session_detail  # noqa: E402
from tests.audio_support import FakeBackend, tone  # noqa: E402
from tests.test_audio_session import make_session  # noqa: E402

pytestmark = pytest.mark.qt
GB = 1024**3
SHOTS = os.environ.get("CXFIELD_SCREENSHOTS")


def shot(widget: object, name: str) -> None:
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))  # type: ignore[attr-defined]


def panel_for(qtbot: object, ctx: AppContext, backend: FakeBackend, **kw: object) -> RecorderPanel:
    panel = RecorderPanel(ctx, backend, free_space=lambda _p: 10 * GB, **kw)  # type: ignore[arg-type]
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.resize(460, 220)
    return panel


def test_record_pause_stop_with_level_and_notes(qtbot: object, ctx: AppContext) -> None:
    session_id = make_session(ctx.db)
    backend = FakeBackend()
    panel = panel_for(qtbot, ctx, backend)
    assert not panel.record_button.isEnabled()  # no session yet
    panel.set_session(session_id)
    assert panel.record_button.isEnabled() and panel.status.text() == "Not recording"
    assert panel.note_fields() == {}

    started: list[str] = []
    panel.recording_started.connect(started.append)
    panel.record_button.click()
    assert panel.active is not None and started == [panel.active.recording_id]
    assert panel.timer.interval() <= 100  # at least 10 level updates a second
    backend.feed(tone(2.0, amp=0.25))
    qtbot.waitUntil(lambda: panel.meter.peak_dbfs > -13, timeout=3000)  # type: ignore[attr-defined]
    assert panel.elapsed.text() == "00:00:02" and panel.status.text() == "● Recording"
    assert not panel.clip_warning.isVisibleTo(panel)
    backend.feed(np.full(800, -32768, dtype=np.int16))
    qtbot.waitUntil(lambda: panel.clip_warning.isVisibleTo(panel), timeout=3000)  # type: ignore[attr-defined]
    assert panel.meter.clipping
    shot(panel, "recorder_panel_recording")

    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume" and panel.status.text() == "Paused"
    backend.feed(tone(1.0))
    fields = panel.note_fields()
    assert fields["recording_offset_frames"] == 32800
    panel.pause_button.click()
    backend.feed(tone(0.5), overflow_at={1})
    panel.poll()
    assert panel.overflows.text() == "Overflows: 1"

    stopped: list[dict[str, object]] = []
    panel.recording_stopped.connect(stopped.append)
    panel.stop_button.click()
    assert stopped[0]["state"] == "complete" and stopped[0]["overflows"] == 1
    assert "Saved 00:00:02" in panel.info.text()
    assert panel.record_button.isEnabled() and not panel.stop_button.isEnabled()
    (recording,) = session_detail(ctx.db, session_id)["recordings"]
    assert recording["duration_s"] == pytest.approx(2.55)


def test_no_consent_disables_recording(qtbot: object, ctx: AppContext) -> None:
    panel = panel_for(qtbot, ctx, FakeBackend())
    panel.set_session(make_session(ctx.db, consents=[{"recording": False}]))
    assert not panel.record_button.isEnabled()
    assert panel.status.text() == "Recording off"
    assert "did not consent to being recorded" in panel.info.text()
    panel.start()
    assert panel.active is None


def test_no_microphone_state(qtbot: object, ctx: AppContext) -> None:
    panel = panel_for(qtbot, ctx, FakeBackend(devices=[]))
    panel.set_session(make_session(ctx.db))
    assert panel.status.text() == "No microphone" and not panel.record_button.isEnabled()
    assert "No microphone found" in panel.info.text() and "notes" in panel.info.text()
    shot(panel, "recorder_panel_no_microphone")


def test_device_choice_is_remembered(qtbot: object, ctx: AppContext) -> None:
    mics = [
        AudioDevice(0, "Built-in", "ALSA", 2, 0, 48000.0, True, False),
        AudioDevice(3, "USB lapel mic", "ALSA", 1, 0, 48000.0, False, False),
    ]
    backend = FakeBackend(devices=mics)
    panel = panel_for(qtbot, ctx, backend)
    panel.device.setCurrentIndex(panel.device.findData("USB lapel mic"))
    panel.device.activated.emit(panel.device.currentIndex())
    assert remembered_input_device(ctx.db) == "USB lapel mic"
    again = panel_for(qtbot, ctx, backend)
    assert again.selected_device() == "USB lapel mic"
    again.set_session(make_session(ctx.db))
    again.start()
    assert backend.opened[-1]["device"] == "USB lapel mic"
    again.stop()


def test_disk_full_stops_and_tells(qtbot: object, ctx: AppContext) -> None:
    free = [10 * GB]
    backend = FakeBackend()
    panel = RecorderPanel(ctx, backend, free_space=lambda _p: free[0])
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.set_session(make_session(ctx.db))
    messages: list[str] = []
    panel.message.connect(messages.append)
    panel.start()
    backend.feed(tone(1.0))
    free[0] = 0
    qtbot.waitUntil(lambda: panel.active is None, timeout=5000)  # type: ignore[attr-defined]
    # the first recording of a new data directory made the laptop key: said once, first
    assert "cannot be opened: export it now" in messages[0]
    assert messages[-1] != messages[0] and "was stopped" in messages[-1]
    assert "was stopped" in panel.info.text()


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "interview.wav"
    sf.write(path, tone(20.0), 16000, subtype="PCM_16")
    return path


def test_playback_seek_and_play_from_a_note(qtbot: object, wav: Path) -> None:
    backend = FakeBackend()
    widget = PlaybackWidget(backend)
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.resize(460, 60)
    assert not widget.play_button.isEnabled()
    assert widget.load(wav)
    assert widget.time.text() == "00:00 / 00:20" and widget.slider.maximum() == 20000

    widget.play_note(8 * 16000, 16000)  # a note at 8 s plays from 5 s (3 s lead-in)
    assert widget.playing and widget.position_s == 5.0
    stream = backend.outputs[-1]
    assert stream.started
    expected = tone(20.0)[5 * 16000 : 5 * 16000 + 1600].tobytes()
    assert stream.callback(1600) == expected
    widget._tick()
    assert widget.time.text() == "00:05 / 00:20" and widget.play_button.text() == "❚❚ Pause"
    shot(widget, "playback")

    widget.play_button.click()  # pause
    assert not widget.playing and stream.closed
    widget.slider.setValue(18000)  # click on the groove: seek
    assert widget.position_s == 18.0
    widget.play_from(1.0)
    assert widget.position_s == 0.0  # never before the start
    widget.seek(19.5)
    stream = backend.outputs[-1]
    assert len(stream.callback(16000)) == 8000 * 2  # the last half second, then the end
    assert widget.player is not None and widget.player.finished and not widget.playing


def test_playback_without_output_device(qtbot: object, wav: Path) -> None:
    widget = PlaybackWidget(FakeBackend(fail=NoAudioOutputError("No audio output found.")))
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.load(wav)
    widget.play()
    assert not widget.playing and "No audio output found" in widget.info.text()


def test_playback_of_a_missing_file(qtbot: object, tmp_path: Path) -> None:
    widget = PlaybackWidget(FakeBackend())
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    assert not widget.load(tmp_path / "gone.wav")
    assert "Cannot play gone.wav" in widget.info.text()


def test_qt_calls_keep_none_alive(qtbot: object) -> None:
    """PySide6 6.12.0 on Python 3.11 dropped a reference to None on every Qt call returning
    nothing: the recorder panel (20 Hz level meter) aborted the app after minutes with
    "none_dealloc".  On 3.12+ None is immortal and the count is meaningless."""
    import sys

    from cxfield.gui.transcripts.recorder_panel import LevelMeter

    if sys.version_info >= (3, 12):
        pytest.skip("None is immortal from Python 3.12")
    meter = LevelMeter()
    qtbot.addWidget(meter)  # type: ignore[attr-defined]
    before = sys.getrefcount(None)
    for _ in range(500):
        meter.set_level(-12.0, False)  # setAccessibleDescription + update: Qt void calls
        meter.repaint()  # paintEvent: QPainter calls
    assert abs(sys.getrefcount(None) - before) < 50
