"""The change feed: every record and conflict with a seq above the client's cursor, in
seq order, in pages — and who may see what.

Records and conflicts share one sequence (``hub_counter``) and are read in ONE snapshot
(REPEATABLE READ on PostgreSQL, one read transaction on SQLite), so a page never carries a
later seq while an earlier one is missing.  Rows the caller may not see are left out but
``next`` still moves past them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, or_, select

from cxfield.hub import rows
from cxfield.hub import storage as t
from cxfield.hub.accounts import Caller
from cxfield.sync.protocol import (
    MAX_PULL_PAGE,
    Change,
    ChangesResponse,
    ConflictInfo,
    ConflictsResponse,
    encode_value,
)


def may_see_record(caller: Caller, table: str, owner_account_id: str) -> bool:
    """Team data: everyone; session and participant data: its owner, supervisors, admins."""
    if not rows.is_private(table) or caller.sees_all_sessions:
        return True
    return owner_account_id == caller.account.id


def may_see_conflict(caller: Caller, row: Any) -> bool:
    if caller.sees_all_sessions:
        return True
    return caller.account.id in (row.pushed_by, row.other_account)


def change_of(row: Any) -> Change:
    return Change(
        seq=row.seq,
        table=row.table_name,
        id=row.row_id,
        version=row.version,
        hash=row.content_hash,
        data=row.data,
    )


def conflict_of(row: Any) -> ConflictInfo:
    return ConflictInfo(
        id=row.id,
        seq=row.seq,
        table=row.table_name,
        row_id=row.row_id,
        winner_hash=row.winner_hash,
        loser_hash=row.loser_hash,
        winner_data=row.winner_data,
        loser_data=row.loser_data,
        created_at=encode_value(row.created_at),
        resolved_at=None if row.resolved_at is None else encode_value(row.resolved_at),
    )


def read_snapshot(engine: Engine) -> Connection:
    """A connection whose reads all come from one snapshot."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def changes_since(engine: Engine, caller: Caller, since: int, limit: int) -> ChangesResponse:
    limit = max(1, min(limit, MAX_PULL_PAGE))
    with read_snapshot(engine) as conn, conn.begin():
        records = conn.execute(
            select(t.record).where(t.record.c.seq > since).order_by(t.record.c.seq).limit(limit + 1)
        ).all()
        conflicts = conn.execute(
            select(t.conflict)
            .where(t.conflict.c.seq > since)
            .order_by(t.conflict.c.seq)
            .limit(limit + 1)
        ).all()
    items = sorted(
        [(r.seq, "record", r) for r in records] + [(c.seq, "conflict", c) for c in conflicts],
        key=lambda item: item[0],
    )
    page, more = items[:limit], len(items) > limit
    changes = [
        change_of(row)
        for _seq, kind, row in page
        if kind == "record" and may_see_record(caller, row.table_name, row.owner_account_id)
    ]
    feed_conflicts = [
        conflict_of(row)
        for _seq, kind, row in page
        if kind == "conflict" and may_see_conflict(caller, row)
    ]
    return ChangesResponse(
        changes=changes,
        conflicts=feed_conflicts,
        next=page[-1][0] if page else since,
        more=more,
    )


def list_conflicts(engine: Engine, caller: Caller, include_resolved: bool) -> ConflictsResponse:
    query = select(t.conflict)
    if not include_resolved:
        query = query.where(t.conflict.c.resolved_at.is_(None))
    if not caller.sees_all_sessions:
        me = caller.account.id
        query = query.where(or_(t.conflict.c.pushed_by == me, t.conflict.c.other_account == me))
    query = query.order_by(t.conflict.c.resolved_at.is_not(None), t.conflict.c.seq)
    with engine.connect() as conn:
        found = conn.execute(query.limit(MAX_PULL_PAGE)).all()
    return ConflictsResponse(conflicts=[conflict_of(row) for row in found])


def session_rows(engine: Engine, session_id: str) -> tuple[Any, list[Change]]:
    """The session's own record (None if the hub has none) and every row of it."""
    with read_snapshot(engine) as conn, conn.begin():
        session = conn.execute(
            select(t.record).where(
                t.record.c.table_name == "session", t.record.c.row_id == session_id
            )
        ).first()
        found = conn.execute(
            select(t.record).where(t.record.c.session_id == session_id).order_by(t.record.c.seq)
        ).all()
    return session, [change_of(row) for row in found]
