"""Staff research and operations data on screen, at 1366×768 and 1920×1080: the runner for
a staff member (the steps their role takes part in, no customer survey), the journey map
with both curves and the operations lane, and the import dialog used with the keyboard only
(keys to whatever has the focus).  Screenshots go to CXFIELD_SCREENSHOTS when set."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QComboBox, QPushButton  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.domain.rules import device_prefix
from cxfield.services import capture, ops_analysis, participants  # noqa: E402
from tests.gui_support import (  # noqa: E402
    SCREENS,
    fits_screen,
    focused,
    label_needs,
    press,
    settle,
    shoot,
    type_text,
)
from tests.staff_support import T0, office, ticket, write_queue  # noqa: E402
from tests.test_gui_runner_fit import _check_fits  # noqa: E402
from tests.test_staff_report import _study_with_both_sides  # noqa: E402

pytestmark = pytest.mark.qt
CTRL = Qt.KeyboardModifier.ControlModifier


def _runner(qtbot: Any, ctx: AppContext, session_id: str) -> Any:
    from cxfield.gui.runner.session_runner import SessionRunner

    runner = SessionRunner(ctx, session_id)
    qtbot.addWidget(runner)
    runner.show()
    qtbot.waitExposed(runner)
    runner.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    settle()
    return runner


@pytest.mark.parametrize("size", SCREENS)
def test_runner_walks_a_staff_members_steps(
    qtbot: Any, ctx: AppContext, tmp_path: Path, size: tuple[int, int]
) -> None:
    study, steps = office(ctx)
    worker = participants.add_participant(
        ctx.db, study.id, {"years_in_post": "1–5"}, kind="staff", role="front desk"
    )
    participants.record_consent(ctx.db, worker.id, interview=True, recording=False)
    session = capture.start_session(ctx.db, study.id, participant_id=worker.id, now=T0).id
    runner = _runner(qtbot, ctx, session)
    runner.resize(*size)
    settle()
    code = f"S-{device_prefix(ctx.db.device_id)}-001"
    assert runner.participant_label.text() == f"{code} · staff, front desk"
    # the front desk takes part in check-in, triage and the wait (the template says so)
    names = {v: k for k, v in steps.items()}
    assert [names[s] for s in runner.walk_order()] == ["Check in", "Greet and triage", "Wait"]
    # the list shows only those steps (and the stages they are in)
    listed = [
        (head.text(0), [head.child(k).data(0, Qt.ItemDataRole.UserRole)
                        for k in range(head.childCount()) if not head.child(k).isHidden()])
        for head in (runner.steps.topLevelItem(i) for i in range(runner.steps.topLevelItemCount()))
        if not head.isHidden()
    ]  # fmt: skip
    assert listed == [("ARRIVE", [steps["Check in"], steps["Greet and triage"], steps["Wait"]])]
    assert runner.current == steps["Check in"]
    assert "How did doing the work at “Check in” feel?" in runner.panel.feel_label.text()
    press(Qt.Key.Key_PageDown)
    press(Qt.Key.Key_PageDown)
    assert runner.current == steps["Wait"]
    press(Qt.Key.Key_1)  # how the work felt: very negative
    press(Qt.Key.Key_P)
    press(Qt.Key.Key_PageDown)  # the last of their steps: no survey after it
    assert runner.current == steps["Wait"]
    runner.steps.setFocus()  # in the list, Down passes no hidden step: Wait is the last
    qtbot.waitUntil(lambda: QApplication.focusWidget() is runner.steps)
    press(Qt.Key.Key_Down)
    assert runner.current == steps["Wait"]
    press(Qt.Key.Key_Escape)  # back to the panel's keys
    press(Qt.Key.Key_U, CTRL)
    assert "asks customers, not staff" in runner.status.text()
    assert not runner.has_survey
    runner._flush_all()
    saved = capture.load_runner_state(ctx.db, session).captures[steps["Wait"]]
    assert (saved.valence, saved.pain_point) == (-2, True)
    assert "PgDn/PgUp their step" in runner.help_line.text()
    assert runner.panel.quote.placeholderText() == "The staff member's own words…"
    shoot(runner, tmp_path, f"runner-staff-{size[0]}x{size[1]}")
    # as every runner: two rows on top, the key line whole (the session line may end in
    # "…", its whole text in the tooltip), the faces uncut; the code and role in full
    _check_fits(runner, size, "staff")
    label = runner.participant_label
    assert label.contentsRect().width() >= label_needs(label)
    runner.close()


@pytest.mark.parametrize("size", SCREENS)
def test_journey_map_shows_both_curves_and_the_operations_lane(
    qtbot: Any, ctx: AppContext, tmp_path: Path, size: tuple[int, int]
) -> None:
    from cxfield.gui.journey.journey_map_view import JourneyMapView

    study_id, _steps = _study_with_both_sides(ctx, tmp_path)
    view = JourneyMapView(ctx, study_id)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitUntil(lambda: view.canvas.data is not None, timeout=5000)
    settle()
    labels = [label for label, _h, _cell in view.canvas.row_specs()]
    assert labels == [
        "Pain points",
        "Staff pain points",
        "Observed time",
        "Operations: median · p90 · customers",
        "Time and feeling (correlation)",
        "What people said",
    ]
    assert view.sides.isVisible() and "agree this step hurts" in view.sides.text()
    # the notes under the map wrap at the window's width, never past it
    assert view.sides.width() <= view.scroller.viewport().width()
    shoot(view, tmp_path, f"journey-map-staff-ops-{size[0]}x{size[1]}")
    view.scroller.verticalScrollBar().setValue(view.scroller.verticalScrollBar().maximum())
    shoot(view, tmp_path, f"journey-map-staff-ops-{size[0]}x{size[1]}-lower")
    assert fits_screen(view, size) == []
    press(Qt.Key.Key_0, CTRL)  # the whole picture fits across; the notes scroll below it
    assert not view.scroller.horizontalScrollBar().isVisible()
    assert view.canvas.height() <= view.scroller.viewport().height()
    settle()
    # ... and the whole of it is in view, from the stage headers down (it was scrolled down)
    top = view.canvas.mapTo(view.scroller.viewport(), view.canvas.rect().topLeft()).y()
    assert top >= 0 and top + view.canvas.height() <= view.scroller.viewport().height()
    shoot(view, tmp_path, f"journey-map-staff-ops-{size[0]}x{size[1]}-fit")


def _tab_to(name: str, limit: int = 40) -> None:
    for _ in range(limit):
        if focused().accessibleName() == name or (
            isinstance(focused(), QPushButton) and focused().text() == name  # type: ignore[attr-defined]
        ):
            return
        press(Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {name!r}; at {focused()!r}")


@pytest.mark.parametrize("size", SCREENS)
def test_import_dialog_with_the_keyboard(
    qtbot: Any, ctx: AppContext, tmp_path: Path, size: tuple[int, int]
) -> None:
    from cxfield.gui.ops_import_dialog import OpsImportDialog

    study, steps = office(ctx)
    rows = [
        ticket(n, "Eastside", T0 + timedelta(minutes=9 * n), 600 + 60 * n, 300) for n in range(6)
    ]
    path = write_queue(tmp_path / "queue.csv", rows)
    dialog = OpsImportDialog(ctx, study.id)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    dialog.path.setFocus()
    settle()
    type_text(str(path))
    press(Qt.Key.Key_Tab)  # leaving the field loads the preview
    assert dialog.preview is not None and dialog.preview.rows == 6
    assert dialog.sample.columnCount() == 5 and dialog.sample.rowCount() == 6
    headers = [dialog.sample.horizontalHeaderItem(i).text() for i in range(5)]
    assert headers == ["ticket", "office", "⏱ issued", "⏱ called", "⏱ closed"]
    # the guesses: the office names the site, "closed" ends the last step
    assert dialog.combos["office"].currentData() == "__site__"
    assert dialog.combos["closed"].currentData() == "__end__"
    assert not dialog.import_button.isEnabled()  # no step chosen yet
    _tab_to("Column issued")
    for _ in range(3):  # — not used —, 1. Check in, 2. Greet and triage, 3. Wait
        press(Qt.Key.Key_Down)
    _tab_to("Column called")
    for _ in range(4):
        press(Qt.Key.Key_Down)
    assert isinstance(focused(), QComboBox)
    assert "issued opens 3. Wait → called opens 4. Intake interview" in dialog.order.text()
    assert "closed ends the last step; sites from office" in dialog.order.text()
    press(Qt.Key.Key_Return)  # Enter in a field imports nothing
    assert ops_analysis.ops_summary(ctx.db, study.id).empty
    dialog.resize(*size)
    shoot(dialog, tmp_path, f"ops-import-{size[0]}x{size[1]}")
    assert fits_screen(dialog, size) == []
    _tab_to("&Import")
    qtbot.waitUntil(lambda: focused() is dialog.import_button)
    from PySide6.QtWidgets import QMessageBox

    answers: list[str] = []

    def close_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            answers.append(box.text())
            box.accept()

    from PySide6.QtCore import QTimer

    QTimer.singleShot(500, close_box)
    press(Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: dialog.imported is not None, timeout=10000)
    qtbot.waitUntil(lambda: bool(answers), timeout=5000)
    assert answers == ["Imported queue.csv: 6 rows, 6 new, 0 already in the study."]
    summary = ops_analysis.ops_summary(ctx.db, study.id)
    wait = summary.steps[steps["Wait"]]
    assert (summary.records, wait.volume, wait.median_s) == (6, 6, 750.0)
    assert wait.per_site == {"Eastside": 6}
    shoot(dialog, tmp_path, f"ops-import-{size[0]}x{size[1]}-done")


def test_consent_dialog_for_a_staff_member(qtbot: Any, ctx: AppContext, tmp_path: Path) -> None:
    from cxfield.gui.participants_dialog import ConsentDialog

    study, _steps = office(ctx)
    dialog = ConsentDialog(ctx, study.id)
    qtbot.addWidget(dialog)
    dialog.show()
    settle()
    assert not dialog.role.isVisible() and "language" in dialog.segment_boxes
    dialog.staff.setChecked(True)
    settle()
    assert dialog.role.isVisible() and set(dialog.segment_boxes) == {"years_in_post", "office"}
    dialog.role.setCurrentIndex(dialog.role.findData("caseworker"))
    dialog.segment_boxes["office"].setCurrentText("Riverside")
    dialog.interview.setChecked(True)
    for size in SCREENS:
        dialog.resize(*size)
        shoot(dialog, tmp_path, f"consent-staff-{size[0]}x{size[1]}")
        assert fits_screen(dialog, size) == []
    dialog._save()
    person = participants.list_participants(ctx.db, study.id)[0]
    assert (person.participant.code, person.participant.role) == (
        f"S-{device_prefix(ctx.db.device_id)}-001",
        "caseworker",
    )
    assert person.participant.segments == {"office": "Riverside"} and person.interview_consent
