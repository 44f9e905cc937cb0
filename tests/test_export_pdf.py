"""PDF exports read back with poppler: the numbers, names and quotes must be the database's."""

from __future__ import annotations

import statistics
import subprocess
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.domain.errors import NotFoundError
from cxfield.export import jobs
from cxfield.export.filters import FilterRequest
from cxfield.services import analysis, demo, studies
from cxfield.storage.models import (
    Participant,
    ResearchSession,
    Step,
    StepCapture,
    Study,
    StudyBase,
    SurveyResponse,
)
from tests.export_support import (
    ARABIC,
    CHINESE,
    SPANISH,
    VIETNAMESE,
    add_transcript,
    has_words,
    normal,
    pdf_pages,
    pdf_text,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def study(ctx: AppContext) -> Study:
    return demo.create_demo(ctx.db, 60, seed=11)


def _signed(value: float) -> str:
    rounded = round(value, 2)
    return "0.00" if rounded == 0 else f"{rounded:+.2f}".replace("-", "\u2212")


def test_study_report_numbers_names_and_quotes(
    ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    result = jobs.export_study_pdf(ctx.db, study.id, out, now=NOW)
    assert result.paths == [out] and out.exists() and result.messages == []
    pages = pdf_pages(out)
    assert result.pages == pages and pages >= 6
    text = pdf_text(out, layout=True)
    plain = normal(pdf_text(out))

    with ctx.db.session() as db:
        sessions = [s for s in db.exec(select(ResearchSession)) if s.status != "rejected"]
        kept = {s.id for s in sessions}
        captures = [c for c in db.exec(select(StepCapture)) if c.session_id in kept]
        steps = {s.id: s for s in db.exec(select(Step))}
        surveys = [r for r in db.exec(select(SurveyResponse)) if r.session_id in kept]
    interviews = sum(s.mode == "interview" for s in sessions)
    assert (
        f"{len(sessions)} ({interviews} interviews, {len(sessions) - interviews} observations)"
        in plain
    )
    assert study.name in plain and "Page 1 of " + str(pages) in plain
    assert f"Page {pages} of {pages}" in plain
    assert "Exported 2026-11-30 12:00 by cxfield" in plain
    assert "Confidential" in plain

    # per-step mean valence and counts, as a row of the "Emotion per step" table
    by_step: dict[str, list[int]] = defaultdict(list)
    pains: Counter[str] = Counter()
    for c in captures:
        if c.valence is not None:
            by_step[c.step_id].append(c.valence)
        pains[c.step_id] += c.pain_point
    for step_id, values in by_step.items():
        name = steps[step_id].name
        rows = [line for line in text.splitlines() if f"› {name} " in line and " n=" not in line]
        expected = f"{len(values)}   {_signed(statistics.mean(values))}"
        assert any(" ".join(expected.split()) in " ".join(r.split()) for r in rows), (name, rows)
        histogram = Counter(values)
        counts = " ".join(str(histogram.get(v, 0)) for v in range(-2, 3))
        assert any(counts in " ".join(r.split()) for r in rows), (name, counts, rows)

    # the most frequent pain point and its count
    texts = Counter(
        (c.step_id, c.notes.strip().lower()) for c in captures if c.pain_point and c.notes.strip()
    )
    (_, top_text), top_n = texts.most_common(1)[0]
    assert f"“{top_text}” ({top_n} times)" in plain

    # satisfaction counts at points 1..5 and the share agreeing
    sat = Counter(r.satisfaction for r in surveys)
    answered = sum(sat[p] for p in range(1, 6))
    row = " ".join(str(sat.get(p, 0)) for p in range(1, 6))
    agree = f"{(sat[4] + sat[5]) / answered * 100:.0f}%"
    line = next(
        ln for ln in text.splitlines() if ln.strip().startswith("Q1 ") and "Satisfaction:" in ln
    )
    assert f"{row} {answered} {agree}" in " ".join(line.split())
    assert "I am satisfied with the service I received from Supplemental Nutrition" in plain

    # quotes in four scripts come back out of the PDF
    for quote in (SPANISH, VIETNAMESE, CHINESE):
        assert normal(quote).rstrip(".。") in plain, quote
    assert has_words(plain, ARABIC)
    # equity view: segments, thin-segment notes, n behind points
    assert "Language spoken" in plain and "Too few sessions" in plain and "n=" in plain
    assert "Appendix: sessions in this report" in plain


def test_study_report_filters(ctx: AppContext, study: Study, tmp_path: Path) -> None:
    out = tmp_path / "spanish.pdf"
    request = FilterRequest(segment="language=Spanish", statuses=("submitted", "approved"))
    jobs.export_study_pdf(ctx.db, study.id, out, request, now=NOW)
    with ctx.db.session() as db:
        spanish = {
            p.id for p in db.exec(select(Participant)) if p.segments.get("language") == "Spanish"
        }
        chosen = [
            s for s in db.exec(select(ResearchSession))
            if s.participant_id in spanish and s.status in ("submitted", "approved")
        ]  # fmt: skip
    plain = normal(pdf_text(out))
    assert f"{len(chosen)} ({len(chosen)} interviews, 0 observations)" in plain
    assert "Segment: Language spoken = Spanish" in plain
    assert "Status: submitted, approved" in plain


def test_journey_map_page_and_step_table_give_the_same_pain_share(
    ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    # The figure once divided by the valence n and showed e.g. 6 (60%) where the table said
    # 6 (50%); both now read the same aggregate (captures of interviews only).
    out = tmp_path / "report.pdf"
    jobs.export_study_pdf(ctx.db, study.id, out, now=NOW)
    figure = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", "-enc", "UTF-8", str(out), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Journey map and service blueprint" in figure
    aggregates = analysis.step_aggregates(ctx.db, study.id)
    checked = 0
    for agg in aggregates.values():
        if agg.pain_points:
            share = f"{agg.pain_points / agg.captures * 100:.0f}%"
            assert f"{agg.pain_points} ({share})" in figure, (agg, figure)
            checked += 1
    assert checked, "the demo should have steps with pain points"


def test_empty_study_report_says_so(ctx: AppContext, tmp_path: Path) -> None:
    study = studies.create_study(ctx.db, StudyBase(name="Nothing yet", program="Clinic"))
    stage = studies.add_stage(ctx.db, study.id, "Arrive")
    studies.add_step(ctx.db, stage.id, "Sign in")
    out = tmp_path / "empty.pdf"
    result = jobs.export_study_pdf(ctx.db, study.id, out, now=NOW)
    assert result.messages and "No sessions match" in result.messages[0]
    plain = normal(pdf_text(out))
    assert "No sessions match this selection" in plain and "Sign in" in plain
    assert "0 (0 interviews, 0 observations)" in plain


def test_session_summary_with_transcript(ctx: AppContext, study: Study, tmp_path: Path) -> None:
    with ctx.db.session() as db:
        session = next(
            s for s in db.exec(select(ResearchSession).order_by(ResearchSession.started_at))
            if s.mode == "interview"
            and db.exec(select(SurveyResponse).where(SurveyResponse.session_id == s.id)).first()
        )  # fmt: skip
        code = db.get(Participant, session.participant_id).code
        survey = db.exec(
            select(SurveyResponse).where(SurveyResponse.session_id == session.id)
        ).one()
    add_transcript(ctx, session.id, [(3.0, "Good morning."), (65.0, ARABIC), (70.0, CHINESE)])
    out = tmp_path / "session.pdf"
    result = jobs.export_session_pdf(ctx.db, session.id, out, now=NOW)
    assert 1 <= pdf_pages(out) <= 3 and result.pages == pdf_pages(out)
    plain = normal(pdf_text(out))
    assert f"Interview with {code}" in plain and "Participant" in plain
    assert "Riverside Office" in plain or "Eastside Service Center" in plain
    assert "Appendix: transcript" in plain and normal(CHINESE).rstrip("。") in plain
    assert has_words(plain, ARABIC)
    assert "00:01:05–00:01:10" in plain  # transcript times, written like the app's
    assert "00:01:35 00:01:23" in plain  # the linked note: session time, then audio time
    wording = "Equity: I was treated fairly."
    assert wording in plain
    labels = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree",
              4: "Agree", 5: "Strongly agree"}  # fmt: skip
    assert f"{survey.equity} – {labels[survey.equity]}" in plain

    short = tmp_path / "short.pdf"
    jobs.export_session_pdf(ctx.db, session.id, short, transcript=False, now=NOW)
    assert "Appendix: transcript" not in pdf_text(short)


def test_observation_session_summary_has_step_times(
    ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    with ctx.db.session() as db:
        session = next(s for s in db.exec(select(ResearchSession)) if s.mode == "observation")
        capture = db.exec(
            select(StepCapture).where(
                StepCapture.session_id == session.id,
                StepCapture.observed_start.is_not(None),  # type: ignore[union-attr]
            )
        ).first()
    assert capture is not None and capture.observed_end and capture.observed_start
    out = tmp_path / "obs.pdf"
    jobs.export_session_pdf(ctx.db, session.id, out, now=NOW)
    plain = normal(pdf_text(out))
    seconds = round((capture.observed_end - capture.observed_start).total_seconds())
    assert "Observed step times" in plain
    assert f"{seconds // 60}:{seconds % 60:02d}" in plain
    assert f"{capture.observed_start:%H:%M:%S}" in plain


def test_unknown_session_writes_nothing(ctx: AppContext, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(NotFoundError):
        jobs.export_session_pdf(ctx.db, "no-such-id", folder / "x.pdf")
    assert list(folder.iterdir()) == []


def test_cancel_leaves_no_file_and_keeps_the_old_one(
    ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "report.pdf"
    out.write_bytes(b"old report")
    seen: list[int] = []

    def cancelled() -> bool:
        return len(seen) > 3

    from cxfield.export.layout import ExportCancelled

    with pytest.raises(ExportCancelled):
        jobs.export_study_pdf(
            ctx.db, study.id, out, on_progress=lambda d, t: seen.append(d), cancelled=cancelled
        )
    assert out.read_bytes() == b"old report"
    assert [p.name for p in folder.iterdir()] == ["report.pdf"]
    assert seen == sorted(seen)
