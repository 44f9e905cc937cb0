"""What the shared map shows, aggregated in SQL over the hub's projection of synced rows
with the very functions the laptop's journey map and study report use (so the page, the
PDF and the CSV tables give the same numbers)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import col
from sqlmodel import select as sm_select

from cxfield.domain.survey import SurveyItem, v1_items
from cxfield.domain.vocabulary import ParticipantKind, SessionStatus
from cxfield.export.filters import FilterChoices, FilterRequest, resolve_filter
from cxfield.export.study_data import Overview, SegmentView
from cxfield.hub import storage as t
from cxfield.hub.accounts import Caller
from cxfield.hub.web import aggregates, sealed
from cxfield.services import analysis, ops_analysis
from cxfield.services.analysis import (
    DurationStats,
    RankedText,
    SessionFilter,
    StepAggregate,
    SurveyCounts,
)
from cxfield.services.ops_analysis import OpsSummary
from cxfield.services.staff_research import PainAgreement, of_kind, pain_agreement
from cxfield.services.studies import Journey, get_journey
from cxfield.storage.database import Database
from cxfield.storage.models import ResearchSession, Study

#: the review state shown unless the URL asks for others
DEFAULT_STATUSES: tuple[str, ...] = (SessionStatus.APPROVED.value,)
QUOTES_SETTING = "web.quotes:"


class HubDatabase(Database):
    """The laptop's unit-of-work API over the hub's engine (its projection tables)."""

    def __init__(self, engine: Engine) -> None:  # noqa: D107 - no file, no device id
        self.path = Path()
        self.engine = engine
        self.device_id = ""


@dataclass(frozen=True)
class PageQuery:
    """The filters of the URL, as typed (checked by :func:`selection`)."""

    date_from: str = ""
    date_to: str = ""
    site: str = ""
    researcher: str = ""
    segment: str = ""  # KEY=VALUE
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    lens: str = ""  # the segment attribute of the equity lens

    @classmethod
    def from_params(cls, params: Any) -> PageQuery:
        statuses = tuple(v for v in params.getlist("status") if v) or DEFAULT_STATUSES
        return cls(
            date_from=params.get("from", "").strip(),
            date_to=params.get("to", "").strip(),
            site=params.get("site", "").strip(),
            researcher=params.get("researcher", "").strip(),
            segment=params.get("segment", "").strip(),
            statuses=statuses,
            lens=params.get("lens", "").strip(),
        )

    def params(self, **changes: Any) -> list[tuple[str, str]]:
        """The query string pairs (for links that keep the filters)."""
        q = dataclasses.replace(self, **changes)
        pairs = [
            ("from", q.date_from),
            ("to", q.date_to),
            ("site", q.site),
            ("researcher", q.researcher),
            ("segment", q.segment),
            ("lens", q.lens),
        ]
        out = [(k, v) for k, v in pairs if v]
        return out + [("status", s) for s in q.statuses]


def own_sessions(caller: Caller) -> Any:
    """What a caller may aggregate: everything, or a researcher's own sessions."""
    if caller.account.role != "researcher":
        return None
    return select(t.record.c.row_id).where(
        t.record.c.table_name == "session", t.record.c.owner_account_id == caller.account.id
    )


def selection(
    database: Database, study_id: str, query: PageQuery, caller: Caller
) -> tuple[SessionFilter, list[str]]:
    """The SessionFilter of the URL's filters (ValidationError with one line if bad)."""
    request = FilterRequest(
        date_from=query.date_from or None,
        date_to=query.date_to or None,
        site=query.site or None,
        researcher=query.researcher or None,
        segment=query.segment or None,
        statuses=query.statuses,
    )
    resolved = resolve_filter(database, study_id, request)
    flt = dataclasses.replace(resolved.flt, within=own_sessions(caller))
    lines = list(resolved.description)
    if flt.within is not None:
        lines.append("Sessions: only your own (researcher account)")
    return flt, lines


def quotes_shown(engine: Engine, study_id: str) -> bool:
    """The study setting (``cxfield hub studies quotes``); off until someone turns it on."""
    with engine.connect() as conn:
        value = conn.execute(
            select(t.setting.c.value).where(t.setting.c.key == QUOTES_SETTING + study_id)
        ).scalar()
    return value == "on"


def set_quotes(engine: Engine, study_id: str, shown: bool) -> str:
    """Turn quotes on or off for a synced study (audited); returns the study's name."""
    from sqlalchemy import delete

    from cxfield.hub.accounts import audit
    from cxfield.hub.config import HubError, write_transaction

    with write_transaction(engine) as conn:
        study = t.projection["study"]
        name = conn.execute(
            select(study.c.name).where(study.c.id == study_id, study.c.deleted_at.is_(None))
        ).scalar()
        if name is None:
            raise HubError(f"No study with id {study_id!r} has been synced to this hub.")
        key = QUOTES_SETTING + study_id
        conn.execute(delete(t.setting).where(t.setting.c.key == key))
        conn.execute(t.setting.insert().values(key=key, value="on" if shown else "off"))
        audit(conn, None, "study quotes", study_id, {"shown": shown})
    return str(name)


