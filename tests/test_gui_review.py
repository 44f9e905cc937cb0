"""The review screens by keyboard, keys sent to whatever has focus: a supervisor clears a
queue of 20 submitted demo sessions (approve, has issues with a comment, reject), comments
on a step with one key; the researcher sees the count of returned sessions, answers and
resubmits; the History tab shows the changes; the screens fit 1366×768 and 1920×1080."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QMessageBox

from cxfield.app import AppContext
from cxfield.domain.review import AnchorKind, ReviewAction
from cxfield.gui.main_window import MainWindow
from cxfield.gui.review.comment_dialog import CommentDialog
from cxfield.gui.review.review_view import ReviewSessionView
from cxfield.services import demo, review, review_queue, sessions
from cxfield.storage.models import ResearchSession
from tests.gui_support import SCREENS, cut_off, focused, press, settle, shoot, type_text

ALT = Qt.KeyboardModifier.AltModifier
#: $CXFIELD_SHOTS/review when a person wants to look at the shots (None: tmp only)
SHOTS = Path(os.environ["CXFIELD_SHOTS"]) / "review" if os.environ.get("CXFIELD_SHOTS") else None


def _twenty_submitted(ctx: AppContext) -> list[str]:
    demo.create_demo(
        ctx.db, 20, submitted=True
    )  # as `cxfield demo --sessions 20 --staff 0 --submitted`
    return [s.id for s in sessions.list_sessions(ctx.db)]


def _active(qtbot: object, window: QMainWindow) -> None:
    window.show()
    qtbot.waitExposed(window)  # type: ignore[attr-defined]
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(window.isActiveWindow)  # type: ignore[attr-defined]
    settle()


def _dialog(qtbot: object) -> CommentDialog:
    def found() -> bool:
        return isinstance(QApplication.focusWidget(), QLineEdit) and isinstance(
            QApplication.focusWidget().window(),
            CommentDialog,  # type: ignore[union-attr]
        )

    qtbot.waitUntil(found)  # type: ignore[attr-defined]
    window = focused().window()
    assert isinstance(window, CommentDialog)
    return window


def _review_view(qtbot: object, queue: QMainWindow, previous: object = None) -> ReviewSessionView:
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: (
            getattr(queue, "view", None) is not None
            and queue.view is not previous  # type: ignore[attr-defined]
            and queue.view.isActiveWindow()
        )  # type: ignore[attr-defined]
    )
    view = queue.view  # type: ignore[attr-defined]
    assert isinstance(view, ReviewSessionView)
    settle()
    return view


def test_supervisor_clears_a_queue_of_twenty_by_keyboard(
    ctx: AppContext, qtbot: object, tmp_path: Path
) -> None:
    ids = _twenty_submitted(ctx)
    assert len(ids) == 20
    review.use_profile(ctx.db, "Sam Lee", "supervisor")
    window = MainWindow(ctx)
    _active(qtbot, window)
    assert window.review_actions.count_label.text() == "20 to review"
    press(Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    queue = window.review_actions.queue
    assert queue is not None
    qtbot.waitUntil(queue.isActiveWindow)  # type: ignore[attr-defined]
    assert focused() is queue.table and queue.table.rowCount() == 20
    oldest = queue.items[0].session.id
    press(Qt.Key.Key_Return)  # opens the oldest in review mode
    view = _review_view(qtbot, queue)
    assert view.session_id == oldest and focused() is view.captures

    # One key comments on the highlighted step; Enter sends it.
    press(Qt.Key.Key_Down)
    step_row = view.captures.currentRow()
    press(Qt.Key.Key_C)
    dialog = _dialog(qtbot)
    assert "About: Step" in dialog.about.text()
    type_text("Was the wait timed?")
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())  # type: ignore[attr-defined]
    [remark] = review.comments_of(ctx.db, oldest)
    steps = [s["step_id"] for s in view.detail["steps"] if s["capture"]]
    assert (remark.anchor, remark.anchor_id) == (AnchorKind.STEP, steps[step_row])
    assert "Was the wait timed?" in view.comments_panel.list.item(0).text()

    # Has issues needs a reason: an empty one is refused in the dialog, nothing changes.
    press(Qt.Key.Key_I, ALT)
    dialog = _dialog(qtbot)
    press(Qt.Key.Key_Return)
    assert dialog.isVisible() and "comment is needed" in dialog.problem.text()
    assert sessions.session_detail(ctx.db, oldest)["status"] == "submitted"
    type_text("Please time the wait.")
    press(Qt.Key.Key_Return)
    view = _review_view(qtbot, queue, view)  # the next session opened by itself
    assert sessions.session_detail(ctx.db, oldest)["status"] == "has_issues"

    # Shots of the review mode and the queue at both sizes, looked at by hand.
    for width, height in SCREENS:
        for name, shown in (("review-view", view), ("queue", queue)):
            shown.resize(width, height)
            settle()
            assert cut_off(shown) == [], (name, width)
            shoot(shown, tmp_path, f"{name}-{width}x{height}")
            if SHOTS is not None:
                SHOTS.mkdir(parents=True, exist_ok=True)
                shown.grab().save(str(SHOTS / f"{name}-{width}x{height}.png"))
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)  # type: ignore[attr-defined]
    view.captures.setFocus()

    # The rest: one rejected (with a reason), the others approved with Alt+A.
    rejected = view.session_id
    press(Qt.Key.Key_J, ALT)
    _dialog(qtbot)
    type_text("Consent form missing.")
    press(Qt.Key.Key_Return)
    view = _review_view(qtbot, queue, view)
    for turn in range(18):
        assert focused().window() is view, (turn, focused(), focused().window())
        press(Qt.Key.Key_A, ALT)
        left = len(review_queue.review_queue(ctx.db))
        assert left == 17 - turn, (turn, left)
        if left:
            view = _review_view(qtbot, queue, view)
    assert review_queue.review_queue(ctx.db) == []
    states = sorted(s.status for s in sessions.list_sessions(ctx.db))
    assert states == ["approved"] * 18 + ["has_issues", "rejected"]
    assert sessions.session_detail(ctx.db, rejected)["status"] == "rejected"
    assert window.review_actions.count_label.text() == ""
    assert view is not None
    view.close()
    queue.close()
    window.close()


def test_researcher_sees_returned_answers_and_resubmits(
    ctx: AppContext, qtbot: object, tmp_path: Path
) -> None:
    ids = _twenty_submitted(ctx)[:1]
    sid = ids[0]
    review.use_profile(ctx.db, "Sam Lee", "supervisor")
    detail = sessions.session_detail(ctx.db, sid)
    step = next(s["step_id"] for s in detail["steps"] if s["capture"])
    review.add_comment(ctx.db, sid, "Which desk?", anchor=AnchorKind.STEP, anchor_id=step)
    review.move(ctx.db, sid, ReviewAction.RETURN, "See the comment.")
    with ctx.db.session() as db:  # the session's researcher is the laptop's profile
        researcher_id = db.get(ResearchSession, sid).researcher_id  # type: ignore[union-attr]
    ctx.db.set_setting("runner.last_researcher", researcher_id)

    window = MainWindow(ctx)
    _active(qtbot, window)
    assert window.review_actions.count_label.text().endswith("returned to you")
    for row in range(window.session_model.rowCount()):
        if window.session_model.session_at(row).id == sid:
            window.session_table.selectRow(row)
    window.session_table.setFocus()
    press(Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    view = window.review_actions.view
    assert view is not None
    qtbot.waitUntil(view.isActiveWindow)  # type: ignore[attr-defined]
    assert not view.buttons[ReviewAction.APPROVE].isVisible()
    assert "See the comment." in view.state_label.text()
    view.comments_panel.list.setFocus()
    press(Qt.Key.Key_R)
    _dialog(qtbot)
    type_text("Desk 4.")
    press(Qt.Key.Key_Return)
    [thread] = review.threads(review.comments_of(ctx.db, sid))
    assert [r.text for r in thread.replies] == ["Desk 4."]
    view.captures.setFocus()
    press(Qt.Key.Key_U, ALT)
    _dialog(qtbot)
    type_text("Answered.")
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sessions.session_detail(ctx.db, sid)["status"] == "submitted")  # type: ignore[attr-defined]
    # History tab (Alt+H): the return, the comments and the resubmission, with authors.
    view.captures.setFocus()
    press(Qt.Key.Key_H, ALT)
    assert view.tabs.currentWidget() is view.history
    table = view.history.table
    rows = [
        tuple(table.item(r, c).text() for c in range(table.columnCount()))
        for r in range(table.rowCount())
    ]
    assert any(
        r[1] == "Sam Lee"
        and r[2] == "Session status"
        and r[4] == "has_issues — “See the comment.”"  # the move with its reason
        for r in rows
    )
    assert any(r[2] == "Comment" and r[4] == "Desk 4." for r in rows)
    assert rows[-1][2] == "Session status" and rows[-1][4] == "submitted — “Answered.”"
    for width, height in SCREENS:
        view.resize(width, height)
        settle()
        assert cut_off(view) == [], width
        shoot(view, tmp_path, f"history-{width}x{height}")
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            view.grab().save(str(SHOTS / f"history-{width}x{height}.png"))
    view.close()
    window.close()


def test_researcher_clears_returned_to_you_with_comments_beside_the_items(
    ctx: AppContext, qtbot: object
) -> None:
    """Review → Returned to you (Ctrl+Shift+Q for a researcher): only their returned
    sessions; Enter opens one with each comment in the row of the step or note it is about;
    Alt+U resubmits with an answer and the next returned session opens."""
    _twenty_submitted(ctx)
    review.use_profile(ctx.db, "Sam Lee", "supervisor")
    with ctx.db.session() as db:
        rows = db.exec(select(ResearchSession.id, ResearchSession.researcher_id)).all()
    mine = [sid for sid, rid in rows if rid == rows[0][1]]
    theirs = next(sid for sid, rid in rows if rid != rows[0][1])
    remarks = {}
    for sid in mine[:2] + [theirs]:
        detail = sessions.session_detail(ctx.db, sid)
        step = [s for s in detail["steps"] if s["capture"]][1]
        review.add_comment(
            ctx.db, sid, f"Check {step['step']}.", anchor=AnchorKind.STEP, anchor_id=step["step_id"]
        )
        note = detail["notes"][0]["id"] if detail["notes"] else None
        if note:
            review.add_comment(ctx.db, sid, "Which letter?", anchor=AnchorKind.NOTE, anchor_id=note)
        review.move(ctx.db, sid, ReviewAction.RETURN, "See the comments.")
        remarks[sid] = (step["step"], note)
    ctx.db.set_setting("runner.last_researcher", rows[0][1])  # the researcher's laptop

    window = MainWindow(ctx)
    _active(qtbot, window)
    assert window.review_actions.count_label.text() == "2 returned to you"
    assert window.review_actions.queue_action.text() == "Returned to &you…"
    press(Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    queue = window.review_actions.queue
    assert queue is not None
    qtbot.waitUntil(queue.isActiveWindow)  # type: ignore[attr-defined]
    assert queue.windowTitle() == "Returned to you"
    assert queue.summary.text() == "2 sessions returned to you, oldest first"
    assert sorted(i.session.id for i in queue.items) == sorted(mine[:2])
    assert focused() is queue.table
    press(Qt.Key.Key_Return)
    view: ReviewSessionView | None = None
    for _turn in range(2):
        view = _review_view(qtbot, queue, view)
        step_name, note = remarks[view.session_id]
        table = view.captures
        column = table.columnCount() - 1
        assert table.horizontalHeaderItem(column).text() == "Comments"
        beside = {
            table.item(r, 1).text(): table.item(r, column).text() for r in range(table.rowCount())
        }
        assert beside[step_name] == f"Sam Lee: Check {step_name}."
        assert all(text == "" for name, text in beside.items() if name != step_name)
        assert table.horizontalHeader().visualIndex(column) == 2  # beside the step's name
        assert not table.isColumnHidden(column)
        if not note:  # no comment on a note: the notes' Comments column takes no room
            assert view.notes.isColumnHidden(view.notes.columnCount() - 1)
        if note:
            notes = view.notes
            assert notes.item(0, notes.columnCount() - 1).text() == "Sam Lee: Which letter?"
        assert not view.buttons[ReviewAction.APPROVE].isVisible()
        assert focused().window() is view
        press(Qt.Key.Key_U, ALT)
        _dialog(qtbot)
        type_text("Fixed.")
        press(Qt.Key.Key_Return)
        qtbot.waitUntil(  # type: ignore[attr-defined]
            lambda sid=view.session_id: (
                sessions.session_detail(ctx.db, sid)["status"] == "submitted"
            )
        )
    assert queue.items == []
    assert sessions.session_detail(ctx.db, theirs)["status"] == "has_issues"
    assert window.review_actions.count_label.text() == ""
    assert view is not None
    view.close()
    queue.close()
    window.close()


def test_an_approved_session_does_not_open_in_the_runner(
    ctx: AppContext, qtbot: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Approved sessions are read-only: Edit in runner (Alt+E in the session view) says so
    in one line and keeps the view open; no runner opens (its lock is not kept); reopened
    by a supervisor, the session opens in the runner again."""
    sid = _twenty_submitted(ctx)[0]
    review.use_profile(ctx.db, "Sam Lee", "supervisor")
    review.move(ctx.db, sid, ReviewAction.APPROVE)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: warned.append(text))
    window = MainWindow(ctx)
    _active(qtbot, window)
    for row in range(window.session_model.rowCount()):
        if window.session_model.session_at(row).id == sid:
            window.session_table.selectRow(row)
    window.session_table.setFocus()
    press(Qt.Key.Key_Return)  # opens the session view (not the runner: it is not a draft)
    actions = window.capture_actions
    qtbot.waitUntil(lambda: f"view:{sid}" in actions.open_windows)  # type: ignore[attr-defined]
    view = actions.open_windows[f"view:{sid}"]
    qtbot.waitUntil(view.isActiveWindow)  # type: ignore[attr-defined]
    assert focused().window() is view
    press(Qt.Key.Key_E, ALT)  # the button's mnemonic clicks it a moment later
    qtbot.waitUntil(lambda: bool(warned))  # type: ignore[attr-defined]
    assert warned == [
        "This session is approved and can no longer be edited. "
        "A supervisor can reopen it (Review, Reopen: Alt+P)."
    ]
    assert view.isVisible() and f"runner:{sid}" not in actions.open_windows
    assert actions.open_runner(sid) is None and len(warned) == 2
    assert not list((ctx.paths.root / "locks").glob(f"*{sid}*"))

    review.move(ctx.db, sid, ReviewAction.REOPEN, "One step is missing.")
    runner = actions.open_runner(sid)
    assert runner is not None and len(warned) == 2
    runner.close()
    window.close()


