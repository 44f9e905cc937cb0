"""The live session: start, per-step captures, timestamped notes, finish, resume.

Every call is one committed unit of work, so whatever the runner hands over is on disk
(SQLite WAL, synchronous=FULL) before the call returns: a crash loses nothing that was
saved.  The runner debounces typing and calls these functions; nothing here knows Qt."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from cxfield.domain.errors import ConflictError, NotFoundError, ValidationError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.domain.review import ReviewAction
from cxfield.domain.rules import check_intensity, check_tags, check_valence
from cxfield.domain.vocabulary import BASE_EMOTIONS, SessionMode, SessionStatus
from cxfield.services.common import get_live, tombstone
from cxfield.services.participants import current_consent, recording_consent
from cxfield.services.participants import (
    require_recording_consent as require_recording_consent,  # re-exported for the runner
)
from cxfield.services.review import record_move
from cxfield.services.studies import Journey, get_journey
from cxfield.services.visits import close_open_visits
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ConsentRecord,
    Note,
    Participant,
    Recording,
    Researcher,
    ResearchSession,
    Site,
    Step,
    StepCapture,
    Study,
    SurveyResponse,
)

#: Local setting: ids of sessions started in a runner on this installation and not finished.
UNFINISHED_KEY = "capture.unfinished_sessions"
#: Statuses in which captures may still change (review will narrow this later).
EDITABLE_STATUSES = (SessionStatus.DRAFT, SessionStatus.SUBMITTED, SessionStatus.HAS_ISSUES)
#: The fields of a step capture the runner edits.
CAPTURE_FIELDS = ("valence", "emotions", "intensity", "pain_point", "notes", "quote")


@dataclass(frozen=True)
class SaveResult:
    capture: StepCapture
    #: the step was deleted from the map meanwhile; the capture is kept all the same
    step_removed: bool


@dataclass
class RunnerState:
    """Everything a runner needs to show a session (detached objects)."""

    session: ResearchSession
    study: Study
    journey: Journey
    participant: Participant | None
    consent: ConsentRecord | None
    site: Site | None
    researcher: Researcher | None
    captures: dict[str, StepCapture] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    survey: SurveyResponse | None = None
    #: steps removed from the map that still hold a capture of this session
    removed_steps: list[Step] = field(default_factory=list)

    @property
    def recording_allowed(self) -> bool:
        return bool(
            self.consent
            and self.consent.recording_consent
            and not self.consent.withdrawn
            and not (self.participant and self.participant.withdrawn)
        )

    @property
    def emotions(self) -> list[str]:
        return list(BASE_EMOTIONS) + [
            e for e in self.study.extra_emotions if e not in BASE_EMOTIONS
        ]


def start_session(
    database: Database,
    study_id: str,
    *,
    mode: SessionMode | str = SessionMode.INTERVIEW,
    participant_id: str | None = None,
    site_id: str | None = None,
    researcher_id: str | None = None,
    now: datetime | None = None,
) -> ResearchSession:
    """Start a draft session.  An interview needs a participant with interview consent;
    an observation may have none."""
    try:
        mode = SessionMode(mode)
    except ValueError as exc:
        raise ValidationError("Mode must be interview or observation.") from exc
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        if site_id:
            get_live(db, Site, site_id, "site")
        if researcher_id:
            get_live(db, Researcher, researcher_id, "researcher")
        if participant_id:
            participant = get_live(db, Participant, participant_id, "participant")
            if participant.study_id != study_id:
                raise ValidationError("That participant belongs to another study.")
            if participant.withdrawn:
                raise ConflictError(f"{participant.code} has withdrawn from the study.")
        if mode == SessionMode.INTERVIEW:
            if not participant_id:
                raise ValidationError("An interview needs a participant.")
            consent = current_consent(db, participant_id)
            if consent is None or not consent.interview_consent or consent.withdrawn:
                raise ValidationError(
                    "This participant has not given interview consent; record consent first."
                )
        session = ResearchSession(
            study_id=study_id,
            mode=mode,
            participant_id=participant_id or None,
            site_id=site_id or None,
            researcher_id=researcher_id or None,
            status=SessionStatus.DRAFT,
            started_at=as_utc(now) if now else utcnow(),
        )
        db.add(session)
    _remember_unfinished(database, session.id)
    return session


def load_runner_state(database: Database, session_id: str) -> RunnerState:
    """The session with its study, journey map, captures, notes and survey."""
    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
    journey = get_journey(database, session.study_id)
    with database.session() as db:
        participant = (
            db.get(Participant, session.participant_id) if session.participant_id else None
        )
        consent = current_consent(db, participant.id) if participant else None
        captures = {
            c.step_id: c
            for c in db.exec(
                select(StepCapture).where(
                    StepCapture.session_id == session_id, col(StepCapture.deleted_at).is_(None)
                )
            ).all()
        }
        live_steps = {s.id for s in journey.steps}
        removed = [
            step
            for step_id in captures
            if step_id not in live_steps and (step := db.get(Step, step_id)) is not None
        ]
        notes = list(
            db.exec(
                select(Note)
                .where(Note.session_id == session_id, col(Note.deleted_at).is_(None))
                .order_by(col(Note.session_offset_ms), col(Note.created_at))
            ).all()
        )
        survey = db.exec(
            select(SurveyResponse).where(
                SurveyResponse.session_id == session_id, col(SurveyResponse.deleted_at).is_(None)
            )
        ).first()
        return RunnerState(
            session=session,
            study=journey.study,
            journey=journey,
            participant=participant,
            consent=consent,
            site=db.get(Site, session.site_id) if session.site_id else None,
            researcher=db.get(Researcher, session.researcher_id) if session.researcher_id else None,
            captures=captures,
            notes=notes,
            survey=survey,
            removed_steps=removed,
        )


def editable_session(db: Session, session_id: str) -> ResearchSession:
    """The live session, or ConflictError if its review status no longer allows edits."""
    session = get_live(db, ResearchSession, session_id, "session")
    if session.status not in EDITABLE_STATUSES:
        raise ConflictError(
            f"This session is {session.status.value.replace('_', ' ')} and can no longer be edited."
        )
    return session


def edit_refusal(database: Database, session_id: str) -> str | None:
    """Why the session may not be edited (approved or rejected: read-only), or None."""
    with database.session() as db:
        try:
            editable_session(db, session_id)
        except ConflictError as exc:
            return f"{exc} A supervisor can reopen it (Review, Reopen: Alt+P)."
    return None


def _clean_capture_changes(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(CAPTURE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown capture field(s): {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    if "valence" in changes:
        clean["valence"] = check_valence(changes["valence"])
    if "intensity" in changes:
        clean["intensity"] = check_intensity(changes["intensity"])
    if "pain_point" in changes:
        clean["pain_point"] = bool(changes["pain_point"])
    if "emotions" in changes:
        emotions: list[str] = []
        for emotion in changes["emotions"] or []:
            word = " ".join(str(emotion).split()).lower()
            if word and word not in emotions:
                emotions.append(word)
        clean["emotions"] = emotions
    for key in ("notes", "quote"):
        if key in changes:
            clean[key] = str(changes[key] or "")
    return clean


def save_capture(database: Database, session_id: str, step_id: str, **changes: Any) -> SaveResult:
    """Create or update the session's capture of one step with the given fields
    (valence, emotions, intensity, pain_point, notes, quote); persisted on return.

    If the step was deleted from the map while the session was open, the capture is still
    saved (what the researcher typed is never dropped) and ``step_removed`` says so."""
    clean = _clean_capture_changes(changes)
    with database.session() as db:
        session = editable_session(db, session_id)
        step = db.get(Step, step_id)
        if step is None or step.study_id != session.study_id:
            raise ValidationError("That step is not part of this session's study.")
        capture = db.exec(
            select(StepCapture).where(
                StepCapture.session_id == session_id, StepCapture.step_id == step_id
            )
        ).first()
        if capture is None:
            capture = StepCapture(session_id=session_id, step_id=step_id)
        elif capture.deleted_at is not None:
            capture.deleted_at = None  # revived by a new edit
        for key, value in clean.items():
            setattr(capture, key, value)
        db.add(capture)
        return SaveResult(capture, step.deleted_at is not None)


def _recording_position(
    db: Session, session_id: str, at: datetime
) -> tuple[str | None, int | None]:
    """Where ``at`` falls on the recording that is running (or last ran) for the session."""
    recording = db.exec(
        select(Recording)
        .where(Recording.session_id == session_id, col(Recording.deleted_at).is_(None))
        .order_by(col(Recording.started_at).desc())
    ).first()
    if recording is None:
        return None, None
    seconds = (at - as_utc(recording.started_at)).total_seconds()
    if seconds < 0 or (recording.state != "recording" and seconds > recording.duration_s + 1):
        return None, None
    return recording.id, int(seconds * recording.sample_rate)


def add_note(
    database: Database,
    session_id: str,
    text: str,
    *,
    tags: Iterable[str] = (),
    step_id: str | None = None,
    at: datetime | None = None,
    recording_id: str | None = None,
    recording_offset_frames: int | None = None,
) -> Note:
    """A timestamped note: its offset from the session start (``at`` is when the researcher
    pressed the key, not when they finished typing) and, if a recording runs, from that."""
    text = text.strip()
    if not text:
        raise ValidationError("A note needs some text.")
    clean_tags = check_tags(tags)
    moment = as_utc(at) if at else utcnow()
    with database.session() as db:
        session = editable_session(db, session_id)
        if step_id is not None:
            step = db.get(Step, step_id)
            if step is None or step.study_id != session.study_id:
                raise ValidationError("That step is not part of this session's study.")
        offset_ms = max(0, int((moment - as_utc(session.started_at)).total_seconds() * 1000))
        if recording_id is None:
            recording_id, recording_offset_frames = _recording_position(db, session_id, moment)
        note = Note(
            session_id=session_id,
            step_id=step_id,
            text=text,
            tags=clean_tags,
            session_offset_ms=offset_ms,
            recording_id=recording_id,
            recording_offset_frames=recording_offset_frames,
        )
        db.add(note)
        return note


def update_note(
    database: Database, note_id: str, *, text: str | None = None, tags: Sequence[str] | None = None
) -> Note:
    with database.session() as db:
        note = get_live(db, Note, note_id, "note")
        editable_session(db, note.session_id)
        if text is not None:
            if not text.strip():
                raise ValidationError("A note needs some text; delete it instead.")
            note.text = text.strip()
        if tags is not None:
            note.tags = check_tags(tags)
        db.add(note)
        return note


def delete_note(database: Database, note_id: str) -> None:
    """Tombstone a note (it stays restorable, and the deletion syncs)."""
    with database.session() as db:
        note = get_live(db, Note, note_id, "note")
        editable_session(db, note.session_id)
        tombstone(db, note)


def restore_note(database: Database, note_id: str) -> Note:
    """Undo :func:`delete_note`: the note comes back with its text, tags and times."""
    with database.session() as db:
        note = db.get(Note, note_id)
        if note is None:
            raise NotFoundError(f"No note with id {note_id}.")
        editable_session(db, note.session_id)
        note.deleted_at = None
        db.add(note)
        return note


def set_session_notes(database: Database, session_id: str, text: str) -> ResearchSession:
    """The free-text notes of the whole session."""
    with database.session() as db:
        session = editable_session(db, session_id)
        session.notes = text
        db.add(session)
        return session


def finish_session(
    database: Database, session_id: str, at: datetime | None = None
) -> ResearchSession:
    """Draft → submitted (an open observation step is closed at the same moment)."""
    moment = as_utc(at) if at else utcnow()
    with database.session() as db:
        session = editable_session(db, session_id)
        close_open_visits(db, session_id, moment)
        if session.status == SessionStatus.DRAFT:
            record_move(db, session, ReviewAction.SUBMIT)
        session.ended_at = session.ended_at or moment
        db.add(session)
    forget_unfinished(database, session_id)
    return session


def recording_allowed(database: Database, session_id: str) -> bool:
    """Whether the session's participant gave (and did not withdraw) recording consent."""
    return recording_consent(database, session_id).allowed


