from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import demo  # noqa: E402

pytestmark = pytest.mark.qt


def test_main_window_shows_demo_study(qtbot: object, ctx: AppContext, tmp_path: Path) -> None:
    from cxfield.gui.main_window import MainWindow

    demo.create_demo(ctx.db, 5)
    window = MainWindow(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    assert window.study_list.count() == 1
    assert "Demo: Benefits office visit" in window.study_list.item(0).text()
    assert window.session_model.rowCount() == 5
    assert window.grab().save(str(tmp_path / "main.png"))


def test_main_window_empty_state(qtbot: object, ctx: AppContext) -> None:
    from cxfield.gui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    assert "No studies yet" in window.study_title.text()


def test_no_two_actions_share_a_shortcut(qtbot: object, ctx: AppContext) -> None:
    """An ambiguous shortcut makes Qt fire neither action."""
    from PySide6.QtGui import QAction

    from cxfield.gui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    seen: dict[str, str] = {}
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            text = key.toString()
            assert text not in seen, f"{text} used by {seen[text]!r} and {action.text()!r}"
            seen[text] = action.text()
    assert "Ctrl+E" in seen and "Ctrl+Shift+E" in seen


def test_one_window_per_session(qtbot: object, ctx: AppContext) -> None:
    """Opening a session again brings its window forward instead of a second one (which
    would free the first while its transcript may still be running)."""
    from cxfield.gui.main_window import MainWindow
    from cxfield.services import sessions

    study = demo.create_demo(ctx.db, 5)
    window = MainWindow(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    rows = sessions.list_sessions(ctx.db, study.id)
    done = next(r for r in rows if r.status != "draft")
    draft = next(r for r in rows if r.status == "draft")
    actions = window.capture_actions
    actions.open_view(done.id)
    first = actions.open_windows[f"view:{done.id}"]
    actions.open_view(done.id)
    assert actions.open_windows[f"view:{done.id}"] is first and first.isVisible()
    runner = actions.open_runner(draft.id)
    assert runner is not None and actions.open_runner(draft.id) is runner
    runner.close()
    first.close()


def test_session_counts_are_singular_for_one(qtbot: object, ctx: AppContext) -> None:
    """The study list and the title said "1 sessions"."""
    from cxfield.gui.main_window import MainWindow

    demo.create_demo(ctx.db, 1, name="Pilot")
    demo.create_demo(ctx.db, 0, name="Planned")
    window = MainWindow(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    texts = {window.study_list.item(i).text().split("\n")[0]: window.study_list.item(i).text()
             for i in range(window.study_list.count())}  # fmt: skip
    assert texts["Pilot"].endswith("· 1 session") and texts["Planned"].endswith("· 0 sessions")
    window.study_list.setCurrentRow(list(texts).index("Pilot"))
    assert window.study_title.text().endswith("<br>1 session")
