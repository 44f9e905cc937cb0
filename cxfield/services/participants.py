"""Participants of a study and their consent.

Participants are only known by a generated pseudonym code: customers P-7KQ2-001,
P-7KQ2-002 ..., staff members S-7KQ2-001 ... (the prefix comes from the laptop's device id,
so codes made on two laptops never collide; codes made before are kept as they were, e.g.
P-001; a staff member also has one of the study's staff roles, and answers
the study's staff segment attributes instead of the customers').  Consent is
recorded against the study's current consent text version: interview consent and,
separately, recording consent.  Withdrawing marks the participant and can really delete
the content of their sessions (text blanked, audio files removed), leaving tombstones so
the deletion syncs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from cxfield.domain.errors import ConflictError, NotFoundError, ValidationError
from cxfield.domain.ids import utcnow
from cxfield.domain.rules import (
    check_role,
    check_segments,
    device_prefix,
    pseudonym_code,
    pseudonym_kind,
    pseudonym_number,
    pseudonym_prefix,
)
from cxfield.domain.vocabulary import ParticipantKind
from cxfield.services.common import get_live
from cxfield.services.common import tombstone as _tombstone
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ConsentRecord,
    Note,
    ObservationVisit,
    Participant,
    Recording,
    ResearchSession,
    StepCapture,
    Study,
    SurveyResponse,
    SyncFields,
    TranscriptSegment,
    WithdrawalReceipt,
)


@dataclass(frozen=True)
class ParticipantInfo:
    """A participant with the consent that currently applies to them."""

    participant: Participant
    consent: ConsentRecord | None
    sessions: int

    @property
    def interview_consent(self) -> bool:
        return bool(self.consent and self.consent.interview_consent and not self.withdrawn)

    @property
    def recording_consent(self) -> bool:
        return bool(self.consent and self.consent.recording_consent and not self.withdrawn)

    @property
    def withdrawn(self) -> bool:
        return self.participant.withdrawn


@dataclass(frozen=True)
class Withdrawal:
    participant_id: str
    sessions_deleted: int
    files_deleted: int


def next_code(
    db: Session,
    study_id: str,
    prefix: str = "",
    kind: ParticipantKind = ParticipantKind.CUSTOMER,
) -> str:
    """The next free pseudonym code of this kind (P- customers, S- staff) and device series
    in the study (numbers of withdrawn or deleted ones are never reused)."""
    codes = db.exec(select(Participant.code).where(Participant.study_id == study_id)).all()
    numbers = [
        n
        for n in (
            pseudonym_number(c)
            for c in codes
            if pseudonym_prefix(c) == prefix and pseudonym_kind(c) == kind
        )
        if n is not None
    ]
    return pseudonym_code(max(numbers, default=0) + 1, prefix, kind)


def segment_definitions(study: Study, kind: ParticipantKind) -> list[dict[str, object]]:
    """The segment attributes a participant of this kind answers: customers the study's
    segment attributes (the equity lens), staff its staff segment attributes."""
    if ParticipantKind(kind) is ParticipantKind.STAFF:
        return list(study.staff_segment_attributes)
    return list(study.segment_attributes)


def _checked_role(study: Study, kind: ParticipantKind, role: str | None) -> str:
    if ParticipantKind(kind) is ParticipantKind.CUSTOMER:
        if role:
            raise ValidationError("Only staff members have a role (add them as staff).")
        return ""
    if not role or not role.strip():
        raise ValidationError(
            f"A staff member needs a role; this study has: {', '.join(study.staff_roles)}."
        )
    return check_role(role, study.staff_roles)


def add_participant(
    database: Database,
    study_id: str,
    segments: Mapping[str, str | None] | None = None,
    *,
    code: str | None = None,
    kind: ParticipantKind = ParticipantKind.CUSTOMER,
    role: str | None = None,
) -> Participant:
    """Add a customer, or a staff member with a role, with a generated code (or a given
    one that must be free)."""
    kind = ParticipantKind(kind)
    for _attempt in range(3):
        with database.session() as db:
            study = get_live(db, Study, study_id, "study")
            values = check_segments(segments or {}, segment_definitions(study, kind))
            checked_role = _checked_role(study, kind, role)
            if code is not None:
                wanted = code.strip().upper()
                if pseudonym_number(wanted) is None or pseudonym_kind(wanted) != kind:
                    example = f"{pseudonym_code(1, kind=kind)} or {pseudonym_code(1, '7KQ2', kind)}"
                    raise ValidationError(
                        f"Participant code {code!r} must look like {example} (no names)."
                    )
                taken = db.exec(
                    select(Participant).where(
                        Participant.study_id == study_id, Participant.code == wanted
                    )
                ).first()
                if taken is not None:
                    raise ConflictError(f"Participant code {wanted} is already used in this study.")
            else:
                wanted = next_code(db, study_id, device_prefix(database.device_id), kind=kind)
            participant = Participant(
                study_id=study_id, code=wanted, kind=kind, role=checked_role, segments=values
            )
            db.add(participant)
            try:
                db.flush()
            except IntegrityError as exc:
                # Another window or device took the code between our read and write.
                if code is not None:
                    raise ConflictError(
                        f"Participant code {wanted} is already used in this study."
                    ) from exc
                db.rollback()
                continue
            return participant
    raise ConflictError("Could not find a free participant code; please try again.")


def update_segments(
    database: Database, participant_id: str, segments: Mapping[str, str | None]
) -> Participant:
    """Replace a participant's (optional, self-described) segment values."""
    with database.session() as db:
        participant = get_live(db, Participant, participant_id, "participant")
        study = get_live(db, Study, participant.study_id, "study")
        participant.segments = check_segments(
            segments, segment_definitions(study, participant.kind)
        )
        db.add(participant)
        return participant


