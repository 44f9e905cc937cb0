"""Reading and editing a session's transcript: text edits (the model's text is kept),
speakers, the session's notes at their times, quotes for journey steps, and exports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.domain.vocabulary import NoteTag, Speaker
from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import (
    Note,
    Recording,
    ResearchSession,
    StepCapture,
    TranscriptSegment,
)
from cxfield.transcribe import export


@dataclass(frozen=True)
class SegmentView:
    id: str
    recording_id: str
    start_s: float
    end_s: float
    text: str
    speaker: str
    edited: bool
    original_text: str | None
    #: the speaker voice clustering suggests, until a person sets one
    speaker_suggested: str | None = None


@dataclass(frozen=True)
class NoteMark:
    """A note placed on the recording's clock."""

    id: str
    at_s: float
    text: str
    tags: tuple[str, ...]


def segments(database: Database, session_id: str) -> list[SegmentView]:
    """The session's live segments in time order."""
    with database.session() as db:
        get_live(db, ResearchSession, session_id, "session")
        rows = db.exec(
            select(TranscriptSegment).where(
                TranscriptSegment.session_id == session_id,
                col(TranscriptSegment.deleted_at).is_(None),
            )
        ).all()
    rows = sorted(rows, key=lambda s: (s.start_s, s.end_s))
    return [
        SegmentView(
            s.id,
            s.recording_id,
            s.start_s,
            s.end_s,
            s.text,
            str(s.speaker),
            s.edited,
            s.original_text,
            str(s.speaker_suggested) if s.speaker_suggested else None,
        )  # fmt: skip
        for s in rows
    ]


def edit_text(database: Database, segment_id: str, text: str) -> SegmentView:
    """Replace a segment's text; the model's text is kept in ``original_text``."""
    text = text.strip()
    if not text:
        raise ValidationError("A segment's text cannot be empty.")
    with database.session() as db:
        seg = get_live(db, TranscriptSegment, segment_id, "transcript segment")
        if text != seg.text:
            if not seg.edited:
                seg.original_text = seg.text
            seg.text = text
            seg.edited = seg.original_text is None or text != seg.original_text
            if not seg.edited:
                seg.original_text = None
            db.add(seg)
        return _view(seg)


def revert_text(database: Database, segment_id: str) -> SegmentView:
    """Back to the model's text."""
    with database.session() as db:
        seg = get_live(db, TranscriptSegment, segment_id, "transcript segment")
        if seg.edited and seg.original_text is not None:
            seg.text, seg.original_text, seg.edited = seg.original_text, None, False
            db.add(seg)
        return _view(seg)


def set_speaker(database: Database, segment_ids: list[str], speaker: str) -> int:
    """Set the speaker of one segment or a range of them in one go."""
    try:
        value = Speaker(speaker)
    except ValueError:
        names = ", ".join(s.value for s in Speaker)
        raise ValidationError(f"Unknown speaker {speaker!r}; use one of {names}.") from None
    with database.session() as db:
        for segment_id in segment_ids:
            seg = get_live(db, TranscriptSegment, segment_id, "transcript segment")
            if seg.speaker != value or seg.speaker_suggested is not None:
                # a person's choice: any suggestion for the segment is settled
                seg.speaker, seg.speaker_suggested = value, None
                db.add(seg)
    return len(segment_ids)


def notes_on_recording(database: Database, session_id: str) -> list[NoteMark]:
    """The session's notes with their time on the (first) recording's clock."""
    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
        recordings = _recordings(db, session_id)
        notes = db.exec(
            select(Note).where(Note.session_id == session_id, col(Note.deleted_at).is_(None))
        ).all()
        marks = [
            NoteMark(n.id, note_time_s(n, session, recordings), n.text, tuple(n.tags))
            for n in notes
        ]
    return sorted(marks, key=lambda m: m.at_s)


def note_time_s(note: Note, session: ResearchSession, recordings: list[Recording]) -> float:
    """Where a note lies on its recording's clock (seconds, never negative): its own
    recording's frames when it has them, else its session offset on the first recording."""
    recs = {r.id: r for r in recordings}
    rec = recs.get(note.recording_id or "")
    if rec is not None and note.recording_offset_frames is not None:
        return max(note.recording_offset_frames / (rec.sample_rate or 16000), 0.0)
    first = min(recordings, key=lambda r: r.started_at) if recordings else None
    # An imported file's row is stamped when it was imported, which says nothing about
    # when it started relative to the session: assume it was started with the session.
    lead = 0.0
    if first is not None and first.state != "imported":
        lead = (first.started_at - session.started_at).total_seconds()
    return max(note.session_offset_ms / 1000 - lead, 0.0)


def make_quote(
    database: Database,
    session_id: str,
    step_id: str,
    text: str,
    at_s: float | None = None,
    recording_id: str | None = None,
) -> Note:
    """Turn transcript text into a quote of a journey step: appended to the step's
    capture (created if needed) and kept as a note tagged ``quote`` at its audio time."""
    text = " ".join(text.split())
    if not text:
        raise ValidationError("Select some transcript text to quote.")
    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
        capture = db.exec(
            select(StepCapture).where(
                StepCapture.session_id == session_id,
                StepCapture.step_id == step_id,
                col(StepCapture.deleted_at).is_(None),
            )
        ).first()
        if capture is None:
            capture = StepCapture(session_id=session_id, step_id=step_id)
        quoted = f"\u201c{text}\u201d"
        capture.quote = f"{capture.quote}\n{quoted}" if capture.quote else quoted
        db.add(capture)
        rec = db.get(Recording, recording_id) if recording_id else None
        offset_ms = 0
        frames = None
        if rec is not None and at_s is not None:
            frames = int(round(at_s * (rec.sample_rate or 16000)))
            lead = (rec.started_at - session.started_at).total_seconds()
            offset_ms = max(0, int(round((lead + at_s) * 1000)))
        note = Note(
            session_id=session_id,
            step_id=step_id,
            text=text,
            tags=[NoteTag.QUOTE.value],
            session_offset_ms=offset_ms,
            recording_id=rec.id if rec is not None else None,
            recording_offset_frames=frames,
        )
        db.add(note)
    return note


def whisper_result(database: Database, session_id: str) -> dict[str, Any]:
    """The transcript as the dict whisper's writers take (speaker and edit flag kept)."""
    from cxfield.privacy.sealed_texts import shown

    rows = segments(database, session_id)
    return export.result_from_segments(
        [
            {
                "start": s.start_s,
                "end": s.end_s,
                "text": " " + shown(s.text),  # never ciphertext (privacy.sealed_texts)
                "speaker": s.speaker,
                "speaker_suggested": s.speaker_suggested,
                "edited": s.edited,
            }
            for s in rows
        ]  # fmt: skip
    )


def export_session(database: Database, session_id: str, fmt: str, path: Path) -> Path:
    result = whisper_result(database, session_id)
    if not result["segments"]:
        raise NotFoundError(f"Session {session_id} has no transcript yet.")
    return export.write_file(result, fmt, path)


def _recordings(db: Session, session_id: str) -> list[Recording]:
    return list(
        db.exec(
            select(Recording).where(
                Recording.session_id == session_id, col(Recording.deleted_at).is_(None)
            )
        ).all()
    )


def _view(s: TranscriptSegment) -> SegmentView:
    return SegmentView(
        s.id, s.recording_id, s.start_s, s.end_s, s.text, str(s.speaker), s.edited,
        s.original_text, str(s.speaker_suggested) if s.speaker_suggested else None,
    )  # fmt: skip
