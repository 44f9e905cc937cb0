"""A study's retention applied by the hub (a real one on loopback, SQLite and PostgreSQL)
with a moved clock: a session approved 31 days ago in a study keeping audio 30 days loses
its blob (register and file), one approved 29 days ago keeps it; a dry run lists the same
and changes nothing; a second run changes nothing; transcripts go after their own days;
laptops that pull afterwards see the recording expired and the segments gone, with no
conflict; studies without retention keep everything; the CLI lists and deletes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from cxfield.domain.ids import as_utc
from cxfield.domain.vocabulary import SessionStatus
from cxfield.hub import retention as hub_retention
from cxfield.hub import storage as t
from cxfield.hub.config import make_engine
from cxfield.privacy import retention as laptop_retention
from cxfield.privacy import study_protection
from cxfield.services import demo
from cxfield.storage.models import Recording, ResearchSession, Study, TranscriptSegment
from tests.hub_support import RunningHub, hub_cli, start_hub
from tests.privacy_support import PlantedSession, plant_texts
from tests.test_privacy_withdrawal import Laptop

OLD_AUDIO = b"RIFF-retention-old-" + bytes(range(256)) * 32
NEW_AUDIO = b"RIFF-retention-new-" + bytes(range(255, -1, -1)) * 32


@dataclass
class Team:
    hub: RunningHub
    sam: Laptop  # made the sessions
    sue: Laptop  # a second supervisor's laptop, synced before retention ran
    study_id: str
    old: PlantedSession  # approved at ``approved``
    new: PlantedSession  # approved two days later
    approved: datetime

    def blob_path(self, audio: bytes) -> Path:
        sha = hashlib.sha256(audio).hexdigest()
        return self.hub.db.hub_dir / "blobs" / sha[:2] / sha


def _approve(laptop: Laptop, session_id: str) -> datetime:
    with laptop.ctx.db.session() as db:
        session = db.get(ResearchSession, session_id)
        assert session is not None
        session.status = SessionStatus.APPROVED
        db.add(session)
        db.flush()
        return as_utc(session.updated_at)


@pytest.fixture
def team(hub_server: RunningHub, tmp_path: Path) -> Iterator[Team]:
    sam = Laptop(tmp_path, hub_server, "Sam", "supervisor")
    sue = Laptop(tmp_path, hub_server, "Sue", "supervisor")
    study = demo.create_demo(sam.ctx.db, 8)
    with sam.ctx.db.session() as db:
        row = db.get(Study, study.id)
        assert row is not None
        row.audio_upload = True
        db.add(row)
    old = plant_texts(sam.ctx.db, study.id, "-old", audio=OLD_AUDIO)
    approved = _approve(sam, old.session_id)
    new = plant_texts(sam.ctx.db, study.id, "-new", audio=NEW_AUDIO)
    _approve(sam, new.session_id)
    # the second session was approved two days after the first (the laptop's own clock)
    with sam.ctx.db.engine.begin() as conn:
        table = ResearchSession.__table__  # type: ignore[attr-defined]
        conn.execute(
            update(table)
            .where(table.c.id == new.session_id)
            .values(updated_at=approved + timedelta(days=2))
        )
    assert sam.sync().uploaded == 2
    sue.sync()
    yield Team(hub_server, sam, sue, study.id, old, new, approved)
    sam.ctx.close()
    sue.ctx.close()


def _engine(team: Team):  # type: ignore[no-untyped-def]
    return make_engine(team.hub.db.url)


def _hub_run(team: Team, days: float, dry_run: bool = False) -> list[tuple[str, str]]:
    engine = _engine(team)
    try:
        report = hub_retention.run(
            engine,
            team.hub.db.hub_dir / "blobs",
            now=team.approved + timedelta(days=days),
            dry_run=dry_run,
        )
    finally:
        engine.dispose()
    return [(i.kind, i.session_id) for i in report.items]


def _hub_state(team: Team) -> dict[str, object]:
    engine = _engine(team)
    try:
        with engine.connect() as conn:
            records = {
                (r.table_name, r.row_id): r
                for r in conn.execute(
                    select(t.record).where(
                        t.record.c.table_name.in_(["recording", "transcript_segment"])
                    )
                )
            }
            blobs = sorted(r.sha256 for r in conn.execute(select(t.blob.c.sha256)))
            seq = conn.execute(select(func.max(t.record.c.seq))).scalar()
            audits = conn.execute(
                select(t.audit.c.target, t.audit.c.detail).where(t.audit.c.action == "retention")
            ).all()
    finally:
        engine.dispose()
    return {"records": records, "blobs": blobs, "seq": seq, "audits": audits}


def _local(laptop: Laptop, planted: PlantedSession) -> tuple[str, str, bool]:
    with Session(laptop.ctx.db.engine) as db:
        recording = db.get(Recording, planted.recording_id)
        segment = db.get(TranscriptSegment, planted.segment_id)
        assert recording is not None and segment is not None
        return recording.state, segment.text, segment.deleted_at is not None


def test_hub_applies_the_studys_retention(team: Team) -> None:
    old_sha = hashlib.sha256(OLD_AUDIO).hexdigest()
    new_sha = hashlib.sha256(NEW_AUDIO).hexdigest()
    start = _hub_state(team)
    assert start["blobs"] == sorted([old_sha, new_sha])
    assert team.blob_path(OLD_AUDIO).exists() and team.blob_path(NEW_AUDIO).exists()

    # A study without retention keeps everything, however long.
    assert _hub_run(team, 999) == []
    assert _hub_state(team)["seq"] == start["seq"]

    study_protection.set_retention(team.sam.ctx.db, team.study_id, audio_days=30)
    study_protection.set_retention(team.sam.ctx.db, team.study_id, transcript_days=90)
    assert team.sam.sync().conflicts == 0
    before = _hub_state(team)

    # Day 29 after the first approval: nothing is due.
    assert _hub_run(team, 29) == []
    # Day 31, dry run: the first session's audio is listed; nothing changes.
    assert _hub_run(team, 31, dry_run=True) == [("audio", team.old.session_id)]
    assert _hub_state(team) == before
    assert team.blob_path(OLD_AUDIO).exists()

    # Day 31: the same list; the old blob goes (register and file), the new one stays.
    assert _hub_run(team, 31) == [("audio", team.old.session_id)]
    after = _hub_state(team)
    assert after["blobs"] == [new_sha]
    assert not team.blob_path(OLD_AUDIO).exists() and team.blob_path(NEW_AUDIO).exists()
    records = after["records"]
    assert isinstance(records, dict)
    old_rec = records[("recording", team.old.recording_id)]
    new_rec = records[("recording", team.new.recording_id)]
    assert old_rec.data["state"] == "expired" and not old_rec.deleted
    assert new_rec.data["state"] == "complete"
    assert old_rec.data["sha256"] == old_sha  # the laptops still know which audio it was
    assert after["audits"] == [
        (team.old.session_id, {"kind": "audio", "recordings": 1, "blobs": [old_sha]})
    ]

    # Running again changes nothing.
    assert _hub_run(team, 31) == []
    assert _hub_state(team) == after

    # Sue's laptop pulls: the recording is expired and its local file gone, no conflict.
    sue_audio = team.sue.ctx.paths.root / f"recordings/{team.old.session_id}.wav"
    sue_audio.parent.mkdir(parents=True, exist_ok=True)
    sue_audio.write_bytes(OLD_AUDIO)  # (say, fetched to play it back)
    summary = team.sue.sync()
    assert summary.conflicts == 0 and summary.pulled >= 1
    assert _local(team.sue, team.old)[0] == "expired"
    assert _local(team.sue, team.new)[0] == "complete"
    assert not sue_audio.exists()
    # Sam's laptop, which made it: the same, and it does not upload the audio again.
    summary = team.sam.sync()
    assert summary.conflicts == 0 and summary.uploaded == 0, summary
    assert _local(team.sam, team.old)[0] == "expired"
    assert not (team.sam.ctx.paths.root / f"recordings/{team.old.session_id}.wav").exists()
    assert _hub_state(team)["blobs"] == [new_sha]

    # Day 91: the first session's transcript goes, the second's stays (89 days; its audio
    # is past 30 days now and goes).
    assert sorted(_hub_run(team, 91)) == [
        ("audio", team.new.session_id),
        ("transcript", team.old.session_id),
    ]
    records = _hub_state(team)["records"]
    assert isinstance(records, dict)
    segment = records[("transcript_segment", team.old.segment_id)]
    assert segment.deleted and segment.data["text"] == "" and segment.data["deleted_at"]
    kept = records[("transcript_segment", team.new.segment_id)]
    assert "Planted" in kept.data["text"] and not kept.deleted
    summary = team.sue.sync()
    assert summary.conflicts == 0
    assert _local(team.sue, team.old)[1:] == ("", True)
    assert "Planted" in _local(team.sue, team.new)[1]


def test_cli_lists_then_deletes(team: Team) -> None:
    study_protection.set_retention(team.sam.ctx.db, team.study_id, transcript_days=0)
    team.sam.sync()
    listed = hub_cli(team.hub.db, "retention", "run", "--dry-run")
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 3, listed.stdout
    assert all(line.startswith("transcript") and "1 segment(s)" in line for line in lines[:2])
    assert {team.old.session_id, team.new.session_id} <= set(listed.stdout.split())
    assert lines[-1] == "Retention would delete the audio of 0 and the transcripts of 2 sessions."
    done = hub_cli(team.hub.db, "retention", "run")
    assert done.stdout.strip().splitlines()[:2] == lines[:2]
    assert done.stdout.strip().splitlines()[-1].startswith("Retention deleted the audio of 0")
    again = hub_cli(team.hub.db, "retention", "run")
    assert again.stdout.strip().splitlines() == [
        "Retention deleted the audio of 0 and the transcripts of 0 sessions."
    ]
    assert team.sue.sync().conflicts == 0
    assert _local(team.sue, team.old)[1:] == ("", True)
    assert _local(team.sue, team.new)[1:] == ("", True)


def test_hub_processes_apply_it_at_start_one_after_the_other(team: Team) -> None:
    """Two hub processes starting together on one database: each checks at start, the
    audio goes once (one audit entry per session), neither fails."""
    study_protection.set_retention(team.sam.ctx.db, team.study_id, audio_days=0)
    team.sam.sync()
    assert len(_hub_state(team)["blobs"]) == 2  # type: ignore[arg-type]
    with ThreadPoolExecutor(2) as pool:
        hubs = list(pool.map(lambda _i: start_hub(team.hub.db, upgrade=False), range(2)))
    try:
        state = _hub_state(team)
        assert state["blobs"] == []
        assert not team.blob_path(OLD_AUDIO).exists() and not team.blob_path(NEW_AUDIO).exists()
        audits = state["audits"]
        assert isinstance(audits, list)
        assert sorted(a.target for a in audits) == sorted(
            [team.old.session_id, team.new.session_id]
        )
        for hub in hubs:
            assert "retention failed" not in hub.log_text()
    finally:
        for hub in hubs:
            hub.stop()
    assert team.sue.sync().conflicts == 0
    assert _local(team.sue, team.old)[0] == _local(team.sue, team.new)[0] == "expired"


def test_laptop_and_hub_each_apply_it_without_conflict(team: Team) -> None:
    """Sam's laptop expires the audio first and syncs: the hub takes the change (the
    approved session's lock lets retention through) and then drops the blob it still
    held; the hub and Sue's laptop both tombstone a transcript before Sue pulls: the same
    tombstone, no conflict."""
    study_protection.set_retention(
        team.sam.ctx.db, team.study_id, audio_days=30, transcript_days=90
    )
    team.sam.sync()
    team.sue.sync()
    day31 = team.approved + timedelta(days=31)
    done = laptop_retention.run(team.sam.ctx.db, team.sam.ctx.paths.root, now=day31)
    assert [(i.kind, i.session_id) for i in done.items] == [("audio", team.old.session_id)]
    summary = team.sam.sync()
    assert (summary.refused, summary.conflicts) == (0, 0), summary.messages
    records = _hub_state(team)["records"]
    assert isinstance(records, dict)
    assert records[("recording", team.old.recording_id)].data["state"] == "expired"
    assert team.blob_path(OLD_AUDIO).exists()  # the hub's copy: its own retention's work
    assert _hub_run(team, 31) == [("audio", team.old.session_id)]
    assert not team.blob_path(OLD_AUDIO).exists() and team.blob_path(NEW_AUDIO).exists()

    assert sorted(_hub_run(team, 91)) == [
        ("audio", team.new.session_id),
        ("transcript", team.old.session_id),
    ]
    day91 = team.approved + timedelta(days=91)
    done = laptop_retention.run(team.sue.ctx.db, team.sue.ctx.paths.root, now=day91)
    assert ("transcript", team.old.session_id) in [(i.kind, i.session_id) for i in done.items]
    summary = team.sue.sync()
    assert (summary.refused, summary.conflicts) == (0, 0), summary.messages
    assert _local(team.sue, team.old)[1:] == ("", True)
    assert team.sam.sync().conflicts == 0


def test_a_serving_hub_checks_again_every_day(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The serving process's loop: a check after each day (the day shortened here)."""
    from cxfield.hub import app as hub_app
    from cxfield.hub.config import HubConfig

    calls: list[Path | None] = []
    two = asyncio.Event()

    def counted(_engine: object, blobs_dir: Path | None) -> None:
        calls.append(blobs_dir)
        if len(calls) == 2:
            two.set()

    monkeypatch.setattr(hub_app, "RETENTION_EVERY", timedelta(milliseconds=10))
    monkeypatch.setattr(hub_retention, "run_safely", counted)
    config = HubConfig(tmp_path)

    async def serve_a_while() -> None:
        daily = asyncio.create_task(hub_app._retention_daily(None, config))  # type: ignore[arg-type]
        await asyncio.wait_for(two.wait(), 10)
        daily.cancel()

    asyncio.run(serve_a_while())
    assert calls == [config.blobs_dir, config.blobs_dir]