def update_role(database: Database, participant_id: str, role: str) -> Participant:
    """Change a staff member's role (to another of the study's staff roles)."""
    with database.session() as db:
        participant = get_live(db, Participant, participant_id, "participant")
        study = get_live(db, Study, participant.study_id, "study")
        participant.role = _checked_role(study, participant.kind, role)
        db.add(participant)
        return participant


def find_by_code(database: Database, study_id: str, code: str) -> Participant:
    """A study's participant by code (P-001, s-001: case does not matter)."""
    wanted = code.strip().upper()
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        found = db.exec(
            select(Participant).where(
                Participant.study_id == study_id,
                Participant.code == wanted,
                col(Participant.deleted_at).is_(None),
            )
        ).first()
    if found is None:
        raise NotFoundError(f"No participant {wanted} in this study.")
    return found


def current_consent(db: Session, participant_id: str) -> ConsentRecord | None:
    """The participant's latest consent record (the one that counts now)."""
    return db.exec(
        select(ConsentRecord)
        .where(
            ConsentRecord.participant_id == participant_id,
            col(ConsentRecord.deleted_at).is_(None),
        )
        .order_by(col(ConsentRecord.consented_at).desc(), col(ConsentRecord.created_at).desc())
    ).first()


@dataclass(frozen=True)
class RecordingConsent:
    allowed: bool
    #: why not, in a sentence the runner can show
    reason: str


def recording_consent(database: Database, session_id: str) -> RecordingConsent:
    """The one rule for recording: the session's participant has not withdrawn and their
    latest consent record, not withdrawn, says yes to recording."""
    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
        if session.participant_id is None:
            return RecordingConsent(False, "This session has no participant to consent.")
        participant = db.get(Participant, session.participant_id)
        if participant is None or participant.withdrawn:
            return RecordingConsent(False, "The participant has withdrawn from the study.")
        latest = current_consent(db, session.participant_id)
    if latest is None:
        return RecordingConsent(False, "No consent has been recorded for this participant.")
    if latest.withdrawn:
        return RecordingConsent(False, "The participant withdrew their consent.")
    if not latest.recording_consent:
        return RecordingConsent(False, "The participant did not consent to being recorded.")
    return RecordingConsent(True, "The participant consented to being recorded.")


def require_recording_consent(database: Database, session_id: str) -> None:
    """Raise ValidationError unless recording may start (the recorder calls this first)."""
    consent = recording_consent(database, session_id)
    if not consent.allowed:
        raise ValidationError(
            "No recording without recording consent: "
            f"{consent.reason[0].lower()}{consent.reason[1:]} "
            "Notes-only sessions need interview consent only."
        )


def record_consent(
    database: Database,
    participant_id: str,
    *,
    interview: bool,
    recording: bool,
    researcher_id: str | None = None,
) -> ConsentRecord:
    """Record consent against the study's current consent text version."""
    if recording and not interview:
        raise ValidationError("Recording consent needs interview consent as well.")
    with database.session() as db:
        participant = get_live(db, Participant, participant_id, "participant")
        if participant.withdrawn:
            raise ConflictError(f"{participant.code} has withdrawn; add a new participant instead.")
        study = get_live(db, Study, participant.study_id, "study")
        record = ConsentRecord(
            participant_id=participant_id,
            consent_version=study.consent_version,
            interview_consent=interview,
            recording_consent=recording,
            recorded_by=researcher_id,
        )
        db.add(record)
        return record


def participant_info(database: Database, participant_id: str) -> ParticipantInfo:
    with database.session() as db:
        participant = get_live(db, Participant, participant_id, "participant")
        sessions = len(_sessions_of(db, participant_id))
        return ParticipantInfo(participant, current_consent(db, participant_id), sessions)


