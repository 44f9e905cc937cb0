"""Redacted copies of recordings: every accepted span of a transcript, placed on the audio
by Whisper's word timestamps, and every stretch a person muted by hand, is silence
(±250 ms around the words) in ``recordings/<id>.redacted.wav``.  The copy is the original
byte for byte everywhere else, header included, so it has the same duration and every
time on the recording stays valid.  A span that cannot be placed (no word timestamps,
or a segment edited since) blocks the recording's upload instead of guessing."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, true, update

from cxfield.audio.at_rest import is_encrypted
from cxfield.audio.encrypted import audio_sha256 as sha256_of
from cxfield.audio.wavfile import read_info
from cxfield.domain.ids import new_id, utcnow
from cxfield.privacy.store import CANDIDATE
from cxfield.privacy.texts import text_hash
from cxfield.storage.database import Database
from cxfield.storage.files import make_private_dir
from cxfield.storage.models import Recording, RedactionMute, TranscriptSegment, TranscriptWords

PAD_S = 0.25
RECORDING = Recording.__table__  # type: ignore[attr-defined]
SEGMENT = TranscriptSegment.__table__  # type: ignore[attr-defined]
WORDS = TranscriptWords.__table__  # type: ignore[attr-defined]
MUTE = RedactionMute.__table__  # type: ignore[attr-defined]
COPY_SETTING = "redaction.audio.{}"


@dataclass
class AudioRedaction:
    recording_id: str
    #: the file that may leave (the original when nothing is muted), relative or absolute
    path: Path | None = None
    sha256: str = ""
    windows: list[tuple[float, float]] = field(default_factory=list)
    #: why the recording may not leave (a span that cannot be placed), else None
    problem: str | None = None


def store_words(
    conn: Connection, segment_id: str, recording_id: str, words: list[dict[str, Any]]
) -> None:
    conn.execute(WORDS.delete().where(WORDS.c.segment_id == segment_id))
    conn.execute(
        insert(WORDS).values(
            segment_id=segment_id,
            recording_id=recording_id,
            words=[
                {"start": float(w["start"]), "end": float(w["end"]), "word": str(w["word"])}
                for w in words
            ],
        )
    )


def add_mute(database: Database, recording_id: str, start_s: float, end_s: float) -> str:
    with database.engine.begin() as conn:
        row = conn.execute(
            select(RECORDING.c.duration_s).where(
                RECORDING.c.id == recording_id, RECORDING.c.deleted_at.is_(None)
            )
        ).first()
        if row is None:
            raise ValueError(f"No recording {recording_id}.")
        duration = float(row.duration_s or 0.0)
        if not 0.0 <= start_s < end_s or (duration and end_s > duration + 1e-6):
            raise ValueError(
                f"A muted stretch must lie within the recording (0–{duration:.2f} s) "
                "and start before it ends."
            )
        mute_id = new_id()
        conn.execute(
            insert(MUTE).values(
                id=mute_id,
                recording_id=recording_id,
                start_s=start_s,
                end_s=end_s,
                created_at=utcnow(),
            )
        )
        return mute_id


def word_ranges(
    text: str, words: list[dict[str, Any]]
) -> list[tuple[int, int, float, float]] | None:
    """Each word's characters in the segment's text, with its times; None when the words
    do not spell the text (the segment was edited after transcription)."""
    out = []
    cursor = 0
    for word in words:
        token = str(word["word"]).strip()
        if not token:
            continue
        index = text.find(token, cursor)
        if index < 0 or text[cursor:index].strip():
            return None
        out.append((index, index + len(token), float(word["start"]), float(word["end"])))
        cursor = index + len(token)
    if text[cursor:].strip():
        return None
    return out


def merge_windows(
    windows: Iterable[tuple[float, float]], duration: float
) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(
        (max(0.0, s), min(duration, e) if duration else e) for s, e in windows
    ):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def windows_of(conn: Connection, recording_id: str) -> tuple[list[tuple[float, float]], str | None]:
    """The stretches to mute, and the first span that cannot be placed (or None)."""
    segments = {
        row.id: row
        for row in conn.execute(
            select(SEGMENT.c.id, SEGMENT.c.text, SEGMENT.c.original_text, SEGMENT.c.start_s).where(
                SEGMENT.c.recording_id == recording_id, SEGMENT.c.deleted_at.is_(None)
            )
        )
    }
    windows = [
        (row.start_s, row.end_s)
        for row in conn.execute(select(MUTE).where(MUTE.c.recording_id == recording_id))
    ]
    if not segments:
        return windows, None
    accepted = list(
        conn.execute(
            select(CANDIDATE).where(
                CANDIDATE.c.table_name == "transcript_segment",
                CANDIDATE.c.row_id.in_(list(segments)),
                CANDIDATE.c.state == "accepted",
            )
        )
    )
    words = {
        row.segment_id: row.words
        for row in conn.execute(select(WORDS).where(WORDS.c.recording_id == recording_id))
    }
    for candidate in accepted:
        segment = segments[candidate.row_id]
        at = f"{candidate.kind} at {segment.start_s:.1f} s"
        # a detail in the model's text kept beside an edit: the words' times are that text's
        said = segment.original_text if candidate.field == "original_text" else segment.text
        if candidate.text_hash != text_hash(said or ""):
            return windows, f"the redaction ({at}) is in a segment edited since it was reviewed"
        ranges = word_ranges(said or "", words.get(candidate.row_id) or [])
        if not ranges:
            why = (
                "has no word timestamps"
                if not words.get(candidate.row_id)
                else ("was edited after transcription, so its words have no times")
            )
            return windows, (
                f"the redaction ({at}) cannot be placed on the audio: the segment {why} "
                "(transcribe again with word timestamps, or mute it by hand: cxfield redact mute)"
            )
        hit = [(s, e) for a, b, s, e in ranges if a < candidate.end and candidate.start < b]
        if not hit:
            return windows, f"the redaction ({at}) matches no word of the segment"
        windows.append((min(s for s, _ in hit) - PAD_S, max(e for _, e in hit) + PAD_S))
    return windows, None


def silence(source: Path, target: Path, windows: list[tuple[float, float]]) -> None:
    """Copy ``source`` to ``target`` (a PCM WAV) with the windows' samples silent.  An
    encrypted recording gives an encrypted copy (new salt and nonces), made as it is read."""
    make_private_dir(target.parent)
    if is_encrypted(source):
        _silence_encrypted(source, target, windows)
        return
    info = read_info(source)
    partial = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, partial)
    quiet = b"\x80" if info.sample_width == 1 else b"\x00"
    with partial.open("r+b") as handle:
        for start, end in windows:
            first = max(0, int(start * info.sample_rate))
            last = min(info.frames, int(round(end * info.sample_rate)))
            if last <= first:
                continue
            handle.seek(info.data_offset + first * info.frame_bytes)
            remaining = (last - first) * info.frame_bytes
            while remaining:
                block = min(remaining, 1 << 20)
                handle.write(quiet * block)
                remaining -= block
    partial.chmod(0o600)
    partial.replace(target)


def _silence_encrypted(source: Path, target: Path, windows: list[tuple[float, float]]) -> None:
    from cxfield.audio.encrypted import EncryptedWav, EncryptedWavWriter, laptop_key

    reader = EncryptedWav(source)
    info = reader.info
    partial = target.with_name(f".{target.name}.part")
    partial.unlink(missing_ok=True)
    ranges = [
        (max(0, int(a * info.sample_rate)) * info.frame_bytes,
         min(info.frames, int(round(b * info.sample_rate))) * info.frame_bytes)
        for a, b in windows
    ]  # fmt: skip
    key = laptop_key(source)
    try:
        writer = EncryptedWavWriter(partial, info.sample_rate, info.channels, key=key)
        try:
            at = 0
            for block in reader.pcm_blocks():
                data = bytearray(block)
                for first, last in ranges:
                    a, b = max(first, at), min(last, at + len(data))
                    if b > a:
                        data[a - at : b - at] = bytes(b - a)
                writer.write(bytes(data))
                at += len(data)
        finally:
            writer.close()
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        reader.close()


def redacted_recording(database: Database, data_dir: Path, recording_id: str) -> AudioRedaction:
    """The file of this recording that may leave the laptop (made or reused)."""
    with database.engine.connect() as conn:
        row = conn.execute(select(RECORDING).where(RECORDING.c.id == recording_id)).first()
        if row is None:
            return AudioRedaction(recording_id, problem="the recording is gone")
        windows, problem = windows_of(conn, recording_id)
    source = data_dir / row.path
    result = AudioRedaction(recording_id, source, row.sha256)
    if problem:
        result.problem = problem
        return result
    result.windows = merge_windows(windows, float(row.duration_s or 0.0))
    if not result.windows:
        return result
    key = hashlib.sha256(json.dumps([row.sha256, result.windows]).encode()).hexdigest()
    target = data_dir / "recordings" / f"{recording_id}.redacted.wav"
    cached = database.get_setting(COPY_SETTING.format(recording_id)) or {}
    if cached.get("key") == key and target.is_file():
        result.path, result.sha256 = target, str(cached["sha256"])
        return result
    if not source.is_file():
        result.problem = "its audio file is missing"
        return result
    silence(source, target, result.windows)
    result.path, result.sha256 = target, sha256_of(target)
    database.set_setting(COPY_SETTING.format(recording_id), {"key": key, "sha256": result.sha256})
    with database.engine.begin() as conn:
        # the row now names another file: it waits to be pushed again
        conn.execute(
            update(RECORDING)
            .where(RECORDING.c.id == recording_id)
            .values(version=RECORDING.c.version + 1)
        )
    return result


def redact_session_audio(
    database: Database, data_dir: Path, session_id: str
) -> list[AudioRedaction]:
    with database.engine.connect() as conn:
        ids = [
            r.id
            for r in conn.execute(
                select(RECORDING.c.id).where(
                    RECORDING.c.session_id == session_id, RECORDING.c.deleted_at.is_(None)
                )
            )
        ]
    return [redacted_recording(database, data_dir, rid) for rid in ids]


def outgoing_audio(
    database: Database, data_dir: Path, held: Iterable[str], *, uploading_only: bool = True
) -> dict[str, AudioRedaction]:
    """Recordings of studies that upload audio, of sessions not held, that have something
    to mute (or a span that cannot be placed): what leaves instead of the original."""
    from cxfield.storage.models import ResearchSession, Study

    session = ResearchSession.__table__  # type: ignore[attr-defined]
    study = Study.__table__  # type: ignore[attr-defined]
    held_ids = set(held)
    with database.engine.connect() as conn:
        spans = select(SEGMENT.c.recording_id).join(
            CANDIDATE,
            (CANDIDATE.c.row_id == SEGMENT.c.id)
            & (CANDIDATE.c.table_name == "transcript_segment")
            & (CANDIDATE.c.state == "accepted"),
        )
        muted = select(MUTE.c.recording_id)
        query = (
            select(RECORDING.c.id, RECORDING.c.session_id)
            .join(session, session.c.id == RECORDING.c.session_id)
            .join(study, study.c.id == session.c.study_id)
            .where(
                study.c.audio_upload.is_(True) if uploading_only else true(),
                RECORDING.c.deleted_at.is_(None),
                RECORDING.c.id.in_(spans.union(muted).scalar_subquery()),
            )
        )
        ids = [r.id for r in conn.execute(query) if r.session_id not in held_ids]
    return {rid: redacted_recording(database, data_dir, rid) for rid in ids}
