"""Kill the app mid-session (SIGKILL, no chance to clean up) and resume: nothing lost, the
runner back on the step it was on, and an unsent note keeps the moment it was stamped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

pytest.importorskip("PySide6")

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import capture, participants, runner_lock, templates  # noqa: E402

pytestmark = pytest.mark.qt

CHILD = textwrap.dedent(
    """
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from pathlib import Path
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from cxfield.app import open_app
    from cxfield.gui.runner.session_runner import SessionRunner

    def key(k, mod=Qt.KeyboardModifier.NoModifier):
        QTest.keyClick(QApplication.focusWidget(), k, mod)

    app = QApplication([])
    ctx = open_app(Path(sys.argv[1]))
    runner = SessionRunner(ctx, sys.argv[2])
    runner.show()
    runner.activateWindow()
    QTest.qWait(50)
    key(Qt.Key.Key_2)      # valence -1
    key(Qt.Key.Key_A)      # anxious
    key(Qt.Key.Key_Tab)    # into the quote
    QTest.keyClicks(QApplication.focusWidget(), "I was scared they would cut my benefits")
    key(Qt.Key.Key_Escape)
    key(Qt.Key.Key_PageDown)
    key(Qt.Key.Key_PageDown)   # the researcher is on the third step now
    key(Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(QApplication.focusWidget(), "half-typed note")
    QTest.qWait(800)   # autosave promises one second at most
    stamped = runner._offset_ms(runner.note_bar.stamped_draft())
    print("TYPED", runner.current, stamped, flush=True)
    time.sleep(60)
    """
)


def test_sigkill_mid_session_then_resume(qtbot: Any, ctx: AppContext) -> None:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    session = capture.start_session(ctx.db, study.id, participant_id=person.id)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ctx.paths.root), session.id],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        typed, was_on, stamped_ms = child.stdout.readline().split()
        assert typed == "TYPED"
        lock = runner_lock.lock_path(ctx.paths.root / "locks", session.id)
        assert runner_lock.read_owner(lock) is not None
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    # the next start offers the session for resuming
    assert [s.id for s in capture.unfinished_sessions(ctx.db)] == [session.id]
    assert lock.exists() and runner_lock.is_stale(runner_lock.read_owner(lock))

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from cxfield.gui.runner.session_runner import SessionRunner

    runner = SessionRunner(ctx, session.id)  # takes over the stale lock
    qtbot.addWidget(runner)
    runner.show()
    runner.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    assert runner.lock.took_over_stale
    assert runner.current == was_on == runner.walk_order()[2]  # where the researcher was
    first = runner.step_order()[0]
    saved = runner.state.captures[first]
    assert saved.valence == -1 and saved.emotions == ["anxious"]
    assert saved.quote == "I was scared they would cut my benefits"
    assert runner.note_bar.input.text() == "half-typed note"
    assert f"{int(stamped_ms) // 1000 // 60:02d}:{int(stamped_ms) // 1000 % 60:02d}" in (
        runner.note_bar.stamp.text()
    )
    QTest.qWait(1500)  # the note is finished well after it was begun
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is runner.note_bar.input
    QTest.keyClicks(runner.note_bar.input, ", then sent")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    notes = capture.load_runner_state(ctx.db, session.id).notes
    assert [(n.text, n.session_offset_ms, n.step_id) for n in notes] == [
        ("half-typed note, then sent", int(stamped_ms), was_on)
    ]
    runner.go_to(first)
    assert runner.panel.quote.toPlainText() == saved.quote
    runner.close()
    assert not lock.exists()


def test_window_destroyed_without_close_loses_nothing(qtbot: Any, ctx: AppContext) -> None:
    from PySide6.QtTest import QTest

    from cxfield.gui.runner.session_runner import SessionRunner

    study = templates.create_from_definition(ctx.db, templates.load_template("online-application"))
    session = capture.start_session(ctx.db, study.id, mode="observation")
    runner = SessionRunner(ctx, session.id)
    runner.show()
    runner.panel.notes.setFocus()
    QTest.keyClicks(runner.panel.notes, "looked at the clock")
    step = runner.current
    QTest.qWait(700)
    runner.deleteLater()  # no closeEvent, no flush
    QTest.qWait(10)
    state = capture.load_runner_state(ctx.db, session.id)
    assert state.captures[step or ""].notes == "looked at the clock"
    assert [s.id for s in capture.unfinished_sessions(ctx.db)] == [session.id]
