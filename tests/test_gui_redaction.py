"""The redaction review window: keys go to whatever has focus (A accept, R reject, U undo,
Tab, Ctrl+D on a selection, Enter in the name field, Esc), the heading says why the
session is held, and the window fits both screens."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("presidio_analyzer")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QTextCursor  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.gui.main_window import MainWindow  # noqa: E402
from cxfield.gui.privacy.redaction_review import RedactionReview  # noqa: E402
from cxfield.privacy import store  # noqa: E402
from tests.gui_support import (  # noqa: E402
    SCREENS,
    fits_screen,
    focused,
    press,
    settle,
    shoot,
    show_active,
    type_text,
)
from tests.redaction_support import SSN, planted_session  # noqa: E402

pytestmark = pytest.mark.qt


def _states(ctx: AppContext, session_id: str) -> dict[str, str]:
    return {r.text: r.state for r in store.candidates(ctx.db, session_id=session_id)}


def test_review_by_keyboard(qtbot: object, ctx: AppContext) -> None:
    planted = planted_session(ctx.db)
    dialog = RedactionReview(ctx, planted.session_id)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.resize(1100, 680)
    show_active(qtbot, dialog)
    assert focused() is dialog.candidates
    assert "Sync and exports of this session wait" in dialog.hold.text()
    first = dialog.rows[dialog.candidates.currentRow()]
    # the text on the right shows the candidate where it occurs
    assert first.text in dialog.view.toPlainText()
    press(Qt.Key.Key_A)
    assert _states(ctx, planted.session_id)[first.text] == "accepted"
    second = dialog.rows[dialog.candidates.currentRow()]
    assert second.id != first.id and second.state == "pending"  # moved to the next one
    press(Qt.Key.Key_R)
    assert _states(ctx, planted.session_id)[second.text] == "rejected"
    press(Qt.Key.Key_Up)
    press(Qt.Key.Key_Up)
    press(Qt.Key.Key_U)
    assert "pending" in _states(ctx, planted.session_id).values()

    # Tab reaches the name field; typing there types (A is no shortcut there), Enter adds
    for _ in range(12):
        if focused() is dialog.name_edit:
            break
        press(Qt.Key.Key_Tab)
    assert focused() is dialog.name_edit
    type_text("Ana Ruiz")
    press(Qt.Key.Key_Return)
    assert "Ana Ruiz" in dialog.names.text()
    assert _states(ctx, planted.session_id).get("Ana") is None  # not in the texts

    # select text in the note and redact it with Ctrl+D, whatever has focus
    position = next(
        i for i in range(dialog.field.count()) if dialog.field.itemData(i).startswith("note|")
    )
    dialog.field.setCurrentIndex(position)
    text = dialog.view.toPlainText()
    start = text.index("the desk")
    cursor = dialog.view.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len("the desk"), QTextCursor.MoveMode.KeepAnchor)
    dialog.view.setTextCursor(cursor)
    press(Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert _states(ctx, planted.session_id)["the desk"] == "accepted"

    dialog.candidates.setFocus()
    settle()
    while any(r.state == "pending" for r in dialog.rows):
        dialog.candidates.setCurrentRow(
            next(i for i, r in enumerate(dialog.rows) if r.state == "pending")
        )
        press(Qt.Key.Key_A)
    assert "Reviewed" in dialog.hold.text()
    press(Qt.Key.Key_Escape)
    assert not dialog.isVisible()


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_review_window_fits(qtbot: object, ctx: AppContext, screen: tuple[int, int]) -> None:
    planted = planted_session(ctx.db)
    store.add_name(ctx.db, planted.session_id, "Rosa Díaz")
    window = MainWindow(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.resize(*screen)
    show_active(qtbot, window)
    window.session_table.selectRow(0)
    from tests.gui_support import shots_dir

    folder = shots_dir("redact", Path(tempfile.mkdtemp()))
    shoot(window, folder, f"main-{screen[0]}x{screen[1]}")
    press(Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialog = window.redaction_actions.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.resize(min(1100, screen[0] - 60), min(680, screen[1] - 80))
    settle()
    assert fits_screen(dialog, screen) == []
    assert SSN in " ".join(r.text for r in dialog.rows)
    shoot(dialog, folder, f"review-{screen[0]}x{screen[1]}")
    dialog.resize(*screen)
    settle()
    shoot(dialog, folder, f"review-full-{screen[0]}x{screen[1]}")
    assert window.redaction_actions.waiting_lines()


def test_a_stretch_is_muted_by_hand_from_the_keyboard(qtbot: object, ctx: AppContext) -> None:
    """Alt+F, a time, Tab, a time, Enter: the stretch is muted in the redacted copy; a stretch
    past the recording's end is refused in one line and nothing is stored."""
    from sqlalchemy import select

    from cxfield.storage.models import RedactionMute

    planted = planted_session(ctx.db)  # a 6-second recording
    dialog = RedactionReview(ctx, planted.session_id)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.resize(1100, 680)
    show_active(qtbot, dialog)
    assert dialog.recording.count() == 1 and "0:06" in dialog.recording.currentText()

    def mutes() -> list[tuple[float, float]]:
        with ctx.db.engine.connect() as conn:
            table = RedactionMute.__table__  # type: ignore[attr-defined]
            return [(r.start_s, r.end_s) for r in conn.execute(select(table))]

    press(Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    assert focused() is dialog.mute_from
    type_text("0:02")
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.mute_to
    type_text("7")
    press(Qt.Key.Key_Return)
    assert "within the recording" in dialog.hold.text() and mutes() == []
    focused().selectAll()  # type: ignore[attr-defined]
    type_text("0:04.5")
    press(Qt.Key.Key_Return)
    assert mutes() == [(2.0, 4.5)]
    assert "Muted 0:02–0:04.5 " in dialog.hold.text()  # as typed, not rounded to 0:04
    assert focused() is dialog.mute_from and not dialog.mute_from.text()
    press(Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_a_study_that_does_not_hold_never_says_reviewed(qtbot: object, ctx: AppContext) -> None:
    """With "review before sync and export" off, pending candidates are not "Reviewed": the
    window says the study does not wait, and what leaves the laptop."""
    from cxfield.privacy import review

    planted = planted_session(ctx.db)
    review.set_settings(ctx.db, planted.study_id, review=False)
    dialog = RedactionReview(ctx, planted.session_id)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    show_active(qtbot, dialog)
    assert any(r.state == "pending" for r in dialog.rows)
    assert "Reviewed" not in dialog.hold.text()
    assert "does not wait for a review" in dialog.hold.text()
    while any(r.state == "pending" for r in dialog.rows):
        press(Qt.Key.Key_A)
    assert dialog.hold.text().startswith("Reviewed")


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_review_comments_are_listed_and_accepted_by_key(
    qtbot: object, ctx: AppContext, screen: tuple[int, int]
) -> None:
    """A supervisor's comment with a phone number is one of the texts the review lists
    ("review comment"), its candidate shows where it occurs and A accepts it."""
    from cxfield.services import review

    planted = planted_session(ctx.db)
    review.use_profile(ctx.db, "Sam", "supervisor")
    comment = review.add_comment(ctx.db, planted.session_id, "Her son calls from 773-555-0142")
    dialog = RedactionReview(ctx, planted.session_id)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.resize(min(1100, screen[0] - 60), min(680, screen[1] - 80))
    show_active(qtbot, dialog)
    labels = [dialog.field.itemText(i) for i in range(dialog.field.count())]
    assert "review comment — Her son calls from 773-555-0142" in labels
    index = next(i for i, r in enumerate(dialog.rows) if r.row_id == comment.id)
    assert "review comment" in dialog.candidates.item(index).text()
    dialog.candidates.setCurrentRow(index)
    dialog.candidates.setFocus()
    settle()
    assert "773-555-0142" in dialog.view.toPlainText()
    press(Qt.Key.Key_A)
    assert _states(ctx, planted.session_id)["773-555-0142"] == "accepted"
    assert fits_screen(dialog, screen) == []
    from tests.gui_support import shots_dir

    folder = shots_dir("comments", Path(tempfile.mkdtemp()))
    shoot(dialog, folder, f"redaction-review-comment-{screen[0]}x{screen[1]}")
