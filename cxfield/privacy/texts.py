"""Where personal details can be in a session: the text fields of its rows."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, select

from cxfield.privacy.sealed_texts import is_sealed
from cxfield.storage.models import (
    Note,
    ResearchSession,
    ReviewComment,
    ReviewEvent,
    StepCapture,
    SurveyResponse,
)
from cxfield.storage.models import TranscriptSegment as Segment

#: (table, field) of every free text a session holds
TEXT_FIELDS: tuple[tuple[str, str], ...] = (
    ("session", "notes"),
    ("step_capture", "notes"),
    ("step_capture", "quote"),
    ("note", "text"),
    ("transcript_segment", "text"),
    # the model's text kept beside an edit: an edit that takes a detail out of the line
    # leaves it here, and this copy syncs and is exported too
    ("transcript_segment", "original_text"),
    ("survey_response", "comments"),
    # a supervisor's review: the comment of a decision and comments on a step, note or
    # line, and the researcher's answers; they quote what participants said
    ("review_event", "comment"),
    ("review_comment", "text"),
)
_MODELS = {
    "session": ResearchSession,
    "step_capture": StepCapture,
    "note": Note,
    "transcript_segment": Segment,
    "survey_response": SurveyResponse,
    "review_event": ReviewEvent,
    "review_comment": ReviewComment,
}
#: the history of changes after submission (``audit_entry``) records a review comment
#: added then under the field "comment" (``cxfield.storage.review_hooks``): its text
HISTORY_ALIASES: dict[tuple[str, str], str] = {("review_comment", "comment"): "text"}
FIELDS_BY_TABLE: dict[str, tuple[str, ...]] = {}
for _table, _field in TEXT_FIELDS:
    FIELDS_BY_TABLE[_table] = (*FIELDS_BY_TABLE.get(_table, ()), _field)


def history_field(table_name: str, field: str) -> str:
    """The column an audit entry's ``field`` of a row of ``table_name`` stands for."""
    return HISTORY_ALIASES.get((table_name, field), field)


def table(name: str) -> Table:
    return _MODELS[name].__table__  # type: ignore[attr-defined,no-any-return]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FieldText:
    session_id: str
    table_name: str
    row_id: str
    field: str
    text: str
    #: transcript segments: the recording and the time on it
    recording_id: str | None = None
    start_s: float = 0.0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table_name, self.row_id, self.field)


def session_texts(conn: Connection, session_ids: Iterable[str]) -> dict[str, list[FieldText]]:
    """Every non-empty, unsealed text of the live rows of these sessions, transcripts in time
    order."""
    ids = list(dict.fromkeys(session_ids))
    out: dict[str, list[FieldText]] = {sid: [] for sid in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for name, fields in FIELDS_BY_TABLE.items():
            t = table(name)
            owner = t.c.id if name == "session" else t.c.session_id
            columns = [t.c.id, owner.label("sid"), *(t.c[f] for f in fields)]
            if name == "transcript_segment":
                columns += [t.c.recording_id, t.c.start_s]
            query = select(*columns).where(owner.in_(chunk), t.c.deleted_at.is_(None))
            if name == "transcript_segment":
                query = query.order_by(t.c.recording_id, t.c.start_s)
            for row in conn.execute(query):
                for f in fields:
                    value = getattr(row, f) or ""
                    # a sealed text (a study whose key is not open here) is not scanned: its
                    # ciphertext holds nothing to redact, and it was scanned before it was
                    # sealed, on the laptop it was typed on
                    if value.strip() and not is_sealed(value):
                        out[row.sid].append(
                            FieldText(
                                row.sid,
                                name,
                                row.id,
                                f,
                                value,
                                getattr(row, "recording_id", None),
                                float(getattr(row, "start_s", 0.0) or 0.0),
                            )
                        )
    return out


def fingerprint(texts: list[FieldText], names: list[str], settings_json: str) -> str:
    digest = hashlib.sha256(settings_json.encode())
    for name in sorted(names):
        digest.update(b"\x00n" + name.encode())
    for item in sorted(texts, key=lambda t: t.key):
        digest.update("\x00{}\x00{}\x00{}\x00".format(*item.key).encode())
        digest.update(text_hash(item.text).encode())
    return digest.hexdigest()
