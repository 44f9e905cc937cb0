"""Two rules no service can forget, checked at every flush (as the sync stamps are):

* an approved or rejected session is read-only: a change to it or to anything it holds
  raises ValidationError (nothing is written) -- only a review move of its status passes
  (new rows are refused by the services and the hub, not here: see below);
* every change to a session and what it holds after the session was first submitted is
  written as :class:`AuditEntry` rows (who, when, field, before -> after).

Deleting is always possible (a participant who withdraws consent has their sessions'
content erased, also when approved): a tombstone passes both rules, and its history entry
says "deleted" without the content.

The study's own rules may change what an approved session holds: retention expires its audio
and blanks its transcript on time (that is what retention is for).  They mark their unit of
work with :data:`RULE_KEY` (``db.info[RULE_KEY] = "retention"``); their changes pass the lock
and are audited like any other, with the rule's name beside the author's.

Rows the sync pulls are written with SQLAlchemy Core and pass neither check: they are the
hub's (their audit entries come with them from the laptop that made the change).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession

from cxfield.domain.errors import ValidationError
from cxfield.domain.review import is_locked
from cxfield.domain.vocabulary import SessionStatus
from cxfield.storage.actor import actor_of
from cxfield.storage.models import (
    APPEND_ONLY_TABLES,
    AuditEntry,
    ResearchSession,
    ReviewComment,
    SyncFields,
)

DEVICE_ID_KEY = "device_id"
#: set on a unit of work that applies one of the study's own rules (retention)
RULE_KEY = "cxfield.study_rule"
#: sessions inserted by this unit of work (the demo makes approved sessions with content)
NEW_SESSIONS_KEY = "cxfield.new_sessions"
AUDITED_TABLES = frozenset(
    {
        "session",
        "step_capture",
        "observation_visit",
        "note",
        "recording",
        "transcript_segment",
        "survey_response",
    }
)
#: bookkeeping columns: not content, never audited
SKIPPED = frozenset({"id", "created_at", "updated_at", "version", "device_id"})
#: references rewritten when two profiles or sites turn out to be one (identity, not content)
REFERENCES = frozenset({"researcher_id", "site_id"})
LOCKED_MESSAGE = (
    "This session is {status} and read-only; a supervisor can reopen it "
    "(cxfield review reopen ID --comment TEXT)."
)


def wire_value(value: Any) -> Any:
    """A JSON-ready value for the audit trail."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [wire_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): wire_value(v) for k, v in value.items()}
    return value


def _changes(obj: SyncFields) -> dict[str, tuple[Any, Any]]:
    state = inspect(obj)
    found: dict[str, tuple[Any, Any]] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in SKIPPED:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before = wire_value(history.deleted[0]) if history.deleted else None
        after = wire_value(history.added[0]) if history.added else None
        if before != after:
            found[attr.key] = (before, after)
    return found


def _content(obj: SyncFields) -> dict[str, Any]:
    state = inspect(obj)
    return {
        attr.key: wire_value(getattr(obj, attr.key))
        for attr in state.mapper.column_attrs
        if attr.key not in SKIPPED and attr.key != "deleted_at"
    }


def _status_before(session: ResearchSession) -> SessionStatus:
    history = inspect(session).attrs["status"].history
    if history.deleted:
        return SessionStatus(history.deleted[0])
    return SessionStatus(session.status)


def _session_of(db: OrmSession, obj: SyncFields) -> ResearchSession | None:
    if isinstance(obj, ResearchSession):
        return obj
    session_id = getattr(obj, "session_id", None)
    if not session_id:
        return None
    with db.no_autoflush:
        return db.get(ResearchSession, session_id)


def _entry(
    db: OrmSession, session_id: str, table: str, row_id: str, field: str, before: Any, after: Any
) -> AuditEntry:
    actor = actor_of(db)
    rule = db.info.get(RULE_KEY)
    return AuditEntry(
        session_id=session_id,
        table_name=table,
        row_id=row_id,
        field=field,
        before=before,
        after=after,
        actor_id=actor.id,
        actor_name=f"{actor.name} ({rule})" if rule else actor.name,
        device_id=db.info.get(DEVICE_ID_KEY, ""),
    )


def _check_and_audit(db: OrmSession, _context: Any, _instances: Any) -> None:
    new_sessions: set[str] = db.info.setdefault(NEW_SESSIONS_KEY, set())
    entries: list[AuditEntry] = []
    for obj in list(db.new) + list(db.dirty):
        if not isinstance(obj, SyncFields):
            continue
        table = type(obj).__tablename__
        is_new = obj in db.new
        if table in APPEND_ONLY_TABLES:
            erased = obj.deleted_at is not None and "deleted_at" in _changes(obj)
            if not is_new and db.is_modified(obj, include_collections=False) and not erased:
                raise ValidationError("Review records and the history cannot be changed.")
            if is_new and isinstance(obj, ReviewComment):
                session = _session_of(db, obj)
                if session is not None and session.id not in new_sessions:
                    entries.append(
                        _entry(db, obj.session_id, table, obj.id, "comment", None, obj.text)
                    )
            continue
        if table not in AUDITED_TABLES:
            continue
        if is_new and isinstance(obj, ResearchSession):
            new_sessions.add(obj.id)
            continue
        session = _session_of(db, obj)
        if session is None or session.id in new_sessions:
            continue
        changes = {"created": (None, _content(obj))} if is_new else _changes(obj)
        if not changes:
            continue
        if not is_new and "deleted_at" in changes and obj.deleted_at is not None:
            # a deletion (a participant withdrew: content blanked and tombstoned) keeps no
            # content in the history, only that it was deleted, by whom and when
            entries.append(_entry(db, session.id, table, obj.id, "deleted", None, None))
            continue
        before = _status_before(session)
        # Changing what an approved/rejected session holds is refused here; adding to it
        # (a recording imported, a transcription finishing) is left to the services that
        # refuse it for people (capture.editable_session) and to the hub, and is audited.
        changed = not is_new and (obj is not session or set(changes) - {"status"} - REFERENCES)
        if is_locked(before) and changed and not db.info.get(RULE_KEY):
            raise ValidationError(LOCKED_MESSAGE.format(status=before.value.replace("_", " ")))
        if before == SessionStatus.DRAFT and not (obj is session and "status" in changes):
            continue
        for field, (old, new) in changes.items():
            entries.append(_entry(db, session.id, table, obj.id, field, old, new))
    for entry in entries:
        db.add(entry)


event.listen(OrmSession, "before_flush", _check_and_audit)
