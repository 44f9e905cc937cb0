from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.services import demo, studies
from cxfield.storage.models import Participant, ResearchSession, StepCapture, SurveyResponse


def test_demo_is_realistic_and_deterministic(ctx: AppContext) -> None:
    study = demo.create_demo(ctx.db, 30, seed=7)
    journey = studies.get_journey(ctx.db, study.id)
    assert [s.stage.name for s in journey.stages] == ["Arrive", "Interview", "Verify", "Decision"]
    lanes = {str(step.lane) for step in journey.steps}
    assert lanes == {"user", "frontstage", "backstage", "support"}
    with ctx.db.session() as db:
        n_sessions = db.exec(select(func.count()).select_from(ResearchSession)).one()
        n_part = db.exec(select(func.count()).select_from(Participant)).one()
        n_survey = db.exec(select(func.count()).select_from(SurveyResponse)).one()
        pains = db.exec(
            select(func.count()).select_from(StepCapture).where(StepCapture.pain_point)
        ).one()
    assert n_sessions == 30 and n_part == 28  # two observations have no participant
    assert 0 < n_survey <= 28 and pains > 0
    again = demo.create_demo(ctx.db, 3, seed=7)
    assert again.name == "Demo: Benefits office visit (2)"


def test_demo_scales(ctx: AppContext) -> None:
    seen: list[tuple[int, int]] = []
    demo.create_demo(ctx.db, 600, on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (600, 600)
    assert studies.list_studies(ctx.db)[0].sessions == 600