CHECKED_AUDIO = b"RIFF-retention-checked-" + bytes(range(256)) * 16


def test_the_checked_clock_on_the_hub_and_the_mark_syncs(
    hub_server: RunningHub, tmp_path: Path
) -> None:
    """A study whose audio clock is "checked": Sam marks a submitted session's transcript
    checked; the mark (who, when) reaches the hub and Sue's laptop, and so does its undo;
    the hub's retention expires that recording's audio N days after the mark (not before,
    not while the mark is taken back), the session still unapproved."""
    from cxfield.services import transcript_check

    sam = Laptop(tmp_path, hub_server, "Sam", "supervisor")
    sue = Laptop(tmp_path, hub_server, "Sue", "supervisor")
    try:
        study = demo.create_demo(sam.ctx.db, 6)
        with sam.ctx.db.session() as db:
            row = db.get(Study, study.id)
            assert row is not None
            row.audio_upload = True
            db.add(row)
        planted = plant_texts(sam.ctx.db, study.id, "-chk", audio=CHECKED_AUDIO)
        with sam.ctx.db.session() as db:
            session = db.get(ResearchSession, planted.session_id)
            assert session is not None
            session.status = SessionStatus.SUBMITTED
            db.add(session)
        study_protection.set_retention(sam.ctx.db, study.id, audio_days=30, audio_clock="checked")
        assert sam.sync().uploaded == 1
        sha = hashlib.sha256(CHECKED_AUDIO).hexdigest()
        blob = hub_server.db.hub_dir / "blobs" / sha[:2] / sha

        def hub_run(moment: datetime) -> list[tuple[str, str]]:
            engine = make_engine(hub_server.db.url)
            try:
                report = hub_retention.run(engine, hub_server.db.hub_dir / "blobs", now=moment)
            finally:
                engine.dispose()
            return [(i.kind, i.session_id) for i in report.items]

        def sue_sees() -> tuple[datetime | None, str | None, str]:
            with Session(sue.ctx.db.engine) as db:
                rec = db.get(Recording, planted.recording_id)
                assert rec is not None
                return rec.transcript_checked_at, rec.transcript_checked_by, rec.state

        first = transcript_check.set_checked(sam.ctx.db, planted.recording_id)
        assert first.checked_at is not None
        assert sam.sync().conflicts == 0
        assert sue.sync().conflicts == 0
        seen_at, seen_by, _state = sue_sees()
        assert seen_at is not None and as_utc(seen_at) == as_utc(first.checked_at)
        assert seen_by == "Sam"
        # the undo syncs too, and with no mark the hub keeps the audio past the days
        transcript_check.set_checked(sam.ctx.db, planted.recording_id, checked=False)
        assert sam.sync().conflicts == 0
        assert sue.sync().conflicts == 0
        assert sue_sees()[:2] == (None, None)
        day31 = as_utc(first.checked_at) + timedelta(days=31)
        assert hub_run(day31) == [] and blob.exists()

        again = transcript_check.set_checked(sam.ctx.db, planted.recording_id)
        assert again.checked_at is not None
        assert sam.sync().conflicts == 0
        checked = as_utc(again.checked_at)
        assert hub_run(checked + timedelta(days=29)) == [] and blob.exists()
        assert hub_run(checked + timedelta(days=31)) == [("audio", planted.session_id)]
        assert not blob.exists()
        engine = make_engine(hub_server.db.url)
        try:
            with engine.connect() as conn:
                record = conn.execute(
                    select(t.record).where(
                        t.record.c.table_name == "recording",
                        t.record.c.row_id == planted.recording_id,
                    )
                ).one()
                projected = conn.execute(
                    select(t.projection["recording"].c.state).where(
                        t.projection["recording"].c.id == planted.recording_id
                    )
                ).scalar()
        finally:
            engine.dispose()
        assert record.data["state"] == "expired" and record.data["transcript_checked_by"] == "Sam"
        assert projected == "expired"
        summary = sue.sync()
        assert summary.conflicts == 0
        assert sue_sees()[2] == "expired"
        summary = sam.sync()
        assert (summary.conflicts, summary.refused, summary.uploaded) == (0, 0, 0)
        with Session(sam.ctx.db.engine) as db:
            rec = db.get(Recording, planted.recording_id)
            assert rec is not None and rec.state == "expired"
    finally:
        sam.ctx.close()
        sue.ctx.close()
