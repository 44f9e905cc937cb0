"""The transcript view's "Transcript checked" mark by keyboard (keys go to whatever widget
has the focus): Ctrl+K from the segments marks the recording checked by this laptop's
researcher and says who and when, Ctrl+K again takes it back; Tab reaches the button and
Space presses it; an approved session's mark cannot be changed.  Screenshots at 1366×768
and 1920×1080 (``CXFIELD_SHOTS``)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.domain.vocabulary import SessionStatus  # noqa: E402
from cxfield.storage.actor import PROFILE_KEY  # noqa: E402
from cxfield.storage.models import (  # noqa: E402
    Recording,
    Researcher,
    ResearchSession,
    TranscriptSegment,
)
from tests.audio_support import FakeBackend  # noqa: E402
from tests.gui_support import (  # noqa: E402
    fits_screen,
    focused,
    press,
    settle,
    shoot,
    shots_dir,
    show_active,
)
from tests.transcribe_support import place, session_with_recording, speech_like  # noqa: E402

pytestmark = pytest.mark.qt
SCREENS = ((1366, 768), (1920, 1080))
LINES = (
    "Good morning, thank you for coming in today.",
    "I came in at eight and the queue was already out of the door.",
    "Nobody told me which form I needed, so I filled in two of them.",
)


def _session(ctx: AppContext) -> tuple[str, str]:
    session_id, rec_id = session_with_recording(ctx, place(20, [(1.0, speech_like(15.0))]))
    with ctx.db.session() as db:
        for i, text in enumerate(LINES):
            db.add(
                TranscriptSegment(
                    recording_id=rec_id, session_id=session_id, start_s=1.0 + 5 * i,
                    end_s=5.5 + 5 * i, text=text,
                )
            )  # fmt: skip
        ana = Researcher(name="Ana Ruiz")
        db.add(ana)
        db.flush()
        ana_id = ana.id
    ctx.db.set_setting(PROFILE_KEY, ana_id)
    return session_id, rec_id


def _mark(ctx: AppContext, rec_id: str) -> tuple[object, str | None]:
    with ctx.db.session() as db:
        rec = db.get(Recording, rec_id)
        assert rec is not None
        return rec.transcript_checked_at, rec.transcript_checked_by


def _editor(qtbot: object, ctx: AppContext, session_id: str):  # type: ignore[no-untyped-def]
    from cxfield.gui.transcripts.playback import PlaybackWidget
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

    editor = TranscriptEditor(ctx, session_id, playback=PlaybackWidget(backend=FakeBackend()))
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    show_active(qtbot, editor)
    return editor


def test_the_mark_by_keyboard(qtbot: object, ctx: AppContext, tmp_path: Path) -> None:
    session_id, rec_id = _session(ctx)
    editor = _editor(qtbot, ctx, session_id)
    bar = editor.check_bar
    assert bar.label.text() == "Transcript not checked yet."
    assert bar.button.isEnabled() and not bar.button.isChecked()
    editor.table.setFocus()
    editor.table.setCurrentCell(0, 2)
    settle()
    assert focused() is editor.table
    press(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    checked_at, checked_by = _mark(ctx, rec_id)
    assert checked_at is not None and checked_by == "Ana Ruiz"
    assert bar.button.isChecked() and "checked by Ana Ruiz" in bar.label.text()
    assert focused() is editor.table  # the focus stays where the researcher works
    folder = shots_dir("a14", tmp_path)
    for size in SCREENS:
        editor.resize(*size)
        settle()
        shoot(editor, folder, f"transcript-checked-{size[0]}x{size[1]}")
        assert fits_screen(editor, size) == []
    # Ctrl+K again: the mark is taken back
    press(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert _mark(ctx, rec_id) == (None, None)
    assert not bar.button.isChecked() and bar.label.text() == "Transcript not checked yet."
    # Tab reaches the button; Space presses it
    for _ in range(60):
        if focused() is bar.button:
            break
        press(Qt.Key.Key_Tab)
    assert focused() is bar.button
    press(Qt.Key.Key_Space)
    assert _mark(ctx, rec_id)[1] == "Ana Ruiz" and bar.button.isChecked()


def test_an_approved_sessions_mark_stays(qtbot: object, ctx: AppContext) -> None:
    session_id, rec_id = _session(ctx)
    with ctx.db.session() as db:
        session = db.get(ResearchSession, session_id)
        assert session is not None
        session.status = SessionStatus.APPROVED
        db.add(session)
    editor = _editor(qtbot, ctx, session_id)
    assert not editor.check_bar.button.isEnabled()
    editor.table.setFocus()
    settle()
    press(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert _mark(ctx, rec_id) == (None, None)


def test_no_transcript_nothing_to_check(qtbot: object, ctx: AppContext) -> None:
    session_id, rec_id = session_with_recording(ctx, place(5, [(1.0, speech_like(2.0))]))
    editor = _editor(qtbot, ctx, session_id)
    assert not editor.check_bar.button.isEnabled()
    assert editor.check_bar.label.text() == "No transcript to check yet."
    press(Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert _mark(ctx, rec_id) == (None, None)
