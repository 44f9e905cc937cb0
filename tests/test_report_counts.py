"""One definition behind every number of the study report and the journey map: what a
capture, a pain point and a quote are (cxfield.services.step_records).  Checked against the
PDF's text and against a plain Python recount of the database rows."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.export import jobs
from cxfield.services import analysis, capture, demo, observation, participants, studies, templates
from cxfield.storage.models import Note, ResearchSession, StepCapture, Study
from tests.export_support import normal, pdf_text

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _office(ctx: AppContext) -> tuple[Study, dict[str, str]]:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    steps = {s.name: s.id for s in studies.get_journey(ctx.db, study.id).steps}
    return study, steps


def _interview(ctx: AppContext, study: Study, at: datetime) -> str:
    person = participants.add_participant(ctx.db, study.id, {"language": "English"})
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    return capture.start_session(ctx.db, study.id, participant_id=person.id, now=at).id


def _observation(ctx: AppContext, study: Study, steps: dict[str, str], at: datetime) -> str:
    session = capture.start_session(ctx.db, study.id, mode="observation", now=at).id
    observation.mark_entered(ctx.db, session, steps["Wait"], at + timedelta(minutes=1))
    observation.mark_left(ctx.db, session, at + timedelta(minutes=21))
    capture.add_note(ctx.db, session, "Customer looked at the clock", step_id=steps["Wait"])
    return session


def _row(text: str, label: str) -> str:
    """The per-step table's row of one step (layout text, single spaces)."""
    rows = [" ".join(line.split()) for line in text.splitlines() if f"› {label} " in line]
    rows = [r for r in rows if re.search(r"› \S.* \d+ \d+ ", r)]
    assert rows, label
    return rows[0]


def test_pain_points_table_and_section_agree_and_observations_are_not_captures(
    ctx: AppContext, tmp_path: Path
) -> None:
    study, steps = _office(ctx)
    # the fault probe: P pressed at the Wait, nothing typed in the step's notes
    first = _interview(ctx, study, T0)
    capture.save_capture(ctx.db, first, steps["Wait"], valence=-2, pain_point=True)
    capture.save_capture(ctx.db, first, steps["Check in"], valence=1)
    # a pain point typed as a note tagged pain point (no flag on the step)
    second = _interview(ctx, study, T0 + timedelta(hours=1))
    capture.save_capture(ctx.db, second, steps["Wait"], valence=-1)
    capture.add_note(
        ctx.db, second, "Nobody called my number", tags=["pain_point"], step_id=steps["Wait"]
    )
    _observation(ctx, study, steps, T0 + timedelta(hours=2))

    wait = analysis.step_aggregates(ctx.db, study.id)[steps["Wait"]]
    assert (wait.captures, wait.valence.n, wait.pain_points) == (2, 2, 2)  # not 3 captures

    out = tmp_path / "report.pdf"
    jobs.export_study_pdf(ctx.db, study.id, out, now=NOW)
    layout, plain = pdf_text(out, layout=True), normal(pdf_text(out))
    # table: Captures 2, n 2, mean −1.50, … pain points 2 of 2 captures
    row = _row(layout, "Wait")
    assert " 2 2 −1.50 " in row and row.endswith("2 (100%)"), row
    assert "(50%)" not in row and "(67%)" not in row  # the observation is no capture
    # the section below agrees with the table
    assert "No pain points were recorded" not in plain
    assert "2 pain points at 1 step" in plain
    assert "Nobody called my number" in plain and "(flagged, no description written)" in plain
    assert "pain point in 2 of 2 captures" in plain  # the key finding says the same
    # and the report says how it counts
    assert "observation sessions are timed, not captured" in plain
    assert "1 (1 interviews, 1 observations)" not in plain  # (sanity: 3 sessions below)
    assert "3 (2 interviews, 1 observations)" in plain


def _recount(
    ctx: AppContext, study_id: str
) -> tuple[dict[str, set[str]], dict[str, set[str]], Counter[tuple[str, str]]]:
    """Captures and pain points per step, recounted from the rows in plain Python."""
    with ctx.db.session() as db:
        sessions = {
            s.id: s
            for s in db.exec(select(ResearchSession).where(ResearchSession.study_id == study_id))
            if s.status != "rejected" and s.deleted_at is None
        }
        caps = [c for c in db.exec(select(StepCapture)) if c.deleted_at is None]
        notes = [n for n in db.exec(select(Note)) if n.deleted_at is None]
    interviews = {sid for sid, s in sessions.items() if s.mode == "interview"}
    captured: dict[str, set[str]] = defaultdict(set)
    pains: dict[str, set[str]] = defaultdict(set)
    texts: dict[tuple[str, str], str] = {}
    for c in caps:
        if c.session_id not in interviews:
            continue
        if (
            c.valence is not None
            or c.intensity is not None
            or c.pain_point
            or c.notes.strip()
            or c.quote.strip()
            or c.emotions
        ):
            captured[c.step_id].add(c.session_id)
        if c.pain_point:
            pains[c.step_id].add(c.session_id)
            if c.notes.strip():
                texts[(c.session_id, c.step_id)] = c.notes.strip()
    for n in sorted(notes, key=lambda n: (n.session_offset_ms, n.created_at)):
        if n.session_id not in interviews or n.step_id is None:
            continue
        captured[n.step_id].add(n.session_id)
        if "pain_point" in n.tags:
            pains[n.step_id].add(n.session_id)
            texts.setdefault((n.session_id, n.step_id), n.text.strip())
    described: Counter[tuple[str, str]] = Counter()
    for step_id, sids in pains.items():
        for sid in sids:
            described[(step_id, texts.get((sid, step_id), "").lower())] += 1
    return captured, pains, described


