"""Speaker suggestions for transcripts, and the interviewers' enrolled voices.

After a transcription (when the study asks for speaker labels) every segment whose speaker
nobody has set gets ``speaker_suggested`` from the voice turns of its recording (see
:mod:`cxfield.transcribe.speakers`).  A suggestion stays a suggestion until a person
confirms it (:func:`confirm_suggestions`) or sets a speaker; either clears it.

A researcher's voice print (256 numbers from a short sample) lets the clustering tell which
voice is the interviewer.  It is kept in a local setting on this computer only (never
synced: it is biometric data), ``speakers.voice.<researcher id>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlmodel import Session, col, select

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.domain.vocabulary import Speaker
from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import Recording, Researcher, ResearchSession, TranscriptSegment

if TYPE_CHECKING:
    from cxfield.transcribe.speakers import SpeakerSettings

VOICE_KEY = "speakers.voice"
#: what the app says wherever suggestions are shown
CHECK_NOTE = (
    "Speakers are suggested from the voices and need checking: they are right for clearly "
    "different voices, often wrong for similar ones."
)


class SpeakerOptions(Protocol):
    speaker_labels: bool
    speakers: int


def voice_key(researcher_id: str) -> str:
    return f"{VOICE_KEY}.{researcher_id}"


def enrol_voice(database: Database, researcher_id: str, audio_path: Path) -> int:
    """Store the voice print of a researcher from a short sample of their speech (any
    format ffmpeg reads).  Returns the seconds of speech it was made from."""
    from cxfield.transcribe import speakers
    from cxfield.transcribe.audio_source import SAMPLE_RATE, open_audio

    with database.session() as db:
        researcher = get_live(db, Researcher, researcher_id, "researcher")
        name = researcher.name
    source = open_audio(Path(audio_path).expanduser())
    # two minutes are plenty: only the first block is read
    audio = next(iter(source.blocks(int(120 * SAMPLE_RATE))), None)
    if audio is None or not len(audio):
        raise ValidationError(f"{Path(audio_path).name} holds no audio.")
    voice = speakers.voice_print(audio)
    database.set_setting(voice_key(researcher_id), {"name": name, "voice": voice})
    return int(len(audio) / SAMPLE_RATE)


def voice_of(database: Database, researcher_id: str | None) -> list[float] | None:
    if not researcher_id:
        return None
    stored = database.get_setting(voice_key(researcher_id))
    if not isinstance(stored, dict) or not isinstance(stored.get("voice"), list):
        return None
    return [float(x) for x in stored["voice"]]


def forget_voice(database: Database, researcher_id: str) -> bool:
    """Delete a researcher's voice print; False when there was none."""
    if voice_of(database, researcher_id) is None:
        return False
    database.set_setting(voice_key(researcher_id), None)
    return True


def speaker_settings(
    database: Database, session_id: str | None, options: SpeakerOptions
) -> SpeakerSettings | None:
    """What the worker needs to suggest speakers for a session, or None when the study
    does not ask for speaker labels."""
    if not options.speaker_labels:
        return None
    from cxfield.transcribe.speakers import SpeakerSettings, check_speakers

    researcher_id = None
    if session_id is not None:
        with database.session() as db:
            session = db.get(ResearchSession, session_id)
            researcher_id = session.researcher_id if session is not None else None
    return SpeakerSettings(
        speakers=check_speakers(int(options.speakers)),
        interviewer_voice=voice_of(database, researcher_id),
    )


def suggest_speakers(db: Session, recording_id: str, turns: list[Any]) -> int:
    """Set ``speaker_suggested`` on the recording's segments whose speaker is unknown (in
    the caller's transaction); returns how many got a suggestion."""
    from cxfield.transcribe.speakers import label_spans

    rows = db.exec(
        select(TranscriptSegment).where(
            TranscriptSegment.recording_id == recording_id,
            col(TranscriptSegment.deleted_at).is_(None),
        )
    ).all()
    open_rows = [r for r in rows if r.speaker == Speaker.UNKNOWN]
    labels = label_spans([(r.start_s, r.end_s) for r in open_rows], turns)
    count = 0
    for row, label in zip(open_rows, labels, strict=True):
        value = Speaker(label) if label in (Speaker.INTERVIEWER, Speaker.PARTICIPANT) else None
        if row.speaker_suggested != value:
            row.speaker_suggested = value
            db.add(row)
        count += value is not None
    return count


def confirm_suggestions(database: Database, segment_ids: list[str]) -> int:
    """Take the suggested speaker of each segment as its speaker (one key in the editor);
    segments without a suggestion are left as they are.  Returns how many changed."""
    changed = 0
    with database.session() as db:
        for segment_id in segment_ids:
            seg = get_live(db, TranscriptSegment, segment_id, "transcript segment")
            if seg.speaker_suggested is None:
                continue
            seg.speaker, seg.speaker_suggested = seg.speaker_suggested, None
            db.add(seg)
            changed += 1
    return changed


def suggest_for_session(
    database: Database, data_root: Path, session_id: str, speakers_n: int = 2
) -> int:
    """Suggest speakers for a session's transcript now (its recordings read again); for a
    transcript made before speaker labels were switched on.  Returns segments suggested."""
    from cxfield.transcribe.audio_source import open_audio
    from cxfield.transcribe.speakers import SpeakerSettings, check_speakers, diarize_source

    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
        researcher_id = session.researcher_id
        recordings = db.exec(
            select(Recording).where(
                Recording.session_id == session_id, col(Recording.deleted_at).is_(None)
            )
        ).all()
        paths = [(r.id, data_root / r.path) for r in recordings]
    if not paths:
        raise NotFoundError(f"Session {session_id} has no recording.")
    settings = SpeakerSettings(check_speakers(speakers_n), voice_of(database, researcher_id))
    total = 0
    for recording_id, path in paths:
        turns = diarize_source(open_audio(path), settings).turns
        with database.session() as db:
            total += suggest_speakers(db, recording_id, turns)
    return total
