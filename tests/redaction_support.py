"""A session with personal details planted in its texts, for the redaction tests."""

from __future__ import annotations

from dataclasses import dataclass

from cxfield.services import studies
from cxfield.storage.database import Database
from cxfield.storage.models import Note, Recording, ResearchSession, Study, TranscriptSegment

SSN = "512-44-6789"
PHONE = "(312) 555-0187"
EMAIL = "maria.lopez@gmail.com"


@dataclass
class Planted:
    study_id: str
    session_id: str
    note_id: str
    segment_id: str
    recording_id: str


def planted_session(database: Database, *, study_id: str | None = None) -> Planted:
    if study_id is None:
        study_id = studies.create_study(database, Study(name="Benefits visits")).id
    with database.session() as db:
        visit = ResearchSession(study_id=study_id, notes=f"Prefers a call on {PHONE}.")
        db.add(visit)
        db.flush()
        note = Note(session_id=visit.id, text=f"She read out her SSN, {SSN}, at the desk.")
        rec = Recording(session_id=visit.id, path=f"recordings/{visit.id}.wav", duration_s=6.0)
        db.add_all([note, rec])
        db.flush()
        segment = TranscriptSegment(
            recording_id=rec.id,
            session_id=visit.id,
            start_s=0.0,
            end_s=6.0,
            text=f"you can email me at {EMAIL} any time",
        )
        db.add(segment)
        return Planted(study_id, visit.id, note.id, segment.id, rec.id)