def test_demo_numbers_follow_the_one_definition(ctx: AppContext, tmp_path: Path) -> None:
    study = demo.create_demo(ctx.db, 40, seed=7)
    captured, pains, described = _recount(ctx, study.id)
    aggregates = analysis.step_aggregates(ctx.db, study.id)
    assert {k: v.captures for k, v in aggregates.items()} == {
        k: len(v) for k, v in captured.items()
    }
    assert {k: v.pain_points for k, v in aggregates.items() if v.pain_points} == {
        k: len(v) for k, v in pains.items() if v
    }
    ranked = analysis.pain_points_ranked(ctx.db, study.id, limit=10_000)
    assert Counter({(r.step_id, r.text.lower()): r.count for r in ranked}) == described
    per_step: Counter[str] = Counter()
    for item in ranked:
        per_step[item.step_id] += item.count
    assert per_step == Counter({k: a.pain_points for k, a in aggregates.items() if a.pain_points})

    out = tmp_path / "report.pdf"
    jobs.export_study_pdf(ctx.db, study.id, out, now=NOW)
    layout, plain = pdf_text(out, layout=True), normal(pdf_text(out))
    journey = studies.get_journey(ctx.db, study.id)
    total = 0
    for step in journey.steps:
        agg = aggregates.get(step.id)
        if agg is None:
            continue
        row = _row(layout, step.name)
        share = f"{agg.pain_points / agg.captures * 100:.0f}%"
        assert f" {agg.captures} {agg.valence.n} " in f" {row} ", (step.name, row)
        assert row.endswith(f"{agg.pain_points} ({share})") or agg.pain_points == 0, row
        total += agg.pain_points
    with_pain = sum(1 for a in aggregates.values() if a.pain_points)
    assert f"{total} pain points at {with_pain} steps" in plain


def test_quotes_typed_with_ctrl_q_count_everywhere(ctx: AppContext, tmp_path: Path) -> None:
    pytest.importorskip("PySide6")
    from cxfield.gui.journey.journey_map_canvas import load_map_data

    study, steps = _office(ctx)
    first = _interview(ctx, study, T0)
    # Ctrl+Q in the runner: a note tagged quote at the current step, no quote field
    capture.add_note(
        ctx.db, first, "I brought every paper they asked for", tags=["quote"], step_id=steps["Wait"]
    )
    # the same words in the quote field and as a Ctrl+Q note: one quote, heard once
    second = _interview(ctx, study, T0 + timedelta(hours=1))
    capture.save_capture(ctx.db, second, steps["Wait"], valence=-1, quote="“Nobody explained.”")
    capture.add_note(ctx.db, second, "Nobody explained.", tags=["quote"], step_id=steps["Wait"])
    # an observer heard it too (a quote is a quote wherever it was typed), and one quote
    # was taken on the survey page, at no step
    watched = _observation(ctx, study, steps, T0 + timedelta(hours=2))
    capture.add_note(ctx.db, watched, "Nobody explained.", tags=["quote"], step_id=steps["Wait"])
    capture.add_note(ctx.db, second, "Thanks for listening", tags=["quote"])

    quotes = analysis.representative_quotes(ctx.db, study.id)
    said = {q.text: q.count for q in quotes[steps["Wait"]]}
    assert said == {"Nobody explained.": 2, "I brought every paper they asked for": 1}
    assert [q.text for q in quotes[""]] == ["Thanks for listening"]

    shown = load_map_data(ctx.db, study.id, None).quotes[steps["Wait"]]  # "What people said"
    assert [q.text for q in shown] == ["Nobody explained.", "I brought every paper they asked for"]

    out = tmp_path / "report.pdf"
    jobs.export_study_pdf(ctx.db, study.id, out, now=NOW)
    text = pdf_text(out, layout=True)
    section = text[text.index("Representative quotes per step") :]
    lines = [" ".join(line.split()) for line in section.splitlines()]
    assert "“I brought every paper they asked for”" in lines
    assert "“Nobody explained.” heard 2×" in lines
    at = lines.index("Not taken at a step")
    assert lines[at + 1] == "“Thanks for listening”"
    assert "No quotes were recorded" not in text
