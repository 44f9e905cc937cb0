"""Retention with a moved clock: audio goes N days after approval, transcripts after M;
nothing goes early, a dry run changes nothing, the deletions sync, the CLI lists them."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cxfield.app import AppContext, open_app
from cxfield.domain.errors import ValidationError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.domain.vocabulary import SessionStatus
from cxfield.privacy import retention, study_protection
from cxfield.services import demo
from cxfield.storage.models import Recording, ResearchSession, TranscriptSegment
from tests.privacy_support import plant_texts


def _approved_session(ctx: AppContext) -> tuple[str, object]:
    study = demo.create_demo(ctx.db, 4)
    planted = plant_texts(ctx.db, study.id, audio=b"RIFF" + b"x" * 5000)
    with ctx.db.session() as db:
        session = db.get(ResearchSession, planted.session_id)
        assert session is not None
        session.status = SessionStatus.APPROVED
        db.add(session)
        db.flush()
        approved_at = as_utc(session.updated_at)
    return study.id, (planted, approved_at)


def _state(ctx: AppContext, planted: object) -> tuple[bool, str, str, bool]:
    with ctx.db.session() as db:
        recording = db.get(Recording, planted.recording_id)  # type: ignore[attr-defined]
        segment = db.get(TranscriptSegment, planted.segment_id)  # type: ignore[attr-defined]
        assert recording is not None and segment is not None
        path = ctx.paths.root / recording.path
        return path.exists(), recording.state, segment.text, segment.deleted_at is not None


def _version(ctx: AppContext, recording_id: str) -> int:
    with ctx.db.session() as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        return recording.version


def test_audio_then_transcripts_go_on_time(ctx: AppContext) -> None:
    study_id, (planted, approved) = _approved_session(ctx)
    study_protection.set_retention(ctx.db, study_id, audio_days=30, transcript_days=90)
    root = ctx.paths.root
    # Day 29: nothing is due.
    assert retention.run(ctx.db, root, now=approved + timedelta(days=29)).items == []
    assert _state(ctx, planted)[:2] == (True, "complete")
    # Day 31, dry run: the audio is listed, nothing changes.
    listed = retention.run(ctx.db, root, now=approved + timedelta(days=31), dry_run=True)
    assert [(i.kind, i.session_id) for i in listed.items] == [("audio", planted.session_id)]
    assert listed.items[0].files == (f"recordings/{planted.session_id}.wav",)
    assert _state(ctx, planted)[:2] == (True, "complete")
    before = _version(ctx, planted.recording_id)
    # Day 31: the audio goes; the recording row says so and waits to sync.
    done = retention.run(ctx.db, root, now=approved + timedelta(days=31))
    assert done.files_removed == 1 and "audio of 1" in done.line()
    exists, state, text, deleted = _state(ctx, planted)
    assert (exists, state) == (False, "expired") and "Planted" in text and not deleted
    assert _version(ctx, planted.recording_id) == before + 1  # a change that syncs
    assert retention.run(ctx.db, root, now=approved + timedelta(days=60)).items == []
    # Day 91: the transcript goes (blanked and tombstoned, so the hub's copy goes too).
    done = retention.run(ctx.db, root, now=approved + timedelta(days=91))
    assert [i.kind for i in done.items] == ["transcript"]
    assert _state(ctx, planted)[2:] == ("", True)


def test_sessions_not_approved_and_studies_without_retention_stay(ctx: AppContext) -> None:
    study = demo.create_demo(ctx.db, 4)
    planted = plant_texts(ctx.db, study.id, audio=b"RIFF" + b"y" * 100)
    later = utcnow()
    assert retention.run(ctx.db, ctx.paths.root, now=later + timedelta(days=999)).items == []
    study_protection.set_retention(ctx.db, study.id, audio_days=0)
    with ctx.db.session() as db:
        session = db.get(ResearchSession, planted.session_id)
        assert session is not None
        session.status = SessionStatus.SUBMITTED
        db.add(session)
    items = retention.run(ctx.db, ctx.paths.root, now=later + timedelta(days=999)).items
    assert all(i.session_id != planted.session_id for i in items)
    assert _state(ctx, planted)[0]
    with pytest.raises(ValidationError, match="between 0 and"):
        study_protection.set_retention(ctx.db, study.id, audio_days=-1)


def test_daily_check_and_start(ctx: AppContext, data_dir: Path) -> None:
    study_id, (planted, approved) = _approved_session(ctx)
    study_protection.set_retention(ctx.db, study_id, audio_days=0)
    first = retention.run_if_due(ctx.db, ctx.paths.root, now=approved + timedelta(hours=1))
    assert first is not None and len(first.items) == 1
    # Within a day it does not run again; after a day it does.
    assert retention.run_if_due(ctx.db, ctx.paths.root, now=approved + timedelta(hours=5)) is None
    assert (
        retention.run_if_due(ctx.db, ctx.paths.root, now=approved + timedelta(days=2)) is not None
    )


def test_start_of_the_app_applies_retention(data_dir: Path) -> None:
    ctx = open_app(data_dir)
    try:
        study_id, (planted, _approved) = _approved_session(ctx)
        study_protection.set_retention(ctx.db, study_id, audio_days=0)
    finally:
        ctx.close()
    again = open_app(data_dir)
    try:
        assert any("Retention deleted the audio of 1" in m for m in again.messages)
        assert _state(again, planted)[:2] == (False, "expired")
    finally:
        again.close()


def test_cli_dry_run_lists_and_usage_errors(data_dir: Path) -> None:
    ctx = open_app(data_dir)
    try:
        study = demo.create_demo(ctx.db, 2)
    finally:
        ctx.close()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cxfield", "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert cli("retention", "set", "--study", study.id, "--audio-days", "30").returncode == 0
    shown = cli("retention", "show", "--study", study.id)
    assert shown.returncode == 0 and "audio: 30 days" in shown.stdout
    listed = cli("retention", "run", "--dry-run")
    assert listed.returncode == 0 and "would delete" in listed.stdout
    bad = cli("retention", "set", "--study", study.id, "--audio-days", "soon")
    assert bad.returncode == 2 and "soon" in bad.stderr
    assert cli("retention", "set", "--study", "nope", "--audio-days", "3").returncode == 1


def test_audio_clock_checked_starts_when_the_transcript_was_checked(ctx: AppContext) -> None:
    """With the study's audio clock "checked", a recording's audio goes N days after its
    transcript was marked checked, whether or not the session is approved yet; with the
    default clock the mark moves nothing.  Transcripts keep the approval clock."""
    from cxfield.services import transcript_check

    study = demo.create_demo(ctx.db, 4)
    planted = plant_texts(ctx.db, study.id, audio=b"RIFF" + b"c" * 3000)
    with ctx.db.session() as db:
        session = db.get(ResearchSession, planted.session_id)
        assert session is not None
        session.status = SessionStatus.SUBMITTED
        db.add(session)
    study_protection.set_retention(ctx.db, study.id, audio_days=30, transcript_days=0)
    root = ctx.paths.root
    mine = planted.session_id
    # not checked, not approved: kept however long
    assert all(
        i.session_id != mine
        for i in retention.run(ctx.db, root, now=utcnow() + timedelta(days=999), dry_run=True).items
    )
    checked = transcript_check.set_checked(ctx.db, planted.recording_id).checked_at
    assert checked is not None
    day31 = as_utc(checked) + timedelta(days=31)
    # the default clock (approval): the mark changes nothing
    assert all(
        i.session_id != mine for i in retention.run(ctx.db, root, now=day31, dry_run=True).items
    )
    done = study_protection.set_retention(ctx.db, study.id, audio_clock="checked")
    assert (done.audio_clock, done.audio_days) == ("checked", 30)
    assert all(
        i.session_id != mine
        for i in retention.run(ctx.db, root, now=as_utc(checked) + timedelta(days=29)).items
    )
    listed = retention.run(ctx.db, root, now=day31, dry_run=True)
    assert [(i.kind, i.session_id) for i in listed.items if i.session_id == mine] == [
        ("audio", mine)
    ]
    assert _state(ctx, planted)[:2] == (True, "complete")
    done_run = retention.run(ctx.db, root, now=day31)
    ours = [i for i in done_run.items if i.session_id == mine]
    assert [i.kind for i in ours] == ["audio"]  # not approved: the transcript stays
    assert ours[0].due_at == as_utc(checked) + timedelta(days=30)
    exists, state, text, deleted = _state(ctx, planted)
    assert (exists, state) == (False, "expired") and "Planted" in text and not deleted
    # taking the mark back after expiry gives no audio back, and nothing runs twice
    assert all(i.session_id != mine for i in retention.run(ctx.db, root, now=day31).items)


def test_audio_clock_checked_falls_back_to_the_approval(ctx: AppContext) -> None:
    """An approved session whose transcript was never checked (it is read-only now, so it
    never will be) loses its audio N days after approval, as with the default clock."""
    study_id, (planted, approved) = _approved_session(ctx)
    study_protection.set_retention(ctx.db, study_id, audio_days=30, audio_clock="checked")
    root = ctx.paths.root
    assert retention.run(ctx.db, root, now=approved + timedelta(days=29)).items == []
    done = retention.run(ctx.db, root, now=approved + timedelta(days=31))
    assert [(i.kind, i.session_id) for i in done.items] == [("audio", planted.session_id)]
    assert _state(ctx, planted)[:2] == (False, "expired")
    with pytest.raises(ValidationError, match="use one of: approved, checked"):
        study_protection.set_retention(ctx.db, study_id, audio_clock="transcribed")
    assert study_protection.get_protection(ctx.db, study_id).audio_clock == "checked"


def test_audio_clock_rule() -> None:
    """The rule both sides share: the earlier of approval and check (checked clock only)."""
    now = utcnow()
    approved, checked = now - timedelta(days=3), now - timedelta(days=5)
    assert retention.audio_clock_start("approved", approved, checked, now) == approved
    assert retention.audio_clock_start(None, approved, checked, now) == approved
    assert retention.audio_clock_start("checked", approved, checked, now) == checked
    assert (
        retention.audio_clock_start("checked", approved, now - timedelta(days=1), now) == approved
    )
    assert retention.audio_clock_start("checked", None, checked, now) == checked
    assert retention.audio_clock_start("approved", None, checked, now) is None
    assert retention.audio_clock_start("checked", None, None, now) is None
    later = now + timedelta(days=1)  # a clock in the future starts now, never later
    assert retention.audio_clock_start("checked", None, later, now) == now
