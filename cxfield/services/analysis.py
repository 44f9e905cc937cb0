"""Aggregates over a study's sessions for the journey map, reports and exports.

Everything is aggregated in SQL (GROUP BY on indexed columns), so a study with thousands of
sessions stays fast; Python only sees one row per step × value.  By default rejected
sessions are excluded from analysis (review convention)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal_column, or_
from sqlalchemy import select as sa_select
from sqlmodel import col

from cxfield.domain.errors import ValidationError
from cxfield.domain.journey import ValenceSummary, summarise_counts
from cxfield.domain.rules import is_key_text
from cxfield.domain.survey import REPORTING_QUESTIONS, quarter_bounds
from cxfield.domain.vocabulary import SessionMode, SessionStatus
from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ObservationVisit,
    Participant,
    ResearchSession,
    StepCapture,
    Study,
    SurveyResponse,
)

#: Below this many sessions a segment's curve is shown but flagged as too thin to compare.
MIN_SESSIONS_PER_SEGMENT = 5


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions of a study to aggregate. Dates are inclusive, in UTC."""

    date_from: date | None = None
    date_to: date | None = None
    site_id: str | None = None
    researcher_id: str | None = None
    segment: tuple[str, str] | None = None  # (attribute key, value)
    statuses: tuple[str, ...] | None = None  # None = everything except rejected
    mode: str | None = None
    #: Sessions of participants who withdrew consent are left out of analysis and exports
    #: unless asked for explicitly (their data may no longer be used).
    include_withdrawn: bool = False


@dataclass(frozen=True)
class StepAggregate:
    step_id: str
    valence: ValenceSummary
    pain_points: int
    captures: int  # captures with any data (valence or observation)


@dataclass
class SegmentCurves:
    key: str
    #: segment value -> step id -> aggregate; "" holds sessions without a value
    curves: dict[str, dict[str, StepAggregate]] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)

    def too_few(self, value: str) -> bool:
        return self.sessions.get(value, 0) < MIN_SESSIONS_PER_SEGMENT


@dataclass(frozen=True)
class RankedText:
    step_id: str
    text: str
    count: int


@dataclass(frozen=True)
class DurationStats:
    step_id: str
    n: int
    median_s: float
    min_s: float
    max_s: float


@dataclass(frozen=True)
class A11Counts:
    study_id: str
    quarter: str
    sessions: int
    responses: int
    #: reporting key (q1_satisfaction...) -> counts at points 1..5
    counts: dict[str, dict[int, int]]


def _segment_path(key: str) -> str:
    if not is_key_text(key):
        raise ValidationError(f"Segment attribute key {key!r} may only hold letters, digits, _.")
    return f'$."{key}"'


def filtered_sessions(study_id: str, flt: SessionFilter) -> Select[Any]:
    """A SELECT of the ids of the study's live sessions that pass the filter."""
    session = ResearchSession
    query = sa_select(col(session.id)).where(
        col(session.study_id) == study_id, col(session.deleted_at).is_(None)
    )
    if flt.statuses is None:
        query = query.where(col(session.status) != SessionStatus.REJECTED.value)
    else:
        query = query.where(col(session.status).in_([str(s) for s in flt.statuses]))
    if flt.date_from is not None:
        query = query.where(col(session.started_at) >= _iso(flt.date_from))
    if flt.date_to is not None:
        query = query.where(col(session.started_at) < _iso(flt.date_to + timedelta(days=1)))
    if flt.site_id:
        query = query.where(col(session.site_id) == flt.site_id)
    if flt.researcher_id:
        query = query.where(col(session.researcher_id) == flt.researcher_id)
    if flt.mode:
        query = query.where(col(session.mode) == flt.mode)
    if flt.segment is not None or not flt.include_withdrawn:
        # Observations may have no participant: an outer join keeps them.
        query = query.outerjoin(Participant, col(Participant.id) == col(session.participant_id))
    if not flt.include_withdrawn:
        query = query.where(
            or_(col(session.participant_id).is_(None), col(Participant.withdrawn).is_(False))
        )
    if flt.segment is not None:
        key, value = flt.segment
        query = query.where(
            func.json_extract(col(Participant.segments), _segment_path(key)) == value
        )
    return query


def _iso(day: date) -> datetime:
    # Bound through UTCDateTime, so the comparison is on the same sortable ISO text.
    return datetime.combine(day, time(), UTC)


