"""Recording a session's audio: consent, the live recording and its notes' clock, imports,
and recovery of recordings interrupted by a crash.

A :class:`~cxfield.storage.models.Recording` row with state ``recording`` is written *before*
the first frame, so that after a crash the next start-up finds the file, repairs it and
attaches it (state ``recovered``).  A normal stop makes it ``complete`` with duration and
sha256; imports are ``imported`` and keep the original file next to the 16 kHz copy.

Only the standard-library parts of :mod:`cxfield.audio` are imported at module level:
start-up recovery must work where the audio extra (numpy, PortAudio) is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from cxfield.audio.at_rest import AtRestError
from cxfield.audio.encrypted import audio_sha256 as sha256_of
from cxfield.audio.encrypted import repair
from cxfield.audio.wavfile import AudioFileError
from cxfield.audio.wavfile import is_locked as recording_is_live
from cxfield.domain.errors import CxfieldError
from cxfield.domain.ids import new_id, utcnow
from cxfield.services.common import get_live, tombstone

# The consent rule lives with participants; re-exported for the recorder's callers.
from cxfield.services.participants import RecordingConsent as RecordingConsent
from cxfield.services.participants import recording_consent as recording_consent
from cxfield.services.participants import require_recording_consent
from cxfield.storage.database import Database
from cxfield.storage.files import PRIVATE_FILE_MODE, SpaceReserve, make_private_dir
from cxfield.storage.models import Participant, Recording, ResearchSession

if TYPE_CHECKING:
    from cxfield.audio.backend import AudioBackend
    from cxfield.audio.recorder import FreeSpace, Level, Recorder, RecorderResult

RECORDINGS_DIR = "recordings"
#: disk space held while recording and given back at stop (the row, a live transcript)
RESERVE_BYTES = 8 * 1024 * 1024
#: LocalSetting key of the remembered input device (its name; indexes change between boots)
INPUT_DEVICE_SETTING = "audio.input_device"


def remembered_input_device(database: Database) -> str | None:
    value = database.get_setting(INPUT_DEVICE_SETTING)
    return value if isinstance(value, str) and value else None


def remember_input_device(database: Database, name: str | None) -> None:
    database.set_setting(INPUT_DEVICE_SETTING, name or None)


# --- a live recording ---------------------------------------------------------------


class ActiveRecording:
    """A session's recording in progress.  Notes ask it for their position."""

    def __init__(
        self,
        database: Database,
        recording_id: str,
        recorder: Recorder,
        reserve: SpaceReserve | None = None,
        notice: str | None = None,
    ) -> None:
        self.database = database
        #: said once to the user: the laptop key was made for this recording (lost key...)
        self.notice = notice
        self.recording_id = recording_id
        self.recorder = recorder
        #: disk space given back at stop, so the row can be written on a disk that filled up
        self.reserve = reserve

    @property
    def position_frames(self) -> int:
        return self.recorder.position_frames

    @property
    def elapsed_s(self) -> float:
        return self.recorder.elapsed_s

    @property
    def sample_rate(self) -> int:
        return self.recorder.sample_rate

    def note_fields(self) -> dict[str, Any]:
        """Fields to set on a :class:`~cxfield.storage.models.Note` taken now."""
        return {"recording_id": self.recording_id, "recording_offset_frames": self.position_frames}

    def level(self) -> Level:
        return self.recorder.level()

    @property
    def halted(self) -> bool:
        return self.recorder.halted

    @property
    def failure(self) -> str | None:
        return self.recorder.failure

    def pause(self) -> None:
        self.recorder.pause()

    def resume(self) -> None:
        self.recorder.resume()

    def stop(self) -> dict[str, Any]:
        """Finish the file and mark the row complete (duration, sha256).  Idempotent.

        On a disk that filled up the recorder has stopped with a valid file; the reserve is
        released first so that the row can still be written.  If even that fails, the
        error says the audio is kept and will be attached at the next start."""
        self.recorder.stop()
        if self.reserve is not None:
            self.reserve.release()
        result = self.recorder.finish_file()
        try:
            return self._finish(result)
        except SQLAlchemyError as exc:
            raise CxfieldError(
                f"The recording ({_clock(result.duration_s)}) is kept in {result.path}, but the "
                "database could not be updated (the disk is full?); it is attached to the "
                "session at the next start."
            ) from exc

    def _finish(self, result: RecorderResult) -> dict[str, Any]:
        with self.database.session() as db:
            row = get_live(db, Recording, self.recording_id, "recording")
            if row.state != "recording":
                return _summary(row, result.failure)
            if result.frames == 0:
                # Nothing was captured: no empty file to confuse transcription or export.
                result.path.unlink(missing_ok=True)
                tombstone(db, row)
                return _summary(row, result.failure or "No audio was captured.")
            row.duration_s = result.duration_s
            row.sha256 = sha256_of(result.path)
            row.state = "complete"
            db.add(row)
        return _summary(row, result.failure, result.overflows, result.dropped_blocks)


