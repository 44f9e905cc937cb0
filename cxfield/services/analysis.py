"""Aggregates over a study's sessions for the journey map, reports and exports.

Everything is aggregated in SQL (GROUP BY on indexed columns), so a study with thousands of
sessions stays fast; Python only sees one row per step × value.  By default rejected
sessions are excluded from analysis (review convention).  What counts as a capture, a pain
point and a quote is defined once, in :mod:`cxfield.services.step_records`: the journey map
and the study report both read these aggregates, so they give the same numbers."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, literal_column, or_
from sqlalchemy import select as sa_select
from sqlmodel import col

from cxfield.domain.errors import ValidationError
from cxfield.domain.journey import ValenceSummary, summarise_counts
from cxfield.domain.rules import is_key_text
from cxfield.domain.survey import REPORTING_QUESTIONS, quarter_bounds
from cxfield.domain.vocabulary import (
    Channel,
    NoteTag,
    ParticipantKind,
    SessionMode,
    SessionStatus,
)
from cxfield.services import step_records
from cxfield.services.common import get_live
from cxfield.services.step_records import RankedText as RankedText
from cxfield.services.studies import Journey, get_journey
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ObservationVisit,
    OpsRecord,
    Participant,
    ResearchSession,
    StepCapture,
    Study,
    SurveyResponse,
)
from cxfield.storage.sqlfunc import json_field, seconds_between

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
    #: "customer": customers' sessions and observations without a participant; "staff":
    #: staff members' sessions; None: both (data exports)
    kind: str | None = None
    #: only sessions among these ids (a SELECT of one column); the hub uses it for what a
    #: researcher may see (their own sessions)
    within: Select[Any] | None = None


@dataclass(frozen=True)
class StepAggregate:
    """One step over the interviews of a selection (see :mod:`step_records`)."""

    step_id: str
    valence: ValenceSummary  # the ratings (valence.n of them)
    pain_points: int  # captures that are pain points
    captures: int  # interviews that recorded something about the step


@dataclass
class SegmentCurves:
    key: str
    #: segment value -> step id -> aggregate; "" holds sessions without a value
    curves: dict[str, dict[str, StepAggregate]] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)

    def too_few(self, value: str) -> bool:
        return self.sessions.get(value, 0) < MIN_SESSIONS_PER_SEGMENT


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
    #: customer interviews in the quarter, each of which offered the survey (the runner
    #: offers it wherever there is a customer to ask)
    surveys_offered: int = 0
    #: customers served in the quarter by the imported operations data (None: none imported)
    customers_served: int | None = None
    #: the channels of the journey's customer steps (in person, phone, online ...)
    channels: tuple[str, ...] = ()


def step_numbers(journey: Journey) -> dict[str, int]:
    """Each step's number on the journey map (1, 2 … in journey order, every lane): the map,
    the equity lens and the report's figures all number a step the same way."""
    return {step.id: index for index, step in enumerate(journey.steps, start=1)}


def _segment_value(key: str) -> json_field:
    """The participant's value of segment attribute ``key`` (SQL, SQLite and PostgreSQL)."""
    if not is_key_text(key):
        raise ValidationError(f"Segment attribute key {key!r} may only hold letters, digits, _.")
    return json_field(col(Participant.segments), key)  # type: ignore[arg-type]


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
    if flt.within is not None:
        query = query.where(col(session.id).in_(flt.within))
    if flt.segment is not None or not flt.include_withdrawn or flt.kind:
        # Observations may have no participant: an outer join keeps them.
        query = query.outerjoin(Participant, col(Participant.id) == col(session.participant_id))
    if flt.kind == ParticipantKind.STAFF.value:
        query = query.where(col(Participant.kind) == ParticipantKind.STAFF.value)
    elif flt.kind is not None:
        query = query.where(
            or_(
                col(session.participant_id).is_(None),
                col(Participant.kind) == ParticipantKind.CUSTOMER.value,
            )
        )
    if not flt.include_withdrawn:
        query = query.where(
            or_(col(session.participant_id).is_(None), col(Participant.withdrawn).is_(False))
        )
    if flt.segment is not None:
        key, value = flt.segment
        query = query.where(_segment_value(key) == value)
    return query


