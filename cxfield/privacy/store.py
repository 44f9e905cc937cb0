"""Redaction candidates on the laptop: scanning sessions, a person's decisions, listed
names.  Candidates, names and scans never sync (they hold the details themselves)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from cxfield.domain.ids import new_id, utcnow
from cxfield.privacy.detect import Detector, ScanContext
from cxfield.privacy.kinds import Kind, Span
from cxfield.privacy.settings import StudyRedaction, study_redaction
from cxfield.privacy.texts import FieldText, fingerprint, session_texts, table, text_hash
from cxfield.storage.database import Database
from cxfield.storage.models import (
    RedactionCandidate,
    RedactionName,
    RedactionScan,
    ResearchSession,
    Study,
)

CANDIDATE = RedactionCandidate.__table__  # type: ignore[attr-defined]
NAME = RedactionName.__table__  # type: ignore[attr-defined]
SCAN = RedactionScan.__table__  # type: ignore[attr-defined]
SESSION = ResearchSession.__table__  # type: ignore[attr-defined]
STUDY = Study.__table__  # type: ignore[attr-defined]
STATES = ("pending", "accepted", "rejected")


@dataclass
class ScanReport:
    sessions: int = 0
    found: int = 0
    new: int = 0
    removed: int = 0
    per_session: dict[str, int] = field(default_factory=dict)


def session_settings(conn: Connection, session_ids: Iterable[str]) -> dict[str, StudyRedaction]:
    ids = list(session_ids)
    out: dict[str, StudyRedaction] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(SESSION.c.id, STUDY.c.redaction)
            .join(STUDY, STUDY.c.id == SESSION.c.study_id)
            .where(SESSION.c.id.in_(ids[start : start + 500]))
        )
        out.update({row.id: study_redaction(row.redaction) for row in conn.execute(query)})
    return out


def listed_names(conn: Connection, session_ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(session_ids)
    out: dict[str, list[str]] = {sid: [] for sid in ids}
    for start in range(0, len(ids), 500):
        query = select(NAME.c.session_id, NAME.c.name).where(
            NAME.c.session_id.in_(ids[start : start + 500])
        )
        for row in conn.execute(query.order_by(NAME.c.created_at)):
            out[row.session_id].append(row.name)
    return out


def fingerprints(conn: Connection, session_ids: list[str]) -> dict[str, str]:
    """What each session's texts, listed names and study settings look like now."""
    texts = session_texts(conn, session_ids)
    names = listed_names(conn, session_ids)
    settings = session_settings(conn, session_ids)
    return {
        sid: fingerprint(
            texts[sid],
            names.get(sid, []),
            json.dumps(settings.get(sid, StudyRedaction()).as_json(), sort_keys=True),
        )
        for sid in session_ids
    }