# --- resume ---------------------------------------------------------------------------


def _remember_unfinished(database: Database, session_id: str) -> None:
    ids = list(database.get_setting(UNFINISHED_KEY, []) or [])
    if session_id not in ids:
        ids.append(session_id)
        database.set_setting(UNFINISHED_KEY, ids)


def remember_unfinished(database: Database, session_id: str) -> None:
    """Offer this session for resuming at the next start until it is finished."""
    _remember_unfinished(database, session_id)


def forget_unfinished(database: Database, session_id: str) -> None:
    """Stop offering a session for resuming (finished, or the researcher said so)."""
    ids = list(database.get_setting(UNFINISHED_KEY, []) or [])
    if session_id in ids:
        ids.remove(session_id)
        database.set_setting(UNFINISHED_KEY, ids)


def unfinished_sessions(database: Database) -> list[ResearchSession]:
    """Draft sessions started in a runner here and never finished, newest first."""
    ids = list(database.get_setting(UNFINISHED_KEY, []) or [])
    if not ids:
        return []
    with database.session() as db:
        rows = list(
            db.exec(
                select(ResearchSession)
                .where(
                    col(ResearchSession.id).in_(ids),
                    col(ResearchSession.deleted_at).is_(None),
                    ResearchSession.status == SessionStatus.DRAFT,
                )
                .order_by(col(ResearchSession.started_at).desc())
            ).all()
        )
    alive = {s.id for s in rows}
    if alive != set(ids):
        database.set_setting(UNFINISHED_KEY, [i for i in ids if i in alive])
    return rows
