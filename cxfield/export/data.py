"""The study's data as CSV tables and as one JSON document.

Rows are read in bulk (one query per table over the filtered session ids), never one
query per session.  Column names are stable and documented in the README; dates are ISO
8601 in UTC; lists are joined with "; "; booleans are ``true``/``false``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from cxfield.services import analysis
from cxfield.services.analysis import SessionFilter
from cxfield.services.common import get_live
from cxfield.services.studies import Journey, get_journey
from cxfield.storage.database import Database
from cxfield.storage.models import (
    AuditEntry,
    Note,
    ObservationVisit,
    Participant,
    Recording,
    Researcher,
    ResearchSession,
    ReviewComment,
    ReviewEvent,
    Site,
    StepCapture,
    Study,
    SurveyResponse,
    TranscriptSegment,
)

SURVEY_ITEMS = (
    "satisfaction",
    "trust",
    "effectiveness",
    "ease",
    "efficiency",
    "equity",
    "employee",
    "transparency",
)


def iso(value: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, to the second (what Excel, pandas and R all read)."""
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StudyRows:
    """The filtered sessions of a study and everything that hangs off them."""

    study: Study
    journey: Journey
    filters: list[str]
    sessions: list[ResearchSession]
    participants: list[Participant]
    sites: dict[str, Site]
    researchers: dict[str, Researcher]
    captures: dict[str, list[StepCapture]] = field(default_factory=dict)
    notes: dict[str, list[Note]] = field(default_factory=dict)
    recordings: dict[str, list[Recording]] = field(default_factory=dict)
    transcript: dict[str, list[TranscriptSegment]] = field(default_factory=dict)
    surveys: dict[str, SurveyResponse] = field(default_factory=dict)
    #: observation visits per session, in time order
    visits: dict[str, list[ObservationVisit]] = field(default_factory=dict)
    #: review decisions, review comments and the audit trail per session, oldest first
    review_events: dict[str, list[ReviewEvent]] = field(default_factory=dict)
    review_comments: dict[str, list[ReviewComment]] = field(default_factory=dict)
    history: dict[str, list[AuditEntry]] = field(default_factory=dict)

    @property
    def step_order(self) -> dict[str, int]:
        return {step.id: index for index, step in enumerate(self.journey.steps, start=1)}

    @property
    def stage_names(self) -> dict[str, str]:
        return {s.id: v.stage.name for v in self.journey.stages for s in v.steps}

    @property
    def segment_keys(self) -> list[str]:
        """The study's segment attributes, its staff segment attributes, then any other key
        found on participants."""
        keys = [str(a.get("key")) for a in self.study.segment_attributes]
        for attribute in self.study.staff_segment_attributes:
            if str(attribute.get("key")) not in keys:
                keys.append(str(attribute.get("key")))
        extra = sorted({k for p in self.participants for k in p.segments} - set(keys))
        return keys + extra

    def participant_codes(self) -> dict[str, str]:
        return {p.id: p.code for p in self.participants}


def _children(db: Any, model: Any, ids: Select[Any], order: Any) -> dict[str, list[Any]]:
    rows: dict[str, list[Any]] = defaultdict(list)
    query = (
        select(model)
        .where(col(model.session_id).in_(ids), col(model.deleted_at).is_(None))
        .order_by(order)
    )
    for row in db.exec(query):
        rows[row.session_id].append(row)
    return dict(rows)


def load_rows(
    database: Database,
    study_id: str,
    flt: SessionFilter,
    filters: list[str],
    *,
    all_participants: bool,
) -> StudyRows:
    """Read every table of the filtered sessions (detached objects).

    ``all_participants``: every live participant of the study (an unfiltered export), or
    only those with a session in the selection."""
    journey = get_journey(database, study_id)
    ids_query = analysis.filtered_sessions(study_id, flt)
    ids = sa_select(ids_query.subquery().c.id)
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        sessions = list(
            db.exec(
                select(ResearchSession)
                .where(col(ResearchSession.id).in_(ids))
                .order_by(col(ResearchSession.started_at), col(ResearchSession.id))
            )
        )
        people = select(Participant).where(
            Participant.study_id == study_id, col(Participant.deleted_at).is_(None)
        )
        if not all_participants:
            people = people.where(
                col(Participant.id).in_(
                    sa_select(col(ResearchSession.participant_id)).where(
                        col(ResearchSession.id).in_(ids)
                    )
                )
            )
        participants = list(db.exec(people.order_by(col(Participant.code))))
        sites = {s.id: s for s in db.exec(select(Site))}
        researchers = {r.id: r for r in db.exec(select(Researcher))}
        return StudyRows(
            study=study,
            journey=journey,
            filters=filters,
            sessions=sessions,
            participants=participants,
            sites=sites,
            researchers=researchers,
            captures=_children(db, StepCapture, ids, col(StepCapture.created_at)),
            notes=_children(db, Note, ids, col(Note.session_offset_ms)),
            recordings=_children(db, Recording, ids, col(Recording.started_at)),
            transcript=_children(db, TranscriptSegment, ids, col(TranscriptSegment.start_s)),
            visits=_children(db, ObservationVisit, ids, col(ObservationVisit.entered_at)),
            review_events=_children(db, ReviewEvent, ids, col(ReviewEvent.at)),
            review_comments=_children(db, ReviewComment, ids, col(ReviewComment.at)),
            history=_children(db, AuditEntry, ids, col(AuditEntry.at)),
            surveys={
                r.session_id: r
                for r in db.exec(
                    select(SurveyResponse).where(
                        col(SurveyResponse.session_id).in_(ids),
                        col(SurveyResponse.deleted_at).is_(None),
                    )
                )
            },
        )


def ordered_captures(rows: StudyRows, session_id: str) -> list[StepCapture]:
    order = rows.step_order
    return sorted(rows.captures.get(session_id, []), key=lambda c: order.get(c.step_id, 10**6))


def iter_all(rows: StudyRows, table: dict[str, list[Any]]) -> Iterator[tuple[ResearchSession, Any]]:
    for session in rows.sessions:
        for item in table.get(session.id, []):
            yield session, item


def hide_sealed(rows: StudyRows) -> int:
    """Sealed texts (a study whose key is not open on this laptop) read as
    :data:`cxfield.privacy.sealed_texts.SHOWN` in every export, never as ciphertext."""
    from cxfield.privacy.sealed_texts import hide_on
    from cxfield.privacy.sealing import HISTORY_SIDES, SEALED_COLUMNS

    def every(table: dict[str, list[Any]]) -> list[Any]:
        return [row for items in table.values() for row in items]

    return (
        hide_on(rows.sessions, SEALED_COLUMNS["session"])
        + hide_on(every(rows.captures), SEALED_COLUMNS["step_capture"])
        + hide_on(every(rows.notes), SEALED_COLUMNS["note"])
        + hide_on(every(rows.transcript), SEALED_COLUMNS["transcript_segment"])
        + hide_on(rows.surveys.values(), SEALED_COLUMNS["survey_response"])
        + hide_on(every(rows.history), HISTORY_SIDES)
    )
