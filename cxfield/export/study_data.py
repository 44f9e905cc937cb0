"""Everything the study report shows, gathered with the SQL aggregates of
:mod:`cxfield.services.analysis` (one row per step x value, never one per capture)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from cxfield.domain.survey import SurveyItem, v1_items
from cxfield.domain.vocabulary import PREFER_NOT_TO_SAY, ParticipantKind, SessionMode
from cxfield.services import analysis, ops_analysis, staff_research
from cxfield.services.analysis import (
    DurationStats,
    RankedText,
    SegmentCurves,
    SessionFilter,
    StepAggregate,
    SurveyCounts,
)
from cxfield.services.ops_analysis import OpsSummary
from cxfield.services.review_queue import ReviewSummary, review_summary
from cxfield.services.staff_research import PainAgreement, StaffSide, of_kind
from cxfield.services.studies import Journey, get_journey
from cxfield.storage.database import Database
from cxfield.storage.models import (
    Participant,
    Researcher,
    ResearchSession,
    Site,
    StepCapture,
    SurveyResponse,
)


@dataclass(frozen=True)
class Overview:
    sessions: int
    interviews: int
    observations: int
    participants: int
    first: datetime | None
    last: datetime | None
    sites: int
    researchers: int
    #: of the interviews, those with staff members
    staff_interviews: int = 0


@dataclass(frozen=True)
class SessionRow:
    id: str
    started_at: datetime
    participant_code: str | None
    mode: str
    status: str
    site: str | None
    researcher: str | None
    captures: int
    surveyed: bool


@dataclass(frozen=True)
class SegmentView:
    key: str
    label: str
    #: values in display order (the study's order, then others, then not recorded = "")
    values: list[str]
    curves: SegmentCurves


@dataclass
class StudyReportData:
    journey: Journey
    filters: list[str]
    overview: Overview
    aggregates: dict[str, StepAggregate]
    pain_points: list[RankedText]
    quotes: dict[str, list[RankedText]]
    observation: dict[str, DurationStats]
    segments: list[SegmentView]
    survey_items: list[SurveyItem]
    survey: SurveyCounts
    sessions: list[SessionRow]
    #: the staff side of the same journey (None: no staff interviews in the selection)
    staff: StaffSide | None = None
    #: steps staff and customers both flag as painful
    agreement: list[PainAgreement] = field(default_factory=list)
    staff_pain_points: list[RankedText] = field(default_factory=list)
    staff_quotes: dict[str, list[RankedText]] = field(default_factory=dict)
    #: notes staff tagged workaround, per step, the most often heard first
    staff_workarounds: dict[str, list[RankedText]] = field(default_factory=dict)
    ops: OpsSummary | None = None
    #: the review of all the study's sessions (whatever the selection); None: not asked
    review: ReviewSummary | None = None
    #: texts still sealed on this laptop (the study key not opened), shown as a placeholder
    sealed: int = 0

    def hide_sealed(self) -> None:
        """Pain points, quotes and workarounds sealed here read as one placeholder per step."""
        from cxfield.privacy.sealed_texts import SHOWN
        from cxfield.services.step_records import merge_sealed

        self.pain_points, a = merge_sealed(self.pain_points, SHOWN)
        self.staff_pain_points, b = merge_sealed(self.staff_pain_points, SHOWN)
        self.sealed = a + b
        for table in (self.quotes, self.staff_quotes, self.staff_workarounds):
            for step, items in table.items():
                table[step], n = merge_sealed(items, SHOWN)
                self.sealed += n


def overview(database: Database, study_id: str, flt: SessionFilter) -> Overview:
    s = ResearchSession
    ids = analysis.filtered_sessions(study_id, flt).subquery()
    with database.session() as db:
        row = db.execute(
            sa_select(
                func.count(),
                func.sum(case((col(s.mode) == SessionMode.INTERVIEW.value, 1), else_=0)),
                func.sum(case((col(s.mode) == SessionMode.OBSERVATION.value, 1), else_=0)),
                func.count(func.distinct(col(s.participant_id))),
                func.min(col(s.started_at)),
                func.max(col(s.started_at)),
                func.count(func.distinct(col(s.site_id))),
                func.count(func.distinct(col(s.researcher_id))),
                func.sum(
                    case(
                        (
                            and_(
                                col(s.mode) == SessionMode.INTERVIEW.value,
                                col(Participant.kind) == ParticipantKind.STAFF.value,
                            ),
                            1,
                        ),
                        else_=0,
                    )
                ),
            )
            .select_from(s)
            .outerjoin(Participant, col(Participant.id) == col(s.participant_id))
            .where(col(s.id).in_(sa_select(ids.c.id)))
        ).one()
    return Overview(
        int(row[0]),
        int(row[1] or 0),
        int(row[2] or 0),
        int(row[3]),
        row[4],
        row[5],
        int(row[6]),
        int(row[7]),
        int(row[8] or 0),
    )


def session_rows(database: Database, study_id: str, flt: SessionFilter) -> list[SessionRow]:
    """The filtered sessions, oldest first, with names and capture counts (one query)."""
    s = ResearchSession
    ids = analysis.filtered_sessions(study_id, flt).subquery()
    captures = (
        sa_select(col(StepCapture.session_id).label("sid"), func.count().label("n"))
        .where(col(StepCapture.deleted_at).is_(None))
        .group_by(col(StepCapture.session_id))
        .subquery()
    )
    surveyed = (
        sa_select(col(SurveyResponse.session_id))
        .where(col(SurveyResponse.deleted_at).is_(None))
        .scalar_subquery()
    )
    query = (
        sa_select(
            s,
            col(Participant.code),
            col(Site.name),
            col(Researcher.name),
            captures.c.n,
            col(s.id).in_(surveyed),
        )
        .outerjoin(Participant, col(Participant.id) == col(s.participant_id))
        .outerjoin(Site, col(Site.id) == col(s.site_id))
        .outerjoin(Researcher, col(Researcher.id) == col(s.researcher_id))
        .outerjoin(captures, captures.c.sid == col(s.id))
        .where(col(s.id).in_(sa_select(ids.c.id)))
        .order_by(col(s.started_at), col(s.id))
    )
    with database.session() as db:
        return [
            SessionRow(
                session.id,
                session.started_at,
                code,
                str(session.mode),
                str(session.status),
                site,
                researcher,
                int(n or 0),
                bool(answered),
            )
            for session, code, site, researcher, n, answered in db.execute(query).all()
        ]


def ordered_values(attribute: dict[str, Any], curves: SegmentCurves) -> list[str]:
    defined = [str(v) for v in attribute.get("values") or []]
    seen = set(curves.sessions)
    values = [v for v in defined if v in seen]
    others = sorted(v for v in seen if v not in defined and v not in ("", PREFER_NOT_TO_SAY))
    tail = [v for v in (PREFER_NOT_TO_SAY, "") if v in seen]
    return values + others + tail


def segment_view(
    database: Database, study_id: str, attribute: dict[str, Any], flt: SessionFilter
) -> SegmentView:
    """The equity lens of one segment attribute of the study."""
    key = str(attribute.get("key", ""))
    curves = analysis.segment_curves(database, study_id, key, flt)
    label = str(attribute.get("label") or key)
    return SegmentView(key, label, ordered_values(attribute, curves), curves)


def gather(
    database: Database, study_id: str, flt: SessionFilter, filters: list[str]
) -> StudyReportData:
    """Run every aggregate the study report needs: the customers' view of the journey (the
    curve, pain points, quotes, the equity lens, the A-11 survey), the staff's beside it,
    and the operations data; the overview and the appendix count every session."""
    journey = get_journey(database, study_id)
    study = journey.study
    everyone = flt
    flt = of_kind(everyone, ParticipantKind.CUSTOMER)
    segments = [
        segment_view(database, study_id, attribute, flt) for attribute in study.segment_attributes
    ]
    try:
        items = v1_items(study.survey_trust_variant, study.survey_effectiveness_variant)
    except ValueError:
        items = v1_items()
    customers = analysis.step_aggregates(database, study_id, flt)
    staff = staff_research.staff_side(database, study_id, everyone)
    workers = of_kind(everyone, ParticipantKind.STAFF)
    ops = ops_analysis.ops_summary(database, study_id, everyone)
    data = StudyReportData(
        journey=journey,
        filters=filters,
        overview=overview(database, study_id, everyone),
        aggregates=customers,
        pain_points=analysis.pain_points_ranked(database, study_id, flt, limit=15),
        quotes=analysis.representative_quotes(database, study_id, flt, per_step=3),
        observation=analysis.observation_times(database, study_id, flt),
        segments=segments,
        survey_items=items,
        survey=analysis.survey_counts(database, study_id, flt, [i.key for i in items]),
        sessions=session_rows(database, study_id, everyone),
        staff=staff if staff.interviews else None,
        agreement=staff_research.pain_agreement(journey, customers, staff.aggregates),
        staff_pain_points=analysis.pain_points_ranked(database, study_id, workers, limit=200)
        if staff.interviews
        else [],
        staff_quotes=analysis.representative_quotes(database, study_id, workers, per_step=2)
        if staff.interviews
        else {},
        staff_workarounds=analysis.workarounds(database, study_id, workers, per_step=2)
        if staff.interviews
        else {},
        ops=None if ops.empty else ops,
        review=review_summary(database, study_id),
    )
    data.hide_sealed()
    return data
