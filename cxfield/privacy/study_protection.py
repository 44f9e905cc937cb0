"""A study's protection settings (``study_protection``, synced with the study): end-to-end
encryption with the study's key pair, and retention of audio and transcripts.  Written
with the ORM, so each change is a local change that syncs like the journey map."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.domain.vocabulary import AudioClock
from cxfield.privacy import keys
from cxfield.storage.database import Database
from cxfield.storage.models import Study, StudyProtection

MAX_DAYS = 36500


@dataclass(frozen=True)
class Protection:
    study_id: str
    encrypt: bool
    public_key: str
    key_id: str
    audio_days: int | None
    transcript_days: int | None
    #: when the audio's clock starts: ``approved`` or ``checked`` (domain AudioClock)
    audio_clock: str = AudioClock.APPROVED.value


def _study(db: Session, study_id: str) -> Study:
    study = db.get(Study, study_id)
    if study is None or study.deleted_at is not None:
        raise NotFoundError(f"No study with id {study_id}.")
    return study


def _row(db: Session, study_id: str) -> StudyProtection | None:
    return db.exec(
        select(StudyProtection).where(
            StudyProtection.study_id == study_id,
            StudyProtection.deleted_at == None,  # noqa: E711
        )
    ).first()


def _view(study_id: str, row: StudyProtection | None) -> Protection:
    if row is None:
        return Protection(study_id, False, "", "", None, None)
    return Protection(
        study_id,
        row.encrypt,
        row.public_key,
        row.key_id,
        row.audio_days,
        row.transcript_days,
        row.audio_clock or AudioClock.APPROVED.value,
    )


def get_protection(database: Database, study_id: str) -> Protection:
    with database.session() as db:
        _study(db, study_id)
        return _view(study_id, _row(db, study_id))


def _days(value: int | None, what: str) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= MAX_DAYS:
        raise ValidationError(f"{what} must be between 0 and {MAX_DAYS} days (got {value}).")
    return value


_KEEP = object()


def check_audio_clock(value: str) -> str:
    clocks = [c.value for c in AudioClock]
    if value not in clocks:
        raise ValidationError(
            f"The audio's retention clock is {value!r}; use one of: {', '.join(clocks)}."
        )
    return value


def set_retention(
    database: Database,
    study_id: str,
    *,
    audio_days: int | None | object = _KEEP,
    transcript_days: int | None | object = _KEEP,
    audio_clock: str | None = None,
) -> Protection:
    """Days to keep audio (after its clock started: ``audio_clock``, None leaves it as it
    is) / transcripts (after approval); None days: keep them."""
    clock = None if audio_clock is None else check_audio_clock(audio_clock)
    checked_audio = None if audio_days is _KEEP else _days(audio_days, "Audio retention")  # type: ignore[arg-type]
    checked_text = (
        None if transcript_days is _KEEP else _days(transcript_days, "Transcript retention")  # type: ignore[arg-type]
    )
    with database.session() as db:
        _study(db, study_id)
        row = _row(db, study_id) or StudyProtection(study_id=study_id)
        if audio_days is not _KEEP:
            row.audio_days = checked_audio
        if transcript_days is not _KEEP:
            row.transcript_days = checked_text
        if clock is not None and (row.audio_clock or AudioClock.APPROVED.value) != clock:
            row.audio_clock = clock
        db.add(row)
        db.flush()
        return _view(study_id, row)


@dataclass(frozen=True)
class CreatedKey:
    protection: Protection
    store: keys.KeyStore
    locked: keys.LockedKey


def create_key(database: Database, data_dir: Path, study_id: str, passphrase: str) -> CreatedKey:
    """A new key pair for the study; encryption is switched on.  Refused when the study has
    a key already (a second key would split its data in two)."""
    with database.session() as db:
        _study(db, study_id)
        existing = _row(db, study_id)
        if existing is not None and existing.public_key:
            raise ValidationError(
                f"Study {study_id} has a key already (key id {existing.key_id}); import "
                "its exported file on this laptop instead."
            )
    locked = keys.create_study_key(study_id, passphrase)
    store = keys.save_study_key(data_dir, locked, database.device_id)
    with database.session() as db:
        row = _row(db, study_id) or StudyProtection(study_id=study_id)
        row.public_key, row.key_id, row.encrypt = locked.public_key, locked.key_id, True
        db.add(row)
        db.flush()
        view = _view(study_id, row)
    return CreatedKey(view, store, locked)


def set_encrypt(database: Database, study_id: str, on: bool) -> Protection:
    with database.session() as db:
        _study(db, study_id)
        row = _row(db, study_id)
        if on and (row is None or not row.public_key):
            raise ValidationError(
                "This study has no key yet: create one first (cxfield keys create --study ID)."
            )
        row = row or StudyProtection(study_id=study_id)
        row.encrypt = on
        db.add(row)
        db.flush()
        return _view(study_id, row)


def import_key(database: Database, data_dir: Path, path: Path, passphrase: str) -> keys.KeyStore:
    """Keep an exported study key on this laptop (checked with its passphrase and against
    the study's public key when the study is here)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise keys.StudyKeyError(f"Cannot read {path}: {exc}.") from None
    locked = keys.parse_key(text, str(path))
    keys.unlock(locked, passphrase)
    with database.session() as db:
        row = _row(db, locked.study_id)
        if row is not None and row.public_key and row.public_key != locked.public_key:
            raise keys.StudyKeyError(
                f"{path} is another key than the one study {locked.study_id} uses "
                f"(key id {locked.key_id}, the study's is {row.key_id}); nothing was imported."
            )
    return keys.save_study_key(data_dir, locked, database.device_id)


def open_texts(database: Database, data_dir: Path, study_id: str, passphrase: str) -> int:
    """Unseal this laptop's sealed texts of the study with its private key (kept here);
    returns how many values were opened."""
    from cxfield.privacy.sealing import open_study

    locked = keys.load_study_key(data_dir, study_id, database.device_id)
    if locked is None:
        raise keys.StudyKeyError(
            f"This laptop has no key for study {study_id}; import its exported key file "
            "first (cxfield keys import FILE)."
        )
    private = keys.unlock(locked, passphrase)
    with database.engine.begin() as conn:
        return open_study(conn, study_id, private, locked.key_id)