def _summary(
    row: Recording, failure: str | None, overflows: int = 0, dropped: int = 0
) -> dict[str, Any]:
    return {
        "id": row.id,
        "session_id": row.session_id,
        "path": row.path,
        "duration_s": row.duration_s,
        "state": row.state,
        "sha256": row.sha256,
        "original_path": row.original_path,
        "overflows": overflows,
        "dropped_blocks": dropped,
        "failure": failure,
        "deleted": row.deleted_at is not None,
    }


def start_session_recording(
    database: Database,
    data_root: Path,
    session_id: str,
    backend: AudioBackend,
    *,
    device: int | str | None = None,
    sample_rate: int = 16000,
    free_space: FreeSpace | None = None,
    max_frames: int | None = None,
) -> ActiveRecording:
    """Check consent, write the ``recording`` row, then start the microphone.  The same path
    is used by the GUI's recorder panel and by ``cxfield record --session``."""
    from cxfield.audio.recorder import Recorder, disk_free  # numpy: only when recording
    from cxfield.services.at_rest import recording_key

    require_recording_consent(database, session_id)
    key, notice = recording_key(database, data_root)
    recording_id = new_id()
    relative = f"{RECORDINGS_DIR}/{recording_id}.wav"
    folder = make_private_dir(data_root / RECORDINGS_DIR)
    recorder = Recorder(
        backend,
        data_root / relative,
        sample_rate=sample_rate,
        device=device,
        free_space=free_space or disk_free,
        max_frames=max_frames,
        encrypt_key=key,
    )
    with database.session() as db:
        db.add(
            Recording(
                id=recording_id,
                session_id=session_id,
                path=relative,
                sample_rate=sample_rate,
                channels=1,
                state="recording",
                started_at=utcnow(),
            )
        )
    reserve = SpaceReserve(folder / f".{recording_id}.reserve", RESERVE_BYTES)
    try:
        recorder.start()
    except BaseException:
        reserve.release()
        with database.session() as db:
            row = db.get(Recording, recording_id)
            if row is not None:
                tombstone(db, row)
        raise
    return ActiveRecording(database, recording_id, recorder, reserve, notice)


# --- import ---------------------------------------------------------------------------


def attach_audio(
    database: Database, data_root: Path, session_id: str, source: Path
) -> dict[str, Any]:
    """Import a recording made elsewhere: keep the original, make a 16 kHz mono copy for
    transcription, attach both.  A bad file raises and leaves nothing behind."""
    from cxfield.audio.at_rest import encrypt_with_laptop_key
    from cxfield.audio.convert import TARGET_RATE, ImportAudioError, convert_to_wav
    from cxfield.audio.encrypted import encrypt_wav
    from cxfield.services.at_rest import recording_key

    with database.session() as db:
        get_live(db, ResearchSession, session_id, "session")
    require_recording_consent(database, session_id)
    if not source.is_file():
        raise ImportAudioError(f"{source} is not a file.")
    recording_id = new_id()
    make_private_dir(data_root / RECORDINGS_DIR)
    suffix = source.suffix.lower() or ".audio"
    copy_rel = f"{RECORDINGS_DIR}/{recording_id}.wav"
    original_rel = f"{RECORDINGS_DIR}/{recording_id}.original{suffix}"
    copy, original = data_root / copy_rel, data_root / original_rel
    key, _ = recording_key(database, data_root)
    plain = copy.with_name(f".{copy.name}.plain") if key is not None else copy
    try:
        converted = convert_to_wav(source, plain, TARGET_RATE)
        if key is not None:  # what is kept is encrypted: the copy and the original
            plain.chmod(PRIVATE_FILE_MODE)
            encrypt_wav(plain, copy, key)
            plain.unlink()
            encrypt_with_laptop_key(source, original, key)
        else:
            shutil.copy2(source, original)
        for made in (copy, original):  # research data: this user only, like a recording
            made.chmod(PRIVATE_FILE_MODE)
        with database.session() as db:
            row = Recording(
                id=recording_id,
                session_id=session_id,
                path=copy_rel,
                format="wav",
                sample_rate=TARGET_RATE,
                channels=1,
                duration_s=converted.duration_s,
                sha256=sha256_of(copy),
                state="imported",
                original_path=original_rel,
            )
            db.add(row)
    except BaseException:
        for made in (plain, copy, original):
            made.unlink(missing_ok=True)
        raise
    return _summary(row, None)


