"""Focus is always drawn as a thick blue frame (README), on every focusable widget type the
app uses: found by walking each screen with Tab, as a keyboard user does."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import (  # noqa: E402
    QCheckBox,
    QComboBox,
    QLineEdit,
    QListView,
    QPushButton,
    QRadioButton,
    QTabBar,
    QTableView,
)

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import demo, sessions  # noqa: E402
from tests.gui_support import (  # noqa: E402
    focus_frame_drawn,
    focused,
    settle,
    show_active,
    walk_tab,
)

pytestmark = pytest.mark.qt


@pytest.fixture
def study_id(ctx: AppContext) -> str:
    return demo.create_demo(ctx.db, 12).id


def _walk_and_check(qtbot: Any, window: Any, start: Any) -> set[type]:
    """Tab through the window: each widget that takes focus shows the frame, and loses it
    again when focus moves on.  Returns the widget types seen."""
    show_active(qtbot, window)
    start.setFocus()
    qtbot.waitUntil(lambda: focused() is start)
    without: list[str] = []
    walked = walk_tab()
    for widget in walked:
        widget.setFocus()
        qtbot.waitUntil(lambda w=widget: focused() is w)
        settle()
        if not focus_frame_drawn(widget):
            without.append(f"{type(widget).__name__} {widget.accessibleName()!r}")
    assert without == [], f"no focus frame on: {without}"
    walked[1].setFocus()
    qtbot.waitUntil(lambda: focused() is walked[1])
    settle()
    assert not focus_frame_drawn(walked[0])  # the frame is the focus, not a decoration
    return {type(w) for w in walked}


def _has(types: set[type], *wanted: type) -> bool:
    return all(any(issubclass(t, w) for t in types) for w in wanted)


def test_main_window_studies_and_sessions(qtbot: Any, ctx: AppContext, study_id: str) -> None:
    from cxfield.gui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    types = _walk_and_check(qtbot, window, window.study_list)
    assert _has(types, QListView, QTableView)


def test_edit_study_tabs_fields_and_buttons(qtbot: Any, ctx: AppContext, study_id: str) -> None:
    from cxfield.gui.study_editor import StudyEditorDialog

    editor = StudyEditorDialog(ctx, study_id)
    qtbot.addWidget(editor)
    seen: set[type] = set()
    for index in range(editor.tabs.count()):
        editor.tabs.setCurrentIndex(index)
        seen |= _walk_and_check(qtbot, editor, editor.tabs.tabBar())
    assert _has(seen, QTabBar, QLineEdit, QComboBox, QPushButton, QTableView)


def test_export_dialog(qtbot: Any, ctx: AppContext, study_id: str) -> None:
    from cxfield.gui.export_dialog import ExportDialog

    session = sessions.list_sessions(ctx.db, study_id)[0]
    dialog = ExportDialog(ctx, study_id, "Demo", (session.id, "P-001"))
    qtbot.addWidget(dialog)
    dialog.kind_buttons["report"].setChecked(True)  # shows the filters too
    types = _walk_and_check(qtbot, dialog, dialog.kind_buttons["report"])
    assert _has(types, QRadioButton, QCheckBox, QLineEdit, QComboBox, QPushButton)


def test_participants_and_session_view(qtbot: Any, ctx: AppContext, study_id: str) -> None:
    from cxfield.gui.participants_dialog import ParticipantsDialog
    from cxfield.gui.session_view import SessionView

    listing = ParticipantsDialog(ctx, study_id)
    qtbot.addWidget(listing)
    assert _has(_walk_and_check(qtbot, listing, listing.table), QTableView, QPushButton)
    listing.close()
    done = next(s for s in sessions.list_sessions(ctx.db, study_id) if s.status == "submitted")
    view = SessionView(ctx, done.id)
    qtbot.addWidget(view)
    view.tabs.setCurrentWidget(view.notes)
    assert _has(_walk_and_check(qtbot, view, view.tabs.tabBar()), QTabBar, QTableView)
