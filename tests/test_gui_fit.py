"""Edit study, participants and the session view at 1366×768 and 1920×1080: nothing cut
off (labels, question wordings, column headers, tabs, buttons), with screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import demo, sessions  # noqa: E402
from tests.gui_support import SCREENS, fits_screen, settle, shoot  # noqa: E402

pytestmark = pytest.mark.qt


@pytest.fixture
def study_id(ctx: AppContext) -> str:
    return demo.create_demo(ctx.db, 12).id


def _check(window: Any, name: str, folder: Path, pages: Any = None) -> list[str]:
    """The window at its own size and filling each screen, every page shown in turn."""
    problems: list[str] = []
    own = window.size()
    window.show()
    for size in [(own.width(), own.height()), *SCREENS]:
        window.resize(*size)
        settle()
        for page in pages() if pages else [None]:
            label = f"{name}-{size[0]}x{size[1]}" + (f"-{page}" if page is not None else "")
            shoot(window, folder, label)
            problems += [f"{label}: {p}" for p in fits_screen(window, size[:2])]
    return problems


def test_edit_study_reads_in_full(
    qtbot: Any, ctx: AppContext, study_id: str, tmp_path: Path
) -> None:
    from cxfield.gui.study_editor import StudyEditorDialog

    editor = StudyEditorDialog(ctx, study_id)
    qtbot.addWidget(editor)
    editor.show()
    settle()
    # the longest wording of each question is shown in full, beside its label's full text
    editor.tabs.setCurrentIndex(3)
    editor.trust.setCurrentIndex(editor.trust.findData("commitment"))

    def pages() -> Any:
        for index in range(editor.tabs.count()):
            editor.tabs.setCurrentIndex(index)
            settle()
            yield index

    assert _check(editor, "edit-study", tmp_path, pages) == []
    assert editor.trust.currentText().startswith("I trust [Agency] to fulfill")


def test_participants_read_in_full(
    qtbot: Any, ctx: AppContext, study_id: str, tmp_path: Path
) -> None:
    from cxfield.gui.participants_dialog import ConsentDialog, ParticipantsDialog

    listing = ParticipantsDialog(ctx, study_id)
    qtbot.addWidget(listing)
    assert _check(listing, "participants", tmp_path) == []
    consent = ConsentDialog(ctx, study_id)
    qtbot.addWidget(consent)
    assert _check(consent, "consent", tmp_path) == []


def test_session_view_reads_in_full(
    qtbot: Any, ctx: AppContext, study_id: str, tmp_path: Path
) -> None:
    from cxfield.gui.session_view import SessionView

    rows = sessions.list_sessions(ctx.db, study_id)
    for summary in (
        next(r for r in rows if r.mode == "interview" and r.status == "submitted"),
        next(r for r in rows if r.mode == "observation"),
    ):
        view = SessionView(ctx, summary.id)
        qtbot.addWidget(view)

        def pages(view: Any = view) -> Any:
            for index in range(view.tabs.count()):
                if view.tabs.isTabVisible(index):
                    view.tabs.setCurrentIndex(index)
                    settle()
                    yield index

        assert _check(view, f"session-view-{summary.mode}", tmp_path, pages) == []
        view.close()