def save_original(database: Database, data_root: Path, recording_id: str, target: Path) -> int:
    """Write an imported recording's untouched original to ``target`` as it came (decrypted
    when it is kept encrypted); never over an existing file.  Returns its bytes."""
    from cxfield.audio import at_rest
    from cxfield.audio.encrypted import laptop_key
    from cxfield.domain.errors import NotFoundError, ValidationError

    with database.session() as db:
        row = get_live(db, Recording, recording_id, "recording")
        relative = row.original_path
    if not relative:
        raise NotFoundError(f"Recording {recording_id} was made here: it has no imported original.")
    source = data_root / relative
    if not source.is_file():
        raise NotFoundError(f"The original of recording {recording_id} is gone ({relative}).")
    if target.exists():
        raise ValidationError(f"{target} exists; choose a new file name.")
    if not at_rest.is_encrypted(source):
        shutil.copyfile(source, target)
        target.chmod(PRIVATE_FILE_MODE)
        return target.stat().st_size
    try:
        return at_rest.decrypt_file(source, target, laptop_key=laptop_key(source))
    except BaseException:
        target.unlink(missing_ok=True)
        raise


# --- recovery after a crash -------------------------------------------------------------


def recover_interrupted_recordings(database: Database, data_root: Path) -> list[str]:
    """Find recordings left in state ``recording`` by a crash, repair and attach them.
    Returns one message per recording for the user.  Live recordings are left alone."""
    messages: list[str] = []
    with database.session() as db:
        rows = list(
            db.exec(
                select(Recording).where(
                    Recording.state == "recording", col(Recording.deleted_at).is_(None)
                )
            ).all()
        )
    for row in rows:
        path = data_root / row.path
        if path.exists() and recording_is_live(path):
            continue
        # the space a crashed recorder held in reserve
        (path.parent / f".{row.id}.reserve").unlink(missing_ok=True)
        try:
            message = _recover(database, row, path)
        except (AudioFileError, AtRestError, OSError, CxfieldError) as exc:
            message = f"An interrupted recording ({row.path}) could not be recovered: {exc}"
        messages.append(message)
    return messages


def _recover(database: Database, row: Recording, path: Path) -> str:
    with database.session() as db:
        current = get_live(db, Recording, row.id, "recording")
        label = _session_label(db, current.session_id)
        if not path.exists():
            tombstone(db, current)
            return f"A recording of {label} was interrupted before any audio was saved."
        fixed = repair(path)
        if fixed.frames == 0:
            path.unlink()
            tombstone(db, current)
            return f"A recording of {label} was interrupted before any audio was saved."
        current.duration_s = fixed.duration_s
        current.sample_rate = fixed.sample_rate
        current.sha256 = sha256_of(path)
        current.state = "recovered"
        db.add(current)
    return (
        f"Recovered an interrupted recording of {label}: {_clock(fixed.duration_s)} of audio "
        f"was repaired and attached to the session."
    )


def _session_label(db: Any, session_id: str) -> str:
    session = db.get(ResearchSession, session_id)
    if session is None:
        return f"session {session_id}"
    participant = db.get(Participant, session.participant_id) if session.participant_id else None
    when = session.started_at.astimezone().strftime("%Y-%m-%d %H:%M")
    who = f"participant {participant.code}" if participant else "the session"
    return f"{who} ({when}, session {session_id[:8]})"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
