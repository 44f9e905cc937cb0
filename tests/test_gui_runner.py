"""The session runner driven by the keyboard only, then checked in the database."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.domain.errors import ConflictError  # noqa: E402
from cxfield.services import (  # noqa: E402
    capture,
    journey_editor,
    participants,
    sessions,
    templates,
)

pytestmark = pytest.mark.qt


def _interview(ctx: AppContext) -> tuple[str, str]:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    return study.id, capture.start_session(ctx.db, study.id, participant_id=person.id).id


def _type(widget: Any, text: str) -> None:
    QTest.keyClicks(widget, text)


def _key(
    widget: Any, key: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    QTest.keyClick(widget, key, mod)


def test_whole_interview_by_keyboard(qtbot: Any, ctx: AppContext, monkeypatch: Any) -> None:
    from cxfield.gui.runner.session_runner import SURVEY, SessionRunner

    _study_id, session_id = _interview(ctx)
    runner = SessionRunner(ctx, session_id)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    QApplication.processEvents()
    walk = runner.walk_order()
    assert len(walk) == 7  # user and frontstage steps of the office template
    valences = [1, 2, 3, 4, 5, 2, 1]
    for index, step_id in enumerate(walk):
        assert runner.current == step_id
        focus = QApplication.focusWidget() or runner
        _key(focus, Qt.Key(Qt.Key.Key_0 + valences[index]))
        _key(QApplication.focusWidget() or runner, Qt.Key.Key_F)  # frustrated
        _key(QApplication.focusWidget() or runner, Qt.Key.Key_H)  # hopeful
        _key(QApplication.focusWidget() or runner, Qt.Key.Key_H)  # ...and off again
        _key(QApplication.focusWidget() or runner, Qt.Key.Key_Equal)  # intensity
        if index == 2:
            _key(QApplication.focusWidget() or runner, Qt.Key.Key_P)
            _key(QApplication.focusWidget(), Qt.Key.Key_Tab)  # into the quote
            assert QApplication.focusWidget() is runner.panel.quote
            _type(QApplication.focusWidget(), "Two hours, nobody told us anything 123")
            _key(QApplication.focusWidget(), Qt.Key.Key_Tab)
            _type(QApplication.focusWidget(), "Lobby crowded")
            _key(QApplication.focusWidget(), Qt.Key.Key_Escape)
        _key(QApplication.focusWidget() or runner, Qt.Key.Key_PageDown)
    # timestamped note and quote
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is runner.note_bar.input
    _type(QApplication.focusWidget(), "Kiosk only in English #barrier")
    _key(QApplication.focusWidget(), Qt.Key.Key_Return)
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    _type(QApplication.focusWidget(), "I gave up on the phone line")
    _key(QApplication.focusWidget(), Qt.Key.Key_Return)
    # the survey: keys 1-5 answer each row and move on
    assert runner.current == SURVEY
    answers = "45342355"[: len(runner.survey.rows)]
    for digit in answers:
        _key(QApplication.focusWidget(), Qt.Key(Qt.Key.Key_0 + int(digit)))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    finished: list[str] = []
    runner.session_finished.connect(finished.append)
    _key(
        QApplication.focusWidget() or runner,
        Qt.Key.Key_F,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert finished == [session_id]

    detail = sessions.session_detail(ctx.db, session_id)
    assert detail["status"] == "submitted"
    captured = [row for row in detail["steps"] if row["capture"]]
    assert [row["step_id"] for row in captured] == walk
    assert [row["capture"]["valence"] for row in captured] == [v - 3 for v in valences]
    assert all(row["capture"]["emotions"] == ["frustrated"] for row in captured)
    assert all(row["capture"]["intensity"] == 3 for row in captured)
    wait = captured[2]["capture"]
    assert wait["pain_point"] and wait["quote"] == "Two hours, nobody told us anything 123"
    assert wait["notes"] == "Lobby crowded"
    notes = detail["notes"]
    assert [(n["text"], n["tags"]) for n in notes] == [
        ("Kiosk only in English", ["barrier"]),
        ("I gave up on the phone line", ["quote"]),
    ]
    survey = detail["survey"]
    for key, digit in zip(runner.survey.rows, answers, strict=True):
        assert survey[key] == int(digit)
    assert capture.unfinished_sessions(ctx.db) == []


def test_second_runner_refused_and_lock_released(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.runner.session_runner import SessionRunner

    _study_id, session_id = _interview(ctx)
    first = SessionRunner(ctx, session_id)
    qtbot.addWidget(first)
    with pytest.raises(ConflictError, match="already open"):
        SessionRunner(ctx, session_id)
    first.close()
    second = SessionRunner(ctx, session_id)
    qtbot.addWidget(second)
    second.close()


def test_typing_autosaves_within_a_second(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.runner.session_runner import SessionRunner

    _study_id, session_id = _interview(ctx)
    runner = SessionRunner(ctx, session_id)
    qtbot.addWidget(runner)
    runner.show()
    runner.panel.notes.setFocus()
    _type(runner.panel.notes, "typed, never saved by hand")
    step = runner.current

    def saved() -> None:
        state = capture.load_runner_state(ctx.db, session_id)
        saved_capture = state.captures.get(step or "")
        assert saved_capture is not None and saved_capture.notes == "typed, never saved by hand"

    qtbot.waitUntil(saved, timeout=1000)
    runner.close()


def test_step_deleted_while_open(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.runner.session_runner import SessionRunner

    _study_id, session_id = _interview(ctx)
    runner = SessionRunner(ctx, session_id)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    QApplication.processEvents()
    step = runner.current
    assert step is not None
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_2)
    journey_editor.delete_step(ctx.db, step, confirm=True)  # e.g. in the editor window
    runner.panel.quote.setFocus()
    _type(runner.panel.quote, "still here")
    runner.reload_journey()
    assert runner.current == step and runner.panel.banner.isVisibleTo(runner)
    assert "Removed from map" in runner.panel.meta.text()
    state = capture.load_runner_state(ctx.db, session_id)
    assert state.captures[step].quote == "still here" and state.captures[step].valence == -1
    runner.close()


def test_observation_by_keyboard(qtbot: Any, ctx: AppContext, monkeypatch: Any) -> None:
    from cxfield.gui.runner.session_runner import SessionRunner
    from cxfield.services import observation

    study_id, _ = _interview(ctx)
    session = capture.start_session(ctx.db, study_id, mode="observation")
    runner = SessionRunner(ctx, session.id)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    QApplication.processEvents()
    order = runner.step_order()
    for _ in range(3):
        _key(QApplication.focusWidget() or runner, Qt.Key.Key_N)
        QTest.qWait(20)
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_W)
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_1)  # emotion seen
    times = observation.timeline(ctx.db, session.id)
    assert list(times) == order[:3]
    assert times[order[0]].step_s is not None and times[order[2]].left is not None
    assert capture.load_runner_state(ctx.db, session.id).captures[order[2]].valence == -2
    assert runner.current == order[2]
    # Sent back: the customer enters the second step again; its first visit is kept.
    runner.go_to(order[1])
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_M)
    assert observation.timeline(ctx.db, session.id)[order[1]].visits == 2
    assert "(visit 2)" in runner.panel.observation.text()
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_N)  # the step after the last entered
    assert observation.current_step(ctx.db, session.id) == order[2]
    assert [v.step_id for v in observation.visits(ctx.db, session.id)] == [
        order[0],
        order[1],
        order[2],
        order[1],
        order[2],
    ]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    runner.finish()
    assert sessions.session_detail(ctx.db, session.id)["status"] == "submitted"


def test_notes_edited_removed_and_brought_back_by_keyboard(
    qtbot: Any, ctx: AppContext, monkeypatch: Any
) -> None:
    """A mistyped note in front of a customer: fix it, or remove it and undo the removal."""
    from PySide6.QtWidgets import QInputDialog

    from cxfield.gui.runner.session_runner import SessionRunner

    _study_id, session_id = _interview(ctx)
    runner = SessionRunner(ctx, session_id)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    runner.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    for text in ("Kiosk broke", "Wiat was long"):
        _key(
            QApplication.focusWidget() or runner, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier
        )
        _type(runner.note_bar.input, text)
        _key(runner.note_bar.input, Qt.Key.Key_Return)

    # Ctrl+L selects the latest note; Enter edits it (text and #tags).
    _key(QApplication.focusWidget() or runner, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is runner.note_bar.list
    offered: list[str] = []

    def answer(_parent: Any, _title: str, _label: str, text: str = "", **_: Any) -> Any:
        offered.append(text)
        return "Wait was long #pain_point", True

    monkeypatch.setattr(QInputDialog, "getText", answer)
    _key(runner.note_bar.list, Qt.Key.Key_Return)
    assert offered == ["Wiat was long"]  # the note as it was
    notes = sessions.session_detail(ctx.db, session_id)["notes"]
    assert [(n["text"], n["tags"]) for n in notes] == [
        ("Kiosk broke", []),
        ("Wait was long", ["pain_point"]),
    ]

    # Delete removes the selected note; Ctrl+Z brings it back with its time and tags.
    runner.note_bar.list.setCurrentRow(1)
    _key(runner.note_bar.list, Qt.Key.Key_Delete)
    assert [n["text"] for n in sessions.session_detail(ctx.db, session_id)["notes"]] == [
        "Kiosk broke"
    ]
    assert runner.note_bar.list.count() == 1 and "Ctrl+Z" in runner.status.text()
    _key(runner.note_bar.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    after = sessions.session_detail(ctx.db, session_id)["notes"]
    assert [(n["id"], n["tags"], n["offset_s"]) for n in after] == [
        (n["id"], n["tags"], n["offset_s"]) for n in notes
    ]
    assert runner.note_bar.list.count() == 2
    runner.close()
