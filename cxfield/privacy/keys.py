"""Study key pairs (end-to-end encryption) and the laptop key (recordings at rest).

A study's key pair is X25519 (libsodium, via PyNaCl).  The public key syncs with the study
(``study_protection.public_key``); the private key never leaves a supervisor's laptop except
as an exported file.  It is kept *locked*: wrapped with a key derived from a passphrase
(Argon2id) in a SecretBox, as a small JSON document.  That document lives in the OS keyring
(service ``cxfield-study-key``, one entry per study and data directory) or, where no keyring
backend works, in ``DATA/keys/<study>.key`` (mode 0600) — the same rule as the sync token
(:mod:`cxfield.sync.credentials`).  Lost key (and no export) = the sealed data is lost.

The laptop key (32 random bytes, AES-256-GCM for recordings at rest) is kept the same way,
service ``cxfield-laptop-key``, without a passphrase: it protects files that leave the
laptop by accident (a copied folder, a backup), not against the logged-in user.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxfield.domain.errors import CxfieldError, ValidationError

STUDY_SERVICE = "cxfield-study-key"
LAPTOP_SERVICE = "cxfield-laptop-key"
KEYS_DIR = "keys"
FORMAT = "cxfield-study-key"
MIN_PASSPHRASE = 8

LOST_KEY_WARNING = (
    "Only this key can open the study's encrypted transcripts, notes, quotes and audio. "
    "If it is lost (this laptop breaks, the passphrase is forgotten) and there is no "
    "exported copy, that data is lost for good. Export it now and keep the file with a "
    "second supervisor."
)


class StudyKeyError(CxfieldError):
    """A key cannot be created, found, opened or read (one-line message)."""


@dataclass(frozen=True)
class KeyStore:
    """``kind`` is "keyring" or "file"; ``where`` says which, for the user."""

    kind: str
    where: str


@dataclass(frozen=True)
class LockedKey:
    """A study's private key as stored: wrapped with a passphrase."""

    study_id: str
    public_key: str
    document: dict[str, Any]

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def text(self) -> str:
        return json.dumps(self.document, sort_keys=True, indent=1)


