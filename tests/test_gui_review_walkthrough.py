"""The review as the README's "Trying the review" walks it, on a real `cxfield hub serve`
(SQLite and PostgreSQL): the researcher's laptop makes 20 submitted demo sessions with
`demo --into … --submitted` and syncs; the supervisor clears the queue in the app by
keyboard (keys sent to whatever has focus), returning one with a comment on a step; after
a sync the researcher has it back with the comment beside the step, and History shows
every change with its author."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from cxfield.app import open_app
from cxfield.gui.main_window import MainWindow
from cxfield.services import history, review, review_queue, sessions
from tests.gui_support import focused, press, type_text
from tests.hub_support import HubDatabase, RunningHub, hub_database, hub_server  # noqa: F401
from tests.test_cli import run
from tests.test_gui_review import ALT, _active, _dialog, _review_view


def _cli(data_dir: Path, *args: str) -> str:
    done = run(*args, data_dir=data_dir, no_qt=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_readme_walkthrough_clears_twenty_and_returns_one(
    hub_server: RunningHub,  # noqa: F811
    tmp_path: Path,
    qtbot: object,
) -> None:
    ana, sam = tmp_path / "ana", tmp_path / "sam"
    for who, role, data_dir in (("Ana Lima", "researcher", ana), ("Sam Cole", "supervisor", sam)):
        token = hub_server.add_user(who, role)
        _cli(data_dir, "sync", "connect", hub_server.url, f"--token={token}")
    study = _cli(sam, "demo", "--sessions", "0")
    _cli(sam, "sync")
    _cli(ana, "sync")
    _cli(ana, "demo", "--into", study, "--sessions", "20", "--submitted")
    assert _cli(ana, "sync").startswith("pushed ")
    _cli(sam, "sync")

    ctx = open_app(sam)
    try:
        window = MainWindow(ctx)
        _active(qtbot, window)
        assert window.review_actions.count_label.text() == "20 to review"
        press(Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        queue = window.review_actions.queue
        assert queue is not None
        qtbot.waitUntil(queue.isActiveWindow)  # type: ignore[attr-defined]
        press(Qt.Key.Key_Return)
        view = _review_view(qtbot, queue)
        returned = view.session_id
        press(Qt.Key.Key_Down)
        step = view.captures.item(view.captures.currentRow(), 1).text()
        press(Qt.Key.Key_C)
        _dialog(qtbot)
        type_text("Was the wait timed?")
        press(Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: len(review.comments_of(ctx.db, returned)) == 1)  # type: ignore[attr-defined]
        press(Qt.Key.Key_I, ALT)
        _dialog(qtbot)
        type_text("Please time the wait.")
        press(Qt.Key.Key_Return)
        for left in range(19, 0, -1):
            view = _review_view(qtbot, queue, view)
            assert focused().window() is view
            press(Qt.Key.Key_A, ALT)
            assert len(review_queue.review_queue(ctx.db)) == left - 1
        assert window.review_actions.count_label.text() == ""
        view.close()
        queue.close()
        window.close()
    finally:
        ctx.close()
    _cli(sam, "sync")
    _cli(ana, "sync")

    shown = json.loads(_cli(ana, "review", "list", "--state", "has_issues", "--json"))
    assert [item["id"] for item in shown] == [returned]
    approved = json.loads(_cli(ana, "review", "list", "--state", "approved", "--json"))
    assert len(approved) == 19
    text = _cli(ana, "sessions", "show", returned)
    assert "Returned to you by Sam Cole" in text and "Please time the wait." in text
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if f"/ {step}:" in line)
    block = []  # the step's line is followed by its quote and comments, indented deeper
    for line in lines[at + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    assert "▸ Sam Cole: Was the wait timed?" in " ".join(block), block
    ctx = open_app(ana)
    try:
        assert review_queue.waiting_count(ctx.db).line == "1 returned to you"
        trail = [(e.actor, e.what, e.after) for e in history.session_history(ctx.db, returned)]
        assert trail == [
            ("Sam Cole", "Comment", "Was the wait timed?"),
            ("Sam Cole", "Session status", "has_issues"),
        ]
        assert sessions.session_detail(ctx.db, returned)["status"] == "has_issues"
    finally:
        ctx.close()
