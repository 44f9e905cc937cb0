"""Review use cases the CLI and the GUI share: which sessions, what a candidate is, the
study's settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.privacy import store
from cxfield.privacy.settings import StudyRedaction, checked, study_redaction
from cxfield.storage.database import Database
from cxfield.storage.models import Study

WHERE = {
    ("session", "notes"): "session notes",
    ("step_capture", "notes"): "step notes",
    ("step_capture", "quote"): "quote",
    ("note", "text"): "note",
    ("transcript_segment", "text"): "transcript",
    ("transcript_segment", "original_text"): "transcript (the model's text before an edit)",
    ("survey_response", "comments"): "survey comment",
    ("review_event", "comment"): "review decision comment",
    ("review_comment", "text"): "review comment",
}


def where(candidate: Any) -> str:
    return str(WHERE.get((candidate.table_name, candidate.field), candidate.field))


def as_json(candidate: Any) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "session_id": candidate.session_id,
        "table": candidate.table_name,
        "row_id": candidate.row_id,
        "field": candidate.field,
        "where": where(candidate),
        "start": candidate.start,
        "end": candidate.end,
        "kind": candidate.kind,
        "text": candidate.text,
        "score": candidate.score,
        "source": candidate.source,
        "state": candidate.state,
    }


def session_ids(database: Database, *, study_id: str | None, session_id: str | None) -> list[str]:
    """The sessions a command is about (NotFoundError for an unknown id)."""
    table = store.SESSION
    query = select(table.c.id).where(table.c.deleted_at.is_(None))
    if session_id:
        query = query.where(table.c.id == session_id)
    elif study_id:
        query = query.where(table.c.study_id == study_id)
    with database.engine.connect() as conn:
        ids = [r.id for r in conn.execute(query.order_by(table.c.started_at))]
        if session_id and not ids:
            raise NotFoundError(f"No session {session_id}.")
        if study_id and not session_id:
            found = conn.execute(select(store.STUDY.c.id).where(store.STUDY.c.id == study_id))
            if found.first() is None:
                raise NotFoundError(f"No study {study_id}.")
    return ids


def get_settings(database: Database, study_id: str) -> StudyRedaction:
    with database.session() as db:
        study = db.get(Study, study_id)
        if study is None or study.deleted_at is not None:
            raise NotFoundError(f"No study {study_id}.")
        return study_redaction(study.redaction)


def set_settings(database: Database, study_id: str, **changes: Any) -> StudyRedaction:
    """Change a study's redaction settings (synced with the study); nothing changes on a
    ValidationError."""
    with database.session() as db:
        study = db.get(Study, study_id)
        if study is None or study.deleted_at is not None:
            raise NotFoundError(f"No study {study_id}.")
        try:
            new = checked(study_redaction(study.redaction), **changes)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        study.redaction = new.as_json()
        db.add(study)
        return new


def session_threshold(database: Database, session_id: str) -> float:
    with database.engine.connect() as conn:
        settings = store.session_settings(conn, [session_id])
    if session_id not in settings:
        raise NotFoundError(f"No session {session_id}.")
    return settings[session_id].threshold