def _iso(day: date) -> datetime:
    # Bound through UTCDateTime, so the comparison is on the same sortable ISO text.
    return datetime.combine(day, time(), UTC)


def interview_sessions(study_id: str, flt: SessionFilter) -> Select[Any]:
    """The filtered sessions that are interviews: only they have captures (observation
    sessions are timed, see :func:`observation_times`)."""
    return filtered_sessions(study_id, flt).where(
        col(ResearchSession.mode) == SessionMode.INTERVIEW.value
    )


def step_aggregates(
    database: Database, study_id: str, flt: SessionFilter | None = None
) -> dict[str, StepAggregate]:
    """Per step: the ratings' distribution, the captures and the pain points among them
    (step id -> aggregate), over the selection's interviews."""
    flt = flt or SessionFilter()
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        ids = interview_sessions(study_id, flt)
        cap = StepCapture
        ratings = db.execute(
            sa_select(literal(""), col(cap.step_id), col(cap.valence), func.count())
            .where(
                col(cap.session_id).in_(ids),
                col(cap.deleted_at).is_(None),
                col(cap.valence).is_not(None),
            )
            .group_by(col(cap.step_id), col(cap.valence))
        ).all()
        rec = step_records.records(ids)
        counts = db.execute(
            sa_select(literal(""), rec.c.step_id, *step_records.counted(rec)).group_by(
                rec.c.step_id
            )
        ).all()
    return _fold(ratings, counts).get("", {})


def _fold(ratings: Any, counts: Any) -> dict[str, dict[str, StepAggregate]]:
    """(segment, step, valence, n) and (segment, step, captures, pains) rows -> segment ->
    step -> aggregate."""
    histograms: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for segment, step_id, valence, n in ratings:
        histograms[(segment, step_id)][valence] = n
    result: dict[str, dict[str, StepAggregate]] = defaultdict(dict)
    for segment, step_id, captures, pains in counts:
        result[segment][step_id] = StepAggregate(
            step_id,
            summarise_counts(histograms.get((segment, step_id), {})),
            int(pains or 0),
            int(captures),
        )
    return dict(result)


def segment_curves(
    database: Database, study_id: str, key: str, flt: SessionFilter | None = None
) -> SegmentCurves:
    """The per-step aggregates for each value of one segment attribute (the equity lens)."""
    flt = flt or SessionFilter()
    seg = func.coalesce(_segment_value(key), "").label("seg")
    cap = StepCapture
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        ids = interview_sessions(study_id, flt)
        of_session = and_(
            col(ResearchSession.id) == col(cap.session_id), col(ResearchSession.id).in_(ids)
        )
        ratings = db.execute(
            sa_select(seg, col(cap.step_id), col(cap.valence), func.count())
            .select_from(cap)
            .join(ResearchSession, of_session)
            .join(Participant, col(Participant.id) == col(ResearchSession.participant_id))
            .where(col(cap.deleted_at).is_(None), col(cap.valence).is_not(None))
            .group_by(literal_column("seg"), col(cap.step_id), col(cap.valence))
        ).all()
        rec = step_records.records(ids)
        counts = db.execute(
            sa_select(seg, rec.c.step_id, *step_records.counted(rec))
            .select_from(rec)
            .join(ResearchSession, col(ResearchSession.id) == rec.c.session_id)
            .join(Participant, col(Participant.id) == col(ResearchSession.participant_id))
            .group_by(literal_column("seg"), rec.c.step_id)
        ).all()
        session_rows = db.execute(
            sa_select(seg, func.count())
            .select_from(ResearchSession)
            .join(Participant, col(Participant.id) == col(ResearchSession.participant_id))
            .where(col(ResearchSession.id).in_(ids))
            .group_by(literal_column("seg"))
        ).all()
    result = SegmentCurves(key)
    result.curves = _fold(ratings, counts)
    result.sessions = {value: n for value, n in session_rows}
    return result


