"""A session's audit trail: every change after it was first submitted, oldest first (a
move between review states with the comment that came with it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import AuditEntry, ResearchSession, ReviewEvent

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
    #: for a move between review states: the comment that came with it (the reason)
    comment: str = ""

    def after_text(self, limit: int = 60) -> str:
        """The new value as one short line, with the move's comment."""
        text = short(self.after, limit)
        return f"{text} — “{short(self.comment, limit)}”" if self.comment else text

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
            "comment": self.comment,
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


#: how far apart a move's event and its history entry may be written (one unit of work)
SAME_MOVE = timedelta(seconds=5)


def _move_comment(entry: AuditEntry, events: list[ReviewEvent]) -> str:
    """The comment of the review event that made this status change, if any."""
    if entry.table_name != "session" or entry.field != "status":
        return ""
    moves = [
        e
        for e in events
        if e.from_status.value == entry.before
        and e.to_status.value == entry.after
        and abs(e.at - entry.at) <= SAME_MOVE
    ]
    nearest = min(moves, key=lambda e: abs(e.at - entry.at), default=None)
    return nearest.comment if nearest else ""


def session_history(database: Database, session_id: str) -> list[HistoryEntry]:
    with database.session() as db:
        get_live(db, ResearchSession, session_id, "session")
        rows = db.exec(
            select(AuditEntry)
            .where(AuditEntry.session_id == session_id, col(AuditEntry.deleted_at).is_(None))
            .order_by(col(AuditEntry.at), col(AuditEntry.created_at), col(AuditEntry.id))
        ).all()
        events = list(
            db.exec(
                select(ReviewEvent).where(
                    ReviewEvent.session_id == session_id, col(ReviewEvent.deleted_at).is_(None)
                )
            ).all()
        )
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
            _move_comment(r, events),
        )
        for r in rows
    ]
