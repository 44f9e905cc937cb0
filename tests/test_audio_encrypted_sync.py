"""A recording encrypted at rest with the laptop key never leaves as it is on disk: the hub
gets the WAV it holds, its redacted copy, or (end-to-end encryption) that WAV sealed with
the study's key — never the laptop's ciphertext."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cxfield.audio import at_rest, encrypted
from cxfield.privacy import audio, keys, store, study_protection
from cxfield.services import journey_editor, studies
from cxfield.storage.models import Recording, ResearchSession, Study, TranscriptSegment
from tests.sync_support import Laptop, Team
from tests.test_audio_encrypted import noise

PASS = "correct horse battery"


def _encrypted_recording(laptop: Laptop, samples: np.ndarray, text: str = "") -> tuple[str, Path]:
    """A study that uploads audio, a session and an encrypted recording of ``samples``."""
    db, root = laptop.db, laptop.ctx.paths.root
    study = studies.create_study(db, Study(name="Encrypted at rest"))
    journey_editor.update_study(db, study.id, audio_upload=True)
    plain = root / "plain-source.wav"
    sf.write(str(plain), samples, 16000, subtype="PCM_16")
    path = root / "recordings" / "r1.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    encrypted.encrypt_wav(plain, path, encrypted.laptop_key(path))
    plain.unlink()
    with db.session() as session:
        visit = ResearchSession(study_id=study.id)
        session.add(visit)
        session.flush()
        row = Recording(
            session_id=visit.id,
            path="recordings/r1.wav",
            sha256=encrypted.audio_sha256(path),
            duration_s=len(samples) / 16000,
            state="complete",
        )
        session.add(row)
        session.flush()
        rec_id, segment_id = row.id, ""
        if text:
            segment = TranscriptSegment(
                recording_id=row.id, session_id=visit.id, start_s=0.0, end_s=2.0, text=text
            )
            session.add(segment)
            session.flush()
            segment_id = segment.id
    if segment_id:
        words = [
            {"start": 0.2, "end": 0.5, "word": " my"},
            {"start": 0.5, "end": 0.9, "word": " social"},
            {"start": 0.9, "end": 1.0, "word": " is"},
            {"start": 1.0, "end": 1.8, "word": " 512-44-6789"},
        ]
        with db.engine.begin() as conn:
            audio.store_words(conn, segment_id, rec_id, words)
    return rec_id, path


def _blobs(team: Team) -> list[Path]:
    return [p for p in (team.root / "hub" / "blobs").rglob("*") if p.is_file()]


def _plain_of(path: Path, tmp: Path) -> bytes:
    out = tmp / f"{path.name}.plain"
    encrypted.write_plain_wav(path, out)
    return out.read_bytes()


def test_the_hub_gets_the_wav_never_the_laptop_ciphertext(team: Team, tmp_path: Path) -> None:
    ana = team.laptop("Ana")
    samples = noise(2.0)
    _rid, path = _encrypted_recording(ana, samples)
    on_disk = path.read_bytes()
    assert ana.sync().uploaded == 1
    (blob,) = _blobs(team)
    held = blob.read_bytes()
    assert held == _plain_of(path, tmp_path) and not at_rest.is_encrypted(blob)
    assert on_disk[-4096:] not in held  # nothing of the laptop's ciphertext
    assert np.array_equal(sf.read(str(blob), dtype="int16")[0], samples)
    assert blob.name == hashlib.sha256(held).hexdigest()  # the hub checked it
    assert path.read_bytes() == on_disk  # the laptop keeps its encrypted copy
    assert not list((ana.ctx.paths.root / "outbox").iterdir())  # the plain copy is gone
    assert ana.sync().uploaded == 0


def test_the_redacted_copy_is_encrypted_here_and_leaves_as_a_plain_wav(
    team: Team, tmp_path: Path
) -> None:
    ana = team.laptop("Ana")
    samples = noise(3.0)
    rec_id, path = _encrypted_recording(ana, samples, "my social is 512-44-6789")
    with ana.db.session() as db:
        visit_id = db.get(Recording, rec_id).session_id  # type: ignore[union-attr]
    store.scan_sessions(ana.db, [visit_id])
    for row in store.candidates(ana.db, session_id=visit_id):
        store.decide(ana.db, row.id, "accepted")
    result = audio.redacted_recording(ana.db, ana.ctx.paths.root, rec_id)
    assert result.problem is None and result.path is not None and result.windows
    assert at_rest.is_encrypted(result.path)  # at rest, the copy is encrypted too
    assert ana.sync().uploaded == 1
    (blob,) = _blobs(team)
    assert not at_rest.is_encrypted(blob) and blob.name == result.sha256
    new = sf.read(str(blob), dtype="int16")[0]
    muted = np.zeros(len(samples), dtype=bool)
    for start, end in result.windows:
        muted[int(start * 16000) : int(round(end * 16000))] = True
    assert muted.any() and not new[muted].any()  # the number is silent
    assert np.array_equal(new[~muted], samples[~muted])  # the rest as recorded
    assert blob.read_bytes() == _plain_of(result.path, tmp_path)


def test_an_end_to_end_study_gets_the_wav_sealed_with_its_key(team: Team, tmp_path: Path) -> None:
    ana = team.laptop("Ana")
    samples = noise(2.0)
    _rid, path = _encrypted_recording(ana, samples)
    study_id = studies.list_studies(ana.db)[0].id
    created = study_protection.create_key(ana.db, ana.ctx.paths.root, study_id, PASS)
    assert ana.sync().uploaded == 1
    (blob,) = _blobs(team)
    assert at_rest.is_encrypted(blob)
    with blob.open("rb") as handle:
        assert at_rest.read_preamble(handle).kind == at_rest.KIND_STUDY  # not the laptop's
    private = keys.unlock(created.locked, PASS)
    opened = b"".join(at_rest.chunks(blob, private_key=private))
    assert opened == _plain_of(path, tmp_path)
    with pytest.raises(at_rest.AtRestError):
        list(at_rest.chunks(blob, laptop_key=encrypted.laptop_key(path)))
