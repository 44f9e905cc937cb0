"""Applying a pushed batch: every row gets its own answer, all in ONE transaction.

Per row: not on the hub → stored as version 1 (``applied``); same content hash →
``duplicate``; derived from the hub's version (``base == version``, or the hub's version
was made by this same device) → stored as version + 1; derived from an older version with
other content → ``conflict``: both versions are kept in ``hub_conflict`` and the one with
the larger content hash becomes the row, whatever order the two arrived in.

The change cursor (``hub_counter``) is taken at the END of the transaction, so seqs
become visible in commit order and a reader polling between two commits never skips one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, tuple_, update
from sqlalchemy.exc import DBAPIError

from cxfield.domain.ids import new_id, utcnow
from cxfield.hub import facts, projection, rows, withdrawals
from cxfield.hub import storage as t
from cxfield.hub.accounts import Caller, audit
from cxfield.hub.config import HubError, write_transaction
from cxfield.hub.review import review_problem
from cxfield.sync.protocol import (
    STUDY_DEFINITION_TABLES,
    PushRequest,
    PushResponse,
    RowIn,
    RowResult,
)

log = logging.getLogger(__name__)

FORBIDDEN_STUDY = (
    "Only the study's owner or a supervisor can change its journey map, consent text or segments."
)
FORBIDDEN_SESSION = (
    "This belongs to another researcher's session; only they or a supervisor can change it."
)
MAX_ATTEMPTS = 6
#: SQLSTATEs after which the whole (idempotent) batch is simply run again
RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505"})


class HubBusy(HubError):
    """The batch kept colliding with other writers (HTTP 503: try again)."""


@dataclass
class Record:
    """A hub_record row as this batch sees it (loaded, or written earlier in the batch)."""

    table_name: str
    row_id: str
    study_id: str | None
    session_id: str | None
    owner_account_id: str
    version: int
    content_hash: str
    data: dict[str, Any]
    deleted: bool
    updated_by: str
    updated_by_device: str
    name_key: str | None
    stored: bool = True  # False: inserted by this batch

    @property
    def key(self) -> rows.Key:
        return (self.table_name, self.row_id)


@dataclass
class _Batch:
    conn: Connection
    caller: Caller
    device_id: str
    records: dict[rows.Key, Record] = field(default_factory=dict)
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, key) -> row id
    dirty: dict[rows.Key, Record] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    #: rows refused by a review rule in this batch, with the reason (their history goes too)
    refused: dict[rows.Key, str] = field(default_factory=dict)
    #: session id -> whether the hub holds a decision about it (looked up once per batch)
    decided: dict[str, bool] = field(default_factory=dict)
    #: participants who withdrew: the hub keeps no content of theirs (hub/withdrawals.py)
    withdrawn: set[str] = field(default_factory=set)


def _record(row: Any) -> Record:
    return Record(
        row.table_name,
        row.row_id,
        row.study_id,
        row.session_id,
        row.owner_account_id,
        row.version,
        row.content_hash,
        row.data,
        row.deleted,
        row.updated_by,
        row.updated_by_device,
        row.name_key,
    )


def _load(batch: _Batch, valid: list[RowIn]) -> None:
    own = sorted({(r.table, r.id) for r in valid})
    parents = set()
    for r in valid:
        parent = rows.parent_key(r.table, r.data)
        if parent:
            parents.add(parent)
    if own:
        # sorted and locked in one statement: two hub processes lock rows in one order
        stmt = (
            select(t.record)
            .where(tuple_(t.record.c.table_name, t.record.c.row_id).in_(own))
            .order_by(t.record.c.table_name, t.record.c.row_id)
            .with_for_update()
        )
        for row in batch.conn.execute(stmt):
            batch.records[(row.table_name, row.row_id)] = _record(row)
    missing = sorted(parents - set(batch.records))
    if missing:
        stmt = select(t.record).where(tuple_(t.record.c.table_name, t.record.c.row_id).in_(missing))
        for row in batch.conn.execute(stmt):
            batch.records[(row.table_name, row.row_id)] = _record(row)
    keys: dict[str, set[str]] = {}
    for r in valid:
        key = rows.name_key(r.table, r.data)
        if key:
            keys.setdefault(r.table, set()).add(key)
    for table, names in keys.items():
        stmt = select(t.record).where(
            t.record.c.table_name == table, t.record.c.name_key.in_(sorted(names))
        )
        for row in batch.conn.execute(stmt):
            rec = batch.records.setdefault((row.table_name, row.row_id), _record(row))
            if rec.name_key:
                batch.names[(table, rec.name_key)] = rec.row_id


def _may_write(batch: _Batch, row: RowIn, existing: Record | None) -> str | None:
    """The ``forbidden`` message for this caller, or None."""
    caller = batch.caller
    if caller.sees_all_sessions:
        return None
    me = caller.account.id
    parent = rows.parent_key(row.table, row.data)
    parent_rec = batch.records.get(parent) if parent else None
    owners = {rec.owner_account_id for rec in (existing, parent_rec) if rec is not None}
    if owners - {me}:
        if row.table in STUDY_DEFINITION_TABLES:
            return FORBIDDEN_STUDY
        if rows.is_private(row.table):
            return FORBIDDEN_SESSION
    return None


def _new_record(batch: _Batch, row: RowIn, existing: Record | None) -> Record:
    parent = rows.parent_key(row.table, row.data)
    parent_rec = batch.records.get(parent) if parent else None
    if existing is not None:
        owner = existing.owner_account_id
    elif parent_rec is not None and row.table not in ("site", "researcher"):
        owner = parent_rec.owner_account_id
    else:
        owner = batch.caller.account.id
    study_id = rows.direct_study_id(row.table, row.id, row.data)
    if study_id is None and parent_rec is not None:
        study_id = parent_rec.study_id
    return Record(
        row.table,
        row.id,
        study_id,
        rows.session_id_of(row.table, row.id, row.data),
        owner,
        (existing.version + 1) if existing else 1,
        row.hash,
        row.data,
        rows.is_deleted(row.data),
        batch.caller.account.id,
        batch.device_id,
        rows.name_key(row.table, row.data),
        stored=existing.stored if existing else False,
    )


def _write(batch: _Batch, rec: Record) -> None:
    old = batch.records.get(rec.key)
    if (
        old is not None
        and old.name_key
        and batch.names.get((rec.table_name, old.name_key)) == rec.row_id
    ):
        del batch.names[(rec.table_name, old.name_key)]
    if rec.name_key:
        batch.names[(rec.table_name, rec.name_key)] = rec.row_id
    batch.records[rec.key] = rec
    batch.dirty[rec.key] = rec


def _find_conflict(batch: _Batch, row: RowIn, current: Record) -> str | None:
    """A conflict recorded already for this very push (a replay): answer it again."""
    for item in batch.conflicts:
        if (item["table_name"], item["row_id"], item["pushed_hash"]) == (
            row.table,
            row.id,
            row.hash,
        ):
            return str(item["id"])
    found = batch.conn.execute(
        select(t.conflict.c.id).where(
            t.conflict.c.table_name == row.table,
            t.conflict.c.row_id == row.id,
            t.conflict.c.pushed_hash == row.hash,
            t.conflict.c.base_version == row.base,
            t.conflict.c.winner_hash == current.content_hash,
        )
    ).first()
    return None if found is None else str(found.id)


def _resolve_by_push(batch: _Batch, row: RowIn) -> None:
    if not row.resolves:
        return
    found = batch.conn.execute(
        select(t.conflict).where(t.conflict.c.id == row.resolves).with_for_update()
    ).first()
    if found is None or (found.table_name, found.row_id) != (row.table, row.id):
        return
    if found.resolved_at is None and row.resolves not in batch.resolved:
        batch.resolved[row.resolves] = {
            "resolved_at": utcnow(),
            "resolved_by": batch.caller.account.id,
            "resolution": "push",
        }


def _apply_row(batch: _Batch, row: RowIn, problem: str | None) -> RowResult:
    def result(status: str, version: int, **extra: Any) -> RowResult:
        return RowResult(table=row.table, id=row.id, status=status, version=version, **extra)

    if problem:
        return result("invalid", 0, message=problem)
    existing = batch.records.get((row.table, row.id))
    forbidden = _may_write(batch, row, existing)
    if forbidden:
        return result("forbidden", existing.version if existing else 0, message=forbidden)
    guarded = withdrawals.guard(batch, row, existing)
    if guarded is not None:
        return guarded
    key = rows.name_key(row.table, row.data)
    holder = batch.names.get((row.table, key)) if key else None
    if existing is None:
        if holder is not None and holder != row.id:
            other = batch.records[(row.table, holder)]
            return result("duplicate", other.version, merged_into=holder)
        refused = review_problem(batch, row, None, batch.caller.sees_all_sessions)
        if refused:
            return result("forbidden", 0, message=refused)
        _write(batch, _new_record(batch, row, existing))
        if row.table == "study":
            batch.published.append(row.id)
        return result("applied", 1)
    if row.hash == existing.content_hash:
        _resolve_by_push(batch, row)
        return result("duplicate", existing.version)
    refused = review_problem(batch, row, existing, batch.caller.sees_all_sessions)
    if refused:
        return result("forbidden", existing.version, message=refused)
    if holder is not None and holder != row.id:
        return result(
            "invalid",
            existing.version,
            message=f"Another {row.table} on the hub has this name already; rename one of them.",
        )
    if row.base > existing.version:
        return result(
            "invalid",
            existing.version,
            message=f"Base version {row.base} is newer than the hub's ({existing.version}).",
        )
    same_device = bool(batch.device_id) and existing.updated_by_device == batch.device_id
    if row.base == existing.version or same_device:
        _write(batch, _new_record(batch, row, existing))
        _resolve_by_push(batch, row)
        return result("applied", existing.version + 1)
    return _conflict(batch, row, existing, result)


def _conflict(batch: _Batch, row: RowIn, existing: Record, result: Any) -> RowResult:
    replayed = _find_conflict(batch, row, existing)
    if replayed:
        return result("conflict", existing.version, conflict_id=replayed)  # type: ignore[no-any-return]
    incoming_wins = row.hash > existing.content_hash
    winner, loser = (row.data, existing.data) if incoming_wins else (existing.data, row.data)
    conflict_id = new_id()
    batch.conflicts.append(
        {
            "id": conflict_id,
            "table_name": row.table,
            "row_id": row.id,
            "hub_version_before": existing.version,
            "base_version": row.base,
            "winner_hash": max(row.hash, existing.content_hash),
            "loser_hash": min(row.hash, existing.content_hash),
            "pushed_hash": row.hash,
            "winner_data": winner,
            "loser_data": loser,
            "pushed_by": batch.caller.account.id,
            "pushed_device": batch.device_id,
            "other_account": existing.updated_by,
            "other_device": existing.updated_by_device,
            "created_at": utcnow(),
        }
    )
    version = existing.version
    if incoming_wins:
        _write(batch, _new_record(batch, row, existing))
        version += 1
    return result("conflict", version, conflict_id=conflict_id)  # type: ignore[no-any-return]


def take_seqs(conn: Connection, count: int) -> int:
    """Reserve ``count`` seqs; returns the first.  The counter row stays locked until
    commit, which is what orders the feed by commit."""
    value = conn.execute(
        update(t.counter)
        .where(t.counter.c.name == t.CHANGES_COUNTER)
        .values(value=t.counter.c.value + count)
        .returning(t.counter.c.value)
    ).scalar_one()
    return int(value) - count + 1


def _flush(batch: _Batch, before_cursor: Callable[[], None] | None) -> None:
    if before_cursor is not None:
        before_cursor()
    count = len(batch.dirty) + len(batch.conflicts) + len(batch.resolved)
    if count == 0:
        return
    seq = take_seqs(batch.conn, count)
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    for rec in batch.dirty.values():
        values = {
            "study_id": rec.study_id,
            "session_id": rec.session_id,
            "owner_account_id": rec.owner_account_id,
            "version": rec.version,
            "content_hash": rec.content_hash,
            "data": rec.data,
            "deleted": rec.deleted,
            "seq": seq,
            "updated_by": rec.updated_by,
            "updated_by_device": rec.updated_by_device,
            "updated_at": now,
            "name_key": rec.name_key,
        }
        seq += 1
        if rec.stored:
            batch.conn.execute(
                update(t.record)
                .where(t.record.c.table_name == rec.table_name, t.record.c.row_id == rec.row_id)
                .values(**values)
            )
        else:
            inserts.append({"table_name": rec.table_name, "row_id": rec.row_id, **values})
    if inserts:
        batch.conn.execute(t.record.insert(), inserts)
    changed = batch.dirty.values()
    resegmented = facts.studies_with_new_segments(batch.conn, changed)
    projection.store(batch.conn, changed, {r.row_id for r in changed if not r.stored})
    facts.refresh(batch.conn, facts.touched_sessions(batch.conn, changed, resegmented))
    for item in batch.conflicts:
        item["seq"] = seq
        seq += 1
    if batch.conflicts:
        batch.conn.execute(t.conflict.insert(), batch.conflicts)
    for conflict_id, values in batch.resolved.items():
        batch.conn.execute(
            update(t.conflict).where(t.conflict.c.id == conflict_id).values(seq=seq, **values)
        )
        seq += 1
    for study_id in batch.published:
        audit(batch.conn, batch.caller.account.id, "study published", study_id)


def _attach_conflicts(batch: _Batch, results: list[RowResult]) -> None:
    """Both versions with each ``conflict`` answer, so the laptop need not ask again."""
    from cxfield.hub.pull import conflict_of

    wanted = {r.conflict_id for r in results if r.status == "conflict" and r.conflict_id}
    if not wanted:
        return
    found = batch.conn.execute(select(t.conflict).where(t.conflict.c.id.in_(sorted(wanted))))
    infos = {row.id: conflict_of(row) for row in found}
    for result in results:
        if result.conflict_id in infos:
            result.conflict = infos[result.conflict_id]


def _push_once(
    engine: Engine,
    caller: Caller,
    request: PushRequest,
    before_cursor: Callable[[], None] | None,
    blobs_dir: Path | None = None,
) -> PushResponse:
    device_id = caller.device_id or request.device_id
    with write_transaction(engine) as conn:
        batch = _Batch(conn, caller, device_id)
        problems = [rows.row_problem(r) for r in request.rows]
        valid = [r for r, problem in zip(request.rows, problems, strict=True) if not problem]
        _load(batch, valid)
        batch.withdrawn = withdrawals.load_withdrawn(batch, valid)
        results = [
            _apply_row(batch, row, problem)
            for row, problem in zip(request.rows, problems, strict=True)
        ]
        files = withdrawals.apply_receipts(batch, request.rows, results, blobs_dir)
        _flush(batch, before_cursor)
        _attach_conflicts(batch, results)
    withdrawals.remove_files(files)  # only once the purge is committed
    return PushResponse(results=results)


def _retryable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRY_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


def push_batch(
    engine: Engine,
    caller: Caller,
    request: PushRequest,
    *,
    before_cursor: Callable[[], None] | None = None,
    blobs_dir: Path | None = None,
) -> PushResponse:
    """Apply one batch in one transaction; a batch that collided with another hub
    process (deadlock, serialisation, a row inserted meanwhile) is run again — a batch
    is idempotent, so running it twice cannot store anything twice.

    ``before_cursor`` runs inside the transaction after the rows are locked and decided,
    just before the change cursor is taken (tests hold a transaction open there)."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return _push_once(engine, caller, request, before_cursor, blobs_dir)
        except DBAPIError as exc:
            if not _retryable(exc):
                raise
            log.info("push batch collided (%s); retrying", getattr(exc.orig, "sqlstate", exc))
            time.sleep(0.02 * (2**attempt))
    raise HubBusy("The hub is busy; sync again in a moment.")
