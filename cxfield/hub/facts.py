"""The facts behind the shared map's aggregates, kept by every push beside the projection.

A study of 20,000 sessions has 300,000 captures; the page must aggregate them in well under
a second.  So each push also rewrites, for the sessions it touched, one narrow row per
session (``hub_fact_session``), one per session × step the session recorded something
about (``hub_fact_step``: its rating, whether it is a pain point and what it says) and the
participant's segment values (``hub_fact_segment``).  What counts as a capture, a pain
point and its text comes from :mod:`cxfield.services.step_records` itself, run in SQL over
the projection for those sessions, so the page counts exactly what the report counts.
A staff member's session has the mode :data:`~cxfield.hub.storage.STAFF_SIDE` in its
facts, so customers and staff are counted apart (each side with its own n) by every query
and running total."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, and_, case, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cxfield.domain.vocabulary import ParticipantKind
from cxfield.hub import storage as t
from cxfield.services import step_records

CHUNK = 500
P = t.projection


def _keys(attributes: Any) -> set[str]:
    return {str(a.get("key")) for a in attributes or [] if isinstance(a, dict)}


def studies_with_new_segments(conn: Connection, records: Iterable[Any]) -> set[str]:
    """Studies in the batch whose segment attribute keys differ from the projection's (call
    before the projection is written): only they change every session's segment facts."""
    wanted = {r.row_id: r.data for r in records if r.table_name == "study"}
    if not wanted:
        return set()
    study = P["study"]
    stored = dict(
        conn.execute(
            select(study.c.id, study.c.segment_attributes).where(study.c.id.in_(sorted(wanted)))
        ).all()
    )
    return {
        sid
        for sid, data in wanted.items()
        if _keys(data.get("segment_attributes")) != _keys(stored.get(sid))
    }


def touched_sessions(
    conn: Connection, records: Iterable[Any], studies: Iterable[str] = ()
) -> set[str]:
    """The sessions whose facts a batch of changed records may change (``studies``: those
    whose segment attributes changed, see :func:`studies_with_new_segments`)."""
    sessions: set[str] = set()
    participants: set[str] = set()
    studies = set(studies)
    for rec in records:
        if rec.table_name == "session":
            sessions.add(rec.row_id)
        elif rec.table_name == "participant":
            participants.add(rec.row_id)
        elif rec.session_id:
            sessions.add(rec.session_id)
    s = P["session"]
    for ids, column in (
        (sorted(participants), s.c.participant_id),
        (sorted(studies), s.c.study_id),
    ):
        for start in range(0, len(ids), CHUNK):
            chosen = ids[start : start + CHUNK]
            sessions.update(conn.execute(select(s.c.id).where(column.in_(chosen))).scalars())
    return sessions


def refresh(conn: Connection, session_ids: Iterable[str]) -> None:
    """Make the facts of these sessions again from the projection."""
    ids = sorted(set(session_ids))
    for start in range(0, len(ids), CHUNK):
        _refresh(conn, ids[start : start + CHUNK])


def _refresh(conn: Connection, ids: list[str]) -> None:
    before = [_tally(conn, table, ids) for table in t.TOTAL_TABLES]
    for table in t.FACT_TABLES:
        conn.execute(delete(table).where(table.c.session_id.in_(ids)))
    _make(conn, ids)
    after = [_tally(conn, table, ids) for table in t.TOTAL_TABLES]
    for table, old, new in zip(t.TOTAL_TABLES, before, after, strict=True):
        _apply(conn, table, old, new)


def _make(conn: Connection, ids: list[str]) -> None:
    s, p, r = P["session"], P["participant"], t.record
    included = or_(s.c.participant_id.is_(None), p.c.withdrawn.is_(False))
    sessions = (
        select(
            s.c.id,
            s.c.study_id,
            s.c.status,
            # a staff member's session is the staff side: apart from the customers' modes
            case((p.c.kind == ParticipantKind.STAFF.value, t.STAFF_SIDE), else_=s.c.mode),
            s.c.started_at,
            s.c.site_id,
            s.c.researcher_id,
            s.c.participant_id,
            func.coalesce(r.c.owner_account_id, ""),
            case((included, True), else_=False),
        )  # fmt: skip
        .outerjoin(p, p.c.id == s.c.participant_id)
        .outerjoin(r, and_(r.c.table_name == "session", r.c.row_id == s.c.id))
        .where(s.c.id.in_(ids), s.c.deleted_at.is_(None))
    )
    conn.execute(
        t.fact_session.insert().from_select(
            [
                "session_id",
                "study_id",
                "status",
                "mode",
                "started_at",
                "site_id",
                "researcher_id",
                "participant_id",
                "owner_account_id",
                "included",
            ],  # fmt: skip
            sessions,
        )
    )
    fs = t.fact_session
    chosen = select(fs.c.session_id).where(fs.c.session_id.in_(ids))
    rec = step_records.records(chosen)
    pairs = (
        select(rec.c.session_id, rec.c.step_id, func.max(rec.c.pain).label("pain"))
        .group_by(rec.c.session_id, rec.c.step_id)
        .subquery()
    )
    cap = P["step_capture"]
    ratings = (
        select(cap.c.session_id, cap.c.step_id, func.max(cap.c.valence).label("valence"))
        .where(cap.c.session_id.in_(chosen), cap.c.deleted_at.is_(None))
        .group_by(cap.c.session_id, cap.c.step_id)
        .subquery()
    )
    pains = step_records.pain_descriptions(chosen)
    rows = (
        select(
            pairs.c.session_id,
            pairs.c.step_id,
            fs.c.study_id,
            fs.c.status,
            fs.c.mode,
            fs.c.started_at,
            fs.c.site_id,
            fs.c.researcher_id,
            fs.c.owner_account_id,
            fs.c.included,
            ratings.c.valence,
            case((pairs.c.pain == 1, True), else_=False),
            pains.c.text,
        )  # fmt: skip
        .join(fs, fs.c.session_id == pairs.c.session_id)
        .outerjoin(
            ratings,
            and_(ratings.c.session_id == pairs.c.session_id, ratings.c.step_id == pairs.c.step_id),
        )
        .outerjoin(
            pains,
            and_(pains.c.session_id == pairs.c.session_id, pains.c.step_id == pairs.c.step_id),
        )
    )
    conn.execute(
        t.fact_step.insert().from_select(
            [
                "session_id",
                "step_id",
                "study_id",
                "status",
                "mode",
                "started_at",
                "site_id",
                "researcher_id",
                "owner_account_id",
                "included",
                "valence",
                "pain",
                "pain_text",
            ],  # fmt: skip
            rows,
        )
    )
    _segments(conn, ids)


