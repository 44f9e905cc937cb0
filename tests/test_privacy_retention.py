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