def step_aggregates(
    database: Database, study_id: str, flt: SessionFilter | None = None
) -> dict[str, StepAggregate]:
    """Valence distribution and pain-point count per step (step id -> aggregate)."""
    flt = flt or SessionFilter()
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        ids = filtered_sessions(study_id, flt).subquery()
        cap = StepCapture
        rows = db.execute(
            sa_select(
                col(cap.step_id),
                col(cap.valence),
                func.count(),
                func.sum(case((col(cap.pain_point), 1), else_=0)),
            )
            .where(col(cap.session_id).in_(sa_select(ids.c.id)), col(cap.deleted_at).is_(None))
            .group_by(col(cap.step_id), col(cap.valence))
        ).all()
    return _fold(rows)


def _fold(rows: Any) -> dict[str, StepAggregate]:
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    pains: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for step_id, valence, n, pain in rows:
        total[step_id] += n
        pains[step_id] += pain or 0
        if valence is not None:
            counts[step_id][valence] = counts[step_id].get(valence, 0) + n
    return {
        step_id: StepAggregate(
            step_id, summarise_counts(counts.get(step_id, {})), pains[step_id], total[step_id]
        )
        for step_id in total
    }


def segment_curves(
    database: Database, study_id: str, key: str, flt: SessionFilter | None = None
) -> SegmentCurves:
    """The per-step aggregates for each value of one segment attribute (the equity lens)."""
    flt = flt or SessionFilter()
    path = _segment_path(key)
    seg = func.coalesce(func.json_extract(col(Participant.segments), path), "").label("seg")
    cap = StepCapture
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        ids = filtered_sessions(study_id, flt).subquery()
        joined = and_(
            col(ResearchSession.id) == col(cap.session_id),
            col(ResearchSession.id).in_(sa_select(ids.c.id)),
        )
        rows = db.execute(
            sa_select(
                seg,
                col(cap.step_id),
                col(cap.valence),
                func.count(),
                func.sum(case((col(cap.pain_point), 1), else_=0)),
            )
            .select_from(cap)
            .join(ResearchSession, joined)
            .join(Participant, col(Participant.id) == col(ResearchSession.participant_id))
            .where(col(cap.deleted_at).is_(None))
            .group_by(literal_column("seg"), col(cap.step_id), col(cap.valence))
        ).all()
        session_rows = db.execute(
            sa_select(seg, func.count())
            .select_from(ResearchSession)
            .join(Participant, col(Participant.id) == col(ResearchSession.participant_id))
            .where(col(ResearchSession.id).in_(sa_select(ids.c.id)))
            .group_by(literal_column("seg"))
        ).all()
    by_value: dict[str, list[Any]] = defaultdict(list)
    for value, step_id, valence, n, pain in rows:
        by_value[value].append((step_id, valence, n, pain))
    result = SegmentCurves(key)
    for value, value_rows in by_value.items():
        result.curves[value] = _fold(value_rows)
    result.sessions = {value: n for value, n in session_rows}
    return result


def pain_points_ranked(
    database: Database, study_id: str, flt: SessionFilter | None = None, limit: int = 20
) -> list[RankedText]:
    """Pain points (the capture's note where the pain-point flag is set), most frequent first."""
    flt = flt or SessionFilter()
    cap = StepCapture
    text = func.lower(func.trim(col(cap.notes)))
    with database.session() as db:
        ids = filtered_sessions(study_id, flt).subquery()
        rows = db.execute(
            sa_select(col(cap.step_id), func.min(func.trim(col(cap.notes))), func.count())
            .where(
                col(cap.session_id).in_(sa_select(ids.c.id)),
                col(cap.deleted_at).is_(None),
                col(cap.pain_point),
                func.trim(col(cap.notes)) != "",
            )
            .group_by(col(cap.step_id), text)
            .order_by(func.count().desc(), text)
            .limit(limit)
        ).all()
    return [RankedText(step_id, t, n) for step_id, t, n in rows]


