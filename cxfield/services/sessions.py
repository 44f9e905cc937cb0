"""Reading sessions: lists and the full detail of one session."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from cxfield.services.common import get_live, public
from cxfield.storage.database import Database
from cxfield.storage.models import (
    Note,
    ObservationVisit,
    Participant,
    Recording,
    Researcher,
    ResearchSession,
    Site,
    Stage,
    Step,
    StepCapture,
    Study,
    SurveyResponse,
    TranscriptSegment,
)


@dataclass(frozen=True)
class SessionSummary:
    id: str
    study_id: str
    study: str
    participant_code: str | None
    mode: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    researcher: str | None
    site: str | None
    captures: int

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        return data


def list_sessions(database: Database, study_id: str | None = None) -> list[SessionSummary]:
    """Sessions, newest first, with the names a list needs (one query)."""
    with database.session() as db:
        if study_id is not None:
            get_live(db, Study, study_id, "study")
        captures = (
            select(StepCapture.session_id, func.count().label("n"))
            .where(col(StepCapture.deleted_at).is_(None))
            .group_by(col(StepCapture.session_id))
            .subquery()
        )
        query = (
            sa_select(
                ResearchSession,
                col(Study.name),
                col(Participant.code),
                col(Researcher.name),
                col(Site.name),
                captures.c.n,
            )
            .join(Study, col(Study.id) == ResearchSession.study_id)
            .outerjoin(Participant, col(Participant.id) == ResearchSession.participant_id)
            .outerjoin(Researcher, col(Researcher.id) == ResearchSession.researcher_id)
            .outerjoin(Site, col(Site.id) == ResearchSession.site_id)
            .outerjoin(captures, captures.c.session_id == ResearchSession.id)
            .where(col(ResearchSession.deleted_at).is_(None))
            .order_by(col(ResearchSession.started_at).desc())
        )
        if study_id is not None:
            query = query.where(col(ResearchSession.study_id) == study_id)
        return [
            SessionSummary(
                id=s.id,
                study_id=s.study_id,
                study=study_name,
                participant_code=code,
                mode=str(s.mode),
                status=str(s.status),
                started_at=s.started_at,
                ended_at=s.ended_at,
                researcher=researcher,
                site=site,
                captures=n or 0,
            )
            for s, study_name, code, researcher, site, n in db.execute(query).all()
        ]


_CAPTURE_FIELDS = (
    "id",
    "valence",
    "emotions",
    "intensity",
    "pain_point",
    "notes",
    "quote",
    "observed_start",
    "observed_end",
)


def _live(db: Session, model: Any, **where: Any) -> list[Any]:
    query = select(model).where(col(model.deleted_at).is_(None))
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return list(db.exec(query).all())


def session_detail(database: Database, session_id: str) -> dict[str, Any]:
    """Everything about one session as a JSON-ready dict (what `sessions show` prints)."""
    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
        study = db.get(Study, session.study_id)
        participant = (
            db.get(Participant, session.participant_id) if session.participant_id else None
        )
        researcher = db.get(Researcher, session.researcher_id) if session.researcher_id else None
        site = db.get(Site, session.site_id) if session.site_id else None
        stages = {s.id: s for s in _live(db, Stage, study_id=session.study_id)}
        steps = sorted(
            _live(db, Step, study_id=session.study_id),
            key=lambda s: (stages[s.stage_id].position if s.stage_id in stages else 0, s.position),
        )
        captures = {c.step_id: c for c in _live(db, StepCapture, session_id=session_id)}
        visits = sorted(
            _live(db, ObservationVisit, session_id=session_id), key=lambda v: v.entered_at
        )
        notes = sorted(_live(db, Note, session_id=session_id), key=lambda n: n.session_offset_ms)
        recordings = _live(db, Recording, session_id=session_id)
        segments = sorted(
            _live(db, TranscriptSegment, session_id=session_id), key=lambda s: s.start_s
        )
        survey = db.exec(
            select(SurveyResponse).where(
                SurveyResponse.session_id == session_id, col(SurveyResponse.deleted_at).is_(None)
            )
        ).first()

        step_rows = []
        for step in steps:
            capture = captures.get(step.id)
            row: dict[str, Any] = {
                "step_id": step.id,
                "stage": stages[step.stage_id].name if step.stage_id in stages else None,
                "step": step.name,
                "lane": str(step.lane),
                "channel": str(step.channel),
                "capture": None,
            }
            if capture is not None:
                data = public(capture)
                row["capture"] = {key: data[key] for key in _CAPTURE_FIELDS}
            step_rows.append(row)

        return {
            "id": session.id,
            "study": {"id": study.id, "name": study.name} if study else None,
            "participant_code": participant.code if participant else None,
            "participant_segments": participant.segments if participant else {},
            "mode": str(session.mode),
            "status": str(session.status),
            "started_at": session.started_at.isoformat(),
            "ended_at": session.ended_at.isoformat() if session.ended_at else None,
            "researcher": researcher.name if researcher else None,
            "site": site.name if site else None,
            "notes_text": session.notes,
            "version": session.version,
            "steps": step_rows,
            "observation_visits": [
                {
                    "id": v.id,
                    "step_id": v.step_id,
                    "entered_at": public(v)["entered_at"],
                    "left_at": public(v)["left_at"],
                    "seconds": (v.left_at - v.entered_at).total_seconds() if v.left_at else None,
                }
                for v in visits
            ],
            "notes": [
                {
                    "id": n.id,
                    "text": n.text,
                    "tags": n.tags,
                    "step_id": n.step_id,
                    "offset_s": n.session_offset_ms / 1000,
                    "recording_id": n.recording_id,
                    "recording_offset_frames": n.recording_offset_frames,
                }
                for n in notes
            ],
            "recordings": [
                {
                    "id": r.id,
                    "path": r.path,
                    "format": r.format,
                    "sample_rate": r.sample_rate,
                    "channels": r.channels,
                    "duration_s": r.duration_s,
                    "sha256": r.sha256,
                    "state": r.state,
                    "original_path": r.original_path,
                    "transcript_checked_at": (
                        r.transcript_checked_at.isoformat() if r.transcript_checked_at else None
                    ),
                    "transcript_checked_by": r.transcript_checked_by,
                }
                for r in recordings
            ],
            "transcript": [
                {
                    "id": seg.id,
                    "recording_id": seg.recording_id,
                    "start_s": seg.start_s,
                    "end_s": seg.end_s,
                    "speaker": str(seg.speaker),
                    "speaker_suggested": (
                        str(seg.speaker_suggested) if seg.speaker_suggested else None
                    ),
                    "text": seg.text,
                    "edited": seg.edited,
                }
                for seg in segments
            ],
            "survey": None
            if survey is None
            else {
                k: v
                for k, v in public(survey).items()
                if k not in ("created_at", "updated_at", "device_id", "deleted_at", "session_id")
            },
        }