def test_one_key_comments_on_a_quote_a_note_and_a_transcript_line(
    ctx: AppContext, qtbot: object, tmp_path: Path
) -> None:
    """C comments on what is highlighted in each tab (keys to whatever has focus): the
    Quote cell of a capture, a note, a transcript line; each comment shows beside it."""
    from cxfield.storage.models import Recording, TranscriptSegment

    ids = _twenty_submitted(ctx)
    sid = next(i for i in ids if sessions.session_detail(ctx.db, i)["notes"])
    import soundfile

    from tests.audio_support import tone

    wav = ctx.paths.root / "recordings" / "x.wav"
    wav.parent.mkdir(exist_ok=True)
    soundfile.write(str(wav), tone(6.0), 16000, subtype="PCM_16")  # a plain WAV plays too
    with ctx.db.session() as db:
        rec = Recording(session_id=sid, path="recordings/x.wav", duration_s=6.0, state="complete")
        db.add(rec)
        db.flush()
        for n, words in enumerate(("I took a number.", "Then I waited two hours.")):
            db.add(
                TranscriptSegment(
                    recording_id=rec.id,
                    session_id=sid,
                    start_s=3.0 * n,
                    end_s=3.0 * n + 2.5,
                    text=words,
                )
            )
    review.use_profile(ctx.db, "Sam Lee", "supervisor")
    view = ReviewSessionView(ctx, sid)
    _active(qtbot, view)
    assert focused() is view.captures
    quote_row = next(
        r
        for r, s in enumerate(s for s in view.detail["steps"] if s["capture"])
        if s["capture"]["quote"]
    )
    for _ in range(quote_row):
        press(Qt.Key.Key_Down)
    for _ in range(6):  # Stage, Step, Rating, Emotions, Intensity, Pain (no comments yet)
        press(Qt.Key.Key_Right)
    assert view.captures.horizontalHeaderItem(view.captures.currentColumn()).text() == "Quote"
    press(Qt.Key.Key_C)
    dialog = _dialog(qtbot)
    assert dialog.about.text().startswith("About: Quote of ")
    type_text("Is this word for word?")
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())  # type: ignore[attr-defined]

    press(Qt.Key.Key_2, ALT)  # Notes and quotes
    assert focused() is view.notes
    press(Qt.Key.Key_C)
    dialog = _dialog(qtbot)
    assert dialog.about.text().startswith("About: Note ")
    type_text("Which letter?")
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())  # type: ignore[attr-defined]

    press(Qt.Key.Key_T, ALT)  # Transcript
    qtbot.waitUntil(lambda: view.tabs.currentWidget() is view.transcript)  # type: ignore[attr-defined]
    if focused() is not view.transcript.table:
        view.transcript.table.setFocus()
    table = view.transcript.table
    second = next(r for r, line in enumerate(view.transcript.rows) if "two hours" in line.text)
    table.selectRow(second)
    press(Qt.Key.Key_C)
    dialog = _dialog(qtbot)
    assert dialog.about.text().startswith("About: Transcript 00:03")
    type_text("Two hours, really?")
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())  # type: ignore[attr-defined]

    made = {c.text: (c.anchor, c.anchor_id) for c in review.comments_of(ctx.db, sid)}
    step_id = [s for s in view.detail["steps"] if s["capture"]][quote_row]["step_id"]
    note_id = view.detail["notes"][0]["id"]
    segment_id = view.transcript.rows[second].id
    assert made == {
        "Is this word for word?": (AnchorKind.QUOTE, step_id),
        "Which letter?": (AnchorKind.NOTE, note_id),
        "Two hours, really?": (AnchorKind.SEGMENT, segment_id),
    }
    last = view.captures.columnCount() - 1
    assert (
        view.captures.item(quote_row, last).text()
        == "On the quote: Sam Lee: Is this word for word?"
    )
    assert view.notes.item(0, view.notes.columnCount() - 1).text() == "Sam Lee: Which letter?"
    tinted = [
        r
        for r in range(table.rowCount())
        if table.item(r, 0).background().color().name() == "#fff3c4"
    ]
    # the segment, and the commented note where it shows among the lines
    noted = [r for r, line in enumerate(view.transcript.rows) if line.id == note_id]
    assert tinted == sorted([second, *noted])
    assert "Two hours, really?" in table.item(second, 0).toolTip()
    for width, height in SCREENS:
        view.resize(width, height)
        settle()
        assert cut_off(view) == [] and view.width() == width, width
        shoot(view, tmp_path, f"transcript-comments-{width}x{height}")
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            view.grab().save(str(SHOTS / f"transcript-comments-{width}x{height}.png"))
    view.close()


