"""Issue 10: in the runner no keystroke may land in the wrong place.  Every key goes to
whatever widget has the focus (QApplication.focusWidget()), Tab, Shift+Tab, Esc and Enter
included; the database is read back afterwards."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import capture, observation, participants, templates  # noqa: E402

pytestmark = pytest.mark.qt
NO = Qt.KeyboardModifier.NoModifier
SHIFT, CTRL = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier

#: every key that has a single-key meaning in the runner, and some that do not
SINGLE_KEYS = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 -+="


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(key: Qt.Key, mod: Qt.KeyboardModifier = NO) -> None:
    QTest.keyClick(focused(), key, mod)


def type_text(text: str) -> None:
    for char in text:  # one by one: each goes to wherever the focus is by then
        QTest.keyClicks(focused(), char)


def _study(ctx: AppContext) -> tuple[str, str]:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    return study.id, person.id


def _open(qtbot: Any, ctx: AppContext, session_id: str) -> Any:
    from cxfield.gui.runner.session_runner import SessionRunner

    runner = SessionRunner(ctx, session_id)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    runner.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    return runner


@pytest.fixture
def interview(qtbot: Any, ctx: AppContext) -> Any:
    study_id, person_id = _study(ctx)
    session = capture.start_session(ctx.db, study_id, participant_id=person_id)
    return _open(qtbot, ctx, session.id)


def _saved(ctx: AppContext, runner: Any, step_id: str) -> Any:
    runner._flush_all()
    return capture.load_runner_state(ctx.db, runner.session_id).captures.get(step_id)


def test_tab_goes_into_the_quote_and_its_letters_stay_text(ctx: AppContext, interview: Any) -> None:
    """The reported case: 2 f c p + +, Tab, a sentence — the quote got nothing and the
    letters toggled five chips."""
    runner, panel = interview, interview.panel
    step = runner.current
    assert focused() is panel.valence  # the keys
    for key in (Qt.Key.Key_2, Qt.Key.Key_F, Qt.Key.Key_C, Qt.Key.Key_P):
        press(key)
    press(Qt.Key.Key_Plus)
    press(Qt.Key.Key_Plus)
    press(Qt.Key.Key_Tab)
    assert focused() is panel.quote
    quote = "She said: embarrassed, hopeful, relieved, respected, ignored - 1 2 3 + ="
    type_text(quote)
    press(Qt.Key.Key_Tab)
    assert focused() is panel.notes
    type_text("Mentioned P and F twice. " + SINGLE_KEYS)
    press(Qt.Key.Key_Tab)
    assert focused() is panel.valence  # round again: keys → quote → notes → keys
    press(Qt.Key.Key_Backtab, SHIFT)
    assert focused() is panel.notes
    press(Qt.Key.Key_Backtab, SHIFT)
    assert focused() is panel.quote
    press(Qt.Key.Key_Backtab, SHIFT)
    assert focused() is panel.valence
    press(Qt.Key.Key_Tab)
    press(Qt.Key.Key_Tab)
    press(Qt.Key.Key_Escape)
    assert focused() is panel.valence  # Esc: back to the keys
    press(Qt.Key.Key_H)  # and the keys work again
    saved = _saved(ctx, runner, step)
    assert saved.valence == -1 and saved.pain_point and saved.intensity == 4
    assert saved.emotions == ["frustrated", "confused", "hopeful"]
    assert saved.quote == quote
    assert saved.notes == "Mentioned P and F twice. " + SINGLE_KEYS


@pytest.mark.parametrize("mode", ["interview", "observation"])
def test_no_single_key_fires_while_a_text_field_has_the_focus(
    qtbot: Any, ctx: AppContext, mode: str
) -> None:
    study_id, person_id = _study(ctx)
    session = capture.start_session(
        ctx.db, study_id, mode=mode, participant_id=person_id if mode == "interview" else None
    )
    runner = _open(qtbot, ctx, session.id)
    step = runner.current
    fields = [runner.panel.quote, runner.panel.notes]
    for index, field in enumerate(fields):
        press(Qt.Key.Key_Tab)
        assert focused() is field
        type_text(SINGLE_KEYS)
        assert field.toPlainText() == SINGLE_KEYS, index
    press(Qt.Key.Key_Escape)
    press(Qt.Key.Key_N, CTRL)  # the note field too
    assert focused() is runner.note_bar.input
    type_text(SINGLE_KEYS)
    assert runner.note_bar.input.text() == SINGLE_KEYS
    saved = _saved(ctx, runner, step)
    assert saved.valence is None and saved.emotions == [] and saved.intensity is None
    assert not saved.pain_point and saved.observed_start is None
    assert observation.visits(ctx.db, session.id) == []  # no M / N / W either
    assert runner.current == step


def test_next_and_previous_step_hand_the_keys_back(ctx: AppContext, interview: Any) -> None:
    """PgDn from the quote, PgUp from the survey's comments: the keys act on the new step,
    no digit lands in a text field."""
    runner = interview
    walk = runner.walk_order()
    press(Qt.Key.Key_Tab)
    type_text("said so")
    press(Qt.Key.Key_PageDown)
    assert runner.current == walk[1] and focused() is runner.panel.valence
    press(Qt.Key.Key_4)
    assert _saved(ctx, runner, walk[1]).valence == 1
    press(Qt.Key.Key_U, CTRL)
    for _ in runner.survey.rows:
        press(Qt.Key.Key_4)
    assert focused() is runner.survey.comments
    press(Qt.Key.Key_PageUp)
    assert runner.current == walk[-1] and focused() is runner.panel.valence
    press(Qt.Key.Key_2)
    assert _saved(ctx, runner, walk[-1]).valence == -1
    assert runner.panel.quote.toPlainText() == "" and runner.survey.comments_text() == ""
    assert _saved(ctx, runner, walk[0]).quote == "said so"


def test_step_list_headers_take_no_arrow_and_the_panel_shows_the_step(
    ctx: AppContext, interview: Any
) -> None:
    """Ctrl+G, Down, Down … : the list never stops on a stage header, and a rating goes to the
    step the list marks and the panel names next to the faces."""
    runner = interview
    press(Qt.Key.Key_G, CTRL)
    assert focused() is runner.steps
    visited = [runner.current]
    for _ in range(len(runner.step_order()) + 3):
        press(Qt.Key.Key_Down)
        item = runner.steps.currentItem()
        assert item is not None and item.data(0, Qt.ItemDataRole.UserRole) == runner.current
        visited.append(runner.current)
        if runner.current != "__survey__":
            name = runner._step(runner.current).name
            assert runner.panel.title.text() == name
            assert f"“{name}”" in runner.panel.feel_label.text()
    assert visited[: len(runner.step_order())] == runner.step_order()  # every step, no header
    for _ in range(len(runner.step_order()) + 3):
        press(Qt.Key.Key_Up)
        assert runner.steps.currentItem().data(0, Qt.ItemDataRole.UserRole) == runner.current
    assert runner.current == runner.step_order()[0]

    # Down to "Document verification", across the VERIFY header, then 2 with the list focused
    names = [runner._step(s).name for s in runner.step_order()]
    target = runner.step_order()[names.index("Document verification")]
    while runner.current != target:
        press(Qt.Key.Key_Down)
    press(Qt.Key.Key_2)
    before = runner.step_order()[names.index("Eligibility system")]
    assert _saved(ctx, runner, target).valence == -1
    assert _saved(ctx, runner, before) is None

    # a click on a header leaves the list on the step that is shown
    header = runner.steps.topLevelItem(2)
    assert header.data(0, Qt.ItemDataRole.UserRole) is None
    rect = runner.steps.visualItemRect(header)
    QTest.mouseClick(runner.steps.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert runner.steps.currentItem() is runner._items[target] and runner.current == target
    press(Qt.Key.Key_Escape)
    assert focused() is runner.panel.valence


def test_the_focus_frame_does_not_pretend_a_rating_on_the_next_step(
    ctx: AppContext, interview: Any
) -> None:
    from cxfield.gui.runner.valence import FaceButton

    runner = interview
    first = runner.current
    press(Qt.Key.Key_2)
    press(Qt.Key.Key_PageDown)
    assert runner.current != first
    # the whole scale holds the focus, never one face (a frame on "2" looked like an answer)
    assert focused() is runner.panel.valence and runner.panel.valence.value() is None
    assert not any(button.hasFocus() for button in runner.panel.valence.buttons.values())
    assert all(b.focusPolicy() == Qt.FocusPolicy.NoFocus for b in runner.findChildren(FaceButton))


def test_intensity_starts_from_the_middle_either_way(ctx: AppContext, interview: Any) -> None:
    runner = interview
    walk = runner.walk_order()
    press(Qt.Key.Key_Minus)
    assert _saved(ctx, runner, walk[0]).intensity == 3
    press(Qt.Key.Key_PageDown)
    press(Qt.Key.Key_Plus)
    assert _saved(ctx, runner, walk[1]).intensity == 3
    press(Qt.Key.Key_Equal)
    assert _saved(ctx, runner, walk[1]).intensity == 4
    for _ in range(4):
        press(Qt.Key.Key_Minus)
    assert _saved(ctx, runner, walk[1]).intensity == 1  # stops at 1
    for _ in range(6):
        press(Qt.Key.Key_Plus)
    assert _saved(ctx, runner, walk[1]).intensity == 5  # stops at 5


def test_ratings_read_the_same_in_the_step_list_and_the_session_view(
    qtbot: Any, ctx: AppContext, interview: Any
) -> None:
    from cxfield.gui.session_view import SessionView

    runner = interview
    step = runner.current
    press(Qt.Key.Key_2)
    press(Qt.Key.Key_P)
    assert runner._items[step].text(0).endswith("\n    2 · Negative (−1), pain")
    assert "2 · Negative (−1)" in runner.panel.valence.buttons[-1].accessibleName()
    runner.close()
    view = SessionView(ctx, runner.session_id)
    qtbot.addWidget(view)
    model = view.captures.model()
    column = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert model.index(0, column.index("Rating")).data() == "2 · Negative (−1)"
    assert view.curve.accessibleDescription() == "Check in: 2 · Negative (−1)"


def test_observation_n_follows_the_customer_path_and_offers_no_survey(
    qtbot: Any, ctx: AppContext
) -> None:
    study_id, _person = _study(ctx)
    session = capture.start_session(ctx.db, study_id, mode="observation")
    runner = _open(qtbot, ctx, session.id)
    names = {runner._step(s).name: s for s in runner.step_order()}
    assert "__survey__" not in runner._items
    entered = []
    for _ in range(5):
        press(Qt.Key.Key_N)
        entered.append(runner._step(observation.current_step(ctx.db, session.id)).name)
    # after "Intake interview" the customer's next step is "Document verification", not the
    # caseworker's backstage work
    assert entered == [
        "Check in",
        "Greet and triage",
        "Wait",
        "Intake interview",
        "Document verification",
    ]
    assert runner.current == names["Document verification"]
    press(Qt.Key.Key_PageUp)
    assert runner.current == names["Intake interview"]  # PgUp/PgDn walk the same path
    press(Qt.Key.Key_PageDown)
    assert runner.current == names["Document verification"]
    press(Qt.Key.Key_U, CTRL)
    assert runner.current == names["Document verification"]
    assert "no participant" in runner.status.text()
    for _ in range(5):
        press(Qt.Key.Key_PageDown)
    assert runner.current == names["Notice by mail"]  # the end: no survey after it
    # backstage steps stay reachable from the list, and M marks them
    press(Qt.Key.Key_G, CTRL)
    while runner.current != names["Caseworker enters application"]:
        press(Qt.Key.Key_Up)
    press(Qt.Key.Key_M)
    assert observation.current_step(ctx.db, session.id) == names["Caseworker enters application"]
    runner.close()


def test_observation_with_a_participant_keeps_the_survey(qtbot: Any, ctx: AppContext) -> None:
    study_id, person_id = _study(ctx)
    session = capture.start_session(ctx.db, study_id, mode="observation", participant_id=person_id)
    runner = _open(qtbot, ctx, session.id)
    press(Qt.Key.Key_U, CTRL)
    assert runner.current == "__survey__"
    runner.close()


def test_reopens_where_the_researcher_was(qtbot: Any, ctx: AppContext) -> None:
    study_id, person_id = _study(ctx)
    session = capture.start_session(ctx.db, study_id, participant_id=person_id)
    runner = _open(qtbot, ctx, session.id)
    press(Qt.Key.Key_2)
    for _ in range(3):
        press(Qt.Key.Key_PageDown)
    press(Qt.Key.Key_4)
    press(Qt.Key.Key_PageUp)
    there = runner.current
    assert there == runner.walk_order()[2]  # captured before, not the first open step
    runner.close()
    again = _open(qtbot, ctx, session.id)
    assert again.current == there and again.panel.title.text() == again._step(there).name
    again.close()


def test_start_dialog_alt_p_goes_to_the_participant(qtbot: Any, ctx: AppContext) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLabel

    from cxfield.gui.runner.start_session import StartSessionDialog

    study_id, _person = _study(ctx)
    dialog = StartSessionDialog(ctx, study_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    labels = [label for label in dialog.findChildren(QLabel) if label.buddy() is dialog.participant]
    assert [label.text() for label in labels] == ["&Participant"]  # drawn as an underlined P
    assert focused() is not dialog.participant
    press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    assert focused() is dialog.participant
    press(Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    assert focused() is dialog.study
    # one Alt+letter per thing ("&Study" and "&Start" both took Alt+S)
    texts = [w.text() for w in dialog.findChildren(QLabel) if w.buddy() is not None]
    texts += [w.text() for w in dialog.findChildren(QAbstractButton) if w.isVisible()]
    letters = [t[t.index("&") + 1].lower() for t in texts if "&" in t]
    assert len(letters) == len(set(letters)) >= 8, texts
