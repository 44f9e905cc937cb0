"""SQL aggregates checked against a plain Python recount of the same rows."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.domain.errors import ValidationError
from cxfield.services import analysis, demo
from cxfield.storage.models import (
    ObservationVisit,
    Participant,
    ResearchSession,
    StepCapture,
    Study,
    SurveyResponse,
)


@pytest.fixture
def study(ctx: AppContext) -> Study:
    return demo.create_demo(ctx.db, 60, seed=3)


def _rows(
    ctx: AppContext,
) -> tuple[list[ResearchSession], list[StepCapture], dict[str, Participant]]:
    with ctx.db.session() as db:
        sessions = list(db.exec(select(ResearchSession)).all())
        captures = list(db.exec(select(StepCapture)).all())
        participants = {p.id: p for p in db.exec(select(Participant)).all()}
    return sessions, captures, participants


def test_step_aggregates_match_recount(ctx: AppContext, study: Study) -> None:
    sessions, captures, _ = _rows(ctx)
    kept = {s.id for s in sessions if s.status != "rejected"}
    by_step: dict[str, list[int]] = defaultdict(list)
    pains: Counter[str] = Counter()
    for c in captures:
        if c.session_id in kept:
            if c.valence is not None:
                by_step[c.step_id].append(c.valence)
            pains[c.step_id] += c.pain_point
    result = analysis.step_aggregates(ctx.db, study.id)
    assert set(by_step) <= set(result)
    for step_id, values in by_step.items():
        agg = result[step_id]
        assert agg.valence.n == len(values)
        assert agg.valence.mean == pytest.approx(statistics.mean(values))
        assert agg.valence.stdev == pytest.approx(statistics.pstdev(values))
        assert agg.pain_points == pains[step_id]


def test_segment_curves_and_thin_segments(ctx: AppContext, study: Study) -> None:
    sessions, captures, participants = _rows(ctx)
    curves = analysis.segment_curves(ctx.db, study.id, "language")
    expected_sessions: Counter[str] = Counter()
    for s in sessions:
        if s.participant_id and s.status != "rejected":
            expected_sessions[participants[s.participant_id].segments.get("language", "")] += 1
    assert curves.sessions == dict(expected_sessions)
    spanish = {
        s.id
        for s in sessions
        if s.participant_id
        and s.status != "rejected"
        and participants[s.participant_id].segments.get("language") == "Spanish"
    }
    values = [c.valence for c in captures if c.session_id in spanish and c.valence is not None]
    assert sum(a.valence.n for a in curves.curves.get("Spanish", {}).values()) == len(values)
    smallest = min(curves.sessions, key=lambda v: curves.sessions[v])
    assert curves.too_few(smallest) == (curves.sessions[smallest] < 5)
    with pytest.raises(ValidationError):
        analysis.segment_curves(ctx.db, study.id, "x'); drop table study; --")


def test_filters(ctx: AppContext, study: Study) -> None:
    sessions, _, participants = _rows(ctx)
    flt = analysis.SessionFilter(segment=("visit", "Returning"), statuses=("approved",))
    expected = sum(
        1
        for s in sessions
        if s.status == "approved"
        and s.participant_id
        and participants[s.participant_id].segments.get("visit") == "Returning"
    )
    with ctx.db.session() as db:
        got = len(db.execute(analysis.filtered_sessions(study.id, flt)).all())
    assert got == expected
    day = min(s.started_at for s in sessions).date()
    flt = analysis.SessionFilter(
        date_from=day,
        date_to=day,
        statuses=tuple(x for x in ("draft", "submitted", "approved", "has_issues", "rejected")),
    )
    with ctx.db.session() as db:
        got = len(db.execute(analysis.filtered_sessions(study.id, flt)).all())
    assert got == sum(1 for s in sessions if s.started_at.date() == day)


def test_observation_times(ctx: AppContext, study: Study) -> None:
    """A session's time in a step is the sum of its visits (the demo sends one customer back
    to the queue, so the wait is visited twice)."""
    with ctx.db.session() as db:
        visits = list(db.exec(select(ObservationVisit)).all())
    per_session: dict[tuple[str, str], float] = defaultdict(float)
    for v in visits:
        assert v.left_at is not None
        per_session[(v.session_id, v.step_id)] += (v.left_at - v.entered_at).total_seconds()
    assert len(per_session) < len(visits)  # a revisit is in the demo
    times = analysis.observation_times(ctx.db, study.id)
    durations: dict[str, list[float]] = defaultdict(list)
    for (_, step_id), seconds in per_session.items():
        durations[step_id].append(seconds)
    assert set(times) == set(durations)
    for step_id, values in durations.items():
        assert times[step_id].median_s == pytest.approx(statistics.median(values), abs=0.01)
        assert times[step_id].max_s == pytest.approx(max(values), abs=0.01)


def test_quotes_and_pain_points(ctx: AppContext, study: Study) -> None:
    quotes = analysis.representative_quotes(ctx.db, study.id, per_step=2)
    assert quotes and all(1 <= len(v) <= 2 for v in quotes.values())
    for items in quotes.values():
        assert items == sorted(items, key=lambda q: (-q.count, q.text))
    ranked = analysis.pain_points_ranked(ctx.db, study.id)
    assert ranked == sorted(ranked, key=lambda r: -r.count)[: len(ranked)]
    assert ranked[0].count >= ranked[-1].count


def test_a11_quarter_counts(ctx: AppContext, study: Study) -> None:
    sessions, _, _ = _rows(ctx)
    with ctx.db.session() as db:
        responses = {r.session_id: r for r in db.exec(select(SurveyResponse)).all()}
    day = max(s.started_at for s in sessions).date()
    quarter = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    q_start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    in_q = [
        s
        for s in sessions
        if s.started_at.date() >= q_start and s.mode == "interview" and s.status != "rejected"
    ]
    result = analysis.a11_quarter_counts(ctx.db, study.id, quarter.lower())
    assert result.sessions == len(in_q)
    assert result.responses == sum(1 for s in in_q if s.id in responses)
    expected = Counter(responses[s.id].ease for s in in_q if s.id in responses)
    assert result.counts["q4_ease"] == {p: expected.get(p, 0) for p in range(1, 6)}
    with pytest.raises(ValidationError, match="2026Q4"):
        analysis.a11_quarter_counts(ctx.db, study.id, "Q4-2026")


def test_withdrawn_participants_are_left_out(ctx: AppContext, study: Study) -> None:
    from cxfield.services import participants as participant_service

    before = analysis.step_aggregates(ctx.db, study.id)
    sessions, captures, parts = _rows(ctx)
    victim = next(s for s in sessions if s.participant_id and s.status != "rejected")
    assert victim.participant_id is not None
    participant_service.withdraw(ctx.db, victim.participant_id, delete_content=False)
    after = analysis.step_aggregates(ctx.db, study.id)
    gone = [c for c in captures if c.session_id == victim.id and c.valence is not None]
    assert sum(a.valence.n for a in after.values()) == (
        sum(a.valence.n for a in before.values()) - len(gone)
    )
    with ctx.db.session() as db:
        everyone = analysis.SessionFilter(include_withdrawn=True)
        ids = {r[0] for r in db.execute(analysis.filtered_sessions(study.id, everyone)).all()}
        default = {
            r[0]
            for r in db.execute(
                analysis.filtered_sessions(study.id, analysis.SessionFilter())
            ).all()
        }
    assert victim.id in ids and victim.id not in default
    # observations (no participant) are still there
    assert any(s.mode == "observation" and s.id in default for s in sessions)
