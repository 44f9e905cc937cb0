"""Audio redaction on generated speech with a synthetic word-timestamp transcript: the
muted windows (±250 ms around the accepted words, and a stretch muted by hand) are silent,
everything else is bit-identical, the copy is what uploads, and a span that cannot be
placed blocks the upload with a message."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import select

from cxfield.audio.wavfile import read_info
from cxfield.privacy import audio, store
from cxfield.services import journey_editor, studies
from cxfield.storage.models import Recording, ResearchSession, Study, TranscriptSegment
from tests.audio_support import speech_wav
from tests.sync_support import Team

TEXT = "my social is 512-44-6789 thanks"
WORDS = [
    {"start": 0.10, "end": 0.40, "word": " my"},
    {"start": 0.40, "end": 0.90, "word": " social"},
    {"start": 0.90, "end": 1.10, "word": " is"},
    {"start": 1.10, "end": 2.60, "word": " 512-44-6789"},
    {"start": 2.70, "end": 3.10, "word": " thanks"},
]


def _recorded_session(db: object, root: Path) -> tuple[str, str, Path]:
    study = studies.create_study(db, Study(name="Audio study"))  # type: ignore[arg-type]
    journey_editor.update_study(db, study.id, audio_upload=True)  # type: ignore[arg-type]
    (root / "recordings").mkdir(parents=True, exist_ok=True)
    path = speech_wav(
        "my social is five one two four four six seven eight nine, thanks. "
        "and my name is maria lopez.",
        root / "recordings" / "r1.wav",
    )
    info = read_info(path)
    with db.session() as session:  # type: ignore[attr-defined]
        visit = ResearchSession(study_id=study.id)
        session.add(visit)
        session.flush()
        rec = Recording(
            session_id=visit.id,
            path="recordings/r1.wav",
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            duration_s=info.duration_s,
        )
        session.add(rec)
        session.flush()
        segment = TranscriptSegment(
            recording_id=rec.id, session_id=visit.id, start_s=0.0, end_s=3.2, text=TEXT
        )
        session.add(segment)
        session.flush()
        segment_id, rec_id = segment.id, rec.id
    with db.engine.begin() as conn:  # type: ignore[attr-defined]
        audio.store_words(conn, segment_id, rec_id, WORDS)
    return visit.id, rec_id, path


def _samples(path: Path) -> np.ndarray:
    info = read_info(path)
    raw = path.read_bytes()[info.data_offset : info.data_offset + info.data_bytes]
    return np.frombuffer(raw, dtype="<i2")


def _review(db: object, session_id: str) -> None:
    store.scan_sessions(db, [session_id])  # type: ignore[arg-type]
    for row in store.candidates(db, session_id=session_id):  # type: ignore[arg-type]
        store.decide(db, row.id, "accepted")  # type: ignore[arg-type]


def test_accepted_words_and_a_hand_mute_are_silent_the_rest_bit_identical(
    team: Team,
) -> None:
    ana = team.laptop("Ana")
    root = ana.ctx.paths.root
    session_id, rec_id, original = _recorded_session(ana.db, root)
    _review(ana.db, session_id)
    audio.add_mute(ana.db, rec_id, 3.3, 3.6)
    result = audio.redacted_recording(ana.db, root, rec_id)
    assert result.problem is None and result.path is not None
    assert result.windows == [pytest.approx((0.85, 2.85)), (3.3, 3.6)]
    before, after = original.read_bytes(), result.path.read_bytes()
    info = read_info(original)
    assert len(after) == len(before)  # same duration, every time stays valid
    assert after[: info.data_offset] == before[: info.data_offset]  # same header
    old, new = _samples(original), _samples(result.path)
    rate = info.sample_rate
    muted = np.zeros(len(old), dtype=bool)
    for start, end in result.windows:
        muted[int(start * rate) : int(round(end * rate))] = True
    assert np.abs(old[muted]).max() > 1000  # there was speech to hide
    assert not new[muted].any()  # silence
    assert np.array_equal(new[~muted], old[~muted])  # everything else bit-identical
    assert result.sha256 == hashlib.sha256(after).hexdigest()

    summary = ana.sync()
    assert summary.uploaded == 1
    blobs = team.root / "hub" / "blobs"
    assert (blobs / result.sha256[:2] / result.sha256).read_bytes() == after
    original_sha = hashlib.sha256(before).hexdigest()
    assert not (blobs / original_sha[:2] / original_sha).exists()
    assert original.read_bytes() == before  # the laptop keeps the original


def test_a_span_that_cannot_be_placed_blocks_the_upload(team: Team) -> None:
    ana = team.laptop("Ana")
    root = ana.ctx.paths.root
    session_id, rec_id, _original = _recorded_session(ana.db, root)
    with ana.db.engine.begin() as conn:
        conn.execute(audio.WORDS.delete())  # transcribed without word timestamps
    _review(ana.db, session_id)
    summary = ana.sync()
    assert summary.uploaded == 0
    assert any(rec_id in m and "cannot be placed on the audio" in m for m in summary.messages), (
        summary.messages
    )
    assert not (team.root / "hub" / "blobs").exists() or not any(
        p.is_file() for p in (team.root / "hub" / "blobs").rglob("*")
    )
    # the recording's row waits with it (it would name audio that cannot leave), while the
    # transcript's redacted text goes
    hub = team.hub_rows()
    assert ("recording", rec_id) not in hub
    assert any(table == "transcript_segment" for table, _id in hub)


def test_word_ranges_refuse_an_edited_segment() -> None:
    assert audio.word_ranges(TEXT, WORDS) is not None
    assert audio.word_ranges(TEXT.replace("thanks", "thank you"), WORDS) is None
    assert audio.merge_windows([(0.5, 1.0), (0.9, 1.4), (-0.2, 0.1)], 10.0) == [
        (0.0, 0.1),
        (0.5, 1.4),
    ]


def test_a_hand_mute_outside_the_recording_is_refused(team: Team) -> None:
    ana = team.laptop("Ana")
    _session, rec_id, _path = _recorded_session(ana.db, ana.ctx.paths.root)
    with pytest.raises(ValueError, match="within the recording"):
        audio.add_mute(ana.db, rec_id, 2.0, 99.0)
    with pytest.raises(ValueError, match="No recording"):
        audio.add_mute(ana.db, "nope", 0.0, 1.0)


def test_transcription_keeps_word_timestamps_and_asks_for_them(team: Team) -> None:
    from cxfield.services import transcription
    from cxfield.storage.models import TranscriptWords
    from cxfield.transcribe.pipeline import Segment

    ana = team.laptop("Ana")
    session_id, rec_id, _path = _recorded_session(ana.db, ana.ctx.paths.root)
    with ana.db.session() as db:
        transcription._replace_segments(
            db, session_id, rec_id, [Segment(0.0, 3.2, " " + TEXT, WORDS), Segment(3.2, 4, "x")]
        )
    with ana.db.session() as db:
        kept = list(db.exec(select(TranscriptWords)))
        assert [row.words for row in kept] == [WORDS]
        with_words = db.exec(
            select(TranscriptSegment).where(TranscriptSegment.id == kept[0].segment_id)
        ).one()
        assert audio.word_ranges(with_words.text, kept[0].words) is not None
        study_id = db.get(ResearchSession, session_id).study_id  # type: ignore[union-attr]
        assert transcription._redacting(db, study_id)  # review on: word timestamps on


def test_the_refi_qda_project_embeds_the_redacted_copy(team: Team, tmp_path: Path) -> None:
    import zipfile

    from cxfield.export import jobs

    ana = team.laptop("Ana")
    root = ana.ctx.paths.root
    session_id, rec_id, original = _recorded_session(ana.db, root)
    _review(ana.db, session_id)
    with ana.db.session() as db:
        study_id = db.get(ResearchSession, session_id).study_id  # type: ignore[union-attr]
    target = tmp_path / "study.qdpx"
    jobs.export_study_qdpx(ana.db, root, study_id, target)
    with zipfile.ZipFile(target) as archive:
        sounds = [archive.read(n) for n in archive.namelist() if n.endswith(".wav")]
    copy = audio.redacted_recording(ana.db, root, rec_id)
    assert copy.path is not None
    assert sounds == [copy.path.read_bytes()]
    assert sounds[0] != original.read_bytes()
