"""Withdrawal of consent that reaches every copy.

The laptop where a participant withdraws (with their content deleted) blanks and
tombstones their sessions' rows and writes a :class:`WithdrawalReceipt` (``place`` laptop).
The receipt syncs; the hub, on receiving it, blanks whatever it holds of those sessions
(content-free tombstones only), deletes their audio and adds its own receipt (``place``
hub).  Every other laptop that pulls a receipt purges its own copy the same way
(:func:`apply_pulled`), audio files included, and adds its receipt.  The receipts together
are the withdrawal report: where it was applied, when, and how much was removed.

:func:`content_free` is the one rule of what is left of a row (the hub uses it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlmodel import SQLModel

from cxfield.domain.ids import new_id, utcnow
from cxfield.storage.database import Database
from cxfield.storage.models import (
    Participant,
    ResearchSession,
    SealedValue,
    WithdrawalReceipt,
)

#: the session tables and what each keeps of a withdrawn participant: nothing they said,
#: nothing said about them, no answers — only ids, times and the tombstone
BLANK: dict[str, dict[str, Any]] = {
    "session": {"notes": ""},
    "step_capture": {
        "notes": "",
        "quote": "",
        "emotions": [],
        "valence": None,
        "intensity": None,
        "pain_point": False,
        "observed_start": None,
        "observed_end": None,
    },
    "observation_visit": {},
    "note": {"text": "", "tags": []},
    "recording": {},
    "transcript_segment": {"text": "", "original_text": None},
    "survey_response": {
        "satisfaction": None,
        "trust": None,
        "effectiveness": None,
        "ease": None,
        "efficiency": None,
        "equity": None,
        "employee": None,
        "transparency": None,
        "went_well": [],
        "not_well": [],
        "comments": "",
    },
    # what the review said about it (as cxfield.services.review.erase_review_records)
    "review_event": {"comment": ""},
    "review_comment": {"text": ""},
    "audit_entry": {"before": None, "after": None},
}


def content_free(table: str, data: dict[str, Any], now: str) -> dict[str, Any]:
    """The content-free tombstone of a session row (wire data; ``now``: ISO time)."""
    out = dict(data) | BLANK.get(table, {})
    if out.get("deleted_at") is None:
        out["deleted_at"] = now
    return out


def is_content_free(table: str, data: dict[str, Any]) -> bool:
    blank = BLANK.get(table, {})
    return data.get("deleted_at") is not None and all(
        data.get(key) == value for key, value in blank.items()
    )


def _table(cls: type[SQLModel]) -> Table:
    return cls.__table__  # type: ignore[attr-defined, no-any-return]


@dataclass(frozen=True)
class Purge:
    participant_id: str
    sessions: int
    rows: int
    files: int


def purge_participant(
    conn: Connection, participant_id: str, data_root: Path | None, now: datetime
) -> tuple[Purge, list[Path]]:
    """Blank and tombstone what this laptop still holds of the participant's sessions
    (Core, each changed row a local change: version + 1); returns the audio files to
    remove once committed."""
    from cxfield.privacy.sealing import SEALED_COLUMNS

    sessions = _table(ResearchSession)
    session_ids = [
        r.id
        for r in conn.execute(
            select(sessions.c.id).where(sessions.c.participant_id == participant_id)
        )
    ]
    changed, files = 0, []
    for name, blank in BLANK.items():
        table = _by_name(name)
        key = table.c.id if name == "session" else table.c.session_id
        for start in range(0, len(session_ids), 500):
            chunk = session_ids[start : start + 500]
            for row in conn.execute(select(table).where(key.in_(chunk))):
                data = dict(row._mapping)
                if name == "recording" and data_root is not None:
                    files += [data_root / p for p in (data["path"], data["original_path"]) if p]
                if is_content_free(name, data):
                    continue
                values = dict(blank)
                if data["deleted_at"] is None:
                    values["deleted_at"] = now
                values["version"] = int(data["version"]) + 1
                values["updated_at"] = now
                conn.execute(table.update().where(table.c.id == data["id"]).values(**values))
                changed += 1
            if name in SEALED_COLUMNS:
                sealed = _table(SealedValue)
                conn.execute(
                    sealed.delete().where(
                        sealed.c.table_name == name,
                        sealed.c.row_id.in_(
                            select(table.c.id).where(key.in_(chunk)).scalar_subquery()
                        ),
                    )
                )
    return Purge(participant_id, len(session_ids), changed, 0), files


def _by_name(name: str) -> Table:
    from cxfield.storage.models import SYNCED_TABLES

    for cls in SYNCED_TABLES:
        if cls.__tablename__ == name:
            return _table(cls)
    raise LookupError(name)


def remove_files(files: list[Path]) -> int:
    removed = 0
    for path in files:
        try:
            if path.exists():
                path.unlink()
                removed += 1
        except OSError:
            pass  # the rows are gone already; the count says what was removed
    return removed


def add_receipt(
    conn: Connection,
    participant_id: str,
    study_id: str,
    device_id: str,
    purge: Purge,
    files: int,
    now: datetime,
) -> str:
    """This laptop's receipt (a local change that syncs)."""
    receipt_id = new_id()
    conn.execute(
        _table(WithdrawalReceipt)
        .insert()
        .values(
            id=receipt_id,
            created_at=now,
            updated_at=now,
            version=1,
            device_id=device_id,
            deleted_at=None,
            participant_id=participant_id,
            study_id=study_id,
            place="laptop",
            applied_by=device_id,
            applied_at=now,
            sessions=purge.sessions,
            rows=purge.rows,
            files=files,
        )
    )
    return receipt_id