def representative_quotes(
    database: Database, study_id: str, flt: SessionFilter | None = None, per_step: int = 3
) -> dict[str, list[RankedText]]:
    """Up to ``per_step`` quotes per step: the most often heard first (window function)."""
    flt = flt or SessionFilter()
    cap = StepCapture
    with database.session() as db:
        ids = filtered_sessions(study_id, flt).subquery()
        grouped = (
            sa_select(
                col(cap.step_id).label("step_id"),
                col(cap.quote).label("quote"),
                func.count().label("n"),
            )
            .where(
                col(cap.session_id).in_(sa_select(ids.c.id)),
                col(cap.deleted_at).is_(None),
                col(cap.quote) != "",
            )
            .group_by(col(cap.step_id), col(cap.quote))
            .subquery()
        )
        ranked = sa_select(
            grouped.c.step_id,
            grouped.c.quote,
            grouped.c.n,
            func.row_number()
            .over(partition_by=grouped.c.step_id, order_by=(grouped.c.n.desc(), grouped.c.quote))
            .label("rank"),
        ).subquery()
        rows = db.execute(
            sa_select(ranked.c.step_id, ranked.c.quote, ranked.c.n)
            .where(ranked.c.rank <= per_step)
            .order_by(ranked.c.step_id, ranked.c.rank)
        ).all()
    result: dict[str, list[RankedText]] = defaultdict(list)
    for step_id, quote, n in rows:
        result[step_id].append(RankedText(step_id, quote, n))
    return dict(result)


def observation_times(
    database: Database, study_id: str, flt: SessionFilter | None = None
) -> dict[str, DurationStats]:
    """Median and range of observed time per step (observation sessions).  A session's time
    in a step is the sum of its visits (a customer sent back counts every visit); a step
    with a visit still open is left out.  SQL sums the visits; Python only takes medians."""
    flt = flt or SessionFilter()
    v = ObservationVisit
    seconds = (func.julianday(col(v.left_at)) - func.julianday(col(v.entered_at))) * 86400.0
    with database.session() as db:
        ids = filtered_sessions(study_id, flt).subquery()
        rows = db.execute(
            sa_select(col(v.step_id), func.sum(seconds))
            .where(col(v.session_id).in_(sa_select(ids.c.id)), col(v.deleted_at).is_(None))
            .group_by(col(v.session_id), col(v.step_id))
            .having(func.count(col(v.left_at)) == func.count())
        ).all()
    durations: dict[str, list[float]] = defaultdict(list)
    for step_id, value in rows:
        if value is not None and value >= 0:
            durations[step_id].append(float(value))
    return {
        step_id: DurationStats(step_id, len(v), statistics.median(v), min(v), max(v))
        for step_id, v in durations.items()
    }


def a11_quarter_counts(database: Database, study_id: str, quarter: str) -> A11Counts:
    """A-11 quarterly reporting: per question, the count of answers at each point 1..5."""
    try:
        (y0, m0, d0), (y1, m1, d1) = quarter_bounds(quarter)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    start, end = date(y0, m0, d0), date(y1, m1, d1)
    flt = SessionFilter(
        date_from=start,
        date_to=end - timedelta(days=1),
        statuses=tuple(s.value for s in SessionStatus if s != SessionStatus.REJECTED),
        mode=SessionMode.INTERVIEW.value,
    )
    survey = survey_counts(database, study_id, flt, [column for _, column in REPORTING_QUESTIONS])
    counts = {key: survey.counts[column] for key, column in REPORTING_QUESTIONS}
    return A11Counts(study_id, quarter.strip().upper(), survey.sessions, survey.responses, counts)


@dataclass(frozen=True)
class SurveyCounts:
    sessions: int
    responses: int
    #: SurveyResponse column (satisfaction, trust...) -> counts at points 1..5
    counts: dict[str, dict[int, int]]


def survey_counts(
    database: Database, study_id: str, flt: SessionFilter, items: list[str]
) -> SurveyCounts:
    """Survey answers of the filtered sessions: per item column, the count at each point
    1..5 (one SQL pass), plus the number of sessions and of responses."""
    resp = SurveyResponse
    columns = []
    for column in items:
        for point in range(1, 6):
            columns.append(
                func.sum(case((getattr(resp, column) == point, 1), else_=0)).label(
                    f"{column}_{point}"
                )
            )
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        ids = filtered_sessions(study_id, flt).subquery()
        n_sessions = db.execute(sa_select(func.count()).select_from(ids)).scalar_one()
        row = db.execute(
            sa_select(func.count(), *columns).where(
                col(resp.session_id).in_(sa_select(ids.c.id)), col(resp.deleted_at).is_(None)
            )
        ).one()
    counts = {
        column: {point: int(row._mapping[f"{column}_{point}"] or 0) for point in range(1, 6)}
        for column in items
    }
    return SurveyCounts(int(n_sessions), int(row[0]), counts)
