"""The "transcript checked" mark of a recording (who, when): set and taken back with
`cxfield transcripts check RECORDING_ID [--undo]`, listed by `transcripts status`; refused
with one line for a recording without a transcript, an unknown id or a read-only
(approved) session, changing nothing; each mark after submission is in the session's
history, with who made it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.cli import main
from cxfield.domain.vocabulary import SessionStatus
from cxfield.services import demo, transcript_check
from cxfield.storage.actor import PROFILE_KEY
from cxfield.storage.models import AuditEntry, Recording, Researcher, ResearchSession
from tests.privacy_support import plant_texts


def _cli(ctx: AppContext, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(ctx.paths.root), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _status(ctx: AppContext, session_id: str, status: SessionStatus) -> None:
    with ctx.db.session() as db:
        session = db.get(ResearchSession, session_id)
        assert session is not None
        session.status = status
        db.add(session)


def _recording(ctx: AppContext, recording_id: str) -> Recording:
    with ctx.db.session() as db:
        recording = db.get(Recording, recording_id)
        assert recording is not None
        return recording


def test_check_and_undo_from_the_cli_are_audited(
    ctx: AppContext, capsys: pytest.CaptureFixture[str]
) -> None:
    study = demo.create_demo(ctx.db, 4)
    planted = plant_texts(ctx.db, study.id)
    with ctx.db.session() as db:
        ana = Researcher(name="Ana Ruiz")
        db.add(ana)
        db.flush()
        ana_id = ana.id
    ctx.db.set_setting(PROFILE_KEY, ana_id)
    _status(ctx, planted.session_id, SessionStatus.SUBMITTED)
    version = _recording(ctx, planted.recording_id).version

    code, out, _err = _cli(ctx, capsys, "transcripts", "check", planted.recording_id)
    assert code == 0 and "checked by Ana Ruiz" in out
    marked = _recording(ctx, planted.recording_id)
    assert marked.transcript_checked_by == "Ana Ruiz" and marked.transcript_checked_at
    assert marked.version == version + 1  # a change that syncs
    # marking again keeps the first mark (and makes no change to sync)
    assert _cli(ctx, capsys, "transcripts", "check", planted.recording_id)[0] == 0
    again = _recording(ctx, planted.recording_id)
    assert (again.version, again.transcript_checked_at) == (
        marked.version,
        marked.transcript_checked_at,
    )
    code, out, _err = _cli(ctx, capsys, "transcripts", "status", "--session", planted.session_id)
    assert code == 0 and planted.recording_id in out and "checked by Ana Ruiz" in out
    code, out, _err = _cli(
        ctx, capsys, "transcripts", "status", "--session", planted.session_id, "--json"
    )
    (row,) = json.loads(out)
    assert row["recording_id"] == planted.recording_id and row["checked_by"] == "Ana Ruiz"
    assert row["segments"] == 1 and row["checked_at"]

    code, out, _err = _cli(ctx, capsys, "sessions", "show", planted.session_id)
    assert code == 0 and f"Recording {planted.recording_id}: " in out
    assert "; transcript checked 20" in out

    code, out, _err = _cli(ctx, capsys, "transcripts", "check", planted.recording_id, "--undo")
    assert code == 0 and "not checked" in out
    undone = _recording(ctx, planted.recording_id)
    assert undone.transcript_checked_at is None and undone.transcript_checked_by is None

    # the session was submitted: the mark and its undo are in its history, by Ana
    with ctx.db.session() as db:
        entries = db.exec(
            select(AuditEntry).where(
                AuditEntry.row_id == planted.recording_id,
                AuditEntry.field == "transcript_checked_at",
            )
        ).all()
    assert [(e.before is None, e.after is None) for e in entries] == [
        (True, False),
        (False, True),
    ]
    assert {e.actor_name for e in entries} == {"Ana Ruiz"}


def test_refusals_change_nothing(
    ctx: AppContext, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    study = demo.create_demo(ctx.db, 4)
    planted = plant_texts(ctx.db, study.id)
    with ctx.db.session() as db:
        bare = Recording(session_id=planted.session_id, path="recordings/bare.wav")
        db.add(bare)
        db.flush()
        bare_id = bare.id
    code, _out, err = _cli(ctx, capsys, "transcripts", "check", bare_id)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "no transcript yet" in err
    assert _recording(ctx, bare_id).transcript_checked_at is None
    code, _out, err = _cli(ctx, capsys, "transcripts", "check", "nope")
    assert code == 1 and "No recording with id nope" in err

    # an approved session is read-only: neither a mark nor an undo
    transcript_check.set_checked(ctx.db, planted.recording_id)
    _status(ctx, planted.session_id, SessionStatus.APPROVED)
    before = _recording(ctx, planted.recording_id)
    code, _out, err = _cli(ctx, capsys, "transcripts", "check", planted.recording_id, "--undo")
    assert code == 1 and "read-only" in err and len(err.strip().splitlines()) == 1
    after = _recording(ctx, planted.recording_id)
    assert (after.version, after.transcript_checked_at) == (
        before.version,
        before.transcript_checked_at,
    )
    assert transcript_check.is_read_only(ctx.db, planted.session_id)
