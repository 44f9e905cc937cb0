"""Operations figures per step for the journey map and the report: median and 90th-
percentile time, volume (per day and per site), and the correlation across sites or weeks
between a step's time and how it felt.

The step times are read once, as (step, day, site, seconds) rows; medians and percentiles
need every value anyway, so Python takes them from that one pass."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from cxfield.domain.operations import MIN_CORRELATION_POINTS, pearson, quantile
from cxfield.domain.vocabulary import ParticipantKind
from cxfield.services import analysis
from cxfield.services.analysis import SessionFilter
from cxfield.services.staff_research import of_kind
from cxfield.storage.database import Database
from cxfield.storage.models import (
    OpsImport,
    OpsStepTime,
    ResearchSession,
    Site,
    StepCapture,
)

SITES, WEEKS = "sites", "weeks"


@dataclass(frozen=True)
class OpsStepStats:
    """One step in the operations data."""

    step_id: str
    #: records (customers) that went through the step
    volume: int
    #: of them, those whose time in the step is known (the step has an end)
    timed: int
    median_s: float | None
    p90_s: float | None
    per_day: dict[str, int]
    per_site: dict[str, int]

    @property
    def mean_per_day(self) -> float:
        return self.volume / len(self.per_day) if self.per_day else 0.0


@dataclass(frozen=True)
class StepCorrelation:
    """How a step's operations time and its ratings moved together across groups."""

    step_id: str
    #: whose ratings: "customers" or "staff"
    side: str
    #: "sites" or "weeks"
    by: str
    n: int
    r: float


@dataclass(frozen=True)
class OpsSummary:
    imports: int
    records: int
    first_day: str | None
    last_day: str | None
    steps: dict[str, OpsStepStats]
    correlations: dict[str, StepCorrelation]

    @property
    def empty(self) -> bool:
        return self.records == 0


def week_of(day: str) -> str:
    """ISO week of a day: "2026-W09"."""
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def _site_filter(database: Database, flt: SessionFilter) -> str | None:
    if not flt.site_id:
        return None
    with database.session() as db:
        site = db.get(Site, flt.site_id)
    return site.name.casefold() if site is not None else None


def ops_summary(database: Database, study_id: str, flt: SessionFilter | None = None) -> OpsSummary:
    """The study's operations figures; the filter's dates and site apply to them too (by
    the day a customer entered a step, and the site's name), its other fields to the
    ratings the correlation reads."""
    flt = flt or SessionFilter()
    site = _site_filter(database, flt)
    t = OpsStepTime
    day = func.substr(col(t.entered_at), 1, 10)
    query = sa_select(col(t.step_id), day, col(t.site), col(t.seconds), col(t.record_id)).where(
        col(t.study_id) == study_id, col(t.deleted_at).is_(None)
    )
    if flt.date_from:
        query = query.where(day >= flt.date_from.isoformat())
    if flt.date_to:
        query = query.where(day <= flt.date_to.isoformat())
    with database.session() as db:
        rows = db.connection().execute(query).all()
        imports = int(
            db.execute(
                sa_select(func.count()).where(
                    col(OpsImport.study_id) == study_id, col(OpsImport.deleted_at).is_(None)
                )
            ).scalar_one()
        )
    if site is not None:
        rows = [r for r in rows if r[2].casefold() == site]
    seconds: dict[str, list[float]] = defaultdict(list)
    volume: dict[str, int] = defaultdict(int)
    per_day: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_site: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    grouped: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    days: set[str] = set()
    records: set[str] = set()
    for step_id, when, where, value, record_id in rows:
        records.add(record_id)
        volume[step_id] += 1
        per_day[step_id][when] += 1
        per_site[step_id][where] += 1
        days.add(when)
        if value is not None and value >= 0:
            seconds[step_id].append(float(value))
            grouped[(step_id, SITES, where.casefold())].append(float(value))
            grouped[(step_id, WEEKS, week_of(when))].append(float(value))
    steps = {}
    for step_id, n in volume.items():
        values = sorted(seconds.get(step_id, []))
        steps[step_id] = OpsStepStats(
            step_id,
            n,
            len(values),
            quantile(values, 0.5) if values else None,
            quantile(values, 0.9) if values else None,
            dict(sorted(per_day[step_id].items())),
            dict(sorted(per_site[step_id].items(), key=lambda kv: (-kv[1], kv[0]))),
        )
    medians = {key: quantile(sorted(v), 0.5) for key, v in grouped.items()}
    return OpsSummary(
        imports,
        len(records),
        min(days) if days else None,
        max(days) if days else None,
        steps,
        correlations(database, study_id, flt, medians, set(steps)),
    )


def _ratings(
    database: Database, study_id: str, flt: SessionFilter
) -> dict[tuple[str, str, str], tuple[float, int]]:
    """(step, "sites"|"weeks", group) -> (sum of valence, ratings) over the selection's
    interviews; one GROUP BY by step, site and day."""
    cap, s = StepCapture, ResearchSession
    ids = analysis.interview_sessions(study_id, flt).subquery()
    day = func.substr(col(s.started_at), 1, 10)
    with database.session() as db:
        names = {site.id: site.name.casefold() for site in db.exec(select(Site))}
        rows = db.execute(
            sa_select(
                col(cap.step_id), col(s.site_id), day, func.sum(col(cap.valence)), func.count()
            )
            .select_from(cap)
            .join(s, col(s.id) == col(cap.session_id))
            .where(
                col(s.id).in_(sa_select(ids.c.id)),
                col(cap.deleted_at).is_(None),
                col(cap.valence).is_not(None),
            )
            .group_by(col(cap.step_id), col(s.site_id), day)
        ).all()
    result: dict[tuple[str, str, str], tuple[float, int]] = {}
    for step_id, site_id, when, total, n in rows:
        for key in (
            (step_id, SITES, names.get(site_id or "", "")),
            (step_id, WEEKS, week_of(when)),
        ):
            old = result.get(key, (0.0, 0))
            result[key] = (old[0] + float(total), old[1] + int(n))
    return result


def correlations(
    database: Database,
    study_id: str,
    flt: SessionFilter,
    medians: dict[tuple[str, str, str], float],
    steps: set[str],
) -> dict[str, StepCorrelation]:
    """Per step, Pearson's r between the median operations time of each site (or week) and
    the mean rating there: customers' ratings where customers rated the step, else staff's.
    Of sites and weeks, the one with more points that both have (sites on a tie); none
    with fewer than MIN_CORRELATION_POINTS."""
    if not steps:
        return {}
    sides = {
        "customers": _ratings(database, study_id, of_kind(flt, ParticipantKind.CUSTOMER)),
        "staff": _ratings(database, study_id, of_kind(flt, ParticipantKind.STAFF)),
    }
    result: dict[str, StepCorrelation] = {}
    for step_id in sorted(steps):
        side = "customers" if any(k[0] == step_id for k in sides["customers"]) else "staff"
        ratings = sides[side]
        best: StepCorrelation | None = None
        for by in (SITES, WEEKS):
            groups = sorted(
                g
                for (sid, kind, g) in medians
                if sid == step_id and kind == by and g and (sid, by, g) in ratings
            )
            xs = [medians[(step_id, by, g)] for g in groups]
            ys = [ratings[(step_id, by, g)][0] / ratings[(step_id, by, g)][1] for g in groups]
            r = pearson(xs, ys)
            if r is None or len(groups) < MIN_CORRELATION_POINTS:
                continue
            if best is None or len(groups) > best.n:
                best = StepCorrelation(step_id, side, by, len(groups), r)
        if best is not None:
            result[step_id] = best
    return result
