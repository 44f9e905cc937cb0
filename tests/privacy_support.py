"""Helpers for the privacy tests: planted texts in an encrypted study, a team whose hub
runs on PostgreSQL, what the hub holds."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import select as orm_select

from cxfield.storage.database import Database
from cxfield.storage.models import Note, Recording, ResearchSession, StepCapture, TranscriptSegment
from tests.sync_support import FaultyTransport, Team, in_process_transport

PLANTED = "Planted-7Q3X: my social is 123-45-6789"


@dataclass
class PlantedSession:
    session_id: str
    segment_id: str
    note_id: str
    capture_id: str
    recording_id: str
    participant_id: str


def plant_texts(
    database: Database, study_id: str, tag: str = "", *, audio: bytes | None = None
) -> PlantedSession:
    """A transcript segment, a note and a quote holding ``PLANTED`` in the study's first
    session with a participant (and, with ``audio``, that recording's file)."""
    text = PLANTED + tag
    with database.session() as db:
        session = db.exec(
            orm_select(ResearchSession)
            .where(
                ResearchSession.study_id == study_id,
                ResearchSession.participant_id != None,  # noqa: E711
                # approved and rejected sessions are read-only (review)
                ResearchSession.status.in_(["draft", "submitted", "has_issues"]),  # type: ignore[attr-defined]
            )
            .order_by(ResearchSession.started_at)  # type: ignore[arg-type]
        ).first()
        assert session is not None
        recording = Recording(session_id=session.id, path=f"recordings/{session.id}.wav")
        if audio is not None:
            target = database.path.parent / recording.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(audio)
            recording.sha256 = hashlib.sha256(audio).hexdigest()
        db.add(recording)
        db.flush()
        segment = TranscriptSegment(
            recording_id=recording.id, session_id=session.id, start_s=0, end_s=2, text=text
        )
        note = Note(session_id=session.id, text=text + " (note)")
        db.add(segment)
        db.add(note)
        capture = db.exec(
            orm_select(StepCapture).where(StepCapture.session_id == session.id)
        ).first()
        assert capture is not None
        capture.quote = text + " (quote)"
        db.add(capture)
        db.flush()
        assert session.participant_id is not None
        return PlantedSession(
            session.id, segment.id, note.id, capture.id, recording.id, session.participant_id
        )


def hub_data(team: Team, table: str | None = None) -> list[dict[str, Any]]:
    from cxfield.hub import storage

    with team.app.state.hub.engine.connect() as conn:
        query = select(storage.record)
        if table:
            query = query.where(storage.record.c.table_name == table)
        return [dict(r.data) | {"_table": r.table_name} for r in conn.execute(query)]


def hub_text(team: Team) -> str:
    """Everything the hub database holds in its records and conflicts, as text."""
    from cxfield.hub import storage

    with team.app.state.hub.engine.connect() as conn:
        records = [r.data for r in conn.execute(select(storage.record))]
        conflicts = [[r.winner_data, r.loser_data] for r in conn.execute(select(storage.conflict))]
    return json.dumps([records, conflicts])


class PgTeam(Team):
    """A team whose in-process hub keeps its data in a PostgreSQL database."""

    database_url: str = ""

    def __post_init__(self) -> None:
        self.app = _pg_app(self.root / "hub", self.database_url)
        self.transport = FaultyTransport(in_process_transport(self.app), self._fault)


def _pg_app(hub_dir: Path, url: str) -> Any:
    from cxfield.hub.app import create_app
    from cxfield.hub.config import HubConfig
    from cxfield.hub.migrate import upgrade_hub

    hub_dir.mkdir(parents=True, exist_ok=True)
    upgrade_hub(url)
    return create_app(HubConfig(hub_dir, url))


def pg_team(root: Path, url: str) -> PgTeam:
    PgTeam.database_url = url
    return PgTeam(root)
