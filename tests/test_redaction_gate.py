"""The review gate: a session with planted personal details is neither synced nor
exported until its candidates are reviewed; afterwards only the redacted text leaves,
and the original stays on the laptop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

pytest.importorskip("presidio_analyzer")

from cxfield.app import AppContext  # noqa: E402
from cxfield.export import jobs  # noqa: E402
from cxfield.export.redacted import HeldForReview  # noqa: E402
from cxfield.privacy import review, store  # noqa: E402
from cxfield.storage.models import Note  # noqa: E402
from cxfield.sync.connection import status  # noqa: E402
from tests.export_support import normal, pdf_text  # noqa: E402
from tests.redaction_support import EMAIL, PHONE, SSN, planted_session  # noqa: E402
from tests.sync_support import Team  # noqa: E402


def _hub_data(team: Team, table: str) -> dict[str, dict[str, object]]:
    from cxfield.hub import storage

    with team.app.state.hub.engine.connect() as conn:
        rows = conn.execute(
            select(storage.record.c.row_id, storage.record.c.data).where(
                storage.record.c.table_name == table
            )
        )
        return {
            r.row_id: (r.data if isinstance(r.data, dict) else json.loads(r.data)) for r in rows
        }


def _decide_all(ctx_db: object, session_id: str, state: str = "accepted") -> int:
    rows = store.candidates(ctx_db, session_id=session_id)  # type: ignore[arg-type]
    for row in rows:
        store.decide(ctx_db, row.id, state)  # type: ignore[arg-type]
    return len(rows)


def test_sync_holds_the_session_until_reviewed_then_sends_placeholders(team: Team) -> None:
    ana = team.laptop("Ana")
    planted = planted_session(ana.db)
    summary = ana.sync()
    # the study went, the session did not, and the laptop says which one waits and why
    assert planted.study_id in _hub_data(team, "study")
    assert planted.session_id not in _hub_data(team, "session")
    assert not _hub_data(team, "note") and not _hub_data(team, "transcript_segment")
    assert any(planted.session_id in line and "wait for review" in line for line in summary.held)
    assert "held for redaction review" in summary.line()
    held = status(ana.db, ana.ctx.paths.root)["held_for_review"]
    assert len(held) == 1 and planted.session_id in held[0]

    kinds = {row.kind for row in store.candidates(ana.db, session_id=planted.session_id)}
    assert {"ssn", "phone", "email"} <= kinds
    assert _decide_all(ana.db, planted.session_id) >= 3
    summary = ana.sync()
    assert summary.held == []
    note = _hub_data(team, "note")[planted.note_id]
    session = _hub_data(team, "session")[planted.session_id]
    segment = _hub_data(team, "transcript_segment")[planted.segment_id]
    assert note["text"] == "She read out her SSN, [SSN], at the desk."
    assert session["notes"] == "Prefers a call on [PHONE]."
    assert segment["text"] == "you can email me at [EMAIL] any time"
    hub_dump = json.dumps([note, session, segment])
    assert SSN not in hub_dump and PHONE not in hub_dump and EMAIL not in hub_dump
    # the original stays on the laptop, also after pulling the redacted rows back
    ana.sync()
    with ana.db.session() as db:
        assert SSN in db.get(Note, planted.note_id).text


def test_a_rejected_candidate_leaves_as_written_and_review_off_holds_nothing(team: Team) -> None:
    ana = team.laptop("Ana")
    planted = planted_session(ana.db)
    review.set_settings(ana.db, planted.study_id, review=False)
    ana.sync()
    assert SSN in str(_hub_data(team, "note")[planted.note_id]["text"])  # nothing decided

    review.set_settings(ana.db, planted.study_id, review=True)
    other = planted_session(ana.db, study_id=planted.study_id)
    store.scan_sessions(ana.db, [other.session_id])
    _decide_all(ana.db, other.session_id, "rejected")
    ana.sync()
    assert SSN in str(_hub_data(team, "note")[other.note_id]["text"])


def test_an_edit_after_review_holds_the_session_again(team: Team) -> None:
    ana = team.laptop("Ana")
    planted = planted_session(ana.db)
    store.scan_sessions(ana.db, [planted.session_id])
    _decide_all(ana.db, planted.session_id)
    with ana.db.session() as db:
        note = db.get(Note, planted.note_id)
        note.text += " Her new number is 773-555-0142."
        db.add(note)
    summary = ana.sync()
    assert planted.session_id not in _hub_data(team, "session")
    assert summary.held and "1 redaction candidate waits" in summary.held[0]
    pending = store.candidates(ana.db, session_id=planted.session_id, state="pending")
    assert [row.text for row in pending] == ["773-555-0142"]
    # the decisions taken before were kept
    assert len(store.candidates(ana.db, session_id=planted.session_id, state="accepted")) >= 3


def test_exports_hold_the_session_then_carry_placeholders(ctx: AppContext, tmp_path: Path) -> None:
    planted = planted_session(ctx.db)
    target = tmp_path / "session.pdf"
    with pytest.raises(HeldForReview, match="wait for review"):
        jobs.export_session_pdf(ctx.db, planted.session_id, target)
    assert not target.exists()
    with pytest.raises(HeldForReview):
        jobs.export_session_docx(ctx.db, planted.session_id, tmp_path / "t.docx")
    with pytest.raises(HeldForReview):
        jobs.export_session_transcript(ctx.db, planted.session_id, "srt", tmp_path / "t.srt")
    assert not (tmp_path / "t.docx").exists() and not (tmp_path / "t.srt").exists()
    out = tmp_path / "held.json"
    result = jobs.export_study_json(ctx.db, planted.study_id, out)
    assert any("left out" in m and planted.session_id in m for m in result.messages)
    text = out.read_text()
    assert planted.session_id not in text and SSN not in text

    _decide_all(ctx.db, planted.session_id)
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    jobs.export_study_csv(ctx.db, planted.study_id, csv_dir)
    tables = "".join(p.read_text() for p in csv_dir.glob("*.csv"))
    assert "[SSN]" in tables and SSN not in tables and PHONE not in tables
    reviewed = tmp_path / "reviewed.json"
    jobs.export_study_json(ctx.db, planted.study_id, reviewed)
    text = reviewed.read_text()
    assert planted.session_id in text and "[EMAIL]" in text and EMAIL not in text
    jobs.export_session_transcript(ctx.db, planted.session_id, "txt", tmp_path / "t.txt")
    spoken = (tmp_path / "t.txt").read_text()
    assert "[EMAIL]" in spoken and EMAIL not in spoken
    jobs.export_session_pdf(ctx.db, planted.session_id, target)
    pdf = normal(pdf_text(target))
    assert "[SSN]" in pdf and "[PHONE]" in pdf and SSN not in pdf
    # no private copy of the database is left behind
    assert not list(ctx.paths.root.glob(".export-*"))
    with ctx.db.session() as db:
        assert SSN in db.get(Note, planted.note_id).text


def test_the_models_text_kept_beside_an_edit_is_redacted_too(team: Team) -> None:
    """A researcher deletes the e-mail address from a transcript line by editing it: the
    model's text kept beside the edit still holds it, so it is scanned and reviewed like
    the line, and only its redacted copy reaches the hub."""
    from cxfield.services import transcript

    ana = team.laptop("Ana")
    planted = planted_session(ana.db)
    transcript.edit_text(ana.db, planted.segment_id, "you can email me any time")
    summary = ana.sync()
    assert planted.session_id not in _hub_data(team, "session")
    assert summary.held
    found = store.candidates(ana.db, session_id=planted.session_id)
    assert ("original_text", EMAIL) in {(row.field, row.text) for row in found}
    _decide_all(ana.db, planted.session_id)
    assert ana.sync().held == []
    segment = _hub_data(team, "transcript_segment")[planted.segment_id]
    assert segment["text"] == "you can email me any time"
    assert segment["original_text"] == "you can email me at [EMAIL] any time"
    assert EMAIL not in json.dumps(segment)


def test_the_history_of_an_edit_after_submission_is_redacted_too(
    team: Team, tmp_path: Path
) -> None:
    """A note edited (and one added) after the session was submitted: the audit trail
    holds the text before and after (and the new row's content); it reaches the hub with
    the same placeholders as the note, never the details themselves."""
    from cxfield.services import review as review_service

    ana = team.laptop("Ana")
    planted = planted_session(ana.db)
    store.scan_sessions(ana.db, [planted.session_id])
    _decide_all(ana.db, planted.session_id)
    review_service.submit(ana.db, planted.session_id, "")
    with ana.db.session() as db:
        note = db.get(Note, planted.note_id)
        note.text += " Thanks."
        db.add(note)
        db.add(Note(session_id=planted.session_id, text=f"Call back on {PHONE}."))
    store.scan_sessions(ana.db, [planted.session_id])
    _decide_all(ana.db, planted.session_id)
    assert ana.sync().held == []
    audits = list(_hub_data(team, "audit_entry").values())
    edited = [a for a in audits if a["row_id"] == planted.note_id and a["field"] == "text"]
    assert [(a["before"], a["after"]) for a in edited] == [
        (
            "She read out her SSN, [SSN], at the desk.",
            "She read out her SSN, [SSN], at the desk. Thanks.",
        )
    ]
    created = [a for a in audits if a["field"] == "created" and a["table_name"] == "note"]
    assert len(created) == 1 and created[0]["after"]["text"] == "Call back on [PHONE]."
    dump = json.dumps(audits)
    assert SSN not in dump and PHONE not in dump
    # and so does the study's JSON export, which carries each session's history
    exported = tmp_path / "study.json"
    jobs.export_study_json(ana.db, planted.study_id, exported)
    text = exported.read_text(encoding="utf-8")
    assert "She read out her SSN, [SSN], at the desk. Thanks." in text
    assert SSN not in text and PHONE not in text
    # on the laptop the history keeps what was written
    with ana.db.session() as db:
        from sqlmodel import select as orm_select

        from cxfield.storage.models import AuditEntry

        kept = db.exec(orm_select(AuditEntry).where(AuditEntry.row_id == planted.note_id)).all()
        assert any(SSN in str(e.before) for e in kept)


def test_review_comments_are_scanned_held_and_leave_redacted(team: Team, tmp_path: Path) -> None:
    """A supervisor's comment on a note and a decision's comment quote what the participant
    said: they are scanned like the note, hold the session's sync and export until
    reviewed, and leave with placeholders; the laptop keeps what was written."""
    from cxfield.domain.review import AnchorKind, ReviewAction
    from cxfield.services import review as review_service
    from cxfield.storage.models import ReviewComment, ReviewEvent

    sam = team.laptop("Sam", "supervisor")
    planted = planted_session(sam.db)
    store.scan_sessions(sam.db, [planted.session_id])
    _decide_all(sam.db, planted.session_id)
    review_service.submit(sam.db, planted.session_id, "")
    said = f"She said her husband Tom Baker takes calls on {PHONE}"
    comment = review_service.add_comment(
        sam.db, planted.session_id, said, anchor=AnchorKind.NOTE, anchor_id=planted.note_id
    )
    event = review_service.move(
        sam.db, planted.session_id, ReviewAction.RETURN, f"Take {EMAIL} out of step 2"
    )
    summary = sam.sync()
    assert planted.session_id not in _hub_data(team, "session")
    assert summary.held and "2 redaction candidates wait" in summary.held[0]
    pending = store.candidates(sam.db, session_id=planted.session_id, state="pending")
    found = {(row.table_name, row.row_id, row.text, review.where(row)) for row in pending}
    assert found == {
        ("review_comment", comment.id, PHONE, "review comment"),
        ("review_event", event.id, EMAIL, "review decision comment"),
    }
    held = jobs.export_study_json(sam.db, planted.study_id, tmp_path / "held.json")
    assert any("left out" in m and planted.session_id in m for m in held.messages)
    with pytest.raises(HeldForReview):
        jobs.export_session_pdf(sam.db, planted.session_id, tmp_path / "held.pdf")
    _decide_all(sam.db, planted.session_id)
    assert sam.sync().held == []
    sent = _hub_data(team, "review_comment")[comment.id]
    assert sent["text"] == "She said her husband Tom Baker takes calls on [PHONE]"
    decision = _hub_data(team, "review_event")[event.id]
    assert decision["comment"] == "Take [EMAIL] out of step 2"
    exported = tmp_path / "study.json"
    jobs.export_study_json(sam.db, planted.study_id, exported)
    text = exported.read_text(encoding="utf-8")
    assert "takes calls on [PHONE]" in text and "Take [EMAIL] out" in text
    assert PHONE not in text and EMAIL not in text
    with sam.db.session() as db:
        assert PHONE in db.get(ReviewComment, comment.id).text
        assert EMAIL in db.get(ReviewEvent, event.id).comment
