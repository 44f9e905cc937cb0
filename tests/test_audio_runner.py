"""The recorder inside the session runner: enabled only with recording consent, notes get
their position on the recording's clock (exact across pauses), closing finalises the file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import capture, participants, templates  # noqa: E402
from cxfield.services.sessions import session_detail  # noqa: E402
from cxfield.storage.models import Note  # noqa: E402
from tests.audio_support import FakeBackend, tone  # noqa: E402

pytestmark = pytest.mark.qt
GB = 1024**3
SHOTS = os.environ.get("CXFIELD_SCREENSHOTS")


def shot(widget: Any, name: str) -> None:
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def _interview(ctx: AppContext, recording: bool) -> str:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=recording)
    return capture.start_session(ctx.db, study.id, participant_id=person.id).id


def _runner(qtbot: Any, ctx: AppContext, session_id: str, backend: FakeBackend) -> Any:
    from cxfield.gui.runner.session_runner import SessionRunner

    runner = SessionRunner(ctx, session_id, audio_backend=backend)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    return runner


def test_notes_get_the_recording_clock(qtbot: Any, ctx: AppContext) -> None:
    session_id = _interview(ctx, recording=True)
    backend = FakeBackend()
    runner = _runner(qtbot, ctx, session_id, backend)
    recorder = runner.recorder
    recorder.free_space = lambda _p: 10 * GB
    assert recorder.record_button.isEnabled()
    recorder.record_button.click()
    backend.feed(tone(2.0))
    recorder.pause_button.click()
    backend.feed(tone(3.0))  # a break in the interview: not recorded
    recorder.pause_button.click()
    backend.feed(tone(1.0))

    runner.begin_note(quote=False)  # Ctrl+N stamps the moment and the recording position
    backend.feed(tone(4.0))  # the researcher types while the customer keeps talking
    QTest.keyClicks(runner.note_bar.input, "Had to come back twice")
    QTest.keyClick(runner.note_bar.input, Qt.Key.Key_Return)
    recorder.poll()
    shot(runner, "runner_recording")

    runner.close()  # closing finalises the recording
    detail = session_detail(ctx.db, session_id)
    (recording,) = detail["recordings"]
    assert recording["state"] == "complete" and recording["duration_s"] == 7.0
    (note,) = detail["notes"]
    assert note["text"] == "Had to come back twice"
    assert note["recording_id"] == recording["id"]
    assert note["recording_offset_frames"] == 3 * 16000


def test_no_recording_consent_keeps_the_recorder_off(qtbot: Any, ctx: AppContext) -> None:
    session_id = _interview(ctx, recording=False)
    runner = _runner(qtbot, ctx, session_id, FakeBackend())
    assert not runner.recorder.record_button.isEnabled()
    assert runner.recorder.status.text() == "Recording off"
    assert "did not consent" in runner.recorder.info.text()
    runner.begin_note(quote=False)
    QTest.keyClicks(runner.note_bar.input, "Notes still work")
    QTest.keyClick(runner.note_bar.input, Qt.Key.Key_Return)
    (note,) = session_detail(ctx.db, session_id)["notes"]
    assert note["recording_id"] is None
    runner.close()


def test_no_microphone_runner_still_takes_notes(qtbot: Any, ctx: AppContext) -> None:
    session_id = _interview(ctx, recording=True)
    runner = _runner(qtbot, ctx, session_id, FakeBackend(devices=[]))
    assert runner.recorder.status.text() == "No microphone"
    assert not runner.recorder.record_button.isEnabled()
    runner.begin_note(quote=False)
    QTest.keyClicks(runner.note_bar.input, "No mic today")
    QTest.keyClick(runner.note_bar.input, Qt.Key.Key_Return)
    assert [n["text"] for n in session_detail(ctx.db, session_id)["notes"]] == ["No mic today"]
    runner.close()


def test_session_view_plays_a_note_from_just_before_it(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.session_view import SessionView
    from cxfield.services.recording import start_session_recording

    session_id = _interview(ctx, recording=True)
    backend = FakeBackend()
    active = start_session_recording(
        ctx.db, ctx.paths.root, session_id, backend, free_space=lambda _p: 10 * GB
    )
    backend.feed(tone(10.0))
    capture.add_note(ctx.db, session_id, "Queue too long", **active.note_fields())
    active.stop()
    with ctx.db.session() as db:  # a note with no place on any recording
        db.add(Note(session_id=session_id, text="Before the recording (no position)"))

    view = SessionView(ctx, session_id, audio_backend=backend)
    qtbot.addWidget(view)
    view.show()
    assert view.player.isVisible() and view.player.time.text() == "00:00 / 00:10"
    rows = [view.notes.item(r, 3).text() for r in range(view.notes.rowCount())]
    with_audio = rows.index("Queue too long")
    view.play_note(rows.index("Before the recording (no position)"))
    assert not view.player.playing
    view.notes.cellClicked.emit(with_audio, 3)  # a click on the note
    assert view.player.playing and view.player.position_s == 7.0  # 3 s before the note
    view.player._tick()
    shot(view, "session_view_player")
    view.close()
    assert not view.player.playing


def test_session_view_without_recording_hides_the_player(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.session_view import SessionView

    view = SessionView(ctx, _interview(ctx, recording=False), audio_backend=FakeBackend())
    qtbot.addWidget(view)
    view.show()
    assert not view.player.isVisible()