def _segments(conn: Connection, ids: list[str]) -> None:
    """Every segment value of each session's participant, and "" for each of the study's
    attributes the participant has no value for (as the equity lens groups them)."""
    fs, p, st = t.fact_session, P["participant"], P["study"]
    found = conn.execute(
        select(fs.c.session_id, p.c.segments, st.c.segment_attributes)
        .join(p, p.c.id == fs.c.participant_id)
        .outerjoin(st, st.c.id == fs.c.study_id)
        .where(fs.c.session_id.in_(ids))
    ).all()
    values: list[dict[str, Any]] = []
    for session_id, segments, attributes in found:
        keys = {str(a.get("key")) for a in attributes or [] if isinstance(a, dict)}
        given = {str(k): v for k, v in (segments or {}).items() if isinstance(v, str)}
        for key in sorted(keys | set(given)):
            values.append({"session_id": session_id, "key": key, "value": given.get(key, "")})
    if not values:
        return
    conn.execute(t.fact_segment.insert(), values)
    f, g = t.fact_step, t.fact_segment
    columns = [
        "session_id", "step_id", "study_id", "status", "mode", "started_at", "site_id",
        "researcher_id", "owner_account_id", "included", "valence", "pain",
    ]  # fmt: skip
    conn.execute(
        t.fact_step_segment.insert().from_select(
            [*columns, "key", "value"],
            select(*[f.c[name] for name in columns], g.c.key, g.c.value)
            .join(g, g.c.session_id == f.c.session_id)
            .where(f.c.session_id.in_(ids)),
        )
    )


_KEY = ("study_id", "status", "mode", "included", "site_id", "researcher_id", "step_id")


def _tally(conn: Connection, total: Table, ids: list[str]) -> Counter[tuple[Any, ...]]:
    """The facts of these sessions counted by the running total's key (in the order of
    the total's columns: study, [key, value], [month], status … step, valence, pain)."""
    segment = total in t.SEGMENT_TOTALS
    monthly = "month" in total.c
    f = t.fact_step_segment if segment else t.fact_step
    columns = [f.c[name] for name in (("study_id", "key", "value") if segment else ("study_id",))]
    head = len(columns)
    if monthly:  # grouped by the start time here, folded into months below
        columns.append(f.c.started_at)
    columns += [f.c[name] for name in _KEY[1:] if name in total.c] + [f.c.valence, f.c.pain]
    rows = conn.execute(
        select(*columns, func.count()).where(f.c.session_id.in_(ids)).group_by(*columns)
    ).all()
    tally: Counter[tuple[Any, ...]] = Counter()
    for row in rows:
        *key, valence, pain, n = row
        key = [("" if v is None else v) for v in key]
        if monthly:
            key[head] = month_of(key[head])
        tally[(*key, t.NO_RATING if valence is None else int(valence), bool(pain))] += int(n)
    return tally


def month_of(moment: Any) -> str:
    """The "YYYY-MM" a start time falls in, in UTC (naive times are UTC, as stored)."""
    from datetime import UTC

    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.year:04d}-{moment.month:02d}"


def fill(conn: Connection, tables: Iterable[Table]) -> None:
    """Fill new, empty running totals from the facts (a migration adding a total)."""
    tables = list(tables)
    ids = list(conn.execute(select(t.fact_session.c.session_id)).scalars())
    for start in range(0, len(ids), CHUNK):
        chosen = ids[start : start + CHUNK]
        for table in tables:
            _apply(conn, table, Counter(), _tally(conn, table, chosen))


def _apply(
    conn: Connection, total: Table, old: Counter[tuple[Any, ...]], new: Counter[tuple[Any, ...]]
) -> None:
    """Add the change to the running totals (an upsert on SQLite and PostgreSQL alike)."""
    names = [c.name for c in total.columns if c.name != "n"]
    changes = []
    for key in set(old) | set(new):
        delta = new.get(key, 0) - old.get(key, 0)
        if delta:
            changes.append({**dict(zip(names, key, strict=True)), "n": delta})
    if not changes:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(total)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=names, set_={"n": total.c.n + stmt.excluded.n}),
        changes,
    )
    studies = sorted({c["study_id"] for c in changes})
    conn.execute(delete(total).where(total.c.study_id.in_(studies), total.c.n == 0))


def rebuild(conn: Connection) -> None:
    """Every session's facts again (after the projection was rebuilt)."""
    for table in (*t.FACT_TABLES, *t.TOTAL_TABLES):
        conn.execute(delete(table))
    ids = list(conn.execute(select(P["session"].c.id)).scalars())
    refresh(conn, ids)
