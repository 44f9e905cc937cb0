"""Conflicts on this laptop: the hub's (one row changed on two devices), rows the hub
refused, and pulled rows that clash with a local one.  Nothing is overwritten silently:
both versions are kept here until a person chooses (``sync resolve ID --keep mine|theirs``);
the choice is written as a local change and pushed with the current hub base."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.domain.ids import utcnow
from cxfield.storage.database import Database
from cxfield.sync.protocol import UNHASHED_COLUMNS, ConflictInfo
from cxfield.sync.rows import write_local_change
from cxfield.sync.state import SYNC_CONFLICT, write_transaction

KEEP_CHOICES = ("mine", "theirs")


@dataclass(frozen=True)
class ConflictView:
    id: str
    table: str
    row_id: str
    kind: str
    winner: str
    mine: dict[str, Any] | None
    theirs: dict[str, Any] | None
    message: str
    created_at: datetime
    resolution: str | None
    resolved_at: datetime | None

    @property
    def fields(self) -> list[str]:
        """The columns whose values differ between the two versions."""
        mine, theirs = self.mine or {}, self.theirs or {}
        return sorted(
            k
            for k in set(mine) | set(theirs)
            if k not in UNHASHED_COLUMNS and mine.get(k) != theirs.get(k)
        )

    @property
    def state(self) -> str:
        if self.resolved_at is not None:
            return "resolved"
        return "waiting to push" if self.resolution else "open"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "table": self.table,
            "row_id": self.row_id,
            "kind": self.kind,
            "state": self.state,
            "hub_kept": self.winner or None,
            "fields": self.fields,
            "message": self.message,
            "mine": self.mine,
            "theirs": self.theirs,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "resolution": self.resolution,
            "resolved_at": self.resolved_at.isoformat().replace("+00:00", "Z")
            if self.resolved_at
            else None,
        }


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def record_hub_conflict(conn: Connection, info: ConflictInfo, mine_hash: str) -> bool:
    """Keep a conflict the hub reported, from this laptop's side (``mine_hash`` is the hash
    of this laptop's version).  True when it is new here."""
    mine_won = mine_hash == info.winner_hash
    values = {
        "id": info.id,
        "table_name": info.table,
        "row_id": info.row_id,
        "kind": "conflict",
        "mine": info.winner_data if mine_won else info.loser_data,
        "theirs": info.loser_data if mine_won else info.winner_data,
        "winner": "mine" if mine_won else "theirs",
        "message": "",
        "created_at": _parse_time(info.created_at) or utcnow(),
        "resolved_at": _parse_time(info.resolved_at),
    }
    known = conn.execute(select(SYNC_CONFLICT.c.id).where(SYNC_CONFLICT.c.id == info.id)).first()
    if known is None:
        conn.execute(SYNC_CONFLICT.insert().values(**values))
        return True
    if info.resolved_at:
        conn.execute(
            SYNC_CONFLICT.update()
            .where(SYNC_CONFLICT.c.id == info.id, SYNC_CONFLICT.c.resolved_at.is_(None))
            .values(resolved_at=values["resolved_at"])
        )
    return False


def record_local(
    conn: Connection,
    conflict_id: str,
    kind: str,
    table: str,
    row_id: str,
    *,
    mine: dict[str, Any] | None,
    theirs: dict[str, Any] | None,
    message: str,
) -> bool:
    """Keep a refused row or a clash (the same event twice is recorded once)."""
    statement = sqlite_insert(SYNC_CONFLICT).values(
        id=conflict_id,
        table_name=table,
        row_id=row_id,
        kind=kind,
        mine=mine,
        theirs=theirs,
        winner="",
        message=message,
        created_at=utcnow(),
    )
    result = conn.execute(statement.on_conflict_do_nothing(index_elements=["id"]))
    return bool(result.rowcount)


def pending_resolutions(conn: Connection) -> dict[tuple[str, str], str]:
    """(table, row id) -> conflict id of choices made here and not yet pushed."""
    rows = conn.execute(
        select(SYNC_CONFLICT.c.id, SYNC_CONFLICT.c.table_name, SYNC_CONFLICT.c.row_id).where(
            SYNC_CONFLICT.c.resolution.is_not(None), SYNC_CONFLICT.c.resolved_at.is_(None)
        )
    )
    return {(r.table_name, r.row_id): r.id for r in rows}


def mark_resolved(conn: Connection, conflict_id: str) -> None:
    conn.execute(
        SYNC_CONFLICT.update()
        .where(SYNC_CONFLICT.c.id == conflict_id, SYNC_CONFLICT.c.resolved_at.is_(None))
        .values(resolved_at=utcnow())
    )


def _view(row: Any) -> ConflictView:
    return ConflictView(
        row.id,
        row.table_name,
        row.row_id,
        row.kind,
        row.winner,
        row.mine,
        row.theirs,
        row.message,
        row.created_at,
        row.resolution,
        row.resolved_at,
    )


def list_conflicts(database: Database, *, include_resolved: bool = False) -> list[ConflictView]:
    query = select(SYNC_CONFLICT).order_by(SYNC_CONFLICT.c.created_at, SYNC_CONFLICT.c.id)
    if not include_resolved:
        query = query.where(SYNC_CONFLICT.c.resolved_at.is_(None))
    with database.engine.connect() as conn:
        return [_view(row) for row in conn.execute(query)]


def open_count(database: Database) -> int:
    return len(list_conflicts(database))


def get_conflict(database: Database, conflict_id: str) -> ConflictView:
    with database.engine.connect() as conn:
        row = conn.execute(
            select(SYNC_CONFLICT).where(SYNC_CONFLICT.c.id == conflict_id.strip())
        ).first()
    if row is None:
        raise NotFoundError(f"No sync conflict with id {conflict_id}; see cxfield sync conflicts.")
    return _view(row)


def choose(database: Database, conflict_id: str, keep: str) -> ConflictView:
    """Write the chosen version of the row as a change of this laptop; the next push sends
    it with the current hub base and marks the conflict resolved on the hub."""
    if keep not in KEEP_CHOICES:
        raise ValidationError("Choose --keep mine or --keep theirs.")
    conflict = get_conflict(database, conflict_id)
    if conflict.resolved_at is not None:
        raise ValidationError(f"Conflict {conflict.id} is already resolved.")
    with write_transaction(database, foreign_keys=False) as conn:
        if conflict.kind == "conflict":
            data = conflict.mine if keep == "mine" else conflict.theirs
            if data is None:
                raise ValidationError(f"Conflict {conflict.id} has no {keep} version to keep.")
            write_local_change(conn, conflict.table, conflict.row_id, data, database.device_id)
            conn.execute(
                SYNC_CONFLICT.update()
                .where(SYNC_CONFLICT.c.id == conflict.id)
                .values(resolution=keep)
            )
        else:
            # A refused row or a clash: nothing to push; the choice closes it here.
            conn.execute(
                SYNC_CONFLICT.update()
                .where(SYNC_CONFLICT.c.id == conflict.id)
                .values(resolution=keep, resolved_at=utcnow())
            )
    return get_conflict(database, conflict.id)
