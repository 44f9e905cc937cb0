"""Push: every row that waits, parent tables first, in batches of 500, each row naming the
hub version it derives from (its base) and its content hash.

The answer of each batch is stored in one local transaction.  A lost answer leaves the
rows waiting; pushing them again is answered "duplicate" (or the same conflict), so a
replay changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cxfield.privacy import outgoing as privacy
from cxfield.privacy.sealing import Sealer
from cxfield.storage.database import Database
from cxfield.sync import conflicts, protocol
from cxfield.sync.rows import (
    load_rows,
    local_conflict_id,
    merge_into,
    update_row,
    wire,
)
from cxfield.sync.state import (
    mark_synced,
    mark_synced_many,
    note_pushing,
    waiting_counts,
    waiting_rows,
    write_transaction,
)

if TYPE_CHECKING:
    from cxfield.sync.client import CancelCheck, HubClient, SyncProgress, SyncSummary

#: merges rewrite references, and those rows wait again: a few rounds settle everything
MAX_ROUNDS = 4


class _Sent:
    """One row as pushed: what to store once the hub answers."""

    __slots__ = ("table", "id", "version", "hash", "data", "base")

    def __init__(
        self,
        table: str,
        row: dict[str, Any],
        leaving: privacy.Outgoing,
        sealer: Sealer | None = None,
    ) -> None:
        self.table = table
        self.id = str(row["id"])
        self.version = int(row["version"])
        self.base = int(row["_base"])
        # what leaves the laptop: accepted redactions applied (the original stays here)
        self.data = wire(table, leaving.redact(table, row))
        if sealer is not None:
            # encrypted studies: texts leave the laptop sealed with the study's public key
            self.data = sealer.seal(table, self.data)
        self.hash = protocol.content_hash(self.data, table)


def push_all(
    database: Database,
    client: HubClient,
    summary: SyncSummary,
    progress: SyncProgress,
    cancel: CancelCheck,
) -> None:
    from cxfield.sync.client import SyncCancelled

    leaving = privacy.prepare(database, audio_dir=database.path.parent)
    summary.held = privacy.describe(database, leaving.held)
    for _round in range(MAX_ROUNDS):
        waiting = waiting_counts(database)
        total = sum(waiting.values())
        if total == 0:
            return
        merged_before, done = summary.merged, 0
        progress("push", 0, total)
        batch: list[_Sent] = []
        with database.engine.connect() as conn:
            sealer = Sealer.load(conn)
        for table in protocol.TABLE_ORDER:
            if table not in waiting:
                continue
            with database.engine.connect() as conn:
                rows = waiting_rows(conn, table)
            for row in rows:
                if leaving.holds(table, row):
                    continue  # waits for its redaction review
                batch.append(_Sent(table, row, leaving, sealer))
                if len(batch) == protocol.MAX_PUSH_ROWS:
                    if cancel():
                        raise SyncCancelled("Sync cancelled.")
                    _push_batch(database, client, batch, summary, sealer)
                    done += len(batch)
                    progress("push", done, total)
                    batch = []
        if batch:
            if cancel():
                raise SyncCancelled("Sync cancelled.")
            _push_batch(database, client, batch, summary, sealer)
            progress("push", done + len(batch), total)
        if summary.merged == merged_before:
            return


def _push_batch(
    database: Database,
    client: HubClient,
    batch: list[_Sent],
    summary: SyncSummary,
    sealer: Sealer | None = None,
) -> None:
    with database.engine.connect() as conn:
        resolving = conflicts.pending_resolutions(conn)
    request = protocol.PushRequest(
        device_id=database.device_id,
        rows=[
            protocol.RowIn(
                table=s.table,
                id=s.id,
                base=s.base,
                hash=s.hash,
                data=s.data,
                resolves=resolving.get((s.table, s.id)),
            )
            for s in batch
        ],
    )
    if sealer is not None and sealer.new:
        with write_transaction(database) as conn:
            sealer.store(conn)  # the same text is sent with the same ciphertext next time
    note_pushing(database, [(s.table, s.id, s.hash) for s in batch])
    answer = client.push(request)
    sent = {(s.table, s.id): s for s in batch}
    infos = _conflict_infos(client, answer.results)
    with write_transaction(database, foreign_keys=False) as conn:
        marks: list[dict[str, Any]] = []
        for result in answer.results:
            row = sent.get((result.table, result.id))
            if row is None:
                continue  # not ours: ignore rather than guess
            _store_result(conn, row, result, infos, resolving, summary, marks)
        mark_synced_many(conn, marks, pushed=True)


def _conflict_infos(
    client: HubClient, results: list[protocol.RowResult]
) -> dict[str, protocol.ConflictInfo]:
    """Both versions of each conflict: from the answer, else from ``GET /v1/conflicts``."""
    infos = {r.conflict_id: r.conflict for r in results if r.conflict and r.conflict_id}
    missing = [r for r in results if r.status == "conflict" and r.conflict_id not in infos]
    if missing:
        for info in client.conflicts().conflicts:
            infos.setdefault(info.id, info)
    return infos


def _store_result(
    conn: Any,
    row: _Sent,
    result: protocol.RowResult,
    infos: dict[str, protocol.ConflictInfo],
    resolving: dict[tuple[str, str], str],
    summary: SyncSummary,
    marks: list[dict[str, Any]],
) -> None:
    resolves = resolving.get((row.table, row.id))
    if result.status in ("applied", "duplicate"):
        if result.merged_into and result.merged_into != row.id:
            merge_into(conn, row.table, row.id, result.merged_into)
            summary.merged += 1
            return
        marks.append(
            {
                "table_name": row.table,
                "row_id": row.id,
                "local_version": row.version,
                "hub_version": result.version,
                "hub_hash": row.hash,
                "pushed_hash": row.hash,
            }
        )
        if result.status == "applied":
            summary.pushed += 1
        else:
            summary.duplicates += 1
        if resolves:
            conflicts.mark_resolved(conn, resolves)
    elif result.status == "conflict":
        _store_conflict(conn, row, result, infos.get(result.conflict_id or ""), summary)
        if resolves:
            conflicts.mark_resolved(conn, resolves)  # superseded by the new conflict
    else:  # forbidden | invalid: keep the local version, stop offering it, say why
        message = result.message or f"The hub answered {result.status}."
        new = conflicts.record_local(
            conn,
            local_conflict_id("refused", row.table, row.id, row.hash),
            "refused",
            row.table,
            row.id,
            mine=row.data,
            theirs=None,
            message=message,
        )
        current = _bookkeeping_base(conn, row)
        mark_synced(
            conn,
            row.table,
            row.id,
            local_version=row.version,
            hub_version=current[0],
            hub_hash=current[1],
        )
        if new:
            summary.refused += 1
            summary.messages.append(f"{row.table} {row.id}: {message}")


def _bookkeeping_base(conn: Any, row: _Sent) -> tuple[int, str]:
    from cxfield.sync.state import bookkeeping

    known = bookkeeping(conn, row.table, [row.id]).get(row.id)
    return (known.hub_version, known.hub_hash) if known else (row.base, "")


def _store_conflict(
    conn: Any,
    row: _Sent,
    result: protocol.RowResult,
    info: protocol.ConflictInfo | None,
    summary: SyncSummary,
) -> None:
    """The hub kept a deterministic winner and both versions: keep them here too and take
    the winner, unless the row changed again on this laptop meanwhile (that edit is pushed
    next, on top of the hub's version)."""
    if info is None:
        summary.messages.append(f"{row.table} {row.id}: conflict without details from the hub")
        return
    if conflicts.record_hub_conflict(conn, info, row.hash):
        summary.conflicts += 1
    local = load_rows(conn, row.table, [row.id]).get(row.id)
    local_version = row.version
    unchanged = local is not None and int(local["version"]) == row.version
    if (
        unchanged
        and info.winner_hash != row.hash
        and update_row(conn, row.table, row.id, info.winner_data, row.version + 2)
    ):
        local_version = row.version + 2
    mark_synced(
        conn,
        row.table,
        row.id,
        local_version=local_version,
        hub_version=result.version,
        hub_hash=info.winner_hash,
        pushed_hash=row.hash,
    )
