"""The page's aggregates over the hub's facts (:mod:`cxfield.hub.facts`): the same
numbers as :mod:`cxfield.services.analysis` gives over the projection (the tests compare
them with the report PDF), in one GROUP BY over narrow indexed rows each."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Table, case, func, literal, select, true

from cxfield.domain.journey import summarise_counts
from cxfield.domain.vocabulary import ParticipantKind, SessionMode, SessionStatus
from cxfield.export.filters import FilterChoices
from cxfield.export.study_data import Overview, SegmentView, ordered_values
from cxfield.hub import storage as t
from cxfield.services.analysis import (
    RankedText,
    SegmentCurves,
    SessionFilter,
    StepAggregate,
    SurveyCounts,
)

INTERVIEW = SessionMode.INTERVIEW.value
STAFF = ParticipantKind.STAFF.value


def _day(value: Any) -> datetime:
    return datetime.combine(value, time(), UTC)


def where(table: Table, study_id: str, flt: SessionFilter, *, interviews: bool) -> list[Any]:
    """The filter as conditions on a fact table (as :func:`analysis.filtered_sessions`).

    On ``hub_fact_step_segment`` the caller has already chosen the segment's key: a
    segment filter on that key is then a plain condition on ``value``."""
    c = table.c
    segment_here = table is t.fact_step_segment
    out: list[Any] = [c.study_id == study_id]
    if not flt.include_withdrawn:
        out.append(c.included == true())  # '=' (not IS): an index condition
    if flt.statuses is None:
        out.append(c.status != SessionStatus.REJECTED.value)
    else:
        out.append(c.status.in_([str(s) for s in flt.statuses]))
    if flt.date_from is not None:
        out.append(c.started_at >= _day(flt.date_from))
    if flt.date_to is not None:
        out.append(c.started_at < _day(flt.date_to + timedelta(days=1)))
    if flt.site_id:
        out.append(c.site_id == flt.site_id)
    if flt.researcher_id:
        out.append(c.researcher_id == flt.researcher_id)
    mode = interview_mode(flt) if interviews or flt.kind == STAFF else flt.mode
    if mode:
        out.append(c.mode == mode)
    elif flt.kind is not None:  # the customers' side: every mode but the staff's
        out.append(c.mode != t.STAFF_SIDE)
    if flt.within is not None:
        out.append(c.session_id.in_(flt.within))
    if flt.segment is not None and segment_here:
        out.append(c.value == flt.segment[1])
    elif flt.segment is not None:
        key, value = flt.segment
        g = t.fact_segment
        out.append(
            c.session_id.in_(select(g.c.session_id).where(g.c.key == key, g.c.value == value))
        )
    return out


def interview_mode(flt: SessionFilter) -> str:
    """The facts' mode of the selection's interviews: the staff's side or the customers'
    (:data:`~cxfield.hub.storage.STAFF_SIDE` is a staff member's interview)."""
    return t.STAFF_SIDE if flt.kind == STAFF else INTERVIEW


def overview(conn: Connection, study_id: str, flt: SessionFilter) -> Overview:
    s = t.fact_session
    row = conn.execute(
        select(
            func.count(),
            func.sum(case((s.c.mode.in_([INTERVIEW, t.STAFF_SIDE]), 1), else_=0)),
            func.sum(case((s.c.mode == SessionMode.OBSERVATION.value, 1), else_=0)),
            func.count(func.distinct(s.c.participant_id)),
            func.min(s.c.started_at),
            func.max(s.c.started_at),
            func.count(func.distinct(s.c.site_id)),
            func.count(func.distinct(s.c.researcher_id)),
        ).where(*where(s, study_id, flt, interviews=False))
    ).one()
    return Overview(
        int(row[0]), int(row[1] or 0), int(row[2] or 0), int(row[3]), row[4], row[5],
        int(row[6]), int(row[7]),
    )  # fmt: skip


def staff_roles(conn: Connection, study_id: str, flt: SessionFilter) -> dict[str, int]:
    """role -> the selection's staff interviews (as :func:`staff_research.staff_side`)."""
    s, p = t.fact_session, t.projection["participant"]
    staff = dataclasses.replace(flt, kind=STAFF)
    rows = conn.execute(
        select(p.c.role, func.count())
        .select_from(s)
        .join(p, p.c.id == s.c.participant_id)
        .where(*where(s, study_id, staff, interviews=True))
        .group_by(p.c.role)
    ).all()
    return {str(role or ""): int(n) for role, n in rows}


def _fold(rows: Any) -> dict[str, dict[str, StepAggregate]]:
    """(group, step, valence, n, pains) rows -> group -> step -> aggregate."""
    histograms: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    captures: dict[tuple[str, str], int] = defaultdict(int)
    pains: dict[tuple[str, str], int] = defaultdict(int)
    for group, step_id, valence, n, pain in rows:
        key = (group, step_id)
        captures[key] += int(n)
        pains[key] += int(pain or 0)
        if valence is not None:  # added up: months and the days around them are summed
            counts = histograms[key]
            counts[int(valence)] = counts.get(int(valence), 0) + int(n)
    result: dict[str, dict[str, StepAggregate]] = defaultdict(dict)
    for (group, step_id), n in captures.items():
        summary = summarise_counts(histograms.get((group, step_id), {}))
        result[group][step_id] = StepAggregate(step_id, summary, pains[(group, step_id)], n)
    return dict(result)


def _pains(f: Table) -> Any:
    return func.sum(case((f.c.pain == true(), 1), else_=0))


def _totals_apply(flt: SessionFilter) -> bool:
    """Whether the running totals answer this filter (no dates, no account restriction)."""
    return (
        flt.date_from is None
        and flt.date_to is None
        and flt.within is None
        and flt.mode in (None, INTERVIEW)
    )


def _from_totals(
    conn: Connection, total: Table, study_id: str, flt: SessionFilter, *conditions: Any
) -> Any:
    """(group, step, valence, n, pains) rows of the running totals."""
    c = total.c
    where_: list[Any] = [c.study_id == study_id, c.mode == interview_mode(flt), *conditions]
    if not flt.include_withdrawn:
        where_.append(c.included == true())
    if flt.statuses is None:
        where_.append(c.status != SessionStatus.REJECTED.value)
    else:
        where_.append(c.status.in_([str(s) for s in flt.statuses]))
    if flt.site_id:
        where_.append(c.site_id == flt.site_id)
    if flt.researcher_id:
        where_.append(c.researcher_id == flt.researcher_id)  # total_step only
    group = c.value if total in t.SEGMENT_TOTALS else literal("")
    rows = conn.execute(
        select(
            group,
            c.step_id,
            c.valence,
            func.sum(c.n),
            func.sum(case((c.pain == true(), c.n), else_=0)),
        )  # fmt: skip
        .where(*where_)
        .group_by(group, c.step_id, c.valence)
    ).all()
    return [
        (g, step, None if valence == t.NO_RATING else valence, n, pains)
        for g, step, valence, n, pains in rows
    ]


def _months_apply(flt: SessionFilter) -> bool:
    """Whether a date range can be read from the monthly totals (and the days around)."""
    return (
        (flt.date_from is not None or flt.date_to is not None)
        and flt.within is None
        and not flt.researcher_id
        and flt.mode in (None, INTERVIEW)
    )


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def month_parts(flt: SessionFilter) -> tuple[list[Any], list[SessionFilter]] | None:
    """A date range as whole months (conditions on a monthly total's ``month``) and the
    filters of the days before and after them (read from the facts); None when the range
    holds no whole month."""
    lo, hi = flt.date_from, flt.date_to
    first = None if lo is None else (lo if lo.day == 1 else _next_month(lo))
    end = None
    if hi is not None:  # the day after the last whole month
        end = _next_month(hi) if _next_month(hi) - timedelta(days=1) == hi else hi.replace(day=1)
    if first is not None and end is not None and first >= end:
        return None
    edges = []
    if lo is not None and first is not None and lo < first:
        edges.append(dataclasses.replace(flt, date_to=first - timedelta(days=1)))
    if hi is not None and end is not None and end <= hi:
        edges.append(dataclasses.replace(flt, date_from=end))
    return [first, end], edges


def _month_conditions(total: Table, bounds: list[Any]) -> list[Any]:
    first, end = bounds
    out = []
    if first is not None:
        out.append(total.c.month >= f"{first:%Y-%m}")
    if end is not None:
        out.append(total.c.month < f"{end:%Y-%m}")
    return out


def _steps(flt: SessionFilter) -> tuple[Table, list[Any]]:
    """The step facts to read: with a segment filter, those of that segment key (one index
    range instead of a semi-join)."""
    if flt.segment is None:
        return t.fact_step, []
    f = t.fact_step_segment
    return f, [f.c.key == flt.segment[0]]


def step_aggregates(
    conn: Connection, study_id: str, flt: SessionFilter
) -> dict[str, StepAggregate]:
    if _totals_apply(flt) and (flt.segment is None or not flt.researcher_id):
        total = t.total_step if flt.segment is None else t.total_step_segment
        on_segment = [] if flt.segment is None else [
            total.c.key == flt.segment[0], total.c.value == flt.segment[1]
        ]  # fmt: skip
        rows = _from_totals(conn, total, study_id, flt, *on_segment)
        return _fold([("", *row[1:]) for row in rows]).get("", {})
    parts = month_parts(flt) if _months_apply(flt) else None
    if parts is not None:
        bounds, edges = parts
        total = t.total_step_month if flt.segment is None else t.total_step_segment_month
        on_segment = [] if flt.segment is None else [
            total.c.key == flt.segment[0], total.c.value == flt.segment[1]
        ]  # fmt: skip
        conditions = [*on_segment, *_month_conditions(total, bounds)]
        rows = [("", *row[1:]) for row in _from_totals(conn, total, study_id, flt, *conditions)]
        for edge in edges:
            rows += _step_facts(conn, study_id, edge)
        return _fold(rows).get("", {})
    return _fold(_step_facts(conn, study_id, flt)).get("", {})


def _step_facts(conn: Connection, study_id: str, flt: SessionFilter) -> list[Any]:
    f, key = _steps(flt)
    return list(
        conn.execute(
            select(literal(""), f.c.step_id, f.c.valence, func.count(), _pains(f))
            .where(*key, *where(f, study_id, flt, interviews=True))
            .group_by(f.c.step_id, f.c.valence)
        ).all()
    )


def segment_view(
    conn: Connection, study_id: str, attribute: dict[str, Any], flt: SessionFilter
) -> SegmentView:
    key = str(attribute.get("key", ""))
    f, g, s = t.fact_step_segment, t.fact_segment, t.fact_session
    same_key = flt.segment is not None and flt.segment[0] == key
    lens_flt = flt if same_key else _without_segment(flt)
    extra = [] if same_key or flt.segment is None else [where_segment(f, flt)]
    if _totals_apply(flt) and not extra and not flt.researcher_id:
        total = t.total_step_segment
        on_value = [total.c.value == flt.segment[1]] if flt.segment is not None else []
        rows = _from_totals(conn, total, study_id, flt, total.c.key == key, *on_value)
    elif not extra and (parts := month_parts(flt) if _months_apply(flt) else None):
        bounds, edges = parts
        total = t.total_step_segment_month
        on_value = [total.c.value == flt.segment[1]] if flt.segment is not None else []
        conditions = [total.c.key == key, *on_value, *_month_conditions(total, bounds)]
        rows = list(_from_totals(conn, total, study_id, flt, *conditions))
        for edge in edges:
            edge_lens = edge if same_key else _without_segment(edge)
            rows += _lens_facts(conn, study_id, key, edge_lens, extra)
    else:
        rows = _lens_facts(conn, study_id, key, lens_flt, extra)
    sessions = conn.execute(
        select(g.c.value, func.count())
        .join(g, (g.c.session_id == s.c.session_id) & (g.c.key == key))
        .where(*where(s, study_id, flt, interviews=True))
        .group_by(g.c.value)
    ).all()
    curves = SegmentCurves(key, _fold(rows), {str(v): int(n) for v, n in sessions})
    label = str(attribute.get("label") or key)
    return SegmentView(key, label, ordered_values(attribute, curves), curves)


def _lens_facts(
    conn: Connection, study_id: str, key: str, flt: SessionFilter, extra: list[Any]
) -> list[Any]:
    f = t.fact_step_segment
    return list(
        conn.execute(
            select(f.c.value, f.c.step_id, f.c.valence, func.count(), _pains(f))
            .where(f.c.key == key, *extra, *where(f, study_id, flt, interviews=True))
            .group_by(f.c.value, f.c.step_id, f.c.valence)
        ).all()
    )


def _without_segment(flt: SessionFilter) -> SessionFilter:
    return dataclasses.replace(flt, segment=None)


def where_segment(table: Table, flt: SessionFilter) -> Any:
    assert flt.segment is not None
    key, value = flt.segment
    g = t.fact_segment
    return table.c.session_id.in_(select(g.c.session_id).where(g.c.key == key, g.c.value == value))


def pain_points_ranked(
    conn: Connection, study_id: str, flt: SessionFilter, limit: int
) -> list[RankedText]:
    f = t.fact_step
    text = func.coalesce(f.c.pain_text, "")
    key = func.lower(text)
    rows = conn.execute(
        select(f.c.step_id, func.min(text), func.count())
        .where(f.c.pain == true(), *where(f, study_id, flt, interviews=True))
        .group_by(f.c.step_id, key)
        .order_by(func.count().desc(), key, f.c.step_id)
        .limit(limit)
    ).all()
    return [RankedText(step_id, value, int(n)) for step_id, value, n in rows]


def survey_counts(
    conn: Connection, study_id: str, flt: SessionFilter, items: list[str], sessions: int
) -> SurveyCounts:
    """As :func:`analysis.survey_counts` (``sessions``: the selection's, from the overview)."""
    resp = t.projection["survey_response"]
    s = t.fact_session
    columns = [
        func.sum(case((resp.c[column] == point, 1), else_=0)).label(f"{column}_{point}")
        for column in items
        for point in range(1, 6)
    ]
    ids = select(s.c.session_id).where(*where(s, study_id, flt, interviews=False))
    row = conn.execute(
        select(func.count(), *columns).where(
            resp.c.session_id.in_(ids), resp.c.deleted_at.is_(None)
        )
    ).one()
    counts = {
        column: {point: int(row._mapping[f"{column}_{point}"] or 0) for point in range(1, 6)}
        for column in items
    }
    return SurveyCounts(sessions, int(row[0]), counts)


def choices(
    conn: Connection, study_id: str, segments: list[tuple[str, str, list[str]]]
) -> FilterChoices:
    """Sites and researchers of the study's synced sessions (for the filter form)."""
    s = t.fact_session
    found: list[list[tuple[str, str]]] = []
    for column, table in ((s.c.site_id, "site"), (s.c.researcher_id, "researcher")):
        named = t.projection[table]
        ids = select(column).where(s.c.study_id == study_id).distinct().scalar_subquery()
        rows = conn.execute(select(named.c.id, named.c.name).where(named.c.id.in_(ids))).all()
        found.append(sorted(((r.id, r.name) for r in rows), key=lambda p: p[1].casefold()))
    return FilterChoices(found[0], found[1], segments)
