from __future__ import annotations

from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from cxfield.app import AppContext, open_app
from cxfield.main import main
from cxfield.services import demo, review_queue, sessions, studies
from cxfield.storage.models import (
    Participant,
    ResearchSession,
    ReviewEvent,
    StepCapture,
    SurveyResponse,
)


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


def test_demo_submitted_gives_a_queue_to_clear(data_dir: Path) -> None:
    """`cxfield demo --sessions 20 --submitted`: twenty sessions (staff interviews too) wait
    for review, each submitted by its researcher when it ended; the content is the same as
    the mixed demo's."""
    assert main(["--data-dir", str(data_dir), "demo", "--sessions", "20", "--submitted"]) == 0
    ctx = open_app(data_dir)
    try:
        everything = sessions.list_sessions(ctx.db)
        queue = review_queue.review_queue(ctx.db)
        with ctx.db.session() as db:
            events = db.exec(select(ReviewEvent)).all()
            captures = db.exec(select(func.count()).select_from(StepCapture)).one()
    finally:
        ctx.close()
    assert len(everything) == 26  # 20 customer sessions and 6 staff interviews
    assert {s.status for s in everything} == {"submitted"} and len(queue) == 26
    assert sorted(e.session_id for e in events) == sorted(s.id for s in everything)
    ended = {s.id: s.ended_at for s in everything}
    assert all(e.action == "submit" and e.at == ended[e.session_id] for e in events)
    assert all(e.actor_name for e in events)
    assert [i.submitted_at for i in queue] == sorted(ended.values())

    mixed = data_dir.parent / "mixed"
    assert main(["--data-dir", str(mixed), "demo", "--sessions", "20"]) == 0
    other = open_app(mixed)
    try:
        states = {s.status for s in sessions.list_sessions(other.db)}
        with other.db.session() as db:
            assert db.exec(select(func.count()).select_from(ReviewEvent)).one() == 0
            assert db.exec(select(func.count()).select_from(StepCapture)).one() == captures
    finally:
        other.close()
    assert len(states) > 2  # the mixed demo keeps its mix
