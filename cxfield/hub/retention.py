"""Each study's retention applied to what the hub holds, by the laptop's own rule
(:mod:`cxfield.privacy.retention`: the clock starts when the session was approved, its
``updated_at`` then; ``audio_days`` / ``transcript_days`` of the synced
``study_protection``; None keeps).  The audio's clock is the study's ``audio_clock``: with
``checked``, a recording's own clock starts when its transcript was marked checked (the
synced ``recording.transcript_checked_at``), or at the approval if that comes first
(:func:`cxfield.privacy.retention.audio_clock_start`).

Audio due: the recordings' blobs (plain and sealed copy) leave ``hub_blob`` and the blob
folder, and each recording row becomes a new version in state ``expired`` — the state the
laptop's retention gives it, so a laptop that pulls it stops offering the file and does not
upload it again.  Transcripts due: every segment becomes the content-free tombstone a
withdrawal leaves (:func:`cxfield.privacy.withdrawal.content_free`), conflicts about it
blanked too; laptops purge their copies at the next pull.  Both go into the change feed
like any push, and each session's deletion is one ``hub_audit`` entry (action
``retention``).

Run when a hub process starts, once a day after, and by ``cxfield hub retention run``.  One
transaction; on PostgreSQL an advisory lock makes hub processes run it one after the
other, and a run finds nothing left to do that an earlier one did (it is idempotent).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from cxfield.domain.ids import as_utc, utcnow
from cxfield.domain.vocabulary import SessionStatus
from cxfield.hub import rows, withdrawals
from cxfield.hub import storage as t
from cxfield.hub.accounts import AccountInfo, Caller, audit
from cxfield.hub.config import write_transaction
from cxfield.hub.push import Record, _Batch, _flush, _record, _write
from cxfield.privacy import retention as rule
from cxfield.privacy.withdrawal import content_free
from cxfield.sync.protocol import content_hash

log = logging.getLogger(__name__)

#: any constant: hub processes on one PostgreSQL apply retention one after the other
_PG_RETENTION_LOCK = 0x63786872  # "cxhr"
#: what the records' ``updated_by`` says for the hub's own changes
RETENTION_ACCOUNT = AccountInfo("", "retention", "admin")
AUDIO_FIELDS = ("sha256", "sealed_sha256")


@dataclasses.dataclass(frozen=True)
class _Policy:
    audio_days: int | None
    transcript_days: int | None
    audio_clock: str | None = None


def _policies(conn: Connection) -> dict[str, _Policy]:
    found = conn.execute(
        select(t.record.c.data).where(
            t.record.c.table_name == "study_protection", t.record.c.deleted.is_(False)
        )
    )
    out = {}
    for r in found:
        policy = _Policy(
            r.data.get("audio_days"), r.data.get("transcript_days"), r.data.get("audio_clock")
        )
        if r.data.get("study_id") and (policy.audio_days, policy.transcript_days) != (None, None):
            out[str(r.data["study_id"])] = policy
    return out


def _approved(conn: Connection, study_ids: list[str]) -> list[Any]:
    session = t.projection["session"]
    return list(
        conn.execute(
            select(session.c.id, session.c.study_id, session.c.updated_at)
            .where(
                session.c.study_id.in_(study_ids),
                session.c.status == SessionStatus.APPROVED,
                session.c.deleted_at.is_(None),
            )
            .order_by(session.c.study_id, session.c.id)
        )
    )


def _due_audio(
    conn: Connection, policies: dict[str, _Policy], now: datetime
) -> dict[str, tuple[str, datetime, set[str]]]:
    """Per session: its study, when its first recording became due, and the ids of the
    recordings whose audio is due (each on its own clock, as the laptop decides it)."""
    session, recording = t.projection["session"], t.projection["recording"]
    studies = sorted(s for s, p in policies.items() if p.audio_days is not None)
    approved = session.c.status == SessionStatus.APPROVED
    found = conn.execute(
        select(
            recording.c.id,
            recording.c.session_id,
            recording.c.transcript_checked_at,
            session.c.study_id,
            session.c.updated_at,
            approved.label("approved"),
        )
        .join(session, session.c.id == recording.c.session_id)
        .where(
            session.c.study_id.in_(studies),
            session.c.deleted_at.is_(None),
            recording.c.deleted_at.is_(None),
            approved | recording.c.transcript_checked_at.is_not(None),
        )
        .order_by(recording.c.session_id, recording.c.id)
    )
    due: dict[str, tuple[str, datetime, set[str]]] = {}
    for r in found:
        policy = policies[r.study_id]
        start = rule.audio_clock_start(
            policy.audio_clock,
            rule.clock_start(r.updated_at, now) if r.approved else None,
            r.transcript_checked_at,
            now,
        )
        when = None if start is None else rule.due_at(start, policy.audio_days)
        if when is None or when > now:
            continue
        _study, first, ids = due.get(r.session_id, (r.study_id, when, set()))
        due[r.session_id] = (r.study_id, min(first, when), ids | {r.id})
    return due


def _live(conn: Connection, table: str, session_id: str) -> list[Record]:
    stmt = (
        select(t.record)
        .where(
            t.record.c.table_name == table,
            t.record.c.session_id == session_id,
            t.record.c.deleted.is_(False),
        )
        .order_by(t.record.c.row_id)
        .with_for_update()
    )
    return [_record(r) for r in conn.execute(stmt)]


def _stamped(data: dict[str, Any], stamp: str, hub_id: str) -> dict[str, Any]:
    """The hub made this version: its time, and its id as the device (a laptop must not
    take it for a late replay of its own older push and keep its copy)."""
    if "updated_at" in data:
        data["updated_at"] = stamp
    if "device_id" in data:
        data["device_id"] = hub_id
    return data


def _changed(rec: Record, data: dict[str, Any]) -> Record:
    return dataclasses.replace(
        rec,
        version=rec.version + 1,
        content_hash=content_hash(data, rec.table_name),
        data=data,
        deleted=rows.is_deleted(data),
        updated_by=RETENTION_ACCOUNT.id,
        updated_by_device="",
    )


def _blobs_kept_elsewhere(conn: Connection, shas: set[str], expiring: set[str]) -> set[str]:
    """Blobs a recording still kept (the same audio in another session) also points to."""
    recording = t.projection["recording"]
    found = conn.execute(
        select(recording.c.id, recording.c.sha256, recording.c.sealed_sha256).where(
            (recording.c.sha256.in_(sorted(shas))) | (recording.c.sealed_sha256.in_(sorted(shas))),
            recording.c.state != rule.EXPIRED,
            recording.c.deleted_at.is_(None),
        )
    )
    return {sha for r in found if r.id not in expiring for sha in (r.sha256, r.sealed_sha256)}


def _audio(
    batch: _Batch, session_id: str, due: set[str], stamp: str, hub_id: str, dry_run: bool
) -> tuple[int, list[str]]:
    """(recordings expired, blobs dropped) of the recordings ``due`` of one session."""
    recordings = [r for r in _live(batch.conn, "recording", session_id) if r.row_id in due]
    going = [r for r in recordings if r.data.get("state") != rule.EXPIRED]
    shas = {str(r.data[k]) for r in recordings for k in AUDIO_FIELDS if r.data.get(k)}
    if shas:
        shas -= _blobs_kept_elsewhere(batch.conn, shas, {r.row_id for r in recordings})
    held = batch.conn.execute(select(t.blob.c.sha256).where(t.blob.c.sha256.in_(sorted(shas))))
    blobs = sorted(r.sha256 for r in held)
    if not dry_run:
        for rec in going:
            data = _stamped(dict(rec.data) | {"state": rule.EXPIRED}, stamp, hub_id)
            _write(batch, _changed(rec, data))
    return len(going), blobs


def _transcript(
    batch: _Batch, session_id: str, stamp: str, hub_id: str, due: datetime, dry_run: bool
) -> int:
    segments = _live(batch.conn, "transcript_segment", session_id)
    if not dry_run and segments:
        for rec in segments:
            # deleted at the due time, as the laptop's retention does: the same tombstone
            data = _stamped(content_free("transcript_segment", rec.data, _iso(due)), stamp, hub_id)
            _write(batch, _changed(rec, data))
        withdrawals._blank_conflicts(batch, {r.key for r in segments}, stamp)
    return len(segments)


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def run(
    engine: Engine, blobs_dir: Path | None, *, now: datetime | None = None, dry_run: bool = False
) -> rule.RetentionReport:
    """Apply (or, ``dry_run``, only list) every study's retention to the hub's copies as
    of ``now``; blob files go once the rows saying so are committed."""
    now = as_utc(now or utcnow())
    stamp = _iso(now)
    report = rule.RetentionReport(dry_run)
    files: list[Path] = []
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_RETENTION_LOCK})
        policies = _policies(conn)
        if not policies:
            return report
        batch = _Batch(conn, Caller(RETENTION_ACCOUNT, "", ""), "")
        hub_id = str(
            conn.execute(
                select(t.setting.c.value).where(t.setting.c.key == t.HUB_ID_SETTING)
            ).scalar()
            or "hub"
        )[:36]
        for session_id, (study_id, first, ids) in _due_audio(conn, policies, now).items():
            expired, blobs = _audio(batch, session_id, ids, stamp, hub_id, dry_run)
            if expired or blobs:
                report.items.append(rule.Expiry("audio", study_id, session_id, first, tuple(blobs)))
                if not dry_run:
                    files += withdrawals._drop_blobs(batch, blobs, blobs_dir)
                    detail = {"kind": "audio", "recordings": expired, "blobs": blobs}
                    audit(conn, None, "retention", session_id, detail)
        for session in _approved(conn, sorted(policies)):
            policy = policies[session.study_id]
            start = rule.clock_start(session.updated_at, now)
            due = rule.due_at(start, policy.transcript_days)
            if due is not None and due <= now:
                segments = _transcript(batch, session.id, stamp, hub_id, due, dry_run)
                if segments:
                    report.items.append(
                        rule.Expiry("transcript", session.study_id, session.id, due, (), segments)
                    )
                    if not dry_run:
                        detail = {"kind": "transcript", "segments": segments}
                        audit(conn, None, "retention", session.id, detail)
        if not dry_run:
            _flush(batch, None)
    for path in files:
        if path.exists():
            withdrawals.remove_files([path])
            report.files_removed += not path.exists()
    return report


def run_safely(engine: Engine, blobs_dir: Path | None) -> None:
    """The check a hub process makes at start and once a day: a failure is logged, the
    hub goes on serving."""
    try:
        report = run(engine, blobs_dir)
    except Exception:
        log.exception("retention failed; it runs again at the next check")
        return
    if report.items:
        log.info(report.line())
