"""Customer and staff journeys together: the same journey map seen from both sides.

Customers rate the steps they go through, staff how it felt to do the work (frontstage,
backstage, support).  Each side is aggregated on its own, with its own n, by the same
definitions (:mod:`cxfield.services.step_records`); where both sides flag a step as painful
(:func:`~cxfield.services.step_records.flags_pain`), staff and customers agree it hurts."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col

from cxfield.domain.vocabulary import ParticipantKind
from cxfield.services import analysis
from cxfield.services.analysis import SessionFilter, StepAggregate
from cxfield.services.step_records import flags_pain
from cxfield.services.studies import Journey
from cxfield.storage.database import Database
from cxfield.storage.models import Participant, ResearchSession

CUSTOMER, STAFF = ParticipantKind.CUSTOMER.value, ParticipantKind.STAFF.value


def of_kind(flt: SessionFilter | None, kind: ParticipantKind) -> SessionFilter:
    """The filter narrowed to one side (customers, or staff)."""
    return replace(flt or SessionFilter(), kind=ParticipantKind(kind).value)


@dataclass(frozen=True)
class StaffSide:
    """The staff's side of the journey: their aggregates, interviews and roles."""

    aggregates: dict[str, StepAggregate]
    interviews: int
    #: role -> staff interviews
    roles: dict[str, int]


@dataclass(frozen=True)
class PainAgreement:
    """A step both sides flag as painful (each with its own pain points of its captures)."""

    step_id: str
    customer_pains: int
    customer_captures: int
    staff_pains: int
    staff_captures: int


def interview_count(database: Database, study_id: str, flt: SessionFilter) -> int:
    ids = analysis.interview_sessions(study_id, flt).subquery()
    with database.session() as db:
        return int(db.execute(sa_select(func.count()).select_from(ids)).scalar_one())


def staff_side(database: Database, study_id: str, flt: SessionFilter | None = None) -> StaffSide:
    """The staff members' interviews of the selection, aggregated per step."""
    staff = of_kind(flt, ParticipantKind.STAFF)
    ids = analysis.interview_sessions(study_id, staff).subquery()
    with database.session() as db:
        rows = db.execute(
            sa_select(col(Participant.role), func.count())
            .select_from(ResearchSession)
            .join(Participant, col(Participant.id) == col(ResearchSession.participant_id))
            .where(col(ResearchSession.id).in_(sa_select(ids.c.id)))
            .group_by(col(Participant.role))
        ).all()
    roles = {str(role or ""): int(n) for role, n in rows}
    return StaffSide(
        analysis.step_aggregates(database, study_id, staff), sum(roles.values()), roles
    )


def pain_agreement(
    journey: Journey,
    customers: dict[str, StepAggregate],
    staff: dict[str, StepAggregate],
) -> list[PainAgreement]:
    """The steps where staff and customers agree it hurts, in journey order."""
    result = []
    for step in journey.steps:
        c, s = customers.get(step.id), staff.get(step.id)
        if c is None or s is None:
            continue
        if flags_pain(c.pain_points, c.captures) and flags_pain(s.pain_points, s.captures):
            result.append(
                PainAgreement(step.id, c.pain_points, c.captures, s.pain_points, s.captures)
            )
    return result