def key_id_of(public_key_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def usable_keyring() -> Any | None:
    """The keyring module if a backend can really store secrets here, else None (the
    laptop's keys here and the hub token in :mod:`cxfield.sync.credentials`)."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    if getattr(backend, "priority", 1) <= 0:
        return None
    return keyring


def _check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationError(f"The passphrase must have at least {MIN_PASSPHRASE} characters.")


def _derive(passphrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    from nacl import pwhash

    return bytes(pwhash.argon2id.kdf(32, passphrase.encode("utf-8"), salt, ops, mem))


def create_study_key(study_id: str, passphrase: str) -> LockedKey:
    """A new key pair for ``study_id``, its private key locked with ``passphrase``."""
    from nacl import pwhash
    from nacl.public import PrivateKey
    from nacl.secret import SecretBox

    _check_passphrase(passphrase)
    private = PrivateKey.generate()
    salt = secrets.token_bytes(pwhash.argon2id.SALTBYTES)
    ops, mem = pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE
    box = SecretBox(_derive(passphrase, salt, ops, mem))
    public = _b64(bytes(private.public_key))
    document = {
        "format": FORMAT,
        "version": 1,
        "study_id": study_id,
        "public_key": public,
        "kdf": {"name": "argon2id", "salt": _b64(salt), "ops": ops, "mem": mem},
        "sealed_private_key": _b64(bytes(box.encrypt(bytes(private)))),
    }
    return LockedKey(study_id, public, document)


def parse_key(text: str, where: str) -> LockedKey:
    """A locked key from an exported file's text; one clear line when it is not one."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError("not a key file")
        public = str(document["public_key"])
        if len(base64.b64decode(public)) != 32:
            raise ValueError("bad public key")
        return LockedKey(str(document["study_id"]), public, document)
    except (ValueError, KeyError, TypeError) as exc:
        raise StudyKeyError(f"{where} is not a cxfield study key file ({exc}).") from None


def unlock(locked: LockedKey, passphrase: str) -> Any:
    """The study's private key (``nacl.public.PrivateKey``); a wrong passphrase is one line."""
    from nacl.exceptions import CryptoError
    from nacl.public import PrivateKey
    from nacl.secret import SecretBox

    kdf = locked.document["kdf"]
    try:
        salt = base64.b64decode(kdf["salt"])
        key = _derive(passphrase, salt, int(kdf["ops"]), int(kdf["mem"]))
        raw = SecretBox(key).decrypt(base64.b64decode(locked.document["sealed_private_key"]))
    except (CryptoError, ValueError, KeyError, TypeError):
        raise StudyKeyError("Wrong passphrase for this study key; nothing was opened.") from None
    private = PrivateKey(raw)
    if _b64(bytes(private.public_key)) != locked.public_key:
        raise StudyKeyError("This key file is damaged (its two halves do not match).")
    return private


# --- where keys are kept ------------------------------------------------------------------


def _entry(study_id: str, device_id: str) -> str:
    return f"{study_id}#{device_id}" if device_id else study_id


def _key_path(data_dir: Path, name: str) -> Path:
    return data_dir / KEYS_DIR / f"{name}.key"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    partial.replace(path)


def _save(data_dir: Path, service: str, name: str, device_id: str, text: str) -> KeyStore:
    ring = usable_keyring()
    if ring is not None:
        try:
            ring.set_password(service, _entry(name, device_id), text)
            with contextlib.suppress(FileNotFoundError):
                _key_path(data_dir, name).unlink()
            backend = type(ring.get_keyring()).__name__
            return KeyStore("keyring", f"the system keyring ({backend})")
        except Exception:  # noqa: BLE001 - a locked or broken keyring falls back to the file
            pass
    path = _key_path(data_dir, name)
    _write_private(path, text)
    return KeyStore("file", f"{path} (readable by you only; no system keyring here)")


def _load(data_dir: Path, service: str, name: str, device_id: str) -> str | None:
    ring = usable_keyring()
    if ring is not None:
        try:
            secret = ring.get_password(service, _entry(name, device_id))
        except Exception:  # noqa: BLE001
            secret = None
        if secret:
            return str(secret)
    try:
        return _key_path(data_dir, name).read_text(encoding="utf-8")
    except OSError:
        return None


def save_study_key(data_dir: Path, locked: LockedKey, device_id: str = "") -> KeyStore:
    return _save(data_dir, STUDY_SERVICE, locked.study_id, device_id, locked.text())


def load_study_key(data_dir: Path, study_id: str, device_id: str = "") -> LockedKey | None:
    text = _load(data_dir, STUDY_SERVICE, study_id, device_id)
    return None if text is None else parse_key(text, "The stored study key")


def export_study_key(locked: LockedKey, target: Path) -> None:
    """The locked key (still needing the passphrase) as a file only its owner can read."""
    _write_private(target, locked.text() + "\n")


LAPTOP_KEY_WARNING = (
    "Recordings on this laptop are encrypted with a key kept in {where}. If the key is "
    "lost (a new system, a wiped keyring), the recordings cannot be opened: export it now "
    "(cxfield keys export-laptop --out FILE, or Privacy > Export the laptop's recording "
    "key) and keep the file somewhere safe, away from this laptop."
)
LAPTOP_FORMAT = "cxfield-laptop-key"


def laptop_key(data_dir: Path, device_id: str = "") -> bytes:
    """This laptop's at-rest key (made on first use)."""
    return laptop_key_made(data_dir, device_id)[0]


def laptop_key_made(data_dir: Path, device_id: str = "") -> tuple[bytes, KeyStore | None]:
    """The laptop key, and where it was kept if it was made just now (else None): the
    caller then says :data:`LAPTOP_KEY_WARNING` once."""
    text = _load(data_dir, LAPTOP_SERVICE, "laptop", device_id)
    if text:
        return base64.b64decode(text), None
    raw = secrets.token_bytes(32)
    return raw, _save(data_dir, LAPTOP_SERVICE, "laptop", device_id, _b64(raw))


def has_laptop_key(data_dir: Path, device_id: str = "") -> bool:
    return bool(_load(data_dir, LAPTOP_SERVICE, "laptop", device_id))


def export_laptop_key(data_dir: Path, device_id: str, target: Path) -> None:
    """The laptop key as a file only its owner can read; an existing file is refused."""
    if target.exists() or target.is_symlink():
        raise StudyKeyError(f"{target} exists already; give a new file name.")
    text = _load(data_dir, LAPTOP_SERVICE, "laptop", device_id)
    if not text:
        raise StudyKeyError("This laptop has no recording key yet (nothing is encrypted).")
    document = {"format": LAPTOP_FORMAT, "version": 1, "key": text.strip()}
    _write_private(target, json.dumps(document, indent=1) + "\n")


def import_laptop_key(data_dir: Path, device_id: str, source: Path) -> KeyStore:
    """Keep an exported laptop key here.  A different key already here is refused (its
    recordings would be lost); the same one is a no-op."""
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("format") != LAPTOP_FORMAT:
            raise ValueError("not a laptop key file")
        raw = base64.b64decode(str(document["key"]), validate=True)
        if len(raw) != 32:
            raise ValueError("the key is not 32 bytes")
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyKeyError(f"Cannot read {source}: {exc}.") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise StudyKeyError(f"{source} is not a cxfield laptop key file ({exc}).") from None
    current = _load(data_dir, LAPTOP_SERVICE, "laptop", device_id)
    if current and base64.b64decode(current) != raw:
        raise StudyKeyError(
            "This laptop already has another recording key; importing would lock out its "
            "recordings. Nothing changed."
        )
    return _save(data_dir, LAPTOP_SERVICE, "laptop", device_id, _b64(raw))
