"""Recording into a session: consent, the Recording row's life, notes on the recording's clock
across pauses, start-up recovery of an interrupted recording."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from cxfield.app import AppContext, open_app
from cxfield.audio.backend import NoMicrophoneError
from cxfield.audio.encrypted import audio_sha256, pcm_info
from cxfield.audio.wavfile import WavWriter
from cxfield.domain.errors import ValidationError
from cxfield.domain.ids import utcnow
from cxfield.services import recording as rec
from cxfield.services.sessions import session_detail
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ConsentRecord,
    Note,
    Participant,
    Recording,
    ResearchSession,
    Study,
)
from tests.audio_support import FakeBackend, tone

GB = 1024**3


def make_session(db: Database, *, consents: list[dict[str, bool]] | None = None) -> str:
    """A session whose participant gave the consents listed (oldest first)."""
    with db.session() as s:
        study = Study(name="Benefits office visits")
        s.add(study)
        s.flush()
        participant = Participant(study_id=study.id, code="P-0001")
        s.add(participant)
        s.flush()
        start = utcnow() - timedelta(days=1)
        for n, consent in enumerate(consents if consents is not None else [{}]):
            s.add(
                ConsentRecord(
                    participant_id=participant.id,
                    consent_version=1,
                    interview_consent=True,
                    recording_consent=consent.get("recording", True),
                    withdrawn=consent.get("withdrawn", False),
                    consented_at=start + timedelta(hours=n),
                )
            )
        session = ResearchSession(study_id=study.id, participant_id=participant.id)
        s.add(session)
        s.flush()
        return session.id


@pytest.mark.parametrize(
    ("consents", "allowed", "reason"),
    [
        ([{}], True, "consented"),
        ([], False, "No consent"),
        ([{"recording": False}], False, "did not consent"),
        ([{}, {"recording": False}], False, "did not consent"),  # the latest counts
        ([{"recording": False}, {}], True, "consented"),
        ([{}, {"withdrawn": True}], False, "withdrew"),
    ],
)
def test_recording_consent(
    ctx: AppContext, consents: list[dict[str, bool]], allowed: bool, reason: str
) -> None:
    session_id = make_session(ctx.db, consents=consents)
    consent = rec.recording_consent(ctx.db, session_id)
    assert consent.allowed is allowed and reason in consent.reason


def test_no_consent_no_recording(ctx: AppContext) -> None:
    session_id = make_session(ctx.db, consents=[{"recording": False}])
    backend = FakeBackend()
    with pytest.raises(ValidationError, match="did not consent to being recorded"):
        rec.start_session_recording(ctx.db, ctx.paths.root, session_id, backend)
    assert not backend.inputs
    assert session_detail(ctx.db, session_id)["recordings"] == []


def test_session_recording_with_notes_across_pauses(ctx: AppContext) -> None:
    session_id = make_session(ctx.db)
    backend = FakeBackend()
    active = rec.start_session_recording(
        ctx.db, ctx.paths.root, session_id, backend, free_space=lambda _p: 10 * GB
    )
    # the row exists from the first moment, so a crash can be recovered
    assert session_detail(ctx.db, session_id)["recordings"][0]["state"] == "recording"
    backend.feed(tone(2.0))
    active.pause()
    backend.feed(tone(5.0))  # a break: not recorded
    paused_note = active.note_fields()
    active.resume()
    backend.feed(tone(1.0))
    later_note = active.note_fields()
    with ctx.db.session() as s:
        s.add(Note(session_id=session_id, text="during the break", **paused_note))
        s.add(Note(session_id=session_id, text="after", session_offset_ms=8000, **later_note))
    summary = active.stop()
    assert paused_note["recording_offset_frames"] == 32000
    assert later_note["recording_offset_frames"] == 48000
    assert summary["state"] == "complete" and summary["duration_s"] == 3.0

    detail = session_detail(ctx.db, session_id)
    (recording,) = detail["recordings"]
    path = ctx.paths.root / recording["path"]
    assert recording["duration_s"] == 3.0 and recording["sha256"] == audio_sha256(path)
    assert pcm_info(path).frames == 48000 and pcm_info(path).encrypted  # a new data dir
    assert {n["recording_offset_frames"] for n in detail["notes"]} == {32000, 48000}
    assert all(n["recording_id"] == recording["id"] for n in detail["notes"])
    assert active.stop()["state"] == "complete"  # idempotent


def test_no_microphone_attaches_nothing(ctx: AppContext) -> None:
    session_id = make_session(ctx.db)
    backend = FakeBackend(fail=NoMicrophoneError("No microphone found."))
    with pytest.raises(NoMicrophoneError):
        rec.start_session_recording(ctx.db, ctx.paths.root, session_id, backend)
    assert session_detail(ctx.db, session_id)["recordings"] == []
    assert list((ctx.paths.root / "recordings").iterdir()) == []


def test_input_device_is_remembered(ctx: AppContext) -> None:
    assert rec.remembered_input_device(ctx.db) is None
    rec.remember_input_device(ctx.db, "USB mic")
    assert rec.remembered_input_device(ctx.db) == "USB mic"


def _interrupted(db: Database, root: Path, session_id: str, seconds: float) -> str:
    """A recording row + file as a killed process leaves them."""
    with db.session() as s:
        row = Recording(session_id=session_id, path="recordings/x.wav", state="recording")
        s.add(row)
    (root / "recordings").mkdir(exist_ok=True)
    writer = WavWriter(root / row.path, 16000)
    writer._write_all(tone(seconds).tobytes())
    os.close(writer._fd)  # no final header patch, lock released as by a dying process
    return row.id


def test_recovery_at_start_up(data_dir: Path) -> None:
    ctx = open_app(data_dir)
    session_id = make_session(ctx.db)
    rec_id = _interrupted(ctx.db, ctx.paths.root, session_id, 2.5)
    ctx.close()

    again = open_app(data_dir)
    try:
        (message,) = again.messages
        assert "Recovered an interrupted recording of participant P-0001" in message
        assert "0:03 of audio" in message or "0:02 of audio" in message
        (recording,) = session_detail(again.db, session_id)["recordings"]
        assert recording["id"] == rec_id and recording["state"] == "recovered"
        assert recording["duration_s"] == 2.5
        assert pcm_info(data_dir / recording["path"]).frames == 40000
    finally:
        again.close()
    third = open_app(data_dir)  # told once, not at every start
    assert third.messages == []
    third.close()


def test_recovery_leaves_a_live_recording_alone(ctx: AppContext) -> None:
    session_id = make_session(ctx.db)
    backend = FakeBackend()
    active = rec.start_session_recording(
        ctx.db, ctx.paths.root, session_id, backend, free_space=lambda _p: 10 * GB
    )
    backend.feed(tone(1.0))
    assert rec.recover_interrupted_recordings(ctx.db, ctx.paths.root) == []
    assert active.stop()["state"] == "complete"


def test_recovery_of_a_recording_without_audio(ctx: AppContext) -> None:
    session_id = make_session(ctx.db)
    _interrupted(ctx.db, ctx.paths.root, session_id, 0)
    (message,) = rec.recover_interrupted_recordings(ctx.db, ctx.paths.root)
    assert "before any audio was saved" in message
    assert session_detail(ctx.db, session_id)["recordings"] == []
