"""A participant's withdrawal reaching the hub.

When a batch brings a laptop's ``withdrawal_receipt`` for a participant the hub has not
purged yet, the same transaction blanks every row of that participant's sessions to a
content-free tombstone (:func:`cxfield.privacy.withdrawal.content_free`), blanks both
versions of the conflicts about those rows, deletes the recordings' blobs (files removed
after commit), notes the participant in ``hub_withdrawal`` and adds the hub's own receipt
to the feed, so every laptop learns where the withdrawal was applied.

From then on a push of content for those sessions stores nothing: an existing row is
answered ``duplicate`` (the hub's tombstone stays), a new one is stored content-free.
"""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from cxfield.domain.ids import new_id, utcnow
from cxfield.hub import storage as t
from cxfield.privacy.withdrawal import content_free, is_content_free
from cxfield.storage.models import WithdrawalReceipt
from cxfield.sync.protocol import SESSION_TABLES, TABLES, RowIn, RowResult, content_hash, encode_row

if TYPE_CHECKING:
    from cxfield.hub.push import Record, _Batch


def _now_text() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def participant_of(batch: _Batch, row: RowIn) -> str | None:
    """The participant whose session this session-table row belongs to (if known)."""
    if row.table not in SESSION_TABLES:
        return None
    if row.table == "session":
        value = row.data.get("participant_id")
        return str(value) if value else None
    parent = batch.records.get(("session", str(row.data.get("session_id"))))
    value = parent.data.get("participant_id") if parent is not None else None
    return str(value) if value else None


def load_withdrawn(batch: _Batch, rows: list[RowIn]) -> set[str]:
    wanted = {p for p in (participant_of(batch, r) for r in rows) if p}
    wanted |= {
        str(r.data.get("participant_id") if r.table == "withdrawal_receipt" else r.id)
        for r in rows
        if r.table in ("participant", "withdrawal_receipt")
    }
    if not wanted:
        return set()
    found = batch.conn.execute(
        select(t.withdrawal.c.participant_id).where(
            t.withdrawal.c.participant_id.in_(sorted(wanted))
        )
    )
    return {r.participant_id for r in found}


def guard(batch: _Batch, row: RowIn, existing: Record | None) -> RowResult | None:
    """The answer for content of a withdrawn participant (None: not such a row)."""
    from cxfield.hub.push import _new_record, _write

    participant = participant_of(batch, row)
    if participant is None or participant not in batch.withdrawn:
        return None
    message = "The participant withdrew; the hub keeps no content of theirs."
    if existing is not None:
        return RowResult(
            table=row.table,
            id=row.id,
            status="duplicate",
            version=existing.version,
            message=message,
        )
    data = content_free(row.table, row.data, _now_text())
    blank = RowIn(table=row.table, id=row.id, base=0, hash=content_hash(data, row.table), data=data)
    _write(batch, _new_record(batch, blank, None))
    return RowResult(table=row.table, id=row.id, status="applied", version=1, message=message)


def apply_receipts(
    batch: _Batch, rows: list[RowIn], results: list[RowResult], blobs_dir: Path | None
) -> list[Path]:
    """Purge the participants whose first laptop receipt this batch stored; returns the
    blob files to remove after commit."""
    files: list[Path] = []
    for row, result in zip(rows, results, strict=True):
        if row.table != "withdrawal_receipt" or result.status != "applied":
            continue
        if row.data.get("place") != "laptop":
            continue
        participant = str(row.data["participant_id"])
        if participant in batch.withdrawn:
            continue
        files += _purge(batch, participant, str(row.data.get("study_id") or ""), blobs_dir)
        batch.withdrawn.add(participant)
    return files


def _session_records(batch: _Batch, participant: str, study_id: str) -> list[str]:
    ids = {
        key[1]
        for key, rec in batch.records.items()
        if key[0] == "session" and rec.data.get("participant_id") == participant
    }
    query = select(t.record.c.row_id, t.record.c.data).where(t.record.c.table_name == "session")
    if study_id:
        query = query.where(t.record.c.study_id == study_id)
    for r in batch.conn.execute(query):
        if r.data.get("participant_id") == participant:
            ids.add(r.row_id)
    return sorted(ids)


