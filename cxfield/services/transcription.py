"""Transcription jobs and transcripts of sessions.

Jobs live in the ``transcription_job`` table, so the queue survives a restart: a job left
``running`` by an app that died (no heartbeat for ``STALE_AFTER_S``) is queued again.  A
job's segments are stored in one transaction when the worker finishes, so a cancelled or
failed job leaves no partial transcript.  An app that closes while a job runs gives it back
to the queue at once (``give_back`` of :func:`run_queue`, :func:`give_back_job`), so the
next start runs it without waiting for its heartbeat to go stale.  Re-transcribing replaces
the model's segments but keeps every segment a person edited (new segments overlapping an
edit are dropped).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from cxfield.domain.errors import CxfieldError, NotFoundError, ValidationError
from cxfield.domain.ids import utcnow
from cxfield.services.common import tombstone
from cxfield.services.speakers import speaker_settings, suggest_speakers
from cxfield.storage.database import Database
from cxfield.storage.models import (
    Recording,
    ResearchSession,
    Study,
    TranscriptionJob,
    TranscriptSegment,
    TranscriptWords,
)
from cxfield.transcribe.engines import COMPUTE_TYPES, OPENAI_WHISPER, check_engine
from cxfield.transcribe.live import LiveSettings, LiveTranscription
from cxfield.transcribe.model_store import ModelError, ModelStore
from cxfield.transcribe.pipeline import Cancelled, DecodeSettings, Segment, TranscriptResult
from cxfield.transcribe.worker import (
    ModelUnusable,
    WorkerFailed,
    WorkerJob,
    default_threads,
    run_in_worker,
)

OPTIONS_KEY = "transcription.options"
DECODE_KEY = "transcription.decode_options"
STALE_AFTER_S = 60.0
HEARTBEAT_S = 5.0
#: the job's message when the app closes while the job runs (it is queued again at once)
CLOSED_WHILE_RUNNING = (
    "The app closed while this was being transcribed; it starts again at the next start."
)

Progress = Callable[[float, float], None]
#: asked between steps: the reason (the job's message) when the running job must go back to
#: the queue because the app is closing, else None
GiveBack = Callable[[], str | None]


@dataclass
class TranscriptionOptions:
    """What to run: per installation, per study (overrides) or per job."""

    model: str = "base"
    language: str | None = None
    translate: bool = False
    word_timestamps: bool = False
    skip_silence: bool = True
    #: transcribe finished stretches while recording
    live: bool = True
    threads: int | None = None
    #: openai-whisper (default, .pt files) or ctranslate2 (faster-whisper model folders)
    engine: str = OPENAI_WHISPER
    #: the ctranslate2 engine's arithmetic: int8 (default on CPUs) or float32
    compute_type: str = "int8"
    #: suggest a speaker for every segment after transcription (voice clustering)
    speaker_labels: bool = False
    #: how many voices to tell apart (interviewer + participants)
    speakers: int = 2

    def check(self) -> TranscriptionOptions:
        """Refuse values no engine runs, in one line."""
        check_engine(self.engine)
        if self.compute_type not in COMPUTE_TYPES:
            raise ValidationError(
                f"Unknown compute type {self.compute_type!r}; use {' or '.join(COMPUTE_TYPES)}."
            )
        if not isinstance(self.speakers, int) or not 1 <= self.speakers <= 8:
            raise ValidationError("The number of speakers must be 1 to 8.")
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscriptionOptions:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _redacting(db: Session, study_id: str) -> bool:
    """Redaction is on for the study: transcribe with word timestamps, so accepted spans
    can be muted on the audio."""
    from cxfield.privacy.settings import study_redaction

    study = db.get(Study, study_id)
    return study is not None and study_redaction(study.redaction).review


def get_options(database: Database, study_id: str | None = None) -> TranscriptionOptions:
    data = dict(database.get_setting(OPTIONS_KEY, {}) or {})
    if study_id:
        data.update(database.get_setting(f"{OPTIONS_KEY}.{study_id}", {}) or {})
    return TranscriptionOptions.from_dict(data)


def set_options(
    database: Database, options: TranscriptionOptions, study_id: str | None = None
) -> None:
    key = f"{OPTIONS_KEY}.{study_id}" if study_id else OPTIONS_KEY
    database.set_setting(key, asdict(options.check()))


def update_study_options(database: Database, study_id: str, **changes: Any) -> None:
    """Override some options for one study only (the rest follow the installation's)."""
    unknown = set(changes) - set(TranscriptionOptions.__dataclass_fields__)
    if unknown:
        raise ValidationError(f"Unknown transcription option(s): {', '.join(sorted(unknown))}.")
    key = f"{OPTIONS_KEY}.{study_id}"
    data = dict(database.get_setting(key, {}) or {})
    data.update(changes)
    TranscriptionOptions.from_dict({**asdict(get_options(database)), **data}).check()
    database.set_setting(key, data)


def decode_settings(
    database: Database, job: TranscriptionJob, skip_silence: bool
) -> DecodeSettings:
    """Decoder settings of a job; advanced whisper options (beam size, temperature, ...)
    come from the local setting ``transcription.decode_options``."""
    extra = database.get_setting(DECODE_KEY, {}) or {}
    return DecodeSettings(
        language=job.language,
        translate=job.translate,
        word_timestamps=job.word_timestamps,
        skip_silence=skip_silence,
        extra=dict(extra),
    )


# --- the queue ----------------------------------------------------------------------


@dataclass
class JobOutcome:
    job_id: str
    state: str
    error: str | None = None
    segments: int = 0
    kept_edited: int = 0
    result: TranscriptResult | None = field(default=None, repr=False)
    #: the job failed because its model cannot be used: the next jobs with it would too
    model_unusable: bool = False


def enqueue(
    database: Database,
    data_root: Path,
    models_dir: Path,
    session_id: str,
    options: TranscriptionOptions,
) -> list[TranscriptionJob]:
    """Queue one job per finished recording of a session.  The model is checked first
    (its dimensions against its weights), so an unusable one queues nothing."""
    check_engine(options.engine)
    ModelStore(models_dir).check_usable(options.model, options.engine)
    with database.session() as db:
        session = db.get(ResearchSession, session_id)
        if session is None or session.deleted_at is not None:
            raise NotFoundError(f"No session with id {session_id}.")
        recordings = _recordings(db, session_id)
        if not recordings:
            raise ValidationError(
                f"Session {session_id} has no recording to transcribe; "
                "attach one with `cxfield sessions attach-audio`."
            )
        jobs = []
        for rec in recordings:
            if not (data_root / rec.path).is_file():
                raise NotFoundError(f"The recording file {data_root / rec.path} is missing.")
            job = TranscriptionJob(
                session_id=session_id,
                recording_id=rec.id,
                model=options.model,
                language=options.language,
                translate=options.translate,
                word_timestamps=options.word_timestamps or _redacting(db, session.study_id),
                engine=options.engine,
            )
            db.add(job)
            jobs.append(job)
    return jobs


def _recordings(db: Session, session_id: str) -> list[Recording]:
    rows = db.exec(
        select(Recording).where(
            Recording.session_id == session_id,
            col(Recording.deleted_at).is_(None),
            Recording.state != "recording",
        )
    ).all()
    return sorted(rows, key=lambda r: r.started_at)


def list_jobs(database: Database, states: tuple[str, ...] | None = None) -> list[TranscriptionJob]:
    with database.session() as db:
        query = select(TranscriptionJob)
        if states:
            query = query.where(col(TranscriptionJob.state).in_(states))
        return list(db.exec(query.order_by(col(TranscriptionJob.created_at))).all())


def recover_stale(database: Database, stale_after_s: float = STALE_AFTER_S) -> int:
    """Queue again the jobs whose runner died (no heartbeat); returns how many."""
    cutoff = utcnow() - timedelta(seconds=stale_after_s)
    with database.session() as db:
        result = db.exec(
            update(TranscriptionJob)
            .where(
                col(TranscriptionJob.state) == "running",
                col(TranscriptionJob.updated_at) < cutoff,
            )
            .values(state="queued", progress=0.0, updated_at=utcnow())
        )
        return int(result.rowcount or 0)


def claim_next(database: Database, only: set[str] | None = None) -> TranscriptionJob | None:
    """Take the oldest queued job (atomically, so two runners never take the same)."""
    with database.session() as db:
        queued = db.exec(
            select(TranscriptionJob)
            .where(TranscriptionJob.state == "queued")
            .order_by(col(TranscriptionJob.created_at))
        ).all()
        for job in queued:
            if only is not None and job.id not in only:
                continue
            taken = db.exec(
                update(TranscriptionJob)
                .where(col(TranscriptionJob.id) == job.id, col(TranscriptionJob.state) == "queued")
                .values(state="running", progress=0.0, error=None, updated_at=utcnow())
            )
            if taken.rowcount:
                db.refresh(job)
                return job
    return None


def cancel_job(database: Database, job_id: str) -> None:
    """Cancel a queued job (a running one is cancelled through its runner's cancel check)."""
    with database.session() as db:
        job = db.get(TranscriptionJob, job_id)
        if job is None:
            raise NotFoundError(f"No transcription job with id {job_id}.")
        if job.state == "queued":
            job.state = "cancelled"
            job.updated_at = utcnow()
            db.add(job)


def _set_job(database: Database, job_id: str, *, only_running: bool = False, **values: Any) -> None:
    with database.session() as db:
        change = update(TranscriptionJob).where(col(TranscriptionJob.id) == job_id)
        if only_running:
            change = change.where(col(TranscriptionJob.state) == "running")
        db.exec(change.values(updated_at=utcnow(), **values))


def touch_job(database: Database, job_id: str) -> None:
    """Heartbeat of a job that runs outside the queue (live transcription), so that
    :func:`recover_stale` does not take it for the job of an app that died."""
    _set_job(database, job_id)


def end_live_job(
    database: Database, job_id: str, state: str, error: str | None = None
) -> JobOutcome:
    """A live job that will store nothing: ``queued`` gives it back to the queue (live
    transcription failed or the app closed first; a batch run redoes it), ``cancelled``
    drops it (no audio).

    A live job ends once: only a job still ``running`` changes, so when the app closing and
    the last stretch finishing race, whichever comes first wins.  Returns the job's state
    after the call."""
    return _end_running(database, job_id, state, error)


def give_back_job(
    database: Database, job_id: str, reason: str = CLOSED_WHILE_RUNNING
) -> JobOutcome:
    """The app is closing while this job runs: put it back in the queue now (``reason`` is
    its message), so the next start (or ``cxfield transcribe --queue``) runs it at once.

    Only a job still ``running`` changes: when this races with the job's runner finishing,
    the job ends once, ``done`` with all its segments or ``queued`` with none (the runner's
    store is conditional too).  Stopping the worker process is the runner's part (its
    ``give_back`` check).  Returns the job's state after the call."""
    return _end_running(database, job_id, "queued", reason)


def _end_running(
    database: Database, job_id: str, state: str, error: str | None = None
) -> JobOutcome:
    """End a job that stores nothing, only if it is still ``running``; the outcome read back."""
    with database.session() as db:
        db.exec(
            update(TranscriptionJob)
            .where(col(TranscriptionJob.id) == job_id, col(TranscriptionJob.state) == "running")
            .values(state=state, progress=0.0, error=error, updated_at=utcnow())
        )
        return _outcome_of(db, job_id)


def _outcome_of(db: Session, job_id: str) -> JobOutcome:
    """What a job ended as, read back from the database."""
    job = db.get(TranscriptionJob, job_id)
    if job is None:
        raise NotFoundError(f"No transcription job with id {job_id}.")
    stored = 0
    if job.state == "done" and job.recording_id is not None:
        stored = len(
            db.exec(
                select(TranscriptSegment.id).where(
                    TranscriptSegment.recording_id == job.recording_id,
                    col(TranscriptSegment.deleted_at).is_(None),
                    col(TranscriptSegment.edited).is_(False),
                )
            ).all()
        )
    return JobOutcome(job.id, job.state, error=job.error, segments=stored)


def run_job(
    database: Database,
    data_root: Path,
    models_dir: Path,
    job: TranscriptionJob,
    on_progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_stage: Callable[[str], None] | None = None,
    options: TranscriptionOptions | None = None,
    give_back: GiveBack | None = None,
) -> JobOutcome:
    """Run a claimed job in the worker process and store its segments when it finishes.

    ``should_cancel`` (the user) ends the worker and drops the job (``cancelled``);
    ``give_back`` returning a reason (the app closing) ends the worker and puts the job back
    in the queue with that message.  Either way nothing is stored.  Every write here applies
    only while the job is ``running``, so a :func:`give_back_job` from another thread wins
    over whatever this run would have written after it."""
    opts = options or get_options(database, _study_of(database, job))
    last_beat = [0.0]
    if (stopped := _stopped(database, job.id, should_cancel, give_back)) is not None:
        return stopped  # taken just as the user cancelled or the app closed: no worker

    def stop_asked() -> bool:
        return _stop_asked(should_cancel, give_back)

    def heartbeat(progress: float | None = None) -> None:
        now = os.times().elapsed
        if progress is not None or now - last_beat[0] >= HEARTBEAT_S:
            last_beat[0] = now
            values = {} if progress is None else {"progress": progress}
            _set_job(database, job.id, only_running=True, **values)

    def progress(done: float, total: float) -> None:
        if on_progress is not None:
            on_progress(done, total)
        if os.times().elapsed - last_beat[0] >= 1.0:
            heartbeat(round(done / total, 4) if total else 0.0)

    try:
        engine = job.engine or OPENAI_WHISPER
        model_path, official = ModelStore(models_dir).check_usable(job.model, engine)
        audio = _audio_path(database, data_root, job)
        work = WorkerJob(
            audio_path=str(audio),
            model_path=str(model_path),
            official_name=official,
            settings=decode_settings(database, job, opts.skip_silence),
            threads=opts.threads or default_threads(),
            engine=engine,
            compute_type=opts.compute_type,
            speakers=speaker_settings(database, job.session_id, opts),
            laptop_key=_laptop_key_for(audio),
        )
        result = run_in_worker(work, progress, stop_asked, heartbeat, on_stage)
    except Exception as exc:  # every failure is recorded on the job, then reported
        # a stop was asked for: the child's end (or a failure meanwhile, such as the child
        # dying of the same SIGTERM) is that stop, not a failure of the job
        if (stopped := _stopped(database, job.id, should_cancel, give_back)) is not None:
            return stopped
        if isinstance(exc, Cancelled):
            return _end_running(database, job.id, "cancelled")
        message = str(exc) if isinstance(exc, CxfieldError) else f"{type(exc).__name__}: {exc}"
        outcome = _end_running(database, job.id, "failed", message)
        outcome.model_unusable = isinstance(exc, ModelError | ModelUnusable)
        return outcome
    # given back meanwhile (the app closed as the child finished): nothing is stored
    return finish_job(database, job, result, only_running=True)


def finish_job(
    database: Database,
    job: TranscriptionJob,
    result: TranscriptResult,
    *,
    only_running: bool = False,
) -> JobOutcome:
    """Store a finished job's segments and mark it done, in one transaction.

    ``only_running``: store only if the job is still ``running`` (a job the app gave back
    to the queue while it finished stores nothing); the returned outcome then says what
    the job is instead."""
    if job.recording_id is None or job.session_id is None:
        with database.session() as db:
            claim = update(TranscriptionJob).where(col(TranscriptionJob.id) == job.id)
            if only_running:
                claim = claim.where(col(TranscriptionJob.state) == "running")
            taken = db.exec(claim.values(state="done", progress=1.0, updated_at=utcnow()))
            if only_running and not taken.rowcount:
                return _outcome_of(db, job.id)
        return JobOutcome(job.id, "done", segments=len(result.segments), result=result)
    with database.session() as db:
        # the job's row first: this takes SQLite's write lock, so a concurrent
        # end_live_job / give_back_job waits for this transaction and finds the job done
        claim = update(TranscriptionJob).where(col(TranscriptionJob.id) == job.id)
        if only_running:
            claim = claim.where(col(TranscriptionJob.state) == "running")
        taken = db.exec(claim.values(state="done", progress=1.0, error=None, updated_at=utcnow()))
        if only_running and not taken.rowcount:
            return _outcome_of(db, job.id)
        added, kept = _replace_segments(db, job.session_id, job.recording_id, result.segments)
        if result.turns:
            db.flush()
            suggest_speakers(db, job.recording_id, result.turns)
    return JobOutcome(job.id, "done", segments=added, kept_edited=kept, result=result)


def run_queue(
    database: Database,
    data_root: Path,
    models_dir: Path,
    only: set[str] | None = None,
    on_progress: Callable[[TranscriptionJob, float, float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_job: Callable[[TranscriptionJob], None] | None = None,
    give_back: GiveBack | None = None,
) -> list[JobOutcome]:
    """Run queued jobs one after another (after re-queueing stale ones) until none is left
    or ``should_cancel`` says stop (the running job is cancelled) or ``give_back`` gives a
    reason (the app is closing: the running job goes back to the queue, see
    :func:`run_job`).  No job is taken once either has asked to stop."""
    recover_stale(database)
    outcomes = []
    while (
        not _stop_asked(should_cancel, give_back)
        and (job := claim_next(database, only)) is not None
    ):
        if on_job is not None:
            on_job(job)

        def progress(done: float, total: float, current: TranscriptionJob = job) -> None:
            if on_progress is not None:
                on_progress(current, done, total)

        outcome = run_job(
            database, data_root, models_dir, job, progress, should_cancel, give_back=give_back
        )
        outcomes.append(outcome)
        if outcome.state in ("cancelled", "queued") or outcome.model_unusable:
            break  # an unusable model: the jobs left stay queued, not failed one by one
    return outcomes


def _stop_asked(should_cancel: Callable[[], bool] | None, give_back: GiveBack | None) -> bool:
    """The user cancelled or the app is closing."""
    return (should_cancel is not None and should_cancel()) or (
        give_back is not None and give_back() is not None
    )


def _stopped(
    database: Database,
    job_id: str,
    should_cancel: Callable[[], bool] | None,
    give_back: GiveBack | None,
) -> JobOutcome | None:
    """End a job whose stop was asked for, or None if none was: the user's cancel drops it
    (and wins over the app closing), the app closing gives it back to the queue."""
    if should_cancel is not None and should_cancel():
        return _end_running(database, job_id, "cancelled")
    if give_back is not None and (reason := give_back()) is not None:
        return give_back_job(database, job_id, reason)
    return None


def _study_of(database: Database, job: TranscriptionJob) -> str | None:
    if job.session_id is None:
        return None
    with database.session() as db:
        session = db.get(ResearchSession, job.session_id)
        return session.study_id if session is not None else None


def _laptop_key_for(audio: Path) -> bytes | None:
    """The key the worker needs to decrypt ``audio`` as it reads (None: a plain file)."""
    from cxfield.audio.at_rest import is_encrypted
    from cxfield.audio.encrypted import laptop_key

    return laptop_key(audio) if is_encrypted(audio) else None


def _audio_path(database: Database, data_root: Path, job: TranscriptionJob) -> Path:
    if job.recording_id:
        with database.session() as db:
            rec = db.get(Recording, job.recording_id)
            if rec is None or rec.deleted_at is not None:
                raise NotFoundError("The job's recording was deleted.")
            return data_root / rec.path
    if job.audio_path:
        return Path(job.audio_path)
    raise ValidationError("The job names no audio.")


def _replace_segments(
    db: Session, session_id: str, recording_id: str, segments: list[Segment]
) -> tuple[int, int]:
    """Tombstone the model's old segments, keep edited ones, add the new ones that do not
    overlap an edit.  Returns (added, kept edited)."""
    existing = db.exec(
        select(TranscriptSegment).where(
            TranscriptSegment.recording_id == recording_id,
            col(TranscriptSegment.deleted_at).is_(None),
        )
    ).all()
    edited = [s for s in existing if s.edited]
    for old in existing:
        if not old.edited:
            tombstone(db, old)
            words = db.get(TranscriptWords, old.id)
            if words is not None:
                db.delete(words)
    added = 0
    for seg in segments:
        if not seg.text.strip():
            continue
        if any(seg.start < e.end_s and e.start_s < seg.end for e in edited):
            continue  # a person's edit of this stretch wins over the model
        row = TranscriptSegment(
            recording_id=recording_id,
            session_id=session_id,
            start_s=round(seg.start, 3),
            end_s=round(seg.end, 3),
            text=seg.text.strip(),
        )
        db.add(row)
        if seg.words:  # where each word is on the audio: redaction mutes by them
            db.add(TranscriptWords(segment_id=row.id, recording_id=recording_id, words=seg.words))
        added += 1
    return added, len(edited)


# --- transcription while recording --------------------------------------------------


def start_live(
    database: Database,
    data_root: Path,
    models_dir: Path,
    recording_id: str,
    options: TranscriptionOptions | None = None,
    settings: LiveSettings | None = None,
) -> tuple[TranscriptionJob, LiveTranscription] | None:
    """Start transcribing a recording while it is written, or None when switched off or
    no model is installed (the recording can then be transcribed by a batch job after stop).

    The returned job is ``running``; hand both to :func:`finish_live` at stop."""
    with database.session() as db:
        rec = db.get(Recording, recording_id)
        if rec is None:
            raise NotFoundError(f"No recording with id {recording_id}.")
        session = db.get(ResearchSession, rec.session_id)
    opts = options or get_options(database, session.study_id if session else None)
    if not opts.live:
        return None
    try:
        model_path, official = ModelStore(models_dir).resolve(opts.model, opts.engine)
    except Exception:
        return None
    with database.session() as db:
        job = TranscriptionJob(
            session_id=rec.session_id,
            recording_id=rec.id,
            model=opts.model,
            language=opts.language,
            translate=opts.translate,
            word_timestamps=opts.word_timestamps
            or bool(session and _redacting(db, session.study_id)),
            engine=opts.engine,
            state="running",
        )
        db.add(job)
    live = LiveTranscription(
        wav_path=data_root / rec.path,
        model_path=model_path,
        official_name=official,
        decode=decode_settings(database, job, opts.skip_silence),
        settings=settings or LiveSettings(),
        engine=opts.engine,
        compute_type=opts.compute_type,
        speakers=speaker_settings(database, rec.session_id, opts),
    )
    live.start()
    return job, live


def finish_live(
    database: Database, job: TranscriptionJob, live: LiveTranscription, timeout_s: float = 600.0
) -> JobOutcome:
    """The recording stopped: wait for the last stretch and store the transcript.  If live
    transcription failed, the job goes back to the queue for a normal batch run."""
    try:
        result = live.finish(timeout_s)
    except WorkerFailed as exc:
        return end_live_job(database, job.id, "queued", str(exc))
    return finish_job(database, job, result, only_running=True)
