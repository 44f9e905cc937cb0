"""The journey map view and the session overview curve on a 1366×768 laptop and a
1920×1080 screen: Ctrl+0 fits the whole map, steps are numbered alike on the map and in
the equity lens, and the curve's labels are never cut off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QFontMetricsF  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import (  # noqa: E402
    analysis,
    capture,
    demo,
    journey_editor,
    participants,
    studies,
)

pytestmark = pytest.mark.qt


@pytest.fixture
def study_id(ctx: AppContext) -> str:
    return demo.create_demo(ctx.db, 12).id


def _press(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Keys go to whatever has the focus, as a user's would."""
    target = QApplication.focusWidget()
    assert target is not None
    QTest.keyClick(target, key, modifier)
    QApplication.processEvents()


def _open_map(qtbot: Any, ctx: AppContext, study_id: str, size: tuple[int, int]) -> Any:
    from cxfield.gui.journey.journey_map_view import JourneyMapView

    view = JourneyMapView(ctx, study_id)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.activateWindow()
    qtbot.waitUntil(lambda: view.canvas.data is not None, timeout=5000)
    QApplication.processEvents()
    return view


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_ctrl_0_fits_the_whole_map(
    qtbot: Any, ctx: AppContext, study_id: str, size: tuple[int, int], tmp_path: Path
) -> None:
    view = _open_map(qtbot, ctx, study_id, size)
    bars = view.scroller.horizontalScrollBar(), view.scroller.verticalScrollBar()
    _press(Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)  # zoomed in: it scrolls
    assert any(bar.isVisible() for bar in bars)
    _press(Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert not bars[0].isVisible() and not bars[1].isVisible(), view.canvas.zoom
    viewport = view.scroller.viewport()
    assert view.canvas.width() <= viewport.width() and view.canvas.height() <= viewport.height()
    assert view.canvas.width() > viewport.width() * 0.8 or view.canvas.height() > (
        viewport.height() * 0.8
    )  # fitted, not merely small
    assert view.grab().save(str(tmp_path / f"map-{size[0]}.png"))
    # it stays fitted when the window changes size
    view.resize(size[0] - 200, size[1] - 100)
    QApplication.processEvents()
    assert not bars[0].isVisible() and not bars[1].isVisible()
    # with the equity lens open the map still fits across; the segment curves scroll below
    view.segment.setCurrentIndex(view.segment.findData("language"))
    qtbot.waitUntil(lambda: view.segments_flow.count() > 0, timeout=5000)
    QApplication.processEvents()
    assert not bars[0].isVisible() and view.canvas.height() <= viewport.height()


def test_equity_lens_numbers_steps_as_the_map_does(
    qtbot: Any, ctx: AppContext, study_id: str
) -> None:
    from cxfield.gui.journey.journey_map_view import SegmentCurvePanel

    view = _open_map(qtbot, ctx, study_id, (1366, 768))
    journey = studies.get_journey(ctx.db, study_id)
    wait = next(s for s in journey.steps if s.name == "Wait")
    number = journey.steps.index(wait) + 1  # the map draws "3. Wait"
    assert analysis.step_numbers(journey)[wait.id] == number
    view.segment.setCurrentIndex(view.segment.findData("language"))
    qtbot.waitUntil(lambda: view.segments_flow.count() > 0, timeout=5000)
    assert f"{number} Wait" in view.segments_title.text()
    for panel in view.findChildren(SegmentCurvePanel):
        numbers = {name: n for n, name, _agg in panel.steps}
        assert numbers["Wait"] == number


def _long_session(ctx: AppContext) -> str:
    """An interview that rated every step, some with long names, one step left unrated."""
    study = demo.create_demo(ctx.db, 2)
    journey = studies.get_journey(ctx.db, study.id)
    for step in journey.steps:
        if step.name == "Eligibility system":
            journey_editor.update_step(ctx.db, step.id, name="Eligibility system checks income")
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    session = capture.start_session(ctx.db, study.id, participant_id=person.id)
    for index, step in enumerate(journey.steps):
        if index != 2:
            capture.save_capture(ctx.db, session.id, step.id, valence=index % 5 - 2)
    return session.id


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_session_curve_labels_are_never_cut_off(
    qtbot: Any, ctx: AppContext, size: tuple[int, int], tmp_path: Path
) -> None:
    from cxfield.gui.journey.curves import axis_font, axis_label
    from cxfield.gui.session_view import SessionView

    view = SessionView(ctx, _long_session(ctx))
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    QApplication.processEvents()
    curve = view.curve
    assert view.grab().save(str(tmp_path / f"session-{size[0]}.png"))
    layout = curve.curve_layout()
    assert len(layout.step_labels) == len(curve.steps) >= 9
    metrics = QFontMetricsF(curve.font())
    for rect, flags, text in layout.step_labels:
        needed = metrics.boundingRect(QRectF(rect.x(), rect.y(), rect.width(), 10_000), flags, text)
        assert needed.height() <= rect.height() + 0.5, (text, needed, rect)
        assert needed.width() <= rect.width() + 0.5, (text, needed, rect)
        assert rect.bottom() <= curve.height() and rect.left() >= 0
    small = QFontMetricsF(axis_font(curve.font()))
    room = layout.left - layout.band.left() - 6
    for value in range(-2, 3):
        assert small.horizontalAdvance(axis_label(value, layout.words)) <= room
    assert layout.band.height() >= 120  # a readable plot is left between the labels
    assert "no rating" in layout.step_labels[2][2]  # the unrated step says so
