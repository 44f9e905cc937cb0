"""The "transcript checked" mark of a recording: a person read the transcript against the
audio and says it is right (who, when).  A study's retention can start the audio's clock
there (``audio_clock = "checked"``, :mod:`cxfield.privacy.retention`).

The mark lives on the synced ``recording`` row, so it reaches the hub like any change; after
the session was submitted each mark and unmark is in its history (the review hooks audit
every change of a recording).  An approved or rejected session is read-only: its mark
cannot change until a supervisor reopens it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.domain.ids import utcnow
from cxfield.domain.review import is_locked
from cxfield.services.common import get_live
from cxfield.storage.actor import actor_of
from cxfield.storage.database import Database
from cxfield.storage.models import Recording, ResearchSession, TranscriptSegment

#: who the mark names when this laptop knows no researcher (no hub account, no profile)
SOMEONE = "someone on this laptop"


@dataclass(frozen=True)
class TranscriptCheck:
    recording_id: str
    session_id: str
    #: the transcript's live segments (0: nothing to check yet)
    segments: int
    checked_at: datetime | None
    checked_by: str | None

    @property
    def checked(self) -> bool:
        return self.checked_at is not None

    def line(self) -> str:
        if self.checked_at is None:
            return "not checked"
        return f"checked by {self.checked_by or SOMEONE}, {self.checked_at:%Y-%m-%d %H:%M} UTC"


def _segment_count(db: Session, recording_id: str) -> int:
    return len(
        db.exec(
            select(TranscriptSegment.id).where(
                TranscriptSegment.recording_id == recording_id,
                col(TranscriptSegment.deleted_at).is_(None),
            )
        ).all()
    )


def _view(recording: Recording, segments: int) -> TranscriptCheck:
    return TranscriptCheck(
        recording.id,
        recording.session_id,
        segments,
        recording.transcript_checked_at,
        recording.transcript_checked_by,
    )


def set_checked(database: Database, recording_id: str, checked: bool = True) -> TranscriptCheck:
    """Mark the recording's transcript checked by this laptop's researcher now
    (``checked=False``: undo the mark).  Marking again keeps the first mark; a recording
    with no transcript yet cannot be marked."""
    with database.session() as db:
        recording = get_live(db, Recording, recording_id, "recording")
        get_live(db, ResearchSession, recording.session_id, "session")
        segments = _segment_count(db, recording.id)
        if checked and recording.transcript_checked_at is None:
            if not segments:
                raise ValidationError(
                    f"Recording {recording_id} has no transcript yet; transcribe it first "
                    f"(cxfield transcribe --session {recording.session_id})."
                )
            actor = actor_of(db)
            recording.transcript_checked_at = utcnow()
            recording.transcript_checked_by = actor.name or None
            db.add(recording)
        elif not checked and recording.transcript_checked_at is not None:
            recording.transcript_checked_at = None
            recording.transcript_checked_by = None
            db.add(recording)
        db.flush()
        return _view(recording, segments)


def session_checks(database: Database, session_id: str) -> list[TranscriptCheck]:
    """The mark of each live recording of the session, oldest recording first."""
    with database.session() as db:
        get_live(db, ResearchSession, session_id, "session")
        recordings = db.exec(
            select(Recording)
            .where(Recording.session_id == session_id, col(Recording.deleted_at).is_(None))
            .order_by(col(Recording.started_at), col(Recording.id))
        ).all()
        return [_view(r, _segment_count(db, r.id)) for r in recordings]


def is_read_only(database: Database, session_id: str) -> bool:
    """Approved or rejected: the mark stays as it is until a supervisor reopens it."""
    with database.session() as db:
        return is_locked(get_live(db, ResearchSession, session_id, "session").status)


def get_check(database: Database, recording_id: str) -> TranscriptCheck:
    with database.session() as db:
        recording = db.get(Recording, recording_id)
        if recording is None or recording.deleted_at is not None:
            raise NotFoundError(f"No recording with id {recording_id}.")
        return _view(recording, _segment_count(db, recording.id))
