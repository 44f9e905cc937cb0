"""CSV tables, the JSON document and the A-11 quarterly CSV, recounted from the database."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.domain.errors import ValidationError
from cxfield.export import jobs
from cxfield.export.atomic import ExportPathError
from cxfield.export.filters import FilterRequest
from cxfield.export.layout import ExportCancelled
from cxfield.services import demo
from cxfield.storage.models import (
    Note,
    ObservationVisit,
    Participant,
    ResearchSession,
    StepCapture,
    Study,
    SurveyResponse,
)
from tests.export_support import ARABIC

TABLES = [
    "sessions.csv",
    "participants.csv",
    "captures.csv",
    "notes.csv",
    "survey_answers.csv",
    "observation_times.csv",
]


@pytest.fixture
def study(ctx: AppContext) -> Study:
    return demo.create_demo(ctx.db, 40, seed=5)


def read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_tables_match_the_database(ctx: AppContext, study: Study, tmp_path: Path) -> None:
    with ctx.db.session() as db:
        first = db.exec(select(ResearchSession).where(ResearchSession.mode == "interview")).first()
        assert first is not None
        tricky = 'She said "come back", then left;\nsecond line, with commas'
        db.add(Note(session_id=first.id, text=tricky, tags=["quote", "idea"]))
        db.add(Note(session_id=first.id, text='=HYPERLINK("http://x")', tags=[]))
        db.add(Note(session_id=first.id, text=ARABIC, tags=["quote"]))
    out = tmp_path / "csv"
    result = jobs.export_study_csv(ctx.db, study.id, out)
    assert [p.name for p in result.paths] == TABLES
    assert sorted(p.name for p in out.iterdir()) == sorted(TABLES)  # no temporary files left

    with ctx.db.session() as db:
        sessions = list(db.exec(select(ResearchSession)))
        participants = list(db.exec(select(Participant)))
        captures = list(db.exec(select(StepCapture)))
        notes = list(db.exec(select(Note)))
        surveys = list(db.exec(select(SurveyResponse)))
        visits = list(db.exec(select(ObservationVisit)))

    rows = read(out / "sessions.csv")
    assert len(rows) == len(sessions)  # data exports keep every status
    per_session = Counter(c.session_id for c in captures)
    notes_per_session = Counter(n.session_id for n in notes)
    by_id = {s.id: s for s in sessions}
    for row in rows:
        s = by_id[row["session_id"]]
        assert int(row["steps_captured"]) == per_session[s.id]
        assert int(row["notes_count"]) == notes_per_session[s.id]
        assert row["status"] == s.status and row["mode"] == s.mode
        assert row["started_at"] == s.started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert datetime.fromisoformat(row["started_at"].replace("Z", "+00:00")).tzinfo == UTC
    assert Counter(r["status"] for r in rows) == Counter(str(s.status) for s in sessions)

    parts = read(out / "participants.csv")
    assert len(parts) == len(participants)
    segs = {p.code: p.segments for p in participants}
    for row in parts:
        assert row["segment_language"] == segs[row["code"]].get("language", "")
    assert "name" not in " ".join(parts[0]).replace("segment_", "")  # codes, never names

    caps = read(out / "captures.csv")
    assert len(caps) == len(captures)
    assert Counter(r["valence"] for r in caps) == Counter(
        "" if c.valence is None else str(c.valence) for c in captures
    )
    assert sum(r["pain_point"] == "true" for r in caps) == sum(c.pain_point for c in captures)

    note_rows = read(out / "notes.csv")
    assert len(note_rows) == len(notes)
    texts = {r["text"] for r in note_rows}
    assert tricky in texts and ARABIC in texts  # quoting of commas, quotes and newlines
    assert '\'=HYPERLINK("http://x")' in texts  # never a live formula in Excel
    assert any(r["tags"] == "quote; idea" for r in note_rows)

    answers = read(out / "survey_answers.csv")
    assert len(answers) == len(surveys)
    for item in ("satisfaction", "trust", "equity", "transparency"):
        assert Counter(r[item] for r in answers) == Counter(str(getattr(s, item)) for s in surveys)

    observed = read(out / "observation_times.csv")
    assert len(observed) == len(visits) > 0  # one row per visit (a step entered twice: two)
    assert sorted(r["visit"] for r in observed).count("2") == len(visits) - len(
        {(v.session_id, v.step_id) for v in visits}
    )
    total = sum(float(r["seconds"]) for r in observed)
    expected = sum((v.left_at - v.entered_at).total_seconds() for v in visits if v.left_at)
    assert total == pytest.approx(expected, abs=0.01 * len(visits))


def test_csv_filters_and_empty_selection(ctx: AppContext, study: Study, tmp_path: Path) -> None:
    out = tmp_path / "approved"
    jobs.export_study_csv(ctx.db, study.id, out, FilterRequest(statuses=("approved",)))
    with ctx.db.session() as db:
        approved = [s for s in db.exec(select(ResearchSession)) if s.status == "approved"]
    rows = read(out / "sessions.csv")
    assert {r["session_id"] for r in rows} == {s.id for s in approved}
    people = read(out / "participants.csv")
    assert {r["participant_id"] for r in people} == {
        s.participant_id for s in approved if s.participant_id
    }

    empty = tmp_path / "none"
    result = jobs.export_study_csv(
        ctx.db, study.id, empty, FilterRequest(date_from="2001-01-01", date_to="2001-12-31")
    )
    assert result.messages and "No sessions match" in result.messages[0]
    for name in TABLES:
        assert read(empty / name) == []  # header only


def test_json_document_is_the_whole_study(ctx: AppContext, study: Study, tmp_path: Path) -> None:
    out = tmp_path / "study.json"
    jobs.export_study_json(ctx.db, study.id, out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    with ctx.db.session() as db:
        n_sessions = len(list(db.exec(select(ResearchSession))))
        n_captures = len(list(db.exec(select(StepCapture))))
        n_notes = len(list(db.exec(select(Note))))
        n_surveys = len(list(db.exec(select(SurveyResponse))))
        n_people = len(list(db.exec(select(Participant))))
        n_visits = len(list(db.exec(select(ObservationVisit))))
    assert doc["format"] == "cxfield-study-export" and doc["format_version"] == 1
    visits = [v for s in doc["sessions"] for v in s["observation_visits"]]
    assert len(visits) == n_visits > 0 and {"step_id", "entered_at", "left_at"} <= set(visits[0])
    assert doc["study"]["id"] == study.id and doc["study"]["name"] == study.name
    assert len(doc["sessions"]) == n_sessions and len(doc["participants"]) == n_people
    assert sum(len(s["captures"]) for s in doc["sessions"]) == n_captures
    assert sum(len(s["notes"]) for s in doc["sessions"]) == n_notes
    assert sum(s["survey"] is not None for s in doc["sessions"]) == n_surveys
    assert [st["name"] for st in doc["stages"]] == ["Arrive", "Interview", "Verify", "Decision"]
    assert {len(doc["sites"]), len(doc["researchers"])} <= {2, 3}


def _quarter_recount(
    ctx: AppContext, quarter_start: date, quarter_end: date
) -> dict[str, Counter[int]]:
    with ctx.db.session() as db:
        kept = {
            s.id for s in db.exec(select(ResearchSession))
            if s.status != "rejected" and s.mode == "interview"
            and quarter_start <= s.started_at.date() < quarter_end
        }  # fmt: skip
        responses = [r for r in db.exec(select(SurveyResponse)) if r.session_id in kept]
    counts = {
        column: Counter(getattr(r, column) for r in responses)
        for column in ("satisfaction", "trust", "effectiveness", "ease", "efficiency",
                       "transparency", "employee")
    }  # fmt: skip
    counts["_"] = Counter({0: len(kept), 1: len(responses)})
    return counts


def test_a11_quarter_csv_counts(ctx: AppContext, tmp_path: Path) -> None:
    fixed = datetime(2026, 12, 20, tzinfo=UTC)
    study = demo.create_demo(ctx.db, 120, seed=9, now=lambda: fixed)
    out = tmp_path / "a11.csv"
    jobs.export_a11_csv(ctx.db, study.id, "2026q4", out)
    rows = read(out)
    expected = _quarter_recount(ctx, date(2026, 10, 1), date(2027, 1, 1))
    assert [r["question"] for r in rows] == [
        "q1_satisfaction", "q2_trust", "q3_effectiveness", "q4_ease", "q5_efficiency",
        "q6_transparency", "q7_employee",
    ]  # fmt: skip
    assert expected["_"][1] > 0
    for row in rows:
        column = row["question"].split("_", 1)[1]
        for point in range(1, 6):
            assert int(row[f"count_{point}"]) == expected[column][point]
        assert int(row["answered"]) == sum(expected[column][p] for p in range(1, 6))
        assert int(row["sessions"]) == expected["_"][0]
        assert int(row["responses"]) == expected["_"][1]
        assert row["quarter"] == "2026Q4" and row["quarter_start"] == "2026-10-01"
        assert row["quarter_end"] == "2026-12-31"
    assert rows[3]["item_wording"] == "It was easy to complete what I needed to do."

    empty = tmp_path / "q1.csv"
    result = jobs.export_a11_csv(ctx.db, study.id, "2020Q1", empty)
    assert result.messages and all(r["responses"] == "0" for r in read(empty))


@pytest.mark.parametrize("quarter", ["2026Q5", "Q4 2026", "26Q1", ""])
def test_a11_bad_quarter(ctx: AppContext, study: Study, tmp_path: Path, quarter: str) -> None:
    with pytest.raises(ValidationError):
        jobs.export_a11_csv(ctx.db, study.id, quarter, tmp_path / "a.csv")
    assert not (tmp_path / "a.csv").exists()


def test_csv_cancel_or_failure_leaves_no_files(
    ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    out.mkdir()
    (out / "sessions.csv").write_text("previous export", encoding="utf-8")
    with pytest.raises(ExportCancelled):
        jobs.export_study_csv(ctx.db, study.id, out, cancelled=lambda: True)
    assert [p.name for p in out.iterdir()] == ["sessions.csv"]
    assert (out / "sessions.csv").read_text(encoding="utf-8") == "previous export"
    # a folder where a table should go: the whole set fails, nothing half-written remains
    (out / "notes.csv").mkdir()
    with pytest.raises(ExportPathError):
        jobs.export_study_csv(ctx.db, study.id, out)
    assert sorted(p.name for p in out.iterdir()) == ["notes.csv", "sessions.csv"]
    assert (out / "sessions.csv").read_text(encoding="utf-8") == "previous export"


def test_output_paths_checked_before_any_work(
    ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    with pytest.raises(ExportPathError, match="does not exist"):
        jobs.export_study_json(ctx.db, study.id, tmp_path / "missing" / "x.json")
    with pytest.raises(ExportPathError, match="is a folder"):
        jobs.export_study_pdf(ctx.db, study.id, tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportPathError, match="not a folder"):
        jobs.export_study_csv(ctx.db, study.id, blocker)
