"""Resolving a conflict on the hub: a person keeps one of the two versions.

"mine" is the version the resolving device (or, failing that, account) pushed; "theirs"
the other one.  For a supervisor who pushed neither, "mine" is the version that was on the
hub before the conflicting push.  The kept version becomes the row (a new hub version if it
is not the row already) and the conflict, now resolved, gets a new seq so every device
pulls the outcome."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from cxfield.domain.ids import utcnow
from cxfield.hub import rows
from cxfield.hub import storage as t
from cxfield.hub.accounts import Caller
from cxfield.hub.config import HubError, write_transaction
from cxfield.hub.pull import conflict_of, may_see_conflict
from cxfield.hub.push import take_seqs
from cxfield.sync.protocol import ConflictInfo, content_hash


class ConflictNotFound(HubError):
    """HTTP 404."""


class ConflictForbidden(HubError):
    """HTTP 403."""


class ConflictClosed(HubError):
    """HTTP 409: resolved already, the other way."""


def resolve(
    engine: Engine, caller: Caller, conflict_id: str, keep: str
) -> tuple[ConflictInfo, int]:
    """Keep ``mine`` or ``theirs``; returns the resolved conflict and the row's hub version.
    Asking again for the same outcome is answered the same (idempotent)."""
    with write_transaction(engine) as conn:
        found = conn.execute(
            select(t.conflict).where(t.conflict.c.id == conflict_id).with_for_update()
        ).first()
        if found is None or not may_see_conflict(caller, found):
            raise ConflictNotFound("No such conflict on this hub.")
        pushed_is_mine = (
            caller.device_id == found.pushed_device
            if caller.device_id in (found.pushed_device, found.other_device) and caller.device_id
            else caller.account.id == found.pushed_by
        )
        pushed_wins = found.pushed_hash == found.winner_hash
        keep_pushed = pushed_is_mine == (keep == "mine")
        data = found.winner_data if keep_pushed == pushed_wins else found.loser_data
        resolution = "winner" if keep_pushed == pushed_wins else "loser"
        record = conn.execute(
            select(t.record)
            .where(t.record.c.table_name == found.table_name, t.record.c.row_id == found.row_id)
            .with_for_update()
        ).first()
        if record is None:  # pragma: no cover - a conflict always has its record
            raise ConflictNotFound("The conflicting row is not on this hub.")
        if found.resolved_at is not None:
            if found.resolution == resolution:
                return conflict_of(found), int(record.version)
            raise ConflictClosed(f"This conflict was resolved already ({found.resolution} kept).")
        if (
            not caller.sees_all_sessions
            and rows.is_private(found.table_name)
            and (record.owner_account_id != caller.account.id)
        ):
            raise ConflictForbidden(
                "Only the owner of this session or a supervisor can resolve it."
            )
        wanted_hash = content_hash(data, found.table_name)
        changes = 2 if wanted_hash != record.content_hash else 1
        seq = take_seqs(conn, changes)
        now = utcnow()
        version = int(record.version)
        if changes == 2:
            version += 1
            conn.execute(
                update(t.record)
                .where(t.record.c.table_name == found.table_name, t.record.c.row_id == found.row_id)
                .values(
                    data=data,
                    content_hash=wanted_hash,
                    version=version,
                    deleted=rows.is_deleted(data),
                    name_key=rows.name_key(found.table_name, data),
                    seq=seq,
                    updated_by=caller.account.id,
                    updated_by_device=caller.device_id,
                    updated_at=now,
                )
            )
            seq += 1
        conn.execute(
            update(t.conflict)
            .where(t.conflict.c.id == conflict_id)
            .values(resolved_at=now, resolved_by=caller.account.id, resolution=resolution, seq=seq)
        )
        resolved = conn.execute(select(t.conflict).where(t.conflict.c.id == conflict_id)).one()
    return conflict_of(resolved), version
