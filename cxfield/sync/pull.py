"""Pull: the hub's changes since this laptop's cursor, in pages, each page applied in one
local transaction together with the cursor that follows it.

Rows are written with SQLAlchemy Core and foreign-key checks off on that connection (the
feed is in change order, not parent first).  A row changed here and not pushed yet is never
overwritten: it is kept, and the push that follows sends it with its old base, so the hub
flags the conflict.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from cxfield.storage.database import Database
from cxfield.sync import conflicts, protocol
from cxfield.sync.rows import (
    PULL_VERSION_STEP,
    insert_rows,
    load_rows,
    local_conflict_id,
    row_hash,
    update_rows,
)
from cxfield.sync.state import (
    Bookkeeping,
    bookkeeping,
    cursor,
    mark_synced_many,
    store_cursor,
    write_transaction,
)

if TYPE_CHECKING:
    from cxfield.sync.client import CancelCheck, HubClient, SyncProgress, SyncSummary


def pull_all(
    database: Database,
    client: HubClient,
    summary: SyncSummary,
    progress: SyncProgress,
    cancel: CancelCheck,
) -> None:
    from cxfield.sync.client import SyncCancelled

    since = cursor(database)
    done = 0
    while True:
        if cancel():
            raise SyncCancelled("Sync cancelled.")
        page = client.changes(since)
        if page.changes or page.conflicts or page.next > since:
            with write_transaction(database, foreign_keys=False) as conn:
                apply_page(conn, page, summary, database.device_id)
                if page.next > since:
                    store_cursor(conn, page.next)
        done += len(page.changes)
        progress("pull", done, done + (1 if page.more else 0))
        if not page.more or page.next <= since:
            break
        since = page.next
    summary.cursor = max(since, page.next)


class _Plan:
    """What one table's part of a page does: rows to insert, rows to update, and the
    bookkeeping to store once they are written (in a few statements, not one per row)."""

    def __init__(self) -> None:
        self.inserts: list[tuple[protocol.Change, int]] = []
        self.updates: list[tuple[protocol.Change, int]] = []
        self.marks: list[dict[str, Any]] = []

    def mark(self, change: protocol.Change, local_version: int, hub_version: int) -> None:
        self.marks.append(
            {
                "table_name": change.table,
                "row_id": change.id,
                "local_version": local_version,
                "hub_version": hub_version,
                "hub_hash": change.hash,
                "pushed_hash": "",
            }
        )


def apply_page(
    conn: Connection, page: protocol.ChangesResponse, summary: SyncSummary, device_id: str = ""
) -> None:
    by_table: dict[str, list[protocol.Change]] = defaultdict(list)
    for change in page.changes:
        if change.table in protocol.TABLES:  # a newer hub's tables are not ours to guess
            by_table[change.table].append(change)
    for table, changes in by_table.items():
        ids = [c.id for c in changes]
        local = load_rows(conn, table, ids)
        known = bookkeeping(conn, table, ids)
        plan = _Plan()
        for change in changes:
            _plan_change(
                plan, change, local.get(change.id), known.get(change.id), summary, device_id
            )
        _carry_out(conn, table, plan, summary)
    for info in page.conflicts:
        _note_conflict(conn, info, summary, device_id)


def _carry_out(conn: Connection, table: str, plan: _Plan, summary: SyncSummary) -> None:
    refused = insert_rows(conn, table, [(c.data, v) for c, v in plan.inserts])
    refused |= update_rows(conn, table, [(c.data, v) for c, v in plan.updates])
    for change, version in plan.inserts + plan.updates:
        if change.id in refused:
            _clash(conn, change, summary)
        else:
            plan.mark(change, version, change.version)
            summary.pulled += 1
    mark_synced_many(conn, plan.marks, pushed=False)


def _plan_change(
    plan: _Plan,
    change: protocol.Change,
    local: dict[str, Any] | None,
    known: Bookkeeping | None,
    summary: SyncSummary,
    device_id: str = "",
) -> None:
    table = change.table
    if local is None:
        plan.inserts.append((change, 1))
        return
    version = int(local["version"])
    waiting = known is None or known.local_version != version
    if not waiting:
        assert known is not None
        if known.hub_hash == change.hash and known.hub_version >= change.version:
            return  # already applied (a replayed page)
        local_hash = row_hash(table, local)
        if _own_old_write(change, known, local_hash, device_id):
            # An older push of this laptop reached the hub late, over its newer version:
            # keep the newer copy and push it again on top of the hub's.
            plan.mark(change, 0, change.version)
            summary.kept_local += 1
        elif local_hash != change.hash:
            plan.updates.append((change, version + PULL_VERSION_STEP))
        else:
            plan.mark(change, version, max(change.version, known.hub_version))
        return
    # Changed here and not pushed yet: never overwrite.  The same content is simply synced;
    # anything else keeps its old base and is pushed next, where the hub flags the conflict.
    if row_hash(table, local) == change.hash:
        plan.mark(change, version, change.version)
    else:
        summary.kept_local += 1


def _own_old_write(
    change: protocol.Change, known: Bookkeeping, local_hash: str, device_id: str
) -> bool:
    """The pulled row was written by this device, yet it is not what the device last
    pushed, while the device still holds that last push: an old request replayed late."""
    return bool(
        device_id
        and change.data.get("device_id") == device_id
        and known.pushed_hash
        and change.hash != known.pushed_hash
        and local_hash == known.pushed_hash
    )


def _clash(conn: Connection, change: protocol.Change, summary: SyncSummary) -> None:
    """The hub's row collides with another local row on a unique rule (the same participant
    code, the same step captured twice in one session): keep both sides for a person."""
    message = (
        f"This {change.table.replace('_', ' ')} from the hub collides with a different one "
        "on this laptop (same code or same step); both are kept, check them."
    )
    if conflicts.record_local(
        conn,
        local_conflict_id("clash", change.table, change.id, change.hash),
        "clash",
        change.table,
        change.id,
        mine=None,
        theirs=change.data,
        message=message,
    ):
        summary.clashes += 1


def _note_conflict(
    conn: Connection, info: protocol.ConflictInfo, summary: SyncSummary, device_id: str
) -> None:
    """A conflict from the feed, recorded when this laptop is a party to it (the hub names
    the two devices; else: it pushed one of the versions, or holds one unpushed).
    The rows themselves come through the feed or the push answer."""
    if info.table not in protocol.TABLES:
        return
    sides = {info.winner_hash, info.loser_hash}
    known = bookkeeping(conn, info.table, [info.row_id]).get(info.row_id)
    mine: str | None = None
    if info.pushed_hash in sides and (info.pushed_device or info.other_device):
        # The hub names the parties: the surest way, even after further pushes here.
        if device_id == info.pushed_device:
            mine = info.pushed_hash
        elif device_id == info.other_device:
            mine = next(iter(sides - {info.pushed_hash}))
    elif known is not None and known.pushed(sides):
        mine = known.pushed(sides)
    else:
        # A push whose answer was lost: the unpushed local version is this laptop's side.
        local = load_rows(conn, info.table, [info.row_id]).get(info.row_id)
        unpushed = local is not None and (
            known is None or known.local_version != int(local["version"])
        )
        if local is not None and unpushed and row_hash(info.table, local) in sides:
            mine = row_hash(info.table, local)
    if mine is None:
        return
    if conflicts.record_hub_conflict(conn, info, mine) and not info.resolved_at:
        summary.conflicts += 1
