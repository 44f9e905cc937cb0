"""The session runner fits a 1366×768 laptop: header on one line, the recorder's controls on
a second compact row, no horizontal clipping, in every recorder state; and it uses a
1920×1080 screen without gaps.  CXFIELD_SCREENSHOTS=DIR saves the PNGs (demo data)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import capture, demo, participants  # noqa: E402
from tests.audio_support import FakeBackend, tone  # noqa: E402

pytestmark = pytest.mark.qt
SHOTS = os.environ.get("CXFIELD_SCREENSHOTS")
GB = 1024**3


def _session(ctx: AppContext, study_id: str, recording: bool) -> str:
    person = participants.add_participant(ctx.db, study_id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=recording)
    return capture.start_session(ctx.db, study_id, participant_id=person.id).id


def _top_widgets(runner: Any) -> list[QWidget]:
    widgets = [runner.participant_label, runner.header, runner.status, runner.elapsed,
               runner.finish_button]  # fmt: skip
    recorder = runner.recorder
    widgets += [
        w for w in (
            recorder.status, recorder.elapsed, recorder.meter, recorder.overflows,
            recorder.device, recorder.rescan, recorder.record_button, recorder.pause_button,
            recorder.stop_button, recorder.info, recorder.live_label,
        ) if w.isVisibleTo(runner)
    ]  # fmt: skip
    return widgets


def _check_fits(runner: Any, size: tuple[int, int], name: str) -> None:
    runner.resize(*size)
    runner.show()
    QApplication.processEvents()
    assert runner.minimumSizeHint().width() <= 1366, name
    assert (runner.width(), runner.height()) == size, name
    for widget in _top_widgets(runner):
        left = widget.mapTo(runner, QPoint(0, 0))
        assert left.x() >= 0 and left.x() + widget.width() <= runner.width(), (name, widget)
        assert widget.width() >= min(widget.minimumSizeHint().width(), 40), (name, widget)
        assert left.y() + widget.height() < 110, (name, widget)  # two rows on top
    for button in (runner.finish_button, runner.recorder.record_button):
        if button.isVisibleTo(runner):  # buttons are never squeezed below their text
            assert button.width() >= button.sizeHint().width(), (name, button.text())
    _check_bottom_and_faces(runner, name)
    if SHOTS:
        runner.grab().save(str(Path(SHOTS) / f"runner-{name}-{size[0]}.png"))


def _check_bottom_and_faces(runner: Any, name: str) -> None:
    """The key-hint line is whole, on one line, inside the window; every face shows its
    number and word uncut; the capture page needs no sideways scrolling."""
    hint = runner.help_line
    top = hint.mapTo(runner, QPoint(0, 0))
    assert top.y() >= 0 and top.y() + hint.height() <= runner.height(), name
    assert top.x() >= 0 and top.x() + hint.width() <= runner.width(), name
    assert hint.height() >= hint.fontMetrics().height() and not hint.is_elided(), name
    for face in runner.panel.valence.buttons.values():
        _face, words, needed = face.areas()
        assert needed <= words.height(), (name, face.caption(), needed, words.height())
        assert face.height() >= face.minimumSizeHint().height(), name
    scroll = runner.pages.currentWidget()
    assert not scroll.horizontalScrollBar().isVisible(), name


@pytest.mark.parametrize("state", ["idle", "recording", "no-microphone", "no-consent"])
def test_runner_fits_1366_and_1920_in_every_recorder_state(
    qtbot: Any, ctx: AppContext, state: str
) -> None:
    from cxfield.gui.runner.session_runner import SessionRunner

    study = demo.create_demo(ctx.db, 4)
    session_id = _session(ctx, study.id, recording=state != "no-consent")
    backend = FakeBackend(devices=[] if state == "no-microphone" else None)
    runner = SessionRunner(ctx, session_id, audio_backend=backend)
    qtbot.addWidget(runner)
    recorder = runner.recorder
    recorder.free_space = lambda _p: 10 * GB
    if state == "recording":
        recorder.record_button.click()
        backend.feed(tone(3.0))
        qtbot.waitUntil(lambda: recorder.active.elapsed_s >= 3.0, timeout=5000)
        recorder.poll()
        assert recorder.stop_button.isVisibleTo(runner) and recorder.meter.isVisibleTo(runner)
    expected = {
        "idle": "Not recording", "recording": "● Recording",
        "no-microphone": "No microphone", "no-consent": "Recording off",
    }[state]  # fmt: skip
    assert recorder.status.text() == expected
    for size in ((1366, 768), (1920, 1080)):
        _check_fits(runner, size, state)
    if state == "no-microphone":
        assert "No microphone found" in recorder.info.text()
        assert "Look again" in recorder.info.toolTip()  # the whole explanation
    runner.close()


def test_old_draft_shows_its_start_instead_of_a_huge_clock(qtbot: Any, ctx: AppContext) -> None:
    from datetime import timedelta

    from cxfield.domain.ids import utcnow
    from cxfield.gui.runner.session_runner import SessionRunner

    study = demo.create_demo(ctx.db, 0)
    old = capture.start_session(
        ctx.db, study.id, mode="observation", now=utcnow() - timedelta(days=3)
    )
    runner = SessionRunner(ctx, old.id)
    qtbot.addWidget(runner)
    runner._tick()
    assert runner.elapsed.text().startswith("Started ")
    fresh = capture.start_session(ctx.db, study.id, mode="observation")
    runner2 = SessionRunner(ctx, fresh.id)
    qtbot.addWidget(runner2)
    runner2._tick()
    assert runner2.elapsed.text().startswith("00:00:0")
    runner.close()
    runner2.close()


def test_observation_runner_fits_and_opens_within_the_screen(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.runner.session_runner import SessionRunner

    study = demo.create_demo(ctx.db, 0)
    session = capture.start_session(ctx.db, study.id, mode="observation")
    runner = SessionRunner(ctx, session.id)
    qtbot.addWidget(runner)
    free = runner.screen().availableGeometry()
    # opened no larger than the screen's free area, leaving room for a title bar
    assert runner.width() <= free.width() and runner.height() <= free.height() - 40
    for size in ((1366, 768), (1920, 1080)):
        runner.resize(*size)
        runner.show()
        QApplication.processEvents()
        _check_bottom_and_faces(runner, f"observation-{size[0]}")
        if SHOTS:
            runner.grab().save(str(Path(SHOTS) / f"runner-observation-{size[0]}.png"))
    runner.close()
