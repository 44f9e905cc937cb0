"""Keyboard-only use of the main window, the journey editor, the participants and the
session view: every key goes to whatever has focus (Tab, Shift+Tab and Enter included)."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QInputDialog, QPushButton  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import demo, sessions, studies  # noqa: E402
from tests.gui_support import focused, press, show_active, type_text, walk_tab  # noqa: E402

pytestmark = pytest.mark.qt
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def study_id(ctx: AppContext) -> str:
    return demo.create_demo(ctx.db, 12).id


def _main_window(qtbot: Any, ctx: AppContext) -> Any:
    from cxfield.gui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    show_active(qtbot, window)
    return window


def test_tab_and_shift_tab_leave_the_sessions_table(
    qtbot: Any, ctx: AppContext, study_id: str
) -> None:
    window = _main_window(qtbot, ctx)
    window.study_list.setFocus()
    assert walk_tab() == [window.study_list, window.session_table]  # and back: no trap
    press(Qt.Key.Key_Tab)
    press(Qt.Key.Key_Down)  # into the rows
    assert focused() is window.session_table
    press(Qt.Key.Key_Tab, SHIFT)
    assert focused() is window.study_list
    press(Qt.Key.Key_Tab, SHIFT)
    assert focused() is window.session_table


def test_f5_keeps_the_selected_session_for_ctrl_o(
    qtbot: Any, ctx: AppContext, study_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = _main_window(qtbot, ctx)
    actions = window.capture_actions
    opened: list[str] = []
    monkeypatch.setattr(actions, "open_view", opened.append)
    monkeypatch.setattr(actions, "open_runner", opened.append)

    def highlighted() -> str | None:
        rows = window.session_table.selectionModel().selectedRows()
        return window.session_model.session_at(rows[0].row()).id if rows else None

    window.session_table.setFocus()
    for _ in range(4):
        press(Qt.Key.Key_Down)
    chosen = highlighted()
    assert chosen is not None and chosen != sessions.list_sessions(ctx.db, study_id)[0].id
    press(Qt.Key.Key_F5)
    assert highlighted() == chosen
    assert focused() is window.session_table
    press(Qt.Key.Key_O, CTRL)
    assert opened == [chosen]


def test_the_study_used_last_is_selected_after_a_restart(
    qtbot: Any, ctx: AppContext, study_id: str
) -> None:
    from cxfield.gui.main_window import MainWindow

    other = demo.create_demo(ctx.db, 1, name="Second study").id
    window = _main_window(qtbot, ctx)
    assert window.current_study_id() == study_id  # the first in the list
    window.study_list.setFocus()
    press(Qt.Key.Key_Down)
    assert window.current_study_id() == other
    window.close()
    again = MainWindow(ctx)
    qtbot.addWidget(again)
    assert again.current_study_id() == other
    assert again.session_model.rowCount() == 1
    # a study deleted since is simply not selected: the first one is
    studies.remember_study(ctx.db, "gone")
    third = MainWindow(ctx)
    qtbot.addWidget(third)
    assert third.current_study_id() == study_id


def test_enter_in_the_journey_editor_creates_nothing(
    qtbot: Any, ctx: AppContext, study_id: str
) -> None:
    from cxfield.gui.journey.journey_editor import JourneyEditorDialog

    def shape() -> list[list[str]]:
        return [[s.name for s in st.steps] for st in studies.get_journey(ctx.db, study_id).stages]

    dialog = JourneyEditorDialog(ctx, study_id)
    qtbot.addWidget(dialog)
    show_active(qtbot, dialog)
    dialog.tree.setFocus()
    press(Qt.Key.Key_Down)  # the first step
    before = shape()
    step = dialog.selected()
    press(Qt.Key.Key_F2)
    assert focused() is dialog.name
    press(Qt.Key.Key_A, CTRL)
    type_text("Take a number")
    press(Qt.Key.Key_Return)
    assert focused() is dialog.name and dialog.isVisible()
    after = shape()
    assert after[0][0] == "Take a number" and [len(s) for s in after] == [len(s) for s in before]
    assert dialog.selected() == step
    # Enter in the other fields and in the tree adds nothing either
    for _ in range(2):
        press(Qt.Key.Key_Tab)  # description (Tab leaves it), then the lane
    assert focused() is dialog.lane
    press(Qt.Key.Key_Enter)
    dialog.tree.setFocus()
    press(Qt.Key.Key_Return)
    assert [len(s) for s in shape()] == [len(s) for s in before] and dialog.isVisible()
    # no button is drawn as the default, and Enter on a focused button still presses it
    assert not any(b.isDefault() for b in dialog.findChildren(QPushButton))
    while not (isinstance(focused(), QPushButton) and focused().text() == "Add s&tep"):
        press(Qt.Key.Key_Tab)
    press(Qt.Key.Key_Return)
    assert sum(len(s) for s in shape()) == sum(len(s) for s in before) + 1


def test_enter_in_participants_opens_the_row_and_never_adds(
    qtbot: Any, ctx: AppContext, study_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxfield.gui import participants_dialog
    from cxfield.services import participants

    count = len(participants.list_participants(ctx.db, study_id))
    opened: list[Any] = []
    monkeypatch.setattr(
        participants_dialog.ConsentDialog, "exec", lambda self: opened.append(self.existing) or 0
    )
    listing = participants_dialog.ParticipantsDialog(ctx, study_id)
    qtbot.addWidget(listing)
    show_active(qtbot, listing)
    listing.table.setFocus()
    press(Qt.Key.Key_Down)
    press(Qt.Key.Key_Return)
    assert [info.participant.code for info in opened] == [listing.infos[1].participant.code]
    monkeypatch.undo()

    consent = participants_dialog.ConsentDialog(ctx, study_id)
    qtbot.addWidget(consent)
    show_active(qtbot, consent)
    consent.segment_boxes["language"].setFocus()
    press(Qt.Key.Key_Return)
    assert consent.isVisible() and consent.participant_id is None
    assert len(participants.list_participants(ctx.db, study_id)) == count


def test_session_view_keys_act_on_the_highlighted_note(
    qtbot: Any, ctx: AppContext, study_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxfield.gui.session_view import SessionView

    done = next(
        r for r in sessions.list_sessions(ctx.db, study_id)
        if r.status == "submitted" and len(sessions.session_detail(ctx.db, r.id)["notes"]) > 3
    )  # fmt: skip
    view = SessionView(ctx, done.id)
    qtbot.addWidget(view)
    show_active(qtbot, view)
    press(Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)  # the notes tab
    while focused() is not view.notes:
        press(Qt.Key.Key_Tab)

    def highlighted() -> str:
        rows = view.notes.selectionModel().selectedRows()
        assert len(rows) == 1, "exactly one note is highlighted"
        return str(view.detail["notes"][rows[0].row()]["id"])

    first = highlighted()  # a note is highlighted as soon as the table has focus
    press(Qt.Key.Key_Down)
    press(Qt.Key.Key_End, CTRL)  # the last note (this moved only the cursor, not the highlight)
    target = highlighted()
    assert target != first
    press(Qt.Key.Key_Delete)
    remaining = [n["id"] for n in sessions.session_detail(ctx.db, done.id)["notes"]]
    assert target not in remaining and first in remaining
    press(Qt.Key.Key_Z, CTRL)
    assert highlighted() == target  # brought back, and highlighted again

    press(Qt.Key.Key_Home, CTRL)
    press(Qt.Key.Key_Down)
    target = highlighted()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Reworded #pain #ideas", True))
    press(Qt.Key.Key_F2)
    edited = {n["id"]: n for n in sessions.session_detail(ctx.db, done.id)["notes"]}[target]
    assert (edited["text"], edited["tags"]) == ("Reworded", ["pain_point", "idea"])
    assert highlighted() == target