def scanned(conn: Connection, session_ids: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for start in range(0, len(session_ids), 500):
        query = select(SCAN.c.session_id, SCAN.c.fingerprint).where(
            SCAN.c.session_id.in_(session_ids[start : start + 500])
        )
        out.update({row.session_id: row.fingerprint for row in conn.execute(query)})
    return out


def _document(texts: list[FieldText]) -> tuple[str, list[tuple[int, FieldText]]]:
    """One text for the detectors: a recording's segments joined by a space (a number can
    run on into the next segment), everything else apart."""
    parts: list[str] = []
    pieces: list[tuple[int, FieldText]] = []
    cursor = 0
    previous: FieldText | None = None
    for item in texts:
        if previous is not None:
            joined = item.recording_id is not None and item.recording_id == previous.recording_id
            separator = " " if joined else "\n\n"
            parts.append(separator)
            cursor += len(separator)
        pieces.append((cursor, item))
        parts.append(item.text)
        cursor += len(item.text)
        previous = item
    return "".join(parts), pieces


def _spans_per_field(
    texts: list[FieldText], detector: Detector, context: ScanContext
) -> dict[tuple[str, str, str], list[Span]]:
    document, pieces = _document(texts)
    found: dict[tuple[str, str, str], list[Span]] = {}
    spans = detector.scan(document, context)
    for offset, item in pieces:
        end = offset + len(item.text)
        for span in spans:
            start, stop = max(span.start, offset), min(span.end, end)
            if start < stop and item.text[start - offset : stop - offset].strip():
                found.setdefault(item.key, []).append(
                    Span(start - offset, stop - offset, span.kind, span.score, span.source)
                )
    return found


def scan_sessions(
    database: Database, session_ids: Iterable[str], detector: Detector | None = None
) -> ScanReport:
    """Scan these sessions; decisions already taken are kept (a candidate whose text moved
    follows it; one whose text is gone goes)."""
    ids = list(dict.fromkeys(session_ids))
    report = ScanReport(sessions=len(ids))
    if not ids:
        return report
    for start in range(0, len(ids), 50):
        chunk = ids[start : start + 50]
        with database.engine.begin() as conn:
            texts = session_texts(conn, chunk)
            names = listed_names(conn, chunk)
            settings = session_settings(conn, chunk)
            prints = fingerprints(conn, chunk)
            for sid in chunk:
                study = settings.get(sid, StudyRedaction())
                context = ScanContext(
                    names=names.get(sid, []),
                    words=study.words,
                    case_patterns=study.case_patterns,
                )
                found: dict[tuple[str, str, str], list[Span]] = {}
                if texts[sid]:
                    if detector is None:
                        detector = Detector()  # about a second, the first time in a process
                    found = _spans_per_field(texts[sid], detector, context)
                new, removed, total = _reconcile(conn, sid, texts[sid], found)
                report.found += total
                report.new += new
                report.removed += removed
                report.per_session[sid] = total
                conn.execute(delete(SCAN).where(SCAN.c.session_id == sid))
                conn.execute(
                    insert(SCAN).values(
                        session_id=sid, fingerprint=prints[sid], scanned_at=utcnow()
                    )
                )
    return report


def _relocate(text: str, detail: str, near: int) -> int | None:
    if not detail:
        return None
    hits = []
    index = text.find(detail)
    while index >= 0:
        hits.append(index)
        index = text.find(detail, index + 1)
    return min(hits, key=lambda i: abs(i - near)) if hits else None


def _reconcile(
    conn: Connection,
    session_id: str,
    texts: list[FieldText],
    found: dict[tuple[str, str, str], list[Span]],
) -> tuple[int, int, int]:
    current = {item.key: item.text for item in texts}
    existing = list(conn.execute(select(CANDIDATE).where(CANDIDATE.c.session_id == session_id)))
    kept: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    removed = 0
    for row in existing:
        key = (row.table_name, row.row_id, row.field)
        text = current.get(key)
        decided = row.state != "pending" or row.source == "manual"
        position: int | None = None
        if text is not None and row.text_hash == text_hash(text):
            position = row.start
            detected = any(s.start == row.start and s.end == row.end for s in found.get(key, []))
            if not decided and not detected:
                position = None  # no longer found (a listed name taken off the list)
        elif text is not None and decided:
            position = _relocate(text, row.text, row.start)
        if position is None:
            conn.execute(delete(CANDIDATE).where(CANDIDATE.c.id == row.id))
            removed += 1
            continue
        end = position + (row.end - row.start)
        if position != row.start or row.text_hash != text_hash(current[key]):
            conn.execute(
                update(CANDIDATE)
                .where(CANDIDATE.c.id == row.id)
                .values(start=position, end=end, text_hash=text_hash(current[key]))
            )
        kept.setdefault(key, []).append((position, end))
    new = 0
    for key, spans in found.items():
        text = current[key]
        for span in spans:
            if any(s < span.end and span.start < e for s, e in kept.get(key, [])):
                continue
            conn.execute(
                insert(CANDIDATE).values(
                    id=new_id(),
                    session_id=session_id,
                    table_name=key[0],
                    row_id=key[1],
                    field=key[2],
                    start=span.start,
                    end=span.end,
                    kind=span.kind.value,
                    text=text[span.start : span.end],
                    score=round(span.score, 3),
                    source=span.source,
                    state="pending",
                    text_hash=text_hash(text),
                    created_at=utcnow(),
                )
            )
            kept.setdefault(key, []).append((span.start, span.end))
            new += 1
    return new, removed, sum(len(v) for v in kept.values())


# --- a person's decisions ----------------------------------------------------------------


def candidates(
    database: Database,
    *,
    session_id: str | None = None,
    session_ids: Iterable[str] | None = None,
    state: str | None = None,
) -> list[Any]:
    query = select(CANDIDATE)
    if session_id is not None:
        query = query.where(CANDIDATE.c.session_id == session_id)
    if session_ids is not None:
        query = query.where(CANDIDATE.c.session_id.in_(list(session_ids)))
    if state is not None:
        query = query.where(CANDIDATE.c.state == state)
    order = (CANDIDATE.c.session_id, CANDIDATE.c.table_name, CANDIDATE.c.row_id, CANDIDATE.c.start)
    with database.engine.connect() as conn:
        return list(conn.execute(query.order_by(*order)))


def decide(database: Database, candidate_id: str, state: str) -> Any:
    """Accept or reject (or set back to pending) one candidate; LookupError if unknown."""
    if state not in STATES:
        raise ValueError(f"Unknown decision {state!r}.")
    with database.engine.begin() as conn:
        changed = conn.execute(
            update(CANDIDATE)
            .where(CANDIDATE.c.id == candidate_id)
            .values(state=state, decided_at=None if state == "pending" else utcnow())
        ).rowcount
        if not changed:
            raise LookupError(f"No redaction candidate {candidate_id}.")
        return conn.execute(select(CANDIDATE).where(CANDIDATE.c.id == candidate_id)).one()


def accept_above(database: Database, session_id: str, threshold: float) -> int:
    """Accept every pending candidate of the session scored at or above ``threshold``."""
    with database.engine.begin() as conn:
        return int(
            conn.execute(
                update(CANDIDATE)
                .where(
                    CANDIDATE.c.session_id == session_id,
                    CANDIDATE.c.state == "pending",
                    CANDIDATE.c.score >= threshold,
                )
                .values(state="accepted", decided_at=utcnow())
            ).rowcount
        )


def add_manual(
    database: Database,
    table_name: str,
    row_id: str,
    field_name: str,
    start: int,
    end: int,
    kind: Kind,
) -> str:
    """A redaction a person marked by selecting text; accepted at once.  ValueError (one
    line) when the row, the field or the range is not there."""
    from cxfield.privacy.texts import FIELDS_BY_TABLE

    if field_name not in FIELDS_BY_TABLE.get(table_name, ()):
        raise ValueError(f"{table_name}.{field_name} is not a text cxfield redacts.")
    t = table(table_name)
    owner = t.c.id if table_name == "session" else t.c.session_id
    with database.engine.begin() as conn:
        row = conn.execute(
            select(owner.label("sid"), t.c[field_name].label("text")).where(
                t.c.id == row_id, t.c.deleted_at.is_(None)
            )
        ).first()
        if row is None:
            raise ValueError(f"No {table_name} {row_id}.")
        text = row.text or ""
        if not 0 <= start < end <= len(text) or not text[start:end].strip():
            raise ValueError(
                f"The range {start}–{end} is not inside the text ({len(text)} characters)."
            )
        candidate_id = new_id()
        conn.execute(
            insert(CANDIDATE).values(
                id=candidate_id,
                session_id=row.sid,
                table_name=table_name,
                row_id=row_id,
                field=field_name,
                start=start,
                end=end,
                kind=kind.value,
                text=text[start:end],
                score=1.0,
                source="manual",
                state="accepted",
                text_hash=text_hash(text),
                created_at=utcnow(),
                decided_at=utcnow(),
            )
        )
        return candidate_id


def add_name(database: Database, session_id: str, name: str) -> None:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200:
        raise ValueError("A listed name must be 1–200 characters.")
    with database.engine.begin() as conn:
        if conn.execute(select(SESSION.c.id).where(SESSION.c.id == session_id)).first() is None:
            raise ValueError(f"No session {session_id}.")
        known = listed_names(conn, [session_id])[session_id]
        if cleaned.casefold() not in {n.casefold() for n in known}:
            conn.execute(
                insert(NAME).values(
                    id=new_id(), session_id=session_id, name=cleaned, created_at=utcnow()
                )
            )


def remove_name(database: Database, session_id: str, name: str) -> bool:
    with database.engine.begin() as conn:
        rows = conn.execute(select(NAME.c.id, NAME.c.name).where(NAME.c.session_id == session_id))
        ids = [r.id for r in rows if r.name.casefold() == " ".join(name.split()).casefold()]
        if ids:
            conn.execute(delete(NAME).where(NAME.c.id.in_(ids)))
        return bool(ids)
