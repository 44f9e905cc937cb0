"""What leaves the laptop: the review gate (which sessions are held, and why) and the
redacted copy of each row's texts (accepted spans become ``[SSN]``, ``[PHONE]`` ...).

The sync push and every export go through :func:`prepare`.  A study with "review
redactions before sync and export" on (the default) holds a session while it has
candidates nobody decided, or while its texts changed since the last scan; sessions not
scanned yet are scanned here first (when the detectors are installed)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from cxfield.privacy.audio import AudioRedaction, outgoing_audio
from cxfield.privacy.kinds import Kind, Span, apply_spans, parse_kind
from cxfield.privacy.store import CANDIDATE, SESSION, STUDY, fingerprints, scanned
from cxfield.privacy.texts import FIELDS_BY_TABLE, history_field, text_hash
from cxfield.storage.database import Database
from cxfield.storage.models import Participant

PARTICIPANT = Participant.__table__  # type: ignore[attr-defined]
NOT_SCANNED = "not scanned for personal details yet (cxfield redact scan --session ID)"
NO_DETECTORS = (
    "not scanned: the redaction detectors are not installed (pip install 'cxfield[privacy]')"
)


@dataclass
class Outgoing:
    #: session id → why it waits
    held: dict[str, str] = field(default_factory=dict)
    #: (table, row id) → field → accepted candidates (rows of redaction_candidate)
    accepted: dict[tuple[str, str], dict[str, list[Any]]] = field(default_factory=dict)
    #: recording id → its redacted copy (or why it may not leave); only recordings of
    #: studies that upload audio and have something muted
    recordings: dict[str, AudioRedaction] = field(default_factory=dict)

    def blocked_audio(self, recording_id: str) -> str | None:
        found = self.recordings.get(recording_id)
        return found.problem if found else None

    def session_of(self, table: str, row: dict[str, Any]) -> str | None:
        if table == "session":
            return str(row["id"])
        value = row.get("session_id")
        return str(value) if value else None

    def holds(self, table: str, row: dict[str, Any]) -> bool:
        if table == "recording" and self.blocked_audio(str(row["id"])):
            return True  # the row would name audio that cannot leave
        session_id = self.session_of(table, row)
        return session_id is not None and session_id in self.held

    def spans(self, table: str, row_id: str, field_name: str, text: str) -> list[Span]:
        out: list[Span] = []
        for candidate in self.accepted.get((table, row_id), {}).get(field_name, []):
            kind = _kind(candidate.kind)
            if candidate.text_hash == text_hash(text):
                out.append(Span(candidate.start, candidate.end, kind))
                continue
            # the text changed after the decision: redact the detail wherever it still is
            index = text.find(candidate.text) if candidate.text else -1
            while index >= 0:
                out.append(Span(index, index + len(candidate.text), kind))
                index = text.find(candidate.text, index + 1)
        return out

    def redact(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        """A copy of the row with its accepted spans replaced by placeholders."""
        if table == "audit_entry":
            return self._redact_history(row)
        audio = self.recordings.get(str(row.get("id"))) if table == "recording" else None
        if audio is not None and audio.windows and not audio.problem:
            return {**row, "sha256": audio.sha256}  # the redacted copy is what uploads
        fields = self.accepted.get((table, str(row.get("id"))))
        if not fields:
            return row
        copy = dict(row)
        for name in FIELDS_BY_TABLE.get(table, ()):
            text = copy.get(name)
            if isinstance(text, str) and name in fields:
                copy[name] = apply_spans(text, self.spans(table, str(row["id"]), name, text))
        return copy

    def _redact_history(self, row: dict[str, Any]) -> dict[str, Any]:
        """An audit entry of a change after submission holds the text before and after it
        (or, for a row added then, the row's content): the same placeholders as the row."""
        target = (str(row.get("table_name")), str(row.get("row_id")))
        fields = self.accepted.get(target)
        if not fields:
            return row
        texts = set(fields) & set(FIELDS_BY_TABLE.get(target[0], ()))

        def redacted(name: Any, value: Any) -> Any:
            name = history_field(target[0], str(name))
            if isinstance(value, str) and name in texts:
                return apply_spans(value, self.spans(*target, str(name), value))
            return value

        copy = dict(row)
        for side in ("before", "after"):
            value = copy.get(side)
            if isinstance(value, dict):
                copy[side] = {k: redacted(k, v) for k, v in value.items()}
            else:
                copy[side] = redacted(row.get("field"), value)
        return copy


def _kind(value: str) -> Kind:
    try:
        return parse_kind(value)
    except ValueError:
        return Kind.OTHER


def prepare(
    database: Database,
    session_ids: Iterable[str] | None = None,
    *,
    scan: bool = True,
    detector_factory: Callable[[], Any] | None = None,
    audio_dir: Path | None = None,
) -> Outgoing:
    """The gate and the accepted spans for these sessions (all live sessions if None)."""
    ids = None if session_ids is None else list(dict.fromkeys(session_ids))
    with database.engine.connect() as conn:
        reviewed = _reviewed(conn, ids)
        stale = _stale(conn, reviewed)
    outgoing = Outgoing()
    if stale and scan:
        try:
            from cxfield.privacy.detect import DetectorsMissing
            from cxfield.privacy.store import scan_sessions

            detector = detector_factory() if detector_factory else None
            scan_sessions(database, stale, detector)
            stale = []
        except DetectorsMissing:
            outgoing.held.update({sid: NO_DETECTORS for sid in stale})
            stale = []
    outgoing.held.update({sid: NOT_SCANNED for sid in stale})
    with database.engine.connect() as conn:
        for sid, pending in _pending_counts(conn, reviewed).items():
            if pending and sid not in outgoing.held:
                noun = "candidate waits" if pending == 1 else "candidates wait"
                outgoing.held[sid] = f"{pending} redaction {noun} for review"
        accepted: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(dict)
        chunks = [None] if ids is None else [ids[i : i + 500] for i in range(0, len(ids), 500)]
        for chunk in chunks:
            query = select(CANDIDATE).where(CANDIDATE.c.state == "accepted")
            if chunk is not None:
                query = query.where(CANDIDATE.c.session_id.in_(chunk))
            for row in conn.execute(query):
                accepted[(row.table_name, row.row_id)].setdefault(row.field, []).append(row)
        outgoing.accepted = dict(accepted)
    if audio_dir is not None:
        outgoing.recordings = outgoing_audio(database, audio_dir, outgoing.held)
    return outgoing


def _reviewed(conn: Any, session_ids: list[str] | None) -> list[str]:
    """The live sessions (of these) whose study reviews before sync and export: "review"
    missing or anything but false (one query, no Python per session)."""
    review = func.json_extract(STUDY.c.redaction, "$.review")
    query = (
        select(SESSION.c.id)
        .join(STUDY, STUDY.c.id == SESSION.c.study_id)
        .where(SESSION.c.deleted_at.is_(None), func.coalesce(review, 1) != 0)
    )
    if session_ids is None:
        return [row.id for row in conn.execute(query)]
    out: list[str] = []
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        out += [row.id for row in conn.execute(query.where(SESSION.c.id.in_(chunk)))]
    return out


def _stale(conn: Any, session_ids: list[str]) -> list[str]:
    if not session_ids:
        return []
    now = fingerprints(conn, session_ids)
    before = scanned(conn, session_ids)
    return [sid for sid in session_ids if before.get(sid) != now[sid]]


def _pending_counts(conn: Any, session_ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(session_ids), 500):
        query = (
            select(CANDIDATE.c.session_id, func.count())
            .where(
                CANDIDATE.c.session_id.in_(session_ids[start : start + 500]),
                CANDIDATE.c.state == "pending",
            )
            .group_by(CANDIDATE.c.session_id)
        )
        out.update({row[0]: int(row[1]) for row in conn.execute(query)})
    return out


def describe(database: Database, held: dict[str, str]) -> list[str]:
    """One line per held session: which one (participant code, date) and why."""
    if not held:
        return []
    ids = list(held)
    with database.engine.connect() as conn:
        query = (
            select(SESSION.c.id, SESSION.c.started_at, PARTICIPANT.c.code)
            .select_from(
                SESSION.outerjoin(PARTICIPANT, PARTICIPANT.c.id == SESSION.c.participant_id)
            )
            .where(SESSION.c.id.in_(ids))
            .order_by(SESSION.c.started_at)
        )
        rows = list(conn.execute(query))
    return [
        f"Session {row.id} ({row.code or 'no participant'}, {row.started_at:%Y-%m-%d}) "
        f"is held: {held[row.id]}."
        for row in rows
    ]
