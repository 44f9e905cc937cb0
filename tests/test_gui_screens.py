"""Every capture screen opens on the demo data at 1366×768 and does its main job."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.domain import rules  # noqa: E402
from cxfield.services import (  # noqa: E402
    capture,
    demo,
    journey_editor,
    participants,
    sessions,
    studies,
    survey_answers,
)

pytestmark = pytest.mark.qt


def _shot(widget: Any, path: Path, size: tuple[int, int] = (1366, 768)) -> None:
    widget.resize(*size)
    widget.show()
    QApplication.processEvents()
    assert widget.grab().save(str(path))
    assert widget.width() <= size[0]  # fits a 1366×768 laptop


@pytest.fixture
def study_id(ctx: AppContext) -> str:
    return demo.create_demo(ctx.db, 12).id


def test_main_window_menus_and_toolbar(
    qtbot: Any, ctx: AppContext, study_id: str, tmp_path: Path
) -> None:
    from cxfield.gui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    _shot(window, tmp_path / "main.png")
    actions = window.capture_actions.actions
    for key in ("new", "edit", "participants", "start", "open", "map", "map_edit"):
        assert key in actions
    assert actions["start"].shortcut().toString() == "Ctrl+R"
    assert actions["map"].shortcut().toString() == "Ctrl+M"


def test_journey_map_view_with_segments(
    qtbot: Any, ctx: AppContext, study_id: str, tmp_path: Path
) -> None:
    from cxfield.gui.journey.journey_map_view import JourneyMapView

    view = JourneyMapView(ctx, study_id)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.canvas.data is not None, timeout=5000)
    _shot(view, tmp_path / "map.png")
    data = view.canvas.data
    assert data is not None and data.sessions == 12
    wait = next(s for s in data.journey.steps if s.name == "Wait")
    assert data.aggregates[wait.id].valence.mean is not None
    assert "Wait" in view.canvas.accessibleDescription()
    view.segment.setCurrentIndex(view.segment.findData("language"))
    qtbot.waitUntil(lambda: view.segments_flow.count() > 0, timeout=5000)
    curves = view._cache["language"].segments
    assert curves is not None and sum(curves.sessions.values()) == 10  # 2 observations
    assert view.segments_box.height() > 200
    from cxfield.gui.journey.journey_map_view import SegmentCurvePanel

    names = [p.accessibleName() for p in view.findChildren(SegmentCurvePanel)]
    assert any(n.startswith("Spanish — 1 session —") for n in names), names  # not "1 sessions"
    _shot(view, tmp_path / "map-language.png")


def test_journey_map_fills_a_large_screen_and_zooms_by_keyboard(
    qtbot: Any, ctx: AppContext, study_id: str, tmp_path: Path
) -> None:
    from cxfield.gui.journey.journey_map_view import JourneyMapView

    view = JourneyMapView(ctx, study_id)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.canvas.data is not None, timeout=5000)
    _shot(view, tmp_path / "map-large.png", (2560, 1440))
    base = view.canvas.base_size().width()
    assert view.canvas.zoom > 1.4 and view.canvas.width() > 2400  # not a small picture in a corner
    fitted = view.canvas.zoom
    view.activateWindow()
    QTest.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.canvas.zoom == pytest.approx(fitted * 0.8)
    QTest.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.canvas.zoom == pytest.approx(fitted, rel=0.05)  # the whole map, both ways
    view.resize(1366, 768)
    QApplication.processEvents()
    assert view.canvas.zoom < 1.0  # after Ctrl+0 it keeps fitting (tests/test_gui_journey_map)
    small = JourneyMapView(ctx, study_id)
    qtbot.addWidget(small)
    _shot(small, tmp_path / "map-small.png")
    qtbot.waitUntil(lambda: small.canvas.data is not None, timeout=5000)
    QApplication.processEvents()
    assert small.canvas.zoom == 1.0 and small.canvas.width() == base  # opens readable


def test_session_view_tabs_and_seam(
    qtbot: Any, ctx: AppContext, study_id: str, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QLabel

    from cxfield.gui.session_view import SessionView

    rows = sessions.list_sessions(ctx.db, study_id)
    observed = next(r for r in rows if r.mode == "observation")
    view = SessionView(ctx, observed.id)
    qtbot.addWidget(view)
    assert view.tabs.isTabVisible(view.times_index) and view.times.rowCount() == 6
    index = view.add_tab("Transcript", QLabel("seam"))
    assert view.tabs.tabText(index) == "Transcript"
    _shot(view, tmp_path / "session-view.png")


def test_session_view_notes_edit_remove_undo(
    qtbot: Any, ctx: AppContext, study_id: str, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QInputDialog

    from cxfield.gui.session_view import SessionView

    rows = sessions.list_sessions(ctx.db, study_id)

    def with_notes(status: str) -> Any:
        return next(
            r for r in rows
            if r.status == status and sessions.session_detail(ctx.db, r.id)["notes"]
        )  # fmt: skip

    submitted, approved = with_notes("submitted"), with_notes("approved")
    view = SessionView(ctx, submitted.id)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.tabs.setCurrentWidget(view.notes)
    view.notes.setCurrentCell(0, 3)
    first = view.detail["notes"][0]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Reworded #idea", True))
    view.notes.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.notes)
    QTest.keyClick(view.notes, Qt.Key.Key_F2)
    edited = sessions.session_detail(ctx.db, submitted.id)["notes"][0]
    assert (edited["id"], edited["text"], edited["tags"]) == (first["id"], "Reworded", ["idea"])
    count = len(view.detail["notes"])
    view.notes.setCurrentCell(0, 3)
    QTest.keyClick(view.notes, Qt.Key.Key_Delete)
    assert len(sessions.session_detail(ctx.db, submitted.id)["notes"]) == count - 1
    QTest.keyClick(view.notes, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(sessions.session_detail(ctx.db, submitted.id)["notes"]) == count

    # A reviewed session's notes are kept as reviewed: the change is refused with a message.
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: warnings.append(text))
    locked = SessionView(ctx, approved.id)
    qtbot.addWidget(locked)
    locked.show()
    qtbot.waitExposed(locked)
    locked.activateWindow()
    locked.tabs.setCurrentWidget(locked.notes)
    before = sessions.session_detail(ctx.db, approved.id)["notes"]
    locked.notes.setCurrentCell(0, 3)
    locked.notes.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is locked.notes)
    QTest.keyClick(locked.notes, Qt.Key.Key_Delete)
    assert warnings and "approved" in warnings[-1]
    assert sessions.session_detail(ctx.db, approved.id)["notes"] == before


def test_study_and_journey_editors(
    qtbot: Any, ctx: AppContext, study_id: str, monkeypatch: Any, tmp_path: Path
) -> None:
    from cxfield.gui.journey.journey_editor import JourneyEditorDialog
    from cxfield.gui.study_editor import StudyEditorDialog

    editor = StudyEditorDialog(ctx, study_id)
    qtbot.addWidget(editor)
    editor.consent.setPlainText("A new consent text.")
    editor.emotions.setText("rushed, ignored, relieved, hopeful again")
    editor._save()
    study = studies.get_study(ctx.db, study_id)
    assert study.consent_version == 2 and study.extra_emotions == [
        "rushed",
        "ignored",
        "hopeful again",
    ]

    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: warnings.append(text))
    editor = StudyEditorDialog(ctx, study_id)
    qtbot.addWidget(editor)
    editor.name.setText("   ")
    editor._save()
    assert warnings and "must not be empty" in warnings[-1]
    assert studies.get_study(ctx.db, study_id).name.startswith("Demo")

    # The "commitment" trust question names a population: it is asked for, then filled in.
    editor = StudyEditorDialog(ctx, study_id)
    qtbot.addWidget(editor)
    assert not editor.population.isEnabled()
    editor.trust.setCurrentIndex(editor.trust.findData("commitment"))
    assert editor.population.isEnabled()
    editor._save()
    assert "population" in warnings[-1]
    assert studies.get_study(ctx.db, study_id).survey_trust_variant == "confidence"
    editor.population.setText("  working   families ")
    editor.tabs.setCurrentIndex(3)
    _shot(editor, tmp_path / "study-editor-survey.png", (900, 600))
    editor._save()
    study = studies.get_study(ctx.db, study_id)
    assert (study.survey_trust_variant, study.a11_population) == ("commitment", "working families")
    trust = survey_answers.survey_questions(study)[1]
    assert trust.text.endswith("commitment to working families.")

    dialog = JourneyEditorDialog(ctx, study_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    QApplication.processEvents()
    first_stage = dialog.tree.topLevelItem(0)
    assert first_stage is not None
    dialog.tree.setCurrentItem(first_stage.child(0))  # "Check in"
    dialog.tree.setFocus()
    QTest.keyClick(dialog.tree, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    names = [s.name for s in studies.get_journey(ctx.db, study_id).stages[0].steps]
    assert names[:2] == ["Greet and triage", "Check in"]
    dialog.name.setText("Check in at the kiosk")
    dialog.name.editingFinished.emit()
    assert studies.get_journey(ctx.db, study_id).stages[0].steps[1].name == "Check in at the kiosk"

    # Delete a step that holds captures (asked first), then Ctrl+Z brings it back with them.
    wait = next(s for s in studies.get_journey(ctx.db, study_id).steps if s.name == "Wait")
    held = journey_editor.capture_count(ctx.db, wait.id)
    assert held > 0
    asked: list[str] = []

    def yes(_parent: Any, _title: str, text: str, *a: Any) -> Any:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    dialog.reload(wait.id)
    dialog.tree.setFocus()
    QTest.keyClick(dialog.tree, Qt.Key.Key_Delete)
    assert asked and f"{held} capture(s)" in asked[-1]
    assert "Wait" not in [s.name for s in studies.get_journey(ctx.db, study_id).steps]
    QTest.keyClick(dialog.tree, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    back = next(s for s in studies.get_journey(ctx.db, study_id).steps if s.name == "Wait")
    assert back.id == wait.id and journey_editor.capture_count(ctx.db, wait.id) == held
    assert journey_editor.deleted_steps(ctx.db, study_id) == []


def test_consent_dialog_and_start_session(qtbot: Any, ctx: AppContext, study_id: str) -> None:
    from cxfield.gui.participants_dialog import ConsentDialog, ParticipantsDialog
    from cxfield.gui.runner.start_session import StartSessionDialog

    dialog = ConsentDialog(ctx, study_id)
    qtbot.addWidget(dialog)
    assert not dialog.recording.isEnabled()  # no recording consent without interview consent
    dialog.interview.setChecked(True)
    assert dialog.recording.isEnabled()
    dialog.segment_boxes["language"].setCurrentIndex(
        dialog.segment_boxes["language"].findData("Spanish")
    )
    dialog._save()
    info = participants.participant_info(ctx.db, dialog.participant_id or "")
    prefix = rules.device_prefix(ctx.db.device_id)  # the demo's own codes are P-001 ...
    assert info.participant.code == f"P-{prefix}-001" and info.interview_consent
    assert not info.recording_consent and info.participant.segments == {"language": "Spanish"}

    listing = ParticipantsDialog(ctx, study_id)
    qtbot.addWidget(listing)
    assert listing.table.rowCount() == 11

    start = StartSessionDialog(ctx, study_id)
    qtbot.addWidget(start)
    start.participant.setCurrentIndex(start.participant.findData(info.participant.id))
    assert "notes, no recording" in start.consent_note.text()
    start.site.setEditText("Northside Library")
    start._start()
    assert start.session_id is not None
    assert not capture.recording_allowed(ctx.db, start.session_id)
    state = capture.load_runner_state(ctx.db, start.session_id)
    assert state.site is not None and state.site.name == "Northside Library"


def test_resume_offer_opens_runner(
    qtbot: Any, ctx: AppContext, study_id: str, monkeypatch: Any
) -> None:
    from cxfield.gui.main_window import MainWindow
    from cxfield.gui.runner.session_runner import SessionRunner

    session = capture.start_session(ctx.db, study_id, mode="observation")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    offered: list[list[str]] = []

    def pick(_parent: Any, _title: str, _label: str, items: list[str], *a: Any) -> tuple[str, bool]:
        offered.append(items)
        return items[0], True

    monkeypatch.setattr(QInputDialog, "getItem", pick)
    window.capture_actions.offer_resume()
    assert len(offered) == 1
    label = offered[0][0]
    assert "observation" in label and "no participant" in label and "Demo" in label
    runner = window.capture_actions.open_windows[f"runner:{session.id}"]
    assert isinstance(runner, SessionRunner)
    runner.close()


def test_journey_map_median_time_rounds_like_the_report() -> None:
    from cxfield.export.layout import fmt_seconds
    from cxfield.gui.journey.journey_map_canvas import median_text
    from cxfield.services.analysis import DurationStats

    for median in (202.6, 594.7, 59.5, 61.2):
        stats = DurationStats("s", 2, median, median - 30, median + 30)
        assert median_text(stats) == f"{fmt_seconds(median)} (n=2)"


def test_start_up_messages_come_before_the_resume_offer(
    qtbot: Any, ctx: AppContext, study_id: str, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from cxfield.gui.application import _after_start
    from cxfield.gui.main_window import MainWindow

    capture.start_session(ctx.db, study_id, mode="observation")
    ctx.messages.append("Recovered an interrupted recording of session X.")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    events: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "information", lambda _p, _t, text, *a: events.append(f"info:{text}")
    )
    monkeypatch.setattr(
        QInputDialog, "getItem", lambda *a: (events.append("resume"), ("", False))[1]
    )
    _after_start(window, ctx)
    assert events == ["info:Recovered an interrupted recording of session X.", "resume"]
