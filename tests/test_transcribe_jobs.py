"""Session recording → job in the worker process → stored segments; cancel, restart,
re-transcription keeping edits, exports (parsed back by ffmpeg)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from cxfield.app import AppContext, open_app
from cxfield.domain.ids import utcnow
from cxfield.services import transcript, transcription
from cxfield.storage.models import Note, StepCapture, TranscriptionJob, TranscriptSegment
from cxfield.transcribe.model_store import ModelError, ModelStore
from tests.transcribe_support import (
    fast_setup,
    place,
    session_with_recording,
    speech_like,
)


@pytest.fixture
def tctx(ctx: AppContext, whisper_checkpoint: Path) -> AppContext:
    ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
    fast_setup(ctx)
    return ctx


def _run(ctx: AppContext, **kwargs: object) -> list[transcription.JobOutcome]:
    return transcription.run_queue(ctx.db, ctx.paths.root, ctx.paths.models, **kwargs)  # type: ignore[arg-type]


def _live_segments(ctx: AppContext, session_id: str) -> list[TranscriptSegment]:
    with ctx.db.session() as db:
        return list(
            db.exec(
                select(TranscriptSegment).where(
                    TranscriptSegment.session_id == session_id,
                    col(TranscriptSegment.deleted_at).is_(None),
                )
            ).all()
        )


def test_recording_to_stored_segments_then_retranscribe_keeps_edits(tctx: AppContext) -> None:
    audio = place(90, [(5.0, speech_like(30.0)), (50.0, speech_like(35.0, 1))])
    session_id, rec_id = session_with_recording(tctx, audio)
    jobs = transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, session_id, transcription.get_options(tctx.db)
    )
    progress: list[float] = []
    outcomes = _run(tctx, on_progress=lambda job, done, total: progress.append(done / total))
    assert [o.state for o in outcomes] == ["done"]
    assert progress and progress[-1] == pytest.approx(1.0)
    segs = transcript.segments(tctx.db, session_id)
    assert segs and outcomes[0].segments == len(segs)
    for seg in segs:
        assert seg.recording_id == rec_id
        assert 0.0 <= seg.start_s <= seg.end_s <= 90.0
        assert seg.speaker == "unknown" and not seg.edited
    assert [s.start_s for s in segs] == sorted(s.start_s for s in segs)
    with tctx.db.session() as db:
        job = db.get(TranscriptionJob, jobs[0].id)
        assert job is not None and job.state == "done" and job.progress == 1.0

    # a person edits one segment and names the speaker of a range
    edited = transcript.edit_text(tctx.db, segs[0].id, "What the participant really said.")
    assert edited.edited and edited.original_text == segs[0].text
    transcript.set_speaker(tctx.db, [s.id for s in segs], "participant")

    transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, session_id, transcription.get_options(tctx.db)
    )
    second = _run(tctx)
    assert second[0].state == "done" and second[0].kept_edited == 1
    after = transcript.segments(tctx.db, session_id)
    kept = [s for s in after if s.edited]
    assert [s.text for s in kept] == ["What the participant really said."]
    # no new segment overlaps the edited one; unedited ones were replaced, not duplicated
    for s in after:
        if not s.edited:
            assert s.end_s <= kept[0].start_s or s.start_s >= kept[0].end_s
    assert len(after) <= len(segs) + 1


def test_cancel_midway_leaves_no_partial_transcript(tctx: AppContext) -> None:
    # 10 minutes without pauses: many windows, so there is time to cancel mid-way
    session_id, _ = session_with_recording(tctx, speech_like(600.0))
    transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, session_id, transcription.get_options(tctx.db)
    )
    seen: list[float] = []

    def cancel_after_progress() -> bool:
        return bool(seen) and 0 < seen[-1] < 600

    outcomes = _run(
        tctx,
        on_progress=lambda job, done, total: seen.append(done),
        should_cancel=cancel_after_progress,
    )
    assert [o.state for o in outcomes] == ["cancelled"]
    assert seen and seen[-1] < 600
    assert _live_segments(tctx, session_id) == []
    assert [j.state for j in transcription.list_jobs(tctx.db)] == ["cancelled"]


def test_restart_resumes_the_queue(tctx: AppContext, data_dir: Path) -> None:
    session_id, _ = session_with_recording(tctx, place(40, [(3.0, speech_like(20.0))]))
    (first,) = transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, session_id, transcription.get_options(tctx.db)
    )
    second_session, _ = session_with_recording(tctx, place(20, [(1.0, speech_like(10.0))]))
    transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, second_session,
        transcription.get_options(tctx.db),
    )  # fmt: skip
    # the app died while running the first job: state 'running', heartbeat long ago
    with tctx.db.session() as db:
        db.exec(  # type: ignore[call-overload]
            update(TranscriptionJob)
            .where(col(TranscriptionJob.id) == first.id)
            .values(state="running", progress=0.4, updated_at=utcnow() - timedelta(minutes=5))
        )
    tctx.close()

    reopened = open_app(data_dir)
    try:
        outcomes = _run(reopened)
        assert [o.state for o in outcomes] == ["done", "done"]
        assert outcomes[0].job_id == first.id
        assert transcript.segments(reopened.db, session_id)
        assert transcript.segments(reopened.db, second_session)
    finally:
        reopened.close()


def test_missing_and_corrupt_models_fail_the_job_with_a_message(
    tctx: AppContext, tmp_path: Path
) -> None:
    session_id, _ = session_with_recording(tctx, place(10, [(1.0, speech_like(5.0))]))
    with pytest.raises(Exception, match="not installed.*cxfield models import"):
        transcription.enqueue(
            tctx.db, tctx.paths.root, tctx.paths.models, session_id,
            transcription.TranscriptionOptions(model="small"),
        )  # fmt: skip
    assert transcription.list_jobs(tctx.db) == []
    # an installed file that got damaged after its job was queued (truncated on disk)
    transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, session_id, transcription.get_options(tctx.db)
    )
    installed = tctx.paths.models / "test.pt"
    installed.write_bytes(installed.read_bytes()[:100_000])
    (outcome,) = _run(tctx)
    assert outcome.state == "failed" and outcome.model_unusable
    assert "truncated or corrupt" in (outcome.error or "")
    assert "\n" not in (outcome.error or "")
    assert _live_segments(tctx, session_id) == []
    # queueing again with the damaged file is refused at once: no job row is made
    with pytest.raises(ModelError, match="truncated or corrupt"):
        transcription.enqueue(
            tctx.db, tctx.paths.root, tctx.paths.models, session_id,
            transcription.get_options(tctx.db),
        )  # fmt: skip
    assert len(transcription.list_jobs(tctx.db)) == 1


def test_exports_parse_and_quotes_attach_to_a_step(tctx: AppContext, tmp_path: Path) -> None:
    session_id, rec_id = session_with_recording(
        tctx, place(70, [(2.0, speech_like(25.0)), (40.0, speech_like(25.0, 3))])
    )
    transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, session_id, transcription.get_options(tctx.db)
    )
    assert _run(tctx)[0].state == "done"
    segs = transcript.segments(tctx.db, session_id)
    for fmt in ("txt", "srt", "vtt", "json", "tsv"):
        path = transcript.export_session(tctx.db, session_id, fmt, tmp_path / f"t.{fmt}")
        text = path.read_text(encoding="utf-8")
        if fmt == "json":
            data = json.loads(text)
            assert len(data["segments"]) == len(segs)
            assert {"start", "end", "text", "speaker", "edited"} <= data["segments"][0].keys()
        elif fmt == "tsv":
            rows = [line.split("\t") for line in text.splitlines()]
            assert rows[0] == ["start", "end", "text"] and len(rows) == len(segs) + 1
            assert int(rows[1][0]) == round(segs[0].start_s * 1000)
        elif fmt == "txt":
            assert len(text.splitlines()) == len(segs)
        elif shutil.which("ffmpeg"):
            # ffmpeg must read our subtitles: convert them and count the events
            out = subprocess.run(
                ["ffmpeg", "-v", "error", "-i", str(path), "-f", "srt", "-"],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert out.stdout.count(" --> ") == len(segs)
    assert not list(tmp_path.glob(".*.part"))

    # a quote from the transcript, attached to a journey step
    from cxfield.storage.models import ResearchSession, Stage, Step

    with tctx.db.session() as db:
        session = db.get(ResearchSession, session_id)
        assert session is not None
        stage = Stage(study_id=session.study_id, name="Arrive")
        db.add(stage)
        db.flush()
        step = Step(study_id=session.study_id, stage_id=stage.id, name="Check in")
        db.add(step)
        db.flush()
        step_id = step.id
    note = transcript.make_quote(
        tctx.db, session_id, step_id, "  I waited   two hours ", segs[0].start_s, rec_id
    )
    with tctx.db.session() as db:
        capture = db.exec(select(StepCapture).where(StepCapture.step_id == step_id)).one()
        assert capture.quote == "\u201cI waited two hours\u201d"
        stored = db.get(Note, note.id)
        assert stored is not None and stored.tags == ["quote"]
        assert stored.recording_offset_frames == round(segs[0].start_s * 16000)
    marks = transcript.notes_on_recording(tctx.db, session_id)
    assert [m.text for m in marks] == ["I waited two hours"]
    assert marks[0].at_s == pytest.approx(segs[0].start_s, abs=0.01)


def test_a_crashing_worker_fails_the_job_and_the_app_lives_on(tctx: AppContext) -> None:
    import os
    import signal

    session_id, _ = session_with_recording(tctx, speech_like(600.0))
    transcription.enqueue(
        tctx.db, tctx.paths.root, tctx.paths.models, session_id, transcription.get_options(tctx.db)
    )

    def crash_on_progress(job: object, done: float, total: float) -> None:
        # a native crash of the model, as the OS would deliver it
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                cmdline = (entry / "cmdline").read_bytes()
                # the worker, not multiprocessing's resource tracker
                if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"spawn_main" in cmdline:
                    os.kill(int(entry.name), signal.SIGSEGV)

    (outcome,) = _run(tctx, on_progress=crash_on_progress)
    assert outcome.state == "failed"
    assert "stopped unexpectedly (exit code -11)" in (outcome.error or "")
    assert _live_segments(tctx, session_id) == []
