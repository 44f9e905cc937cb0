"""Emotion curves break where a step has no ratings (app and PDF), and a note's time is
written by one rule on screen and in the PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reportlab.graphics.shapes import Drawing, Group, Line, PolyLine

from cxfield.app import AppContext
from cxfield.domain.clock import duration_text, moment_text
from cxfield.domain.journey import curve_gaps, curve_runs, summarise_counts
from cxfield.export import jobs
from cxfield.export.charts import GAP_DASH, CurvePoint, emotion_curve
from cxfield.export.fonts import register_fonts
from cxfield.export.journey_map import journey_figure
from cxfield.export.layout import fmt_seconds
from cxfield.services import analysis, capture, participants, studies, templates
from cxfield.services.analysis import StepAggregate
from tests.export_support import pdf_text

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fonts() -> None:
    register_fonts()  # what make_styles() does before a PDF draws its charts


def test_curve_runs_and_gaps() -> None:
    values = [1.0, None, -1.0, 0.5, None, None, 2.0, None]
    assert curve_runs(values) == [[0], [2, 3], [6]]
    assert curve_gaps(values) == [(0, 2), (3, 6)]
    assert curve_runs([None, None]) == [] and curve_gaps([0.0]) == []


def _shapes(node: Drawing | Group) -> list[object]:
    found: list[object] = []
    for item in node.contents:
        found.append(item)
        if isinstance(item, Group):
            found += _shapes(item)
    return found


def _solid_lines(drawing: Drawing) -> list[PolyLine]:
    return [s for s in _shapes(drawing) if isinstance(s, PolyLine) and not s.strokeDashArray]


def test_pdf_curve_breaks_at_a_step_without_ratings() -> None:
    points = [CurvePoint("Check in", 1.0), CurvePoint("Wait", None), CurvePoint("Desk", -1.0)]
    points += [CurvePoint("Decision", 0.0)]
    drawing = emotion_curve(points, 400, 150)
    solid = _solid_lines(drawing)
    # one solid line, Desk → Decision; nothing drawn straight through the Wait
    assert len(solid) == 1 and len(solid[0].points) == 4, [s.points for s in solid]
    xs = solid[0].points[0::2]
    gaps = [s for s in _shapes(drawing) if isinstance(s, Line) and s.strokeDashArray == GAP_DASH]
    assert len(gaps) == 1  # the gap is marked: a dotted line from Check in to Desk
    assert gaps[0].x1 < min(xs) and gaps[0].x2 == min(xs)


def test_journey_figure_breaks_the_curve_too(ctx: AppContext) -> None:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    journey = studies.get_journey(ctx.db, study.id)
    steps = journey.steps
    rated = {steps[0].id: {1: 3}, steps[2].id: {-2: 2}, steps[3].id: {0: 1}}
    aggregates = {
        sid: StepAggregate(sid, summarise_counts(h), 0, sum(h.values())) for sid, h in rated.items()
    }
    part = [(view.stage, list(view.steps)) for view in journey.stages]
    drawing = journey_figure(part, aggregates, 760, 500, analysis.step_numbers(journey))
    solid = [s for s in _solid_lines(drawing) if len(s.points) >= 4]
    assert len(solid) == 1 and len(solid[0].points) == 4  # Wait → Intake interview only
    gaps = [s for s in _shapes(drawing) if isinstance(s, Line) and s.strokeDashArray == GAP_DASH]
    assert len(gaps) == 1  # across "Greet and triage", which nobody rated


def test_app_curve_breaks_at_a_step_without_ratings(qapp: object) -> None:
    from PySide6.QtCore import QRectF

    from cxfield.gui.journey.curves import CurvePoint as ScreenPoint
    from cxfield.gui.journey.curves import curve_lines

    band = QRectF(0, 0, 400, 200)
    points = [ScreenPoint(50, 1.0), ScreenPoint(150, None), ScreenPoint(250, -1.0)]
    points.append(ScreenPoint(350, 0.0))
    lines, gaps = curve_lines(band, points)
    assert [[p.x() for p in line] for line in lines] == [[250, 350]]
    assert [(g.x1(), g.x2()) for g in gaps] == [(50, 250)]


def test_one_rule_for_note_times(ctx: AppContext, qapp: object, tmp_path: Path) -> None:
    from cxfield.gui.runner.note_bar import format_offset
    from cxfield.gui.session_view import SessionView

    # a moment is rounded down, like a clock (1:05.9 is still second 1:05) …
    assert moment_text(65.9) == "00:01:05" and moment_text(3725.0) == "01:02:05"
    assert format_offset(65_900) == moment_text(65.9)
    # … a duration to the nearest second, the same on the map and in the reports
    assert duration_text(65.6) == fmt_seconds(65.6) == "1:06"

    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    started = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    session = capture.start_session(ctx.db, study.id, participant_id=person.id, now=started)
    capture.add_note(ctx.db, session.id, "Showed the letter", at=started + timedelta(seconds=65.9))

    view = SessionView(ctx, session.id)
    try:
        shown = view.notes.item(0, 0).text()
    finally:
        view.close()
        view.deleteLater()
    out = tmp_path / "session.pdf"
    jobs.export_session_pdf(ctx.db, session.id, out, now=NOW)
    text = pdf_text(out, layout=True)
    line = next(ln for ln in text.splitlines() if "Showed the letter" in ln)
    assert shown == "00:01:05" and line.split()[0] == shown, (shown, line)
