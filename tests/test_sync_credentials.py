"""The device token: in the OS keyring when one works, else a file only the user can read."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from cxfield.sync import credentials

URL = "https://hub.example.org"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps secrets in memory (no desktop keyring here)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


# Defining a backend registers it for keyring's own choice; this one is only for the tests
# that ask for it (otherwise every laptop in this process would share its secrets).
KeyringBackend._classes.discard(MemoryKeyring)  # type: ignore[attr-defined]


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def no_ring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_without_a_keyring_the_token_is_a_private_file(data_dir: Path, no_ring: None) -> None:
    store = credentials.save_token(data_dir, URL, "secret-token")
    path = data_dir / credentials.TOKEN_FILE
    assert store.kind == "file" and str(path) in store.where and "no system keyring" in store.where
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credentials.load_token(data_dir, URL) == "secret-token"
    assert credentials.load_token(data_dir, "https://other.example.org") is None
    credentials.delete_token(data_dir, URL)
    assert not path.exists() and credentials.load_token(data_dir, URL) is None


def test_with_a_keyring_no_file_is_written(data_dir: Path, ring: MemoryKeyring) -> None:
    (data_dir / credentials.TOKEN_FILE).write_text(f"{URL}\nold-file-token\n")
    store = credentials.save_token(data_dir, URL, "secret-token", "device-a")
    assert store.kind == "keyring" and "MemoryKeyring" in store.where
    assert ring.secrets == {(credentials.SERVICE, f"{URL}#device-a"): "secret-token"}
    assert not (data_dir / credentials.TOKEN_FILE).exists()  # the older file copy is gone
    assert credentials.load_token(data_dir, URL, "device-a") == "secret-token"
    # A second data directory of the same user, on the same hub, keeps its own token.
    credentials.save_token(data_dir, URL, "other-token", "device-b")
    assert credentials.load_token(data_dir, URL, "device-a") == "secret-token"
    credentials.delete_token(data_dir, URL, "device-a")
    assert credentials.load_token(data_dir, URL, "device-a") is None
    assert credentials.load_token(data_dir, URL, "device-b") == "other-token"
