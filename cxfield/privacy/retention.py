"""Retention per study: audio deleted N days after its clock started, transcripts M days
after the session was approved (``study_protection.audio_days`` / ``transcript_days``;
None keeps them).

The approval clock of a session starts when this laptop first sees it approved
(``retention_mark``), taken as the session's ``updated_at`` then — never earlier than the
approval itself, so nothing is deleted early.  The audio's clock is the study's
``audio_clock`` (:func:`audio_clock_start`): ``approved`` (the default) or ``checked`` — a
recording's own clock starts when its transcript was marked checked, or when the session
was approved if that comes first (an approved session is read-only: its transcript can no
longer be checked, and its audio must not be kept for ever).  Audio: the files (kept
original, 16 kHz copy, a sealed copy waiting to upload) are removed and the recording's
state becomes ``expired`` (it syncs).
Transcripts: every segment is blanked and tombstoned (it syncs, so the hub's copy goes too).
Checked when the app opens and once a day; ``cxfield retention run [--dry-run]`` lists what
goes (and, without ``--dry-run``, removes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from cxfield.domain.ids import as_utc, utcnow
from cxfield.domain.vocabulary import AudioClock, SessionStatus
from cxfield.storage.database import Database
from cxfield.storage.models import (
    Recording,
    ResearchSession,
    RetentionMark,
    StudyProtection,
    TranscriptSegment,
)
from cxfield.storage.review_hooks import RULE_KEY

LAST_RUN = "retention.last_run"
EVERY = timedelta(days=1)
EXPIRED = "expired"
#: the audio's clock starts when the session was approved ...
AFTER_APPROVAL = AudioClock.APPROVED.value
#: ... or when the recording's transcript was checked (or approved, if that comes first)
AFTER_CHECK = AudioClock.CHECKED.value
AUDIO_CLOCKS = tuple(c.value for c in AudioClock)
#: how the clocks read in the CLI and the app
CLOCK_PHRASES = {
    AFTER_APPROVAL: "after the session was approved",
    AFTER_CHECK: "after the transcript was checked (or approved, if that comes first)",
}


def clock_start(approved_seen: datetime, now: datetime) -> datetime:
    """When a session's retention clock starts: the moment it was seen approved (its
    ``updated_at`` then), never later than ``now``.  The hub uses this rule too."""
    return min(as_utc(approved_seen), as_utc(now))


def audio_clock_start(
    clock: str | None, approved: datetime | None, checked: datetime | None, now: datetime
) -> datetime | None:
    """When a recording's audio clock starts under the study's ``clock`` (None: the
    default, ``approved``): ``approved`` is when its session's approval clock started (None
    while it is not approved), ``checked`` when its transcript was marked checked (None
    while not).  None: the clock has not started.  The hub uses this rule too."""
    starts = [as_utc(approved)] if approved is not None else []
    if clock == AFTER_CHECK and checked is not None:
        starts.append(as_utc(checked))
    return min(min(starts), as_utc(now)) if starts else None


def due_at(start: datetime, days: int | None) -> datetime | None:
    """When what a study keeps ``days`` days after approval goes (None: kept)."""
    return None if days is None else as_utc(start) + timedelta(days=days)


def is_due(start: datetime, days: int | None, now: datetime) -> bool:
    due = due_at(start, days)
    return due is not None and due <= as_utc(now)


@dataclass(frozen=True)
class Expiry:
    kind: str  # audio | transcript
    study_id: str
    session_id: str
    due_at: datetime
    #: audio: the files; transcript: the number of segments
    files: tuple[str, ...] = ()
    segments: int = 0


@dataclass
class RetentionReport:
    dry_run: bool
    items: list[Expiry] = field(default_factory=list)
    files_removed: int = 0

    def line(self) -> str:
        audio = sum(1 for i in self.items if i.kind == "audio")
        text = sum(1 for i in self.items if i.kind == "transcript")
        verb = "would delete" if self.dry_run else "deleted"
        return f"Retention {verb} the audio of {audio} and the transcripts of {text} sessions."


def _policies(db: Session) -> dict[str, StudyProtection]:
    rows = db.exec(select(StudyProtection).where(col(StudyProtection.deleted_at).is_(None))).all()
    return {
        r.study_id: r for r in rows if r.audio_days is not None or r.transcript_days is not None
    }


def _marks(
    db: Session, study_ids: list[str], now: datetime, write: bool
) -> dict[str, tuple[ResearchSession, RetentionMark]]:
    sessions = db.exec(
        select(ResearchSession).where(
            col(ResearchSession.study_id).in_(study_ids),
            ResearchSession.status == SessionStatus.APPROVED,
            col(ResearchSession.deleted_at).is_(None),
        )
    ).all()
    found: dict[str, tuple[ResearchSession, RetentionMark]] = {}
    for session in sessions:
        mark = db.get(RetentionMark, session.id)
        if mark is None:
            seen = clock_start(session.updated_at, now)
            mark = RetentionMark(session_id=session.id, approved_at=seen)
            if write:
                db.add(mark)
        found[session.id] = (session, mark)
    return found


def _due_audio(
    db: Session,
    policies: dict[str, StudyProtection],
    marks: dict[str, tuple[ResearchSession, RetentionMark]],
    now: datetime,
) -> dict[str, tuple[str, datetime, list[Recording]]]:
    """Per session: its study, when its first recording became due, and the recordings
    whose audio is due now (each on its own clock: see :func:`audio_clock_start`)."""
    studies = sorted(s for s, p in policies.items() if p.audio_days is not None)
    found = db.exec(
        select(Recording, ResearchSession)
        .where(
            Recording.session_id == ResearchSession.id,
            col(ResearchSession.study_id).in_(studies),
            col(ResearchSession.deleted_at).is_(None),
            col(Recording.deleted_at).is_(None),
            Recording.state != EXPIRED,
        )
        .order_by(col(Recording.session_id), col(Recording.id))
    ).all()
    due: dict[str, tuple[str, datetime, list[Recording]]] = {}
    for recording, session in found:
        policy = policies[session.study_id]
        approved = marks[session.id][1].approved_at if session.id in marks else None
        start = audio_clock_start(
            policy.audio_clock, approved, recording.transcript_checked_at, now
        )
        when = None if start is None else due_at(start, policy.audio_days)
        if when is None or when > now:
            continue
        _study, first, recordings = due.get(session.id, (session.study_id, when, []))
        due[session.id] = (session.study_id, min(first, when), [*recordings, recording])
    return due


def _audio_files(recordings: list[Recording], root: Path) -> list[str]:
    files = []
    for recording in recordings:
        for rel in (recording.path, recording.original_path):
            if rel and (root / rel).exists():
                files.append(rel)
        if recording.sha256 and (root / "outbox" / f"{recording.sha256}.sealed").exists():
            files.append(f"outbox/{recording.sha256}.sealed")
    return files


def _segments(db: Session, session_id: str) -> list[TranscriptSegment]:
    return list(
        db.exec(
            select(TranscriptSegment).where(
                TranscriptSegment.session_id == session_id,
                col(TranscriptSegment.deleted_at).is_(None),
            )
        ).all()
    )


def run(
    database: Database,
    data_root: Path,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionReport:
    """Apply (or, ``dry_run``, only list) every study's retention as of ``now``."""
    now = as_utc(now or utcnow())
    report = RetentionReport(dry_run)
    removals: list[Path] = []
    with database.session() as db:
        db.info[RULE_KEY] = "retention"  # approved sessions' audio and transcripts expire
        policies = _policies(db)
        if not policies:
            return report
        marks = _marks(db, sorted(policies), now, not dry_run)
        for session_id, (study_id, due, recordings) in _due_audio(db, policies, marks, now).items():
            files = _audio_files(recordings, data_root)
            report.items.append(Expiry("audio", study_id, session_id, due, tuple(files)))
            if dry_run:
                continue
            for recording in recordings:
                recording.state = EXPIRED
                db.add(recording)
            if session_id in marks:
                mark = marks[session_id][1]
                mark.audio_deleted_at = now
                db.add(mark)
            removals += [data_root / f for f in files]
        for session, mark in marks.values():
            policy = policies[session.study_id]
            approved = as_utc(mark.approved_at)
            text_due = due_at(approved, policy.transcript_days)
            if text_due is not None and mark.transcript_deleted_at is None:
                segments = _segments(db, session.id)
                if is_due(approved, policy.transcript_days, now) and segments:
                    report.items.append(
                        Expiry(
                            "transcript", session.study_id, session.id, text_due, (), len(segments)
                        )
                    )
                    if not dry_run:
                        for segment in segments:
                            segment.text, segment.original_text = "", None
                            # the due time, as the hub's retention stamps it: the same
                            # tombstone made on both sides is a duplicate, not a conflict
                            segment.deleted_at = text_due
                            db.add(segment)
                        mark.transcript_deleted_at = now
                        db.add(mark)
    for path in removals:  # once the rows say so: a crash in between leaves no row lying
        try:
            path.unlink(missing_ok=True)
            report.files_removed += 1
        except OSError:
            pass
    if not dry_run:
        database.set_setting(LAST_RUN, now.isoformat())
    return report


def remove_expired_audio(database: Database, data_root: Path) -> int:
    """After a pull: the files of recordings whose audio expired (here or on the hub, which
    applies the same retention) leave this laptop too; returns the files removed."""
    removed = 0
    with database.session() as db:
        expired = db.exec(select(Recording).where(Recording.state == EXPIRED)).all()
        files = [
            data_root / rel
            for r in expired
            for rel in (r.path, r.original_path, f"outbox/{r.sha256}.sealed" if r.sha256 else None)
            if rel
        ]
    for path in files:
        if path.is_file():
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def run_if_due(
    database: Database, data_root: Path, now: datetime | None = None
) -> RetentionReport | None:
    """The daily check: runs when a day has passed since the last run (or never ran)."""
    now = as_utc(now or utcnow())
    last = database.get_setting(LAST_RUN)
    if last:
        try:
            if now - as_utc(datetime.fromisoformat(str(last))) < EVERY:
                return None
        except ValueError:
            pass
    return run(database, data_root, now=now)