def list_participants(database: Database, study_id: str) -> list[ParticipantInfo]:
    """The study's participants, customers then staff, each in code order, with their
    current consent."""
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        participants = db.exec(
            select(Participant).where(
                Participant.study_id == study_id, col(Participant.deleted_at).is_(None)
            )
        ).all()
        ids = [p.id for p in participants]
        consents: dict[str, ConsentRecord] = {}
        for record in db.exec(
            select(ConsentRecord)
            .where(
                col(ConsentRecord.participant_id).in_(ids),
                col(ConsentRecord.deleted_at).is_(None),
            )
            .order_by(col(ConsentRecord.consented_at), col(ConsentRecord.created_at))
        ).all():
            consents[record.participant_id] = record  # the latest wins
        counts: dict[str, int] = {}
        for pid in db.exec(
            select(ResearchSession.participant_id).where(
                col(ResearchSession.participant_id).in_(ids),
                col(ResearchSession.deleted_at).is_(None),
            )
        ).all():
            if pid is not None:
                counts[pid] = counts.get(pid, 0) + 1
    result = [ParticipantInfo(p, consents.get(p.id), counts.get(p.id, 0)) for p in participants]
    staff = ParticipantKind.STAFF
    result.sort(
        key=lambda i: (
            i.participant.kind == staff,
            pseudonym_number(i.participant.code) or 0,
            i.participant.code,
        )
    )
    return result


def _sessions_of(db: Session, participant_id: str) -> list[ResearchSession]:
    return list(
        db.exec(
            select(ResearchSession).where(
                ResearchSession.participant_id == participant_id,
                col(ResearchSession.deleted_at).is_(None),
            )
        ).all()
    )


def withdraw(
    database: Database,
    participant_id: str,
    *,
    delete_content: bool = False,
    data_root: Path | None = None,
) -> Withdrawal:
    """Mark a participant as withdrawn; with ``delete_content`` also really delete what
    their sessions hold: texts are blanked, audio files under ``data_root`` removed, and the
    rows tombstoned so the deletion reaches every copy at the next sync."""
    files: list[Path] = []
    with database.session() as db:
        participant = get_live(db, Participant, participant_id, "participant")
        now = utcnow()
        participant.withdrawn = True
        participant.withdrawn_at = participant.withdrawn_at or now
        db.add(participant)
        for record in db.exec(
            select(ConsentRecord).where(ConsentRecord.participant_id == participant_id)
        ).all():
            if not record.withdrawn:
                record.withdrawn = True
                record.withdrawn_at = now
                db.add(record)
        sessions = _sessions_of(db, participant_id) if delete_content else []
        rows = 0
        for session in sessions:
            erased, count = _erase_session(db, session, data_root)
            files.extend(erased)
            rows += count
        study_id = participant.study_id
    deleted = 0
    for path in files:
        try:
            path.unlink(missing_ok=True)
            deleted += 1
        except OSError:
            pass  # the rows are gone already; a locked file is reported by the count
    if delete_content:
        # Where the withdrawal was applied: it syncs, and the hub and every other laptop
        # purge their copies and add theirs (cxfield.privacy.withdrawal).
        with database.session() as db:
            db.add(
                WithdrawalReceipt(
                    participant_id=participant_id,
                    study_id=study_id,
                    place="laptop",
                    applied_by=database.device_id,
                    applied_at=now,
                    sessions=len(sessions),
                    rows=rows,
                    files=deleted,
                )
            )
    return Withdrawal(participant_id, len(sessions), deleted)


def _erase_session(
    db: Session, session: ResearchSession, data_root: Path | None
) -> tuple[list[Path], int]:
    """Blank and tombstone everything a session holds; return the audio files to remove
    and how many rows were erased."""
    files: list[Path] = []
    sid = session.id
    erased = 0

    def tombstone(db: Session, obj: SyncFields) -> None:
        nonlocal erased
        erased += 1
        _tombstone(db, obj)

    for capture in db.exec(select(StepCapture).where(StepCapture.session_id == sid)).all():
        capture.notes = capture.quote = ""
        capture.emotions = []
        capture.valence = capture.intensity = None
        capture.pain_point = False
        capture.observed_start = capture.observed_end = None
        tombstone(db, capture)
        db.add(capture)
    for visit in db.exec(select(ObservationVisit).where(ObservationVisit.session_id == sid)).all():
        tombstone(db, visit)
    for note in db.exec(select(Note).where(Note.session_id == sid)).all():
        note.text = ""
        note.tags = []
        tombstone(db, note)
        db.add(note)
    for segment in db.exec(
        select(TranscriptSegment).where(TranscriptSegment.session_id == sid)
    ).all():
        segment.text = ""
        segment.original_text = None
        tombstone(db, segment)
        db.add(segment)
    for survey in db.exec(select(SurveyResponse).where(SurveyResponse.session_id == sid)).all():
        for key in ("satisfaction", "trust", "effectiveness", "ease", "efficiency"):
            setattr(survey, key, None)
        survey.equity = survey.employee = survey.transparency = None
        survey.went_well, survey.not_well, survey.comments = [], [], ""
        tombstone(db, survey)
        db.add(survey)
    for recording in db.exec(select(Recording).where(Recording.session_id == sid)).all():
        if data_root is not None:
            for rel in (recording.path, recording.original_path):
                if rel:
                    files.append(data_root / rel)
        tombstone(db, recording)
    from cxfield.services.review import erase_review_records

    erase_review_records(db, sid)
    session.notes = ""
    tombstone(db, session)
    return files, erased