def _purge(batch: _Batch, participant: str, study_id: str, blobs_dir: Path | None) -> list[Path]:
    from cxfield.hub.push import _record, _write

    session_ids = _session_records(batch, participant, study_id)
    now = _now_text()
    records: dict[tuple[str, str], Record] = {}
    for start in range(0, len(session_ids), 500):
        chunk = session_ids[start : start + 500]
        stmt = select(t.record).where(t.record.c.session_id.in_(chunk)).with_for_update()
        for r in batch.conn.execute(stmt):
            records[(r.table_name, r.row_id)] = _record(r)
    for key, rec in batch.records.items():
        if rec.session_id in session_ids:
            records[key] = rec  # this batch's newer version
    changed, shas = 0, set()
    for key, rec in records.items():
        if key[0] not in SESSION_TABLES:
            continue
        if key[0] == "recording":
            shas |= {str(rec.data[k]) for k in ("sha256", "sealed_sha256") if rec.data.get(k)}
        if is_content_free(key[0], rec.data):
            continue
        data = content_free(key[0], rec.data, now)
        _write(
            batch,
            dataclasses.replace(
                rec,
                version=rec.version + (0 if key in batch.dirty else 1),
                content_hash=content_hash(data, key[0]),
                data=data,
                deleted=True,
                updated_by=batch.caller.account.id,
                updated_by_device="",
            ),
        )
        changed += 1
    changed += _blank_segments(batch, participant)
    _blank_conflicts(batch, set(records), now)
    files = _drop_blobs(batch, sorted(shas), blobs_dir)
    batch.conn.execute(
        t.withdrawal.insert().values(
            participant_id=participant,
            study_id=study_id or None,
            requested_by=batch.caller.account.id,
            requested_device=batch.device_id,
            applied_at=utcnow(),
            sessions=len(session_ids),
            rows=changed,
            blobs=len(shas),
        )
    )
    _hub_receipt(batch, participant, study_id, len(session_ids), changed, len(shas))
    return files


def _blank_segments(batch: _Batch, participant: str) -> int:
    """The participant row stays (it says they withdrew) without their segment values
    (language, age band ...), which could point to them."""
    from cxfield.hub.push import _record, _write

    key = ("participant", participant)
    rec = batch.records.get(key)
    if rec is None:
        found = batch.conn.execute(
            select(t.record)
            .where(t.record.c.table_name == "participant", t.record.c.row_id == participant)
            .with_for_update()
        ).first()
        rec = _record(found) if found is not None else None
    if rec is None or not rec.data.get("segments"):
        return 0
    data = dict(rec.data) | {"segments": {}}
    _write(
        batch,
        dataclasses.replace(
            rec,
            version=rec.version + (0 if key in batch.dirty else 1),
            content_hash=content_hash(data, "participant"),
            data=data,
            updated_by=batch.caller.account.id,
            updated_by_device="",
        ),
    )
    return 1


def _blank_conflicts(batch: _Batch, keys: set[tuple[str, str]], now: str) -> None:
    for table, row_id in sorted(keys):
        found = batch.conn.execute(
            select(t.conflict.c.id, t.conflict.c.winner_data, t.conflict.c.loser_data).where(
                t.conflict.c.table_name == table, t.conflict.c.row_id == row_id
            )
        ).all()
        for item in found:
            batch.conn.execute(
                update(t.conflict)
                .where(t.conflict.c.id == item.id)
                .values(
                    winner_data=content_free(table, item.winner_data, now),
                    loser_data=content_free(table, item.loser_data, now),
                )
            )


def _drop_blobs(batch: _Batch, shas: list[str], blobs_dir: Path | None) -> list[Path]:
    if not shas:
        return []
    batch.conn.execute(t.blob.delete().where(t.blob.c.sha256.in_(shas)))
    if blobs_dir is None:
        return []
    return [p for sha in shas for p in (blobs_dir / sha[:2] / sha, blobs_dir / "partial" / sha)]


def _hub_receipt(
    batch: _Batch, participant: str, study_id: str, sessions: int, rows: int, blobs: int
) -> None:
    from cxfield.hub.push import Record, _write

    hub_id = batch.conn.execute(
        select(t.setting.c.value).where(t.setting.c.key == t.HUB_ID_SETTING)
    ).scalar()
    owner = batch.records.get(("participant", participant))
    if owner is None:
        found = batch.conn.execute(
            select(t.record).where(
                t.record.c.table_name == "participant", t.record.c.row_id == participant
            )
        ).first()
        owner_id = found.owner_account_id if found is not None else batch.caller.account.id
    else:
        owner_id = owner.owner_account_id
    receipt = WithdrawalReceipt(
        participant_id=participant,
        study_id=study_id,
        place="hub",
        applied_by=str(hub_id or "")[:36],
        sessions=sessions,
        rows=rows,
        files=blobs,
    )
    data: dict[str, Any] = encode_row(TABLES["withdrawal_receipt"], receipt)
    receipt_id = data["id"] or new_id()
    _write(
        batch,
        Record(
            "withdrawal_receipt",
            receipt_id,
            study_id or None,
            None,
            owner_id,
            1,
            content_hash(data, "withdrawal_receipt"),
            data,
            False,
            batch.caller.account.id,
            "",
            None,
            stored=False,
        ),
    )


def remove_files(files: list[Path]) -> None:
    for path in files:
        # the register no longer names it; a stray file left would hold nothing reachable
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