@dataclass
class MapData:
    journey: Journey
    filters: list[str]
    choices: FilterChoices
    overview: Overview
    aggregates: dict[str, StepAggregate]
    pain_points: list[RankedText]
    #: None: the study does not show quotes
    quotes: dict[str, list[RankedText]] | None
    observation: dict[str, DurationStats]
    lens: SegmentView | None
    survey_items: list[SurveyItem]
    survey: SurveyCounts
    #: the study is encrypted end to end: no quotes, no pain-point wording
    encrypted: bool = False
    #: the staff's side of the same journey, counted apart (``aggregates`` are customers')
    staff_aggregates: dict[str, StepAggregate] = dataclasses.field(default_factory=dict)
    #: role -> staff interviews in the selection
    staff_roles: dict[str, int] = dataclasses.field(default_factory=dict)
    staff_pain_points: list[RankedText] = dataclasses.field(default_factory=list)
    #: the steps where staff and customers agree it hurts
    agreement: list[PainAgreement] = dataclasses.field(default_factory=list)
    #: the imported operations data (None: none, or not asked for)
    ops: OpsSummary | None = None

    @property
    def staff_interviews(self) -> int:
        return sum(self.staff_roles.values())


def lens_attribute(journey: Journey, key: str) -> dict[str, Any] | None:
    attributes = journey.study.segment_attributes
    for attribute in attributes:
        if str(attribute.get("key")) == key:
            return attribute
    return attributes[0] if attributes else None


def map_data(
    database: Database, study_id: str, flt: SessionFilter, filters: list[str], **options: Any
) -> MapData:
    """Every aggregate of the page (one query per figure, none per session)."""
    journey = get_journey(database, study_id)
    study = journey.study
    attribute = lens_attribute(journey, str(options.get("lens", "")))
    try:
        items = v1_items(study.survey_trust_variant, study.survey_effectiveness_variant)
    except ValueError:
        items = v1_items()
    encrypted = sealed.study_encrypted(database, study_id)
    show_quotes = bool(options.get("quotes")) and not encrypted
    segments = [
        (
            str(a.get("key")),
            str(a.get("label") or a.get("key")),
            [str(v) for v in a.get("values") or []],
        )
        for a in study.segment_attributes
    ]
    with database.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # a few narrow index scans: starting parallel workers costs more than it saves
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        summary = aggregates.overview(conn, study_id, flt)
        customers = of_kind(flt, ParticipantKind.CUSTOMER)
        staff = of_kind(flt, ParticipantKind.STAFF)
        steps = aggregates.step_aggregates(conn, study_id, customers)
        staff_steps = aggregates.step_aggregates(conn, study_id, staff)
        roles = aggregates.staff_roles(conn, study_id, flt)
        ops = ops_analysis.ops_summary(database, study_id, flt) if options.get("ops") else None
        return MapData(
            journey=journey,
            filters=filters,
            choices=aggregates.choices(conn, study_id, segments),
            overview=summary,
            aggregates=steps,
            staff_aggregates=staff_steps,
            staff_roles=roles,
            staff_pain_points=sealed.readable(
                aggregates.pain_points_ranked(conn, study_id, staff, limit=200)
            )
            if roles
            else [],
            agreement=pain_agreement(journey, steps, staff_steps),
            pain_points=sealed.readable(
                aggregates.pain_points_ranked(conn, study_id, flt, limit=15)
            ),
            quotes=analysis.representative_quotes(database, study_id, customers)
            if show_quotes
            else None,
            observation=analysis.observation_times(database, study_id, customers),
            lens=aggregates.segment_view(conn, study_id, attribute, flt) if attribute else None,
            survey_items=items,
            survey=aggregates.survey_counts(  # staff are not asked the customer survey
                conn,
                study_id,
                customers,
                [i.key for i in items],
                aggregates.overview(conn, study_id, customers).sessions
                if roles
                else summary.sessions,
            ),
            encrypted=encrypted,
            ops=ops if ops is not None and not ops.empty else None,
        )


@dataclass(frozen=True)
class StudyListing:
    id: str
    name: str
    program: str
    sessions: int


def studies(database: Database, caller: Caller) -> list[StudyListing]:
    """The live studies with their number of (visible, live) sessions."""
    from sqlalchemy import func

    s = ResearchSession
    count = sm_select(col(s.study_id), func.count()).where(col(s.deleted_at).is_(None))
    within = own_sessions(caller)
    if within is not None:
        count = count.where(col(s.id).in_(within))
    with database.session() as db:
        counts = dict(db.execute(count.group_by(col(s.study_id))).all())
        rows = db.exec(
            sm_select(Study).where(col(Study.deleted_at).is_(None)).order_by(col(Study.name))
        ).all()
    return [StudyListing(r.id, r.name, r.program, int(counts.get(r.id, 0))) for r in rows]
