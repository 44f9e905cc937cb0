"""Audio upload for studies that send recordings to the hub: chunked, resumable after a
dropped connection and an app restart, checked by the hub, the laptop's copy kept."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import pytest

from cxfield.app import open_app
from cxfield.domain.errors import ValidationError
from cxfield.services import journey_editor, studies
from cxfield.storage.models import Recording, ResearchSession, Study
from cxfield.sync import upload
from cxfield.sync.client import HubUnreachable
from cxfield.sync.connection import status
from tests.sync_support import Laptop, Team

CHUNK = 64 * 1024


def _recording(laptop: Laptop, *, upload_audio: bool, size: int = 5 * CHUNK + 123) -> Path:
    db = laptop.db
    study = studies.create_study(db, Study(name="Recorded study"))
    if upload_audio:
        journey_editor.update_study(db, study.id, audio_upload=True)
    audio = os.urandom(size)
    path = laptop.ctx.paths.recordings / "r1.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(audio)
    with db.session() as session:
        visit = ResearchSession(study_id=study.id)
        session.add(visit)
        session.flush()
        session.add(
            Recording(
                id="r1",
                session_id=visit.id,
                path="recordings/r1.wav",
                sha256=hashlib.sha256(audio).hexdigest(),
                duration_s=1.0,
            )
        )
    return path


def _hub_copy(team: Team, path: Path) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return team.root / "hub" / "blobs" / digest[:2] / digest


def test_upload_resumes_after_a_dropped_answer_and_a_restart(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload, "CHUNK_BYTES", CHUNK)
    ana = team.laptop("Ana")
    path = _recording(ana, upload_audio=True)
    assert status(ana.db, ana.ctx.paths.root)["audio_waiting"] == 1
    patches: list[str] = []

    def lose_the_third_chunk_answer(request: httpx.Request) -> str:
        if request.method == "PATCH":
            patches.append(request.headers["Upload-Offset"])
            if len(patches) == 3:
                return "drop_answer"  # the hub stored the chunk; the laptop never hears
        return "ok"

    team.faults = lose_the_third_chunk_answer
    with pytest.raises(HubUnreachable):
        ana.sync()
    assert not _hub_copy(team, path).exists()
    # The app restarts (a new process on the same data), and so does the hub.
    ana.ctx.close()
    ana.ctx = open_app(ana.ctx.paths.root)
    team.restart_hub()
    summary = ana.sync()
    assert summary.uploaded == 1
    # It went on from the hub's offset: the chunk whose answer was lost was not sent again.
    assert patches == [str(n * CHUNK) for n in range(6)]
    assert _hub_copy(team, path).read_bytes() == path.read_bytes()
    assert path.exists()  # the laptop keeps its copy
    assert status(ana.db, ana.ctx.paths.root)["audio_waiting"] == 0
    assert ana.sync().uploaded == 0


def test_audio_stays_on_the_laptop_by_default(team: Team) -> None:
    ana = team.laptop("Ana")
    path = _recording(ana, upload_audio=False)
    study_id = studies.list_studies(ana.db)[0].id
    with pytest.raises(ValidationError, match="on \\(true\\) or off"):
        journey_editor.update_study(ana.db, study_id, audio_upload="yes")
    assert status(ana.db, ana.ctx.paths.root)["audio_waiting"] == 0
    assert ana.sync().uploaded == 0
    assert not (team.root / "hub" / "blobs").exists() or not _hub_copy(team, path).exists()


def test_a_file_changed_since_recording_is_not_uploaded(team: Team) -> None:
    ana = team.laptop("Ana")
    path = _recording(ana, upload_audio=True)
    path.write_bytes(b"not the recorded audio")
    summary = ana.sync()
    assert summary.uploaded == 0
    assert any("changed since it was recorded" in m for m in summary.messages)
    assert status(ana.db, ana.ctx.paths.root)["audio_waiting"] == 1