def test_alt_number_opens_the_tab_shown_at_that_place(ctx: AppContext, qtbot: object) -> None:
    """The interview's Observation times tab is hidden: Alt+3 is the Transcript, Alt+4 the
    History (keys to whatever has focus)."""
    _twenty_submitted(ctx)
    sid = next(s.id for s in sessions.list_sessions(ctx.db) if s.mode == "interview")
    review.use_profile(ctx.db, "Sam Lee", "supervisor")
    view = ReviewSessionView(ctx, sid)
    _active(qtbot, view)
    assert not view.tabs.isTabVisible(view.times_index)
    for key, page in (
        (Qt.Key.Key_3, view.transcript),
        (Qt.Key.Key_4, view.history),
        (Qt.Key.Key_2, view.notes),
        (Qt.Key.Key_9, view.notes),  # no ninth tab: nothing changes
    ):
        press(key, ALT)
        assert view.tabs.currentWidget() is page, key
    view.close()


def test_offline_supervisor_profile_chosen_in_the_app(
    ctx: AppContext, qtbot: object, tmp_path: Path
) -> None:
    """Review → Your profile…: offline, a new name with the Supervisor role makes this
    laptop review its sessions (the count appears); an empty name is refused in the dialog;
    an existing profile keeps its role; connected to a hub, the account decides."""
    from cxfield.gui.review.profile_dialog import ProfileDialog
    from cxfield.storage.actor import ACCOUNT_KEY

    _twenty_submitted(ctx)
    window = MainWindow(ctx)
    _active(qtbot, window)
    assert window.review_actions.count_label.text() == ""  # a researcher: nothing came back
    dialog = window.review_actions.choose_profile()
    qtbot.waitUntil(lambda: focused().window() is dialog)  # type: ignore[attr-defined]
    press(Qt.Key.Key_Return)  # no name yet: refused, nothing changes
    assert dialog.isVisible() and dialog.problem.text()
    type_text("Sam Lee")
    assert dialog.problem.isHidden()  # the refusal went with the empty name
    press(Qt.Key.Key_Tab)
    assert focused() is dialog.role
    press(Qt.Key.Key_Down)
    assert dialog.role.currentData() == "supervisor"
    for width, height in SCREENS:
        window.resize(width, height)
        settle()
        shoot(dialog, tmp_path, f"profile-{width}x{height}")
        if SHOTS is not None:
            SHOTS.mkdir(parents=True, exist_ok=True)
            window.grab().save(str(SHOTS / f"profile-window-{width}x{height}.png"))
            dialog.grab().save(str(SHOTS / f"profile-dialog-{width}x{height}.png"))
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())  # type: ignore[attr-defined]
    assert review.current_actor(ctx.db).is_reviewer
    assert window.review_actions.count_label.text() == "20 to review"
    assert window.review_actions.queue_action.text() == "&Queue…"

    again = ProfileDialog(ctx, window)
    assert again.name.currentText() == "Sam Lee" and not again.role.isEnabled()
    assert again.role.currentData() == "supervisor"
    ctx.db.set_setting(ACCOUNT_KEY, {"id": "a1", "name": "Kim", "role": "researcher"})
    connected = ProfileDialog(ctx, window)
    assert "the hub account decides" in connected.current.text()
    assert not connected.name.isEnabled() and not connected.role.isEnabled()
    window.close()


def test_a_decision_comment_shows_as_typed(ctx: AppContext, qtbot: object) -> None:
    """The decision line is rich text: a comment with "<" and "&" is shown as typed."""
    demo.create_demo(ctx.db, 1, submitted=True)
    [sid] = [s.id for s in sessions.list_sessions(ctx.db)]
    review.use_profile(ctx.db, "Sam Lee", "supervisor")
    review.move(ctx.db, sid, ReviewAction.RETURN, "Use <desk 4> & the form")
    view = ReviewSessionView(ctx, sid)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    _active(qtbot, view)
    assert "Use &lt;desk 4&gt; &amp; the form" in view.state_label.text()
    view.close()