def pain_points_ranked(
    database: Database, study_id: str, flt: SessionFilter | None = None, limit: int = 20
) -> list[RankedText]:
    """The selection's pain points grouped by step and by what they say, most frequent
    first; text "" holds those flagged without a description.  Every pain point counted
    in :func:`step_aggregates` is in exactly one group."""
    flt = flt or SessionFilter()
    with database.session() as db:
        return step_records.ranked_pain_points(db, interview_sessions(study_id, flt), limit)


def representative_quotes(
    database: Database, study_id: str, flt: SessionFilter | None = None, per_step: int = 3
) -> dict[str, list[RankedText]]:
    """Up to ``per_step`` quotes per step, the most often heard first; quotes typed in a
    step's quote field and notes tagged quote alike, from every session of the selection.
    Quotes taken outside any step are under the key ""."""
    flt = flt or SessionFilter()
    with database.session() as db:
        rows = step_records.quote_rows(db, filtered_sessions(study_id, flt))
    return step_records.rank_quotes(rows, per_step)


def workarounds(
    database: Database, study_id: str, flt: SessionFilter | None = None, per_step: int = 3
) -> dict[str, list[RankedText]]:
    """Up to ``per_step`` workarounds per step (notes tagged workaround, e.g. what staff do
    when the system is down), the most often heard first, from every session of the
    selection; ranked and folded as quotes are."""
    flt = flt or SessionFilter()
    with database.session() as db:
        rows = step_records.tagged_note_rows(
            db, filtered_sessions(study_id, flt), NoteTag.WORKAROUND
        )
    return step_records.rank_quotes(rows, per_step)


def observation_times(
    database: Database, study_id: str, flt: SessionFilter | None = None
) -> dict[str, DurationStats]:
    """Median and range of observed time per step (observation sessions).  A session's time
    in a step is the sum of its visits (a customer sent back counts every visit); a step
    with a visit still open is left out.  SQL sums the visits; Python only takes medians."""
    flt = flt or SessionFilter()
    v = ObservationVisit
    seconds = seconds_between(col(v.entered_at), col(v.left_at))
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
        kind=ParticipantKind.CUSTOMER.value,
    )
    survey = survey_counts(database, study_id, flt, [column for _, column in REPORTING_QUESTIONS])
    counts = {key: survey.counts[column] for key, column in REPORTING_QUESTIONS}
    # Every session with a customer offers the survey (interviews, and observations of a
    # participant); staff members are not asked the customer survey.
    asked = filtered_sessions(study_id, replace(flt, mode=None)).where(
        col(ResearchSession.participant_id).is_not(None)
    )
    with database.session() as db:
        offered = int(
            db.execute(sa_select(func.count()).select_from(asked.subquery())).scalar_one()
        )
    return A11Counts(
        study_id,
        quarter.strip().upper(),
        survey.sessions,
        survey.responses,
        counts,
        surveys_offered=offered,
        customers_served=ops_customers_served(database, study_id, start, end),
        channels=customer_channels(database, study_id),
    )


def ops_customers_served(database: Database, study_id: str, start: date, end: date) -> int | None:
    """Operations records (one per customer) that started in [start, end); None when the
    study has no operations data at all (unknown, not zero)."""
    with database.session() as db:
        live = (col(OpsRecord.study_id) == study_id, col(OpsRecord.deleted_at).is_(None))
        if db.execute(sa_select(func.count()).where(*live)).scalar_one() == 0:
            return None
        return int(
            db.execute(
                sa_select(func.count()).where(
                    *live,
                    col(OpsRecord.started_at) >= _iso(start),
                    col(OpsRecord.started_at) < _iso(end),
                )
            ).scalar_one()
        )


def customer_channels(database: Database, study_id: str) -> tuple[str, ...]:
    """The channels of the journey's customer steps, in journey order, each once."""
    channels: list[str] = []
    for step in get_journey(database, study_id).steps:
        if step.lane in ParticipantKind.CUSTOMER.path_lanes:
            label = Channel(step.channel).label
            if label not in channels:
                channels.append(label)
    return tuple(channels)


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
