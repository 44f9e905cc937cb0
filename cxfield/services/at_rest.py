"""Recordings encrypted at rest on this laptop: the setting, and the laptop key for the
recorder and every reader (:mod:`cxfield.audio.encrypted`).

The setting ``privacy.encrypt_recordings`` is written "on" when a data directory is
created; a data directory from before keeps what it had (off) until it is turned on.  Plain
recordings stay readable either way.  The laptop key is made on the first encrypted
recording, and the one who made it is told, once, that a lost key is lost audio.
"""

from __future__ import annotations

from pathlib import Path

from cxfield.audio import encrypted
from cxfield.privacy import keys
from cxfield.storage.database import Database

ENCRYPT_SETTING = "privacy.encrypt_recordings"


def encrypts_recordings(database: Database) -> bool:
    return bool(database.get_setting(ENCRYPT_SETTING, False))


def set_encrypt_recordings(database: Database, on: bool) -> None:
    database.set_setting(ENCRYPT_SETTING, bool(on))


def open_laptop_key(database: Database, data_root: Path) -> None:
    """Let readers find the laptop key of this data directory when they need it."""
    encrypted.use_laptop_key(lambda: keys.laptop_key(data_root, database.device_id), data_root)


def recording_key(database: Database, data_root: Path) -> tuple[bytes | None, str | None]:
    """(key, notice) for a new recording: no key when encryption is off; a notice (the
    lost-key warning) when the key was made just now."""
    if not encrypts_recordings(database):
        return None, None
    key, made = keys.laptop_key_made(data_root, database.device_id)
    encrypted.use_laptop_key(key, data_root)
    notice = None if made is None else keys.LAPTOP_KEY_WARNING.format(where=made.where)
    return key, notice