def apply_pulled(database: Database, data_root: Path | None) -> list[Purge]:
    """Purge the participants whose withdrawal came from the hub and that this laptop has
    not purged yet; each purge adds this laptop's receipt (pushed at the next sync)."""
    receipts, participants = _table(WithdrawalReceipt), _table(Participant)
    device = database.device_id
    with database.engine.connect() as conn:
        done = {
            r.participant_id
            for r in conn.execute(
                select(receipts.c.participant_id).where(
                    receipts.c.place == "laptop", receipts.c.applied_by == device
                )
            )
        }
        wanted = [
            (r.participant_id, r.study_id)
            for r in conn.execute(
                select(receipts.c.participant_id, receipts.c.study_id)
                .where(receipts.c.deleted_at.is_(None))
                .distinct()
            )
            if r.participant_id not in done
        ]
    applied: list[Purge] = []
    for participant_id, study_id in wanted:
        now = utcnow()
        with database.engine.begin() as conn:
            purge, files = purge_participant(conn, participant_id, data_root, now)
            conn.execute(
                participants.update()
                .where(participants.c.id == participant_id, participants.c.withdrawn.is_(False))
                .values(withdrawn=True, withdrawn_at=now, version=participants.c.version + 1)
            )
        removed = remove_files(files)
        with database.engine.begin() as conn:
            add_receipt(conn, participant_id, study_id, device, purge, removed, now)
        applied.append(Purge(participant_id, purge.sessions, purge.rows, removed))
    return applied


@dataclass(frozen=True)
class ReceiptLine:
    place: str
    applied_by: str
    applied_at: datetime
    sessions: int
    rows: int
    files: int


def report(database: Database, participant_id: str) -> list[ReceiptLine]:
    """Where the participant's withdrawal was applied, oldest first."""
    receipts = _table(WithdrawalReceipt)
    with database.engine.connect() as conn:
        rows = conn.execute(
            select(receipts)
            .where(receipts.c.participant_id == participant_id, receipts.c.deleted_at.is_(None))
            .order_by(receipts.c.applied_at)
        )
        return [
            ReceiptLine(r.place, r.applied_by, r.applied_at, r.sessions, r.rows, r.files)
            for r in rows
        ]
