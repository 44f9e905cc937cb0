"""Supervisor review on one laptop: the states and who may move them, comments anchored to
what they are about, read-only approved sessions, the audit trail, and the CLI."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.cli import main
from cxfield.domain.errors import ConflictError, ValidationError
from cxfield.domain.review import AnchorKind, ReviewAction, next_status, status_change_problem
from cxfield.domain.vocabulary import SessionStatus
from cxfield.services import capture, history, review, review_queue, sessions, transcript
from cxfield.storage.models import AuditEntry, ReviewComment, Study
from tests.test_capture_service import _setup

S = SessionStatus


def test_transitions_follow_the_review_rules() -> None:
    assert next_status(S.DRAFT, ReviewAction.SUBMIT, reviewer=False) == S.SUBMITTED
    assert next_status(S.HAS_ISSUES, ReviewAction.SUBMIT, reviewer=False) == S.SUBMITTED
    assert next_status(S.SUBMITTED, ReviewAction.APPROVE, reviewer=True) == S.APPROVED
    with pytest.raises(ValidationError, match="Only a supervisor"):
        next_status(S.SUBMITTED, ReviewAction.APPROVE, reviewer=False)
    with pytest.raises(ValidationError, match="comment is needed"):
        next_status(S.SUBMITTED, ReviewAction.RETURN, reviewer=True, comment="  ")
    with pytest.raises(ValidationError, match="that is approved; only one that is submitted"):
        next_status(S.APPROVED, ReviewAction.REJECT, reviewer=True, comment="late")
    assert next_status(S.REJECTED, ReviewAction.REOPEN, reviewer=True, comment="x") == S.HAS_ISSUES
    # what the hub checks from the two states alone
    assert status_change_problem(S.SUBMITTED, S.APPROVED, reviewer=True) is None
    assert "Only a supervisor" in str(
        status_change_problem(S.SUBMITTED, S.APPROVED, reviewer=False)
    )
    assert status_change_problem(S.HAS_ISSUES, S.SUBMITTED, reviewer=False) is None
    assert "cannot go" in str(status_change_problem(S.DRAFT, S.APPROVED, reviewer=True))


def _profile(ctx: AppContext, name: str, role: str = "researcher") -> None:
    review.use_profile(ctx.db, name, role)


def _submitted(ctx: AppContext) -> tuple[Study, str, list[str]]:
    study, pid, steps = _setup(ctx)
    _profile(ctx, "Ana")
    session = capture.start_session(ctx.db, study.id, participant_id=pid)
    capture.save_capture(ctx.db, session.id, steps[0], valence=-1, quote="I waited.")
    capture.finish_session(ctx.db, session.id)
    return study, session.id, steps


def test_return_fix_resubmit_approve_with_history(ctx: AppContext) -> None:
    _study, sid, steps = _submitted(ctx)
    assert [e.action for e in review.events_of(ctx.db, sid)] == [ReviewAction.SUBMIT]
    # A researcher cannot decide; nothing changes.
    with pytest.raises(ValidationError, match="Only a supervisor"):
        review.move(ctx.db, sid, ReviewAction.APPROVE)
    assert sessions.session_detail(ctx.db, sid)["status"] == "submitted"

    _profile(ctx, "Sam", "supervisor")
    remark = review.add_comment(
        ctx.db, sid, "Which office was this?", anchor=AnchorKind.STEP, anchor_id=steps[0]
    )
    review.move(ctx.db, sid, ReviewAction.RETURN, "Please fix the first step.")
    assert review_queue.waiting_count(ctx.db).line == ""  # nothing left to review

    _profile(ctx, "Ana")
    assert review_queue.waiting_count(ctx.db).line == "1 returned to you"
    capture.save_capture(ctx.db, sid, steps[0], valence=-2)
    reply = review.add_comment(ctx.db, sid, "Eastside.", reply_to=remark.id)
    assert (reply.anchor, reply.anchor_id) == (AnchorKind.STEP, steps[0])
    review.submit(ctx.db, sid, "Fixed the valence.")

    _profile(ctx, "Sam", "supervisor")
    review.move(ctx.db, sid, ReviewAction.APPROVE)
    # read-only now, for the service and for anything that bypasses it
    with pytest.raises(ConflictError, match="approved"):
        capture.save_capture(ctx.db, sid, steps[0], valence=1)
    with pytest.raises(ValidationError, match="read-only"), ctx.db.session() as db:
        from cxfield.storage.models import StepCapture

        cap = db.exec(select(StepCapture).where(StepCapture.session_id == sid)).one()
        cap.valence = 2
        db.add(cap)
    assert sessions.session_detail(ctx.db, sid)["steps"][0]["capture"]["valence"] == -2

    entries = [
        (e.actor, e.table, e.field, e.before, e.after) for e in history.session_history(ctx.db, sid)
    ]
    assert ("Ana", "session", "status", "draft", "submitted") in entries
    assert ("Sam", "review_comment", "comment", None, "Which office was this?") in entries
    assert ("Sam", "session", "status", "submitted", "has_issues") in entries
    assert ("Ana", "step_capture", "valence", -1, -2) in entries
    assert ("Ana", "review_comment", "comment", None, "Eastside.") in entries
    assert ("Sam", "session", "status", "submitted", "approved") in entries
    threads = review.threads(review.comments_of(ctx.db, sid))
    assert [t.comment.id for t in threads] == [remark.id] and threads[0].replies[
        0
    ].text == "Eastside."


def test_drafts_are_not_audited_and_history_cannot_be_changed(ctx: AppContext) -> None:
    study, pid, steps = _setup(ctx)
    session = capture.start_session(ctx.db, study.id, participant_id=pid)
    capture.save_capture(ctx.db, session.id, steps[0], valence=1)
    assert history.session_history(ctx.db, session.id) == []
    capture.finish_session(ctx.db, session.id)
    capture.add_note(ctx.db, session.id, "Late note", step_id=steps[1])
    fields = [(e.table, e.field) for e in history.session_history(ctx.db, session.id)]
    assert ("note", "created") in fields and ("session", "status") in fields
    with pytest.raises(ValidationError, match="cannot be changed"), ctx.db.session() as db:
        entry = db.exec(select(AuditEntry)).first()
        assert entry is not None
        entry.after = "forged"
        db.add(entry)
    with pytest.raises(ValidationError, match="cannot be changed"), ctx.db.session() as db:
        comment = ReviewComment(session_id=session.id, text="x")
        db.add(comment)
        db.flush()
        comment.text = "y"
        db.add(comment)


def test_comment_anchors_are_checked(ctx: AppContext) -> None:
    _study, sid, steps = _submitted(ctx)
    with pytest.raises(ValidationError, match="No note"):
        review.add_comment(ctx.db, sid, "?", anchor=AnchorKind.NOTE, anchor_id=steps[0])
    with pytest.raises(ValidationError, match="comment is needed"):
        review.add_comment(ctx.db, sid, " ")
    with pytest.raises(ValidationError, match="No comment"):
        review.add_comment(ctx.db, sid, "reply", reply_to="nope")
    assert review.comments_of(ctx.db, sid) == []


def test_transcript_edit_after_submission_is_audited(ctx: AppContext) -> None:
    from cxfield.storage.models import Recording, TranscriptSegment

    _study, sid, _steps = _submitted(ctx)
    with ctx.db.session() as db:
        rec = Recording(session_id=sid, path="recordings/x.wav", duration_s=3.0)
        db.add(rec)
        db.flush()
        segment = TranscriptSegment(
            recording_id=rec.id, session_id=sid, start_s=0.0, end_s=2.0, text="Wrong words."
        )
        db.add(segment)
    transcript.edit_text(ctx.db, segment.id, "Corrected words.")
    found = [e for e in history.session_history(ctx.db, sid) if e.field == "text"]
    assert [(e.actor, e.before, e.after) for e in found] == [
        ("Ana", "Wrong words.", "Corrected words.")
    ]
    _profile(ctx, "Sam", "supervisor")
    remark = review.add_comment(
        ctx.db, sid, "Speaker?", anchor=AnchorKind.SEGMENT, anchor_id=segment.id
    )
    assert remark.anchor_id == segment.id


def _cli(data: Path, *args: str) -> int:
    return main(["--data-dir", str(data), *args])


def test_cli_flow_and_errors(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(data_dir, "demo", "--sessions", "6") == 0
    assert _cli(data_dir, "review", "profile", "Sam Lee", "--role", "supervisor") == 0
    capsys.readouterr()
    assert _cli(data_dir, "review", "list", "--json") == 0
    queue = json.loads(capsys.readouterr().out)
    assert queue and all(item["status"] == "submitted" for item in queue)
    assert [i["submitted_at"] for i in queue] == sorted(i["submitted_at"] for i in queue)
    first = queue[0]["id"]
    with pytest.raises(SystemExit) as usage:
        _cli(data_dir, "review", "reject", first)
    assert usage.value.code == 2
    assert "--comment" in capsys.readouterr().err
    assert _cli(data_dir, "review", "comment", first, "Check the wait.") == 0
    capsys.readouterr()
    assert _cli(data_dir, "review", "comments", first) == 0
    assert "Sam Lee on The session: Check the wait." in capsys.readouterr().out
    assert _cli(data_dir, "review", "return", first, "--comment", "See my comment.") == 0
    assert _cli(data_dir, "review", "approve", first) == 1
    err = capsys.readouterr().err
    assert "Cannot approve a session that is returned with issues" in err
    assert err.count("\n") == 2  # the move line and one error line
    assert _cli(data_dir, "review", "list", "--state", "has_issues", "--json") == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)] == [first]
    assert _cli(data_dir, "sessions", "submit", first, "--comment", "Done.") == 0
    assert _cli(data_dir, "review", "approve", first) == 0
    assert _cli(data_dir, "sessions", "history", first, "--json") == 0
    trail = json.loads(capsys.readouterr().out)
    assert [(e["field"], e["after"]) for e in trail if e["table"] == "session"] == [
        ("status", "has_issues"),
        ("status", "submitted"),
        ("status", "approved"),
    ]
    assert all(e["actor"] == "Sam Lee" for e in trail)
    # each move between states carries the comment that came with it (the reason)
    assert [e["comment"] for e in trail if e["table"] == "session"] == [
        "See my comment.",
        "Done.",
        "",
    ]
    assert _cli(data_dir, "sessions", "history", first) == 0
    shown = capsys.readouterr().out
    assert "has_issues — “See my comment.”" in shown and "submitted — “Done.”" in shown
    assert _cli(data_dir, "sessions", "show", first) == 0
    shown = capsys.readouterr().out
    assert "Approved by Sam Lee" in shown and "Check the wait." in shown

    # the study JSON export carries the review and the history of each session
    out = data_dir.parent / "study.json"
    assert _cli(data_dir, "export", "study", queue[0]["study_id"], "--json", str(out)) == 0
    entry = next(s for s in json.loads(out.read_text("utf-8"))["sessions"] if s["id"] == first)
    assert [e["action"] for e in entry["review"]["events"]] == ["return", "submit", "approve"]
    assert [c["text"] for c in entry["review"]["comments"]] == ["Check the wait."]
    assert [h["after"] for h in entry["history"] if h["field"] == "status"] == [
        "has_issues",
        "submitted",
        "approved",
    ]


def test_report_approved_only_with_a_review_summary(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    assert _cli(data_dir, "demo", "--sessions", "12") == 0
    assert _cli(data_dir, "review", "profile", "Sam Lee", "--role", "supervisor") == 0
    capsys.readouterr()
    assert _cli(data_dir, "review", "list", "--json") == 0
    queue = json.loads(capsys.readouterr().out)
    study = queue[0]["study_id"]
    assert _cli(data_dir, "review", "return", queue[0]["id"], "--comment", "Redo.") == 0
    assert _cli(data_dir, "review", "approve", queue[1]["id"]) == 0
    with ctx_for(data_dir) as ctx:
        summary = review_queue.review_summary(ctx.db, study)
        counts = {s.status: 0 for s in sessions.list_sessions(ctx.db)}
        for s in sessions.list_sessions(ctx.db):
            counts[s.status] += 1
        approved = counts["approved"]
    assert {k: v for k, v in summary.per_state.items() if v} == counts
    assert summary.median_days_to_decision is not None
    assert sum(summary.open_issues.values()) == counts["has_issues"]
    pdf = data_dir.parent / "approved.pdf"
    assert _cli(data_dir, "export", "study", study, "--pdf", str(pdf), "--approved-only") == 0
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Review" in text and "Median days from submission to decision" in text
    assert f"{approved} session" in text  # the selection holds the approved ones only
    assert (
        _cli(
            data_dir,
            "export",
            "study",
            study,
            "--pdf",
            str(pdf),
            "--approved-only",
            "--status",
            "submitted",
        )
        == 1
    )
    assert "not both" in capsys.readouterr().err


def ctx_for(data_dir: Path) -> Any:
    from cxfield.app import open_app

    @contextlib.contextmanager
    def opened() -> Iterator[AppContext]:
        ctx = open_app(data_dir)
        try:
            yield ctx
        finally:
            ctx.close()

    return opened()


def test_survey_answers_and_notes_changed_after_submission_are_audited(ctx: AppContext) -> None:
    from cxfield.services import survey_answers

    _study, sid, steps = _submitted(ctx)
    survey_answers.save_survey(ctx.db, sid, satisfaction=2, comments="Too long.")
    survey_answers.save_survey(ctx.db, sid, satisfaction=4)
    note = capture.add_note(ctx.db, sid, "The printer was down.", step_id=steps[0])
    found = [
        (e.actor, e.what, e.before, e.after)
        for e in history.session_history(ctx.db, sid)
        if e.table in ("survey_response", "note")
    ]
    created = [f for f in found if f[1] == "Survey created"]
    assert len(created) == 1 and created[0][3]["satisfaction"] == 2 and created[0][0] == "Ana"
    assert ("Ana", "Survey satisfaction", 2, 4) in found
    assert any(f[1] == "Note created" and f[3]["text"] == "The printer was down." for f in found)
    assert note.id in {e.row_id for e in history.session_history(ctx.db, sid)}


def test_cli_comment_names_the_step_by_its_name(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`review comment ID TEXT --step Wait` (or --quote): the step's name on the map, as
    `sessions show` prints it, works like its id; an unknown one is one line, nothing made."""
    assert _cli(data_dir, "demo", "--sessions", "3", "--staff", "0", "--submitted") == 0
    assert _cli(data_dir, "review", "profile", "Sam Lee", "--role", "supervisor") == 0
    capsys.readouterr()
    assert _cli(data_dir, "review", "list", "--json") == 0
    first = json.loads(capsys.readouterr().out)[0]["id"]
    assert _cli(data_dir, "sessions", "show", first, "--json") == 0
    steps = {s["step"]: s["step_id"] for s in json.loads(capsys.readouterr().out)["steps"]}
    assert _cli(data_dir, "review", "comment", first, "Timed?", "--step", "wait") == 0
    assert _cli(data_dir, "review", "comment", first, "Said so?", "--quote", " Check  in ") == 0
    assert _cli(data_dir, "review", "comment", first, "?", "--step", "Nowhere") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"No step Nowhere in session {first}" in err
    assert _cli(data_dir, "review", "comments", first, "--json") == 0
    made = json.loads(capsys.readouterr().out)
    assert [(c["anchor"], c["anchor_id"], c["text"]) for c in made] == [
        ("step", steps["Wait"], "Timed?"),
        ("quote", steps["Check in"], "Said so?"),
    ]
