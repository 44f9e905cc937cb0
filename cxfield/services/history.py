"""A session's audit trail: every change after it was first submitted, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import AuditEntry, ResearchSession

#: how a table is named in the History tab and in `sessions history`
WHAT = {
    "session": "Session",
    "step_capture": "Step capture",
    "observation_visit": "Observation visit",
    "note": "Note",
    "recording": "Recording",
    "transcript_segment": "Transcript",
    "survey_response": "Survey",
    "review_comment": "Comment",
}


@dataclass(frozen=True)
class HistoryEntry:
    id: str
    at: datetime
    actor: str
    actor_id: str | None
    table: str
    row_id: str
    field: str
    before: Any
    after: Any

    @property
    def what(self) -> str:
        if self.table == "review_comment":
            return "Comment"
        return f"{WHAT.get(self.table, self.table)} {self.field.replace('_', ' ')}".strip()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "actor_id": self.actor_id,
            "table": self.table,
            "row_id": self.row_id,
            "field": self.field,
            "before": self.before,
            "after": self.after,
        }


def short(value: Any, limit: int = 60) -> str:
    """A value as one short line (for tables and the History tab)."""
    if value is None:
        return "—"
    if isinstance(value, dict):
        text = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, "", [], {}))
    elif isinstance(value, list):
        text = ", ".join(str(v) for v in value) or "[]"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def session_history(database: Database, session_id: str) -> list[HistoryEntry]:
    with database.session() as db:
        get_live(db, ResearchSession, session_id, "session")
        rows = db.exec(
            select(AuditEntry)
            .where(AuditEntry.session_id == session_id, col(AuditEntry.deleted_at).is_(None))
            .order_by(col(AuditEntry.at), col(AuditEntry.created_at), col(AuditEntry.id))
        ).all()
    return [
        HistoryEntry(
            r.id,
            r.at,
            r.actor_name or "(unknown)",
            r.actor_id,
            r.table_name,
            r.row_id,
            r.field,
            r.before,
            r.after,
        )
        for r in rows
    ]
