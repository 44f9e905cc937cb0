"""Where this laptop keeps its device token: the OS keyring (service ``cxfield-hub``,
one entry per hub URL and data directory — ``URL#DEVICE_ID`` — so two data directories of
one user connected to one hub keep their own tokens), or, where no keyring backend works,
a file in the data directory that only the user can read (mode 0600) — and the caller says
so."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from cxfield.privacy.keys import usable_keyring as _keyring

SERVICE = "cxfield-hub"
TOKEN_FILE = "sync-token"


@dataclass(frozen=True)
class TokenStore:
    """``kind`` is "keyring" or "file"; ``where`` says which, for the user."""

    kind: str
    where: str


def _token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def _entry(hub_url: str, device_id: str) -> str:
    return f"{hub_url}#{device_id}" if device_id else hub_url


def save_token(data_dir: Path, hub_url: str, token: str, device_id: str = "") -> TokenStore:
    ring = _keyring()
    if ring is not None:
        try:
            ring.set_password(SERVICE, _entry(hub_url, device_id), token)
            with contextlib.suppress(FileNotFoundError):
                _token_path(data_dir).unlink()
            backend = type(ring.get_keyring()).__name__
            return TokenStore("keyring", f"the system keyring ({backend})")
        except Exception:  # noqa: BLE001 - a locked or broken keyring falls back to the file
            pass
    path = _token_path(data_dir)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{hub_url}\n{token}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    partial.replace(path)
    return TokenStore("file", f"{path} (readable by you only; no system keyring here)")


def load_token(data_dir: Path, hub_url: str, device_id: str = "") -> str | None:
    ring = _keyring()
    if ring is not None:
        try:
            secret = ring.get_password(SERVICE, _entry(hub_url, device_id))
        except Exception:  # noqa: BLE001
            secret = None
        if secret:
            return str(secret)
    try:
        url, token = _token_path(data_dir).read_text(encoding="utf-8").splitlines()[:2]
    except (OSError, ValueError):
        return None
    return token if url == hub_url and token else None


def delete_token(data_dir: Path, hub_url: str, device_id: str = "") -> None:
    ring = _keyring()
    if ring is not None:
        with contextlib.suppress(Exception):
            ring.delete_password(SERVICE, _entry(hub_url, device_id))
    with contextlib.suppress(FileNotFoundError):
        _token_path(data_dir).unlink()
