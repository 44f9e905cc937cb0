"""The app closing while a batch job runs: the job goes back to the queue at once (state
``queued`` with a clear message), its worker process is stopped, nothing is stored, and the
next queue run takes it without waiting for its heartbeat to go stale.  The user's cancel
still means ``cancelled``.  When the give-back races with the job finishing, the job ends
exactly once: ``done`` with all its segments, or ``queued`` with none.

Real worker processes with a small random Whisper checkpoint (tests/transcribe_support.py),
fast decoding, one torch thread."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("whisper")

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import transcript, transcription  # noqa: E402
from cxfield.storage.models import TranscriptionJob  # noqa: E402
from cxfield.transcribe.model_store import ModelStore  # noqa: E402
from tests.transcribe_support import (  # noqa: E402
    fast_setup,
    session_with_recording,
    speech_like,
)

pytestmark = pytest.mark.timeout(120)
REASON = transcription.CLOSED_WHILE_RUNNING


@pytest.fixture
def tctx(ctx: AppContext, whisper_checkpoint: Path) -> AppContext:
    ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
    fast_setup(ctx)
    return ctx


def _queued(ctx: AppContext, seconds: float) -> tuple[str, str]:
    """A session whose recording (speech without pauses) is queued: (session id, job id)."""
    session_id, _ = session_with_recording(ctx, speech_like(seconds))
    (job,) = transcription.enqueue(
        ctx.db, ctx.paths.root, ctx.paths.models, session_id, transcription.get_options(ctx.db)
    )
    return session_id, job.id


def _job(ctx: AppContext, job_id: str) -> TranscriptionJob:
    with ctx.db.session() as db:
        job = db.get(TranscriptionJob, job_id)
        assert job is not None
        return job


def _run(ctx: AppContext, **kwargs: object) -> list[transcription.JobOutcome]:
    return transcription.run_queue(ctx.db, ctx.paths.root, ctx.paths.models, **kwargs)  # type: ignore[arg-type]


def _no_worker_left() -> bool:
    return not multiprocessing.active_children()


def test_closing_mid_job_queues_it_at_once_and_the_next_run_takes_it(tctx: AppContext) -> None:
    # 5 minutes without pauses: ten windows, so the app closes while the model works
    session_id, job_id = _queued(tctx, 300.0)
    other_session, other = _queued(tctx, 10.0)
    progressed = threading.Event()
    closing: list[str] = []  # what the GUI runner's give_back check reads
    box: list[list[transcription.JobOutcome]] = []
    runner = threading.Thread(
        target=lambda: box.append(
            _run(
                tctx,
                on_progress=lambda job, done, total: progressed.set() if done > 0 else None,
                give_back=lambda: closing[0] if closing else None,
            )
        ),
        daemon=True,
    )
    runner.start()
    assert progressed.wait(60), "the worker never reported progress"
    assert _job(tctx, job_id).state == "running"

    # what TranscriptionJobRunner.abandon does on aboutToQuit: flag, write, wait
    started = time.monotonic()
    closing.append(REASON)
    given = transcription.give_back_job(tctx.db, job_id)
    assert (given.state, given.error, given.segments) == ("queued", REASON, 0)
    stamp = _job(tctx, job_id).updated_at
    runner.join(10)
    assert not runner.is_alive() and time.monotonic() - started < 5.0
    assert _no_worker_left(), "the worker process is stopped"
    ((outcome,),) = box  # the runner took no further job
    assert (outcome.job_id, outcome.state, outcome.error) == (job_id, "queued", REASON)
    job = _job(tctx, job_id)
    assert (job.state, job.error, job.progress) == ("queued", REASON, 0.0)
    assert job.updated_at == stamp, "no heartbeat or progress written after the give-back"
    assert transcript.segments(tctx.db, session_id) == []
    assert _job(tctx, other).state == "queued"

    # the next start (or `cxfield transcribe --queue`) runs both at once: no stale wait
    again = _run(tctx)
    assert [(o.job_id, o.state) for o in again] == [(job_id, "done"), (other, "done")]
    assert len(transcript.segments(tctx.db, session_id)) == again[0].segments > 0
    assert len(transcript.segments(tctx.db, other_session)) == again[1].segments
    assert _job(tctx, job_id).error is None


def test_the_runner_gives_back_by_itself_and_takes_nothing_more(tctx: AppContext) -> None:
    """A job taken just as the app closed (before the GUI knew its id) goes back without a
    worker being started; once closing, no queued job is taken."""
    first_session, first = _queued(tctx, 10.0)
    _, second = _queued(tctx, 10.0)
    job = transcription.claim_next(tctx.db, {first})
    assert job is not None
    outcome = transcription.run_job(
        tctx.db, tctx.paths.root, tctx.paths.models, job, give_back=lambda: REASON
    )
    assert (outcome.state, outcome.error) == ("queued", REASON)
    assert _no_worker_left()
    assert _run(tctx, give_back=lambda: REASON) == []
    assert [(_job(tctx, j).state) for j in (first, second)] == ["queued", "queued"]
    assert transcript.segments(tctx.db, first_session) == []


def test_given_back_while_the_worker_finishes_stores_nothing(tctx: AppContext) -> None:
    """The app gave the job back (its write is in) but the runner's thread did not look at
    its flag before the child finished: the store applies only to a running job, so the
    segments are dropped and the job stays queued."""
    session_id, job_id = _queued(tctx, 10.0)
    job = transcription.claim_next(tctx.db)
    assert job is not None

    def on_stage(stage: str) -> None:
        if stage == "transcribing":
            transcription.give_back_job(tctx.db, job_id)

    outcome = transcription.run_job(
        tctx.db, tctx.paths.root, tctx.paths.models, job, on_stage=on_stage
    )
    assert (outcome.state, outcome.error, outcome.segments) == ("queued", REASON, 0)
    assert transcript.segments(tctx.db, session_id) == []
    assert _job(tctx, job_id).state == "queued"


def test_giving_back_a_finished_job_changes_nothing(tctx: AppContext) -> None:
    session_id, job_id = _queued(tctx, 10.0)
    (done,) = _run(tctx)
    assert done.state == "done" and done.segments > 0
    stored = transcript.segments(tctx.db, session_id)
    late = transcription.give_back_job(tctx.db, job_id)
    assert (late.state, late.error, late.segments) == ("done", None, done.segments)
    assert transcript.segments(tctx.db, session_id) == stored
    assert _run(tctx) == []


def test_cancel_by_the_user_stays_cancelled_when_the_app_closes_too(tctx: AppContext) -> None:
    session_id, job_id = _queued(tctx, 300.0)
    seen: list[float] = []
    (outcome,) = _run(
        tctx,
        on_progress=lambda job, done, total: seen.append(done),
        should_cancel=lambda: bool(seen),
        give_back=lambda: REASON if seen else None,
    )
    assert (outcome.state, outcome.error) == ("cancelled", None)
    assert _no_worker_left()
    assert _job(tctx, job_id).state == "cancelled"
    assert transcript.segments(tctx.db, session_id) == []


def test_the_worker_leaves_ctrl_c_to_its_parent(tctx: AppContext) -> None:
    """Ctrl-C at a terminal reaches the worker too (one process group): the worker ignores
    it, so the command decides (cancel) instead of the worker dying with a traceback and
    the job being taken for failed.  Here only the worker gets it: the job still ends."""
    session_id, _ = _queued(tctx, 60.0)
    job = transcription.claim_next(tctx.db)
    assert job is not None

    def on_stage(stage: str) -> None:
        if stage == "transcribing":
            (worker,) = multiprocessing.active_children()
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGINT)

    outcome = transcription.run_job(
        tctx.db, tctx.paths.root, tctx.paths.models, job, on_stage=on_stage
    )
    assert (outcome.state, outcome.error) == ("done", None)
    assert len(transcript.segments(tctx.db, session_id)) == outcome.segments > 0
