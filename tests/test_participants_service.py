"""Participants, pseudonym codes, consent and withdrawal (services, no Qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.domain.errors import ConflictError, ValidationError
from cxfield.domain.rules import device_prefix
from cxfield.services import capture, participants, templates
from cxfield.storage.models import (
    Note,
    Participant,
    Recording,
    ResearchSession,
    StepCapture,
    Study,
)


def _study(ctx: AppContext) -> Study:
    return templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )


def test_codes_are_generated_and_never_reused(ctx: AppContext) -> None:
    study = _study(ctx)
    prefix = device_prefix(ctx.db.device_id)
    codes = [participants.add_participant(ctx.db, study.id).code for _ in range(3)]
    assert codes == [f"P-{prefix}-001", f"P-{prefix}-002", f"P-{prefix}-003"]
    participants.withdraw(
        ctx.db, participants.list_participants(ctx.db, study.id)[2].participant.id
    )
    assert participants.add_participant(ctx.db, study.id).code == f"P-{prefix}-004"


def test_codes_of_two_laptops_do_not_collide(tmp_path: Path) -> None:
    """Two laptops add participants to the same study offline: no code is made twice, and
    codes made before device prefixes (P-001) are kept and do not disturb the series."""
    from cxfield.app import open_app

    made: list[str] = []
    for name in ("laptop-a", "laptop-b"):
        laptop = open_app(tmp_path / name)
        try:
            with laptop.db.session() as db:
                study = Study(id="shared-study", name="Shared")
                db.add(study)
                db.flush()
                db.add(Participant(study_id=study.id, code="P-001"))
            made += [participants.add_participant(laptop.db, study.id).code for _ in range(3)]
            assert participants.list_participants(laptop.db, study.id)[0].participant.code == (
                "P-001"
            )
        finally:
            laptop.close()
    assert len(set(made)) == 6
    assert {m.rsplit("-", 1)[1] for m in made} == {"001", "002", "003"}


def test_code_collision_and_bad_code(ctx: AppContext) -> None:
    study = _study(ctx)
    first = participants.add_participant(ctx.db, study.id).code
    with pytest.raises(ConflictError, match=f"{first} is already used"):
        participants.add_participant(ctx.db, study.id, code=first.lower())
    with pytest.raises(ValidationError, match="must look like P-001"):
        participants.add_participant(ctx.db, study.id, code="Maria Lopez")
    assert participants.add_participant(ctx.db, study.id, code="P-010").code == "P-010"
    assert participants.add_participant(ctx.db, study.id, code="p-7kq2-003").code == "P-7KQ2-003"
    prefix = device_prefix(ctx.db.device_id)
    assert participants.add_participant(ctx.db, study.id).code == f"P-{prefix}-002"
    assert len(participants.list_participants(ctx.db, study.id)) == 4


def test_segments_are_optional_and_checked(ctx: AppContext) -> None:
    study = _study(ctx)
    person = participants.add_participant(
        ctx.db, study.id, {"language": "Spanish", "disability": "prefer not to say", "visit": ""}
    )
    assert person.segments == {"language": "Spanish", "disability": "prefer not to say"}
    with pytest.raises(ValidationError, match="not a value"):
        participants.add_participant(ctx.db, study.id, {"language": "Klingon"})
    with pytest.raises(ValidationError, match="Unknown segment"):
        participants.update_segments(ctx.db, person.id, {"shoe_size": "42"})
    assert participants.update_segments(ctx.db, person.id, {}).segments == {}


def test_consent_interview_and_recording_separately(ctx: AppContext) -> None:
    study = _study(ctx)
    person = participants.add_participant(ctx.db, study.id)
    info = participants.participant_info(ctx.db, person.id)
    assert not info.interview_consent and not info.recording_consent
    with pytest.raises(ValidationError, match="needs interview consent"):
        participants.record_consent(ctx.db, person.id, interview=False, recording=True)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    info = participants.participant_info(ctx.db, person.id)
    assert info.interview_consent and not info.recording_consent
    assert info.consent is not None and info.consent.consent_version == study.consent_version

    session = capture.start_session(ctx.db, study.id, participant_id=person.id)
    assert not capture.recording_allowed(ctx.db, session.id)
    with pytest.raises(ValidationError, match="No recording without recording consent"):
        capture.require_recording_consent(ctx.db, session.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=True)
    capture.require_recording_consent(ctx.db, session.id)


def test_withdraw_marks_and_really_deletes_content(ctx: AppContext, tmp_path: Path) -> None:
    study = _study(ctx)
    keep = participants.add_participant(ctx.db, study.id)
    gone = participants.add_participant(ctx.db, study.id)
    for person in (keep, gone):
        participants.record_consent(ctx.db, person.id, interview=True, recording=True)
    step = templates_step(ctx, study.id)
    s_keep = capture.start_session(ctx.db, study.id, participant_id=keep.id)
    s_gone = capture.start_session(ctx.db, study.id, participant_id=gone.id)
    for sid in (s_keep.id, s_gone.id):
        capture.save_capture(ctx.db, sid, step, valence=1, quote="my words")
        capture.add_note(ctx.db, sid, "secret note", tags=["idea"])
    audio = ctx.paths.recordings / "gone.wav"
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(b"RIFF")
    with ctx.db.session() as db:
        db.add(Recording(session_id=s_gone.id, path="recordings/gone.wav"))

    result = participants.withdraw(ctx.db, gone.id, delete_content=True, data_root=ctx.paths.root)
    assert (result.sessions_deleted, result.files_deleted) == (1, 1)
    assert not audio.exists()
    info = participants.participant_info(ctx.db, gone.id)
    assert info.withdrawn and not info.interview_consent and not info.recording_consent
    with ctx.db.session() as db:
        erased = db.get(ResearchSession, s_gone.id)
        assert erased is not None and erased.deleted_at is not None  # tombstone for sync
        gone_caps = db.exec(select(StepCapture).where(StepCapture.session_id == s_gone.id)).all()
        assert all(c.deleted_at and c.quote == "" and c.valence is None for c in gone_caps)
        gone_notes = db.exec(select(Note).where(Note.session_id == s_gone.id)).all()
        assert all(n.deleted_at and n.text == "" for n in gone_notes)
        kept = db.exec(select(Note).where(Note.session_id == s_keep.id)).one()
        assert kept.text == "secret note" and kept.deleted_at is None
    with pytest.raises(ConflictError, match="withdrawn"):
        capture.start_session(ctx.db, study.id, participant_id=gone.id)
    with pytest.raises(ConflictError, match="withdrawn"):
        participants.record_consent(ctx.db, gone.id, interview=True, recording=False)


def test_withdraw_without_deletion_keeps_sessions(ctx: AppContext) -> None:
    study = _study(ctx)
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    session = capture.start_session(ctx.db, study.id, participant_id=person.id)
    assert participants.withdraw(ctx.db, person.id).sessions_deleted == 0
    assert capture.load_runner_state(ctx.db, session.id).session.deleted_at is None


def templates_step(ctx: AppContext, study_id: str) -> str:
    from cxfield.services.studies import get_journey

    return get_journey(ctx.db, study_id).steps[0].id
