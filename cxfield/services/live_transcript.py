"""Transcription while a session is recorded ("ready when the interview ends"): one code
path for the runner's recorder panel and ``cxfield record --session --live-transcribe``.

It wraps :func:`~cxfield.services.transcription.start_live`: the model runs in a child
process at lower priority (nice +10) with one torch thread and only *reads* the WAV file the
recorder is writing, so it never touches the PortAudio callback or the writer thread; the
worst it can do is fall behind.  Finished stretches (cut at pauses) are transcribed while
the interview goes on; at stop only the last stretch remains.

- :meth:`LiveTranscript.poll` never blocks: call it on a timer while recording (it also
  beats the job's heartbeat, so the queue does not take it for the job of a dead app).
- :meth:`LiveTranscript.finish` waits for the last stretch and stores the segments: call it
  off the GUI thread.
- :meth:`LiveTranscript.abandon` is for the app closing (or Ctrl-C) before that: the job goes
  back to the queue at once, so the next start transcribes the recording instead of waiting
  a minute for the job's heartbeat to go stale.  It may run while ``finish`` waits on
  another thread: the job then ends exactly once, ``done`` with all its segments (finish
  stored first) or ``queued`` with none.

Times are on the recording's clock: the file holds only recorded frames (pauses are not
written), so segments, notes and the player agree across pauses.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from pathlib import Path

from sqlmodel import Session

from cxfield.domain.errors import NotFoundError
from cxfield.services import transcription
from cxfield.storage.database import Database
from cxfield.storage.models import Recording, ResearchSession, TranscriptionJob
from cxfield.transcribe.live import LiveSettings, LiveTranscription
from cxfield.transcribe.model_store import OPENAI_WHISPER, ModelStore
from cxfield.transcribe.pipeline import Segment

#: local setting: advanced :class:`LiveSettings` (stretch lengths, pause length, poll time)
LIVE_SETTINGS_KEY = "transcription.live_settings"
WHERE_TO_SWITCH = "Transcription → Models"
#: the job's message when the app closes before the live transcript is stored
CLOSED_BEFORE_STORED = (
    "The app closed before the live transcript was stored; "
    "it will be transcribed from the recording."
)


@dataclass(frozen=True)
class LiveAvailability:
    on: bool
    model: str
    #: one quiet line for the recorder panel
    text: str


def availability(
    database: Database, models_dir: Path, study_id: str | None = None
) -> LiveAvailability:
    """Whether a recording started now would be transcribed while it is recorded."""
    options = transcription.get_options(database, study_id)
    if not options.live:
        return LiveAvailability(
            False, options.model, f"Live transcript off (switch: {WHERE_TO_SWITCH})"
        )
    try:  # the model of the study's engine (a CTranslate2 folder, or a .pt)
        ModelStore(models_dir).resolve(options.model, options.engine)
    except Exception:
        return LiveAvailability(
            False, options.model, f"Live transcript off: no model installed ({WHERE_TO_SWITCH})"
        )
    engine = "" if options.engine == OPENAI_WHISPER else ", CTranslate2"
    return LiveAvailability(True, options.model, f"Live transcript on ({options.model}{engine})")


def live_settings(database: Database) -> LiveSettings:
    """:class:`LiveSettings` with the overrides stored in the local settings."""
    stored = database.get_setting(LIVE_SETTINGS_KEY, {}) or {}
    known = {f.name for f in fields(LiveSettings)}
    return LiveSettings(**{k: v for k, v in dict(stored).items() if k in known})


def _study_of(db: Session, recording_id: str) -> str | None:
    rec = db.get(Recording, recording_id)
    if rec is None:
        raise NotFoundError(f"No recording with id {recording_id}.")
    session = db.get(ResearchSession, rec.session_id)
    return session.study_id if session is not None else None


class LiveTranscript:
    """A recording being transcribed while it is written (see the module docstring)."""

    def __init__(self, database: Database, job: TranscriptionJob, live: LiveTranscription) -> None:
        self.database = database
        self.job = job
        self.live = live
        #: why live transcription stopped early (the job then goes back to the queue)
        self.failure: str | None = None
        self._since_beat = 0.0
        self._finished = False
        #: set by abandon(): the job's message
        self._abandoned: str | None = None
        #: finish() and abandon() may come from different threads
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls,
        database: Database,
        data_root: Path,
        models_dir: Path,
        recording_id: str,
        *,
        force: bool = False,
    ) -> LiveTranscript | None:
        """Start with the recording (its row must exist).  None when switched off (unless
        ``force``: the CLI's ``--live-transcribe``) or when no model is installed."""
        with database.session() as db:
            study_id = _study_of(db, recording_id)
        options = transcription.get_options(database, study_id)
        if force:
            options.live = True
        started = transcription.start_live(
            database, data_root, models_dir, recording_id, options, live_settings(database)
        )
        if started is None:
            return None
        job, live = started
        return cls(database, job, live)

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def done_s(self) -> float:
        """Seconds of the recording transcribed so far."""
        return self.live.done_s

    @property
    def segment_count(self) -> int:
        return len(self.live.segments)

    def poll(self, elapsed_s: float = 0.0) -> list[Segment]:
        """Collect finished stretches (non-blocking).  ``elapsed_s``: time since the last
        call, for the heartbeat."""
        if self.failure is not None or self._finished:
            return []
        self._since_beat += elapsed_s
        if self._since_beat >= transcription.HEARTBEAT_S:
            self._since_beat = 0.0
            transcription.touch_job(self.database, self.job.id)
        try:
            return self.live.poll()
        except Exception as exc:  # the child reported an error: the recording goes on
            self.failure = str(exc)
            self.live.cancel()
            return []

    def finish(
        self, *, discarded: bool = False, timeout_s: float = 600.0
    ) -> transcription.JobOutcome:
        """The recording stopped: transcribe the last stretch and store the segments (this
        waits: call it off the GUI thread).  ``discarded``: the recording captured nothing.
        When live transcription failed, the job goes back to the queue for a batch run."""
        with self._lock:
            abandoned = self._abandoned
            if self._finished and abandoned is None:
                raise RuntimeError("This live transcription has already finished.")
            self._finished = True
        if abandoned is not None:  # given back already; abandon's write may not be done yet
            return transcription.end_live_job(self.database, self.job.id, "queued", abandoned)
        if discarded:
            self.live.cancel()
            return transcription.end_live_job(self.database, self.job.id, "cancelled")
        if self.failure is not None:
            return transcription.end_live_job(self.database, self.job.id, "queued", self.failure)
        stop_beating = threading.Event()

        def beat() -> None:
            while not stop_beating.wait(transcription.HEARTBEAT_S):
                transcription.touch_job(self.database, self.job.id)

        beater = threading.Thread(target=beat, name="live-transcript-heartbeat", daemon=True)
        beater.start()
        try:
            return transcription.finish_live(self.database, self.job, self.live, timeout_s)
        except Exception as exc:  # the child died between two messages (broken pipe)
            self.live.cancel()
            message = f"Live transcription failed: {exc}"
            # after abandon() this changes nothing and returns the job as abandon left it
            return transcription.end_live_job(self.database, self.job.id, "queued", message)
        finally:
            stop_beating.set()
            beater.join(1.0)

    def abandon(self, reason: str = CLOSED_BEFORE_STORED) -> transcription.JobOutcome:
        """The app is closing (or the user pressed Ctrl-C) before the transcript was stored:
        give the job back to the queue now (``reason`` is its message), stop the child and
        store nothing.  Call it after the recording stopped.  Safe while :meth:`finish` runs
        on another thread: if finish stored first, the job stays ``done``; otherwise it is
        ``queued`` and finish stores nothing.  Returns the job's state afterwards."""
        with self._lock:
            self._abandoned = reason
            self._finished = True  # poll() stops; a later finish() only reports
        # the job first, then the child: a finish() that sees its child die must find the
        # job already queued, so that its own failure message does not replace this one
        outcome = transcription.end_live_job(self.database, self.job.id, "queued", reason)
        self.live.cancel()
        return outcome

    def cancel(self) -> None:
        """Stop without storing anything (the job is dropped)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self.live.cancel()
        transcription.end_live_job(self.database, self.job.id, "cancelled")
