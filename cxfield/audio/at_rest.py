"""Encrypted audio files, streamed: AES-256-GCM in chunks, so a two-hour recording is never
whole in memory, and a writer killed mid-file leaves every chunk it finished readable.

File layout::

    b"CXAR" 1 KIND(1) HEADER_LEN(2, big-endian) HEADER   -- the preamble
    then records: LENGTH(4) FLAG(1) CIPHERTEXT(LENGTH)   -- FLAG 0 data, 1 end

KIND 1 (laptop): HEADER = a 16-byte salt; the file key is HKDF-SHA256(laptop key, salt).
KIND 2 (study): HEADER = key id (16 ASCII) + the random file key sealed to the study's
public key (X25519 sealed box, 80 bytes): only holders of the study's private key open it.

Record *n* is sealed with nonce ``0000 || n`` (8 bytes big-endian) and the preamble, the
flag and *n* as associated data: records cannot be reordered, moved between files or
cut without it being seen.  The end record (empty) marks a complete file; a file without
it is one whose writer stopped (a crash): :func:`recover` cuts the unfinished last record
and says how much audio survived.
"""

from __future__ import annotations

import base64
import os
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cxfield.domain.errors import CxfieldError

MAGIC = b"CXAR\x01"
KIND_LAPTOP = 1
KIND_STUDY = 2
#: plaintext bytes per record (a quarter of a second of 16 kHz mono is 8 KB)
CHUNK_BYTES = 64 * 1024
_RECORD = struct.Struct(">IB")
_FLAG_DATA, _FLAG_END = 0, 1
TAG_BYTES = 16


class AtRestError(CxfieldError):
    """An encrypted file that cannot be opened (wrong key, damaged, not one of ours)."""


def is_encrypted(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _file_key(laptop_key: bytes, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt, b"cxfield at-rest audio v1").derive(laptop_key)


def _nonce(counter: int) -> bytes:
    return b"\x00\x00\x00\x00" + counter.to_bytes(8, "big")


def _aad(preamble: bytes, flag: int, counter: int) -> bytes:
    return preamble + bytes([flag]) + counter.to_bytes(8, "big")


@dataclass(frozen=True)
class Preamble:
    raw: bytes
    kind: int
    header: bytes


def laptop_preamble() -> tuple[bytes, bytes]:
    """(preamble, salt) for a new laptop-key file."""
    salt = secrets.token_bytes(16)
    return _preamble(KIND_LAPTOP, salt), salt


def study_preamble(public_key_b64: str, key_id: str) -> tuple[bytes, bytes]:
    """(preamble, file key) for a new file only the study's private key opens."""
    from nacl.public import PublicKey, SealedBox

    file_key = secrets.token_bytes(32)
    sealed = SealedBox(PublicKey(base64.b64decode(public_key_b64))).encrypt(file_key)
    return _preamble(KIND_STUDY, key_id.encode("ascii")[:16].ljust(16, b"-") + sealed), file_key


def _preamble(kind: int, header: bytes) -> bytes:
    return MAGIC + bytes([kind]) + len(header).to_bytes(2, "big") + header


def read_preamble(handle: BinaryIO) -> Preamble:
    start = handle.read(len(MAGIC) + 3)
    if len(start) < len(MAGIC) + 3 or start[: len(MAGIC)] != MAGIC:
        raise AtRestError("Not an encrypted cxfield audio file.")
    kind, size = start[len(MAGIC)], int.from_bytes(start[len(MAGIC) + 1 :], "big")
    header = handle.read(size)
    if len(header) != size:
        raise AtRestError("The encrypted audio file is cut off in its header.")
    return Preamble(start + header, kind, header)


def key_for(
    preamble: Preamble, *, laptop_key: bytes | None = None, private_key: Any = None
) -> bytes:
    """The file key: from the laptop key (kind 1) or the study's private key (kind 2)."""
    if preamble.kind == KIND_LAPTOP:
        if laptop_key is None:
            raise AtRestError("This recording is encrypted with a laptop key; none was given.")
        return _file_key(laptop_key, preamble.header)
    if preamble.kind == KIND_STUDY:
        from nacl.exceptions import CryptoError
        from nacl.public import SealedBox

        if private_key is None:
            raise AtRestError("This audio is sealed with the study's key; open the key first.")
        try:
            return bytes(SealedBox(private_key).decrypt(preamble.header[16:]))
        except CryptoError:
            raise AtRestError("This audio was sealed with another study key.") from None
    raise AtRestError(f"Unknown kind of encrypted audio file ({preamble.kind}).")


class EncryptedWriter:
    """Appends plaintext; every ``CHUNK_BYTES`` (and at :meth:`sync`) a sealed record is
    written with plain ``write`` calls, so the kernel keeps it if the process is killed."""

    def __init__(self, path: Path, preamble: bytes, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.path = path
        self._aead = AESGCM(key)
        self._preamble = preamble
        self._counter = 0
        self._buffer = bytearray()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(self._fd, 0o600)
        self._write_all(preamble)
        self.plain_bytes = 0
        #: plaintext in whole records on disk, and the file's length after the last one
        self.sealed_plain = 0
        self.file_bytes = len(preamble)
        self._retry: tuple[int, bytes] | None = None
        self._ended = False

    def fileno(self) -> int:
        return self._fd

    def abandon(self) -> None:
        """Close without the end record (after a write error: :func:`recover` finishes it)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _record(self, flag: int, plain: bytes) -> None:
        # Kept until written: after a failed write (a full disk) the same plaintext is sealed
        # again under the same counter, so a nonce never seals two different plaintexts.
        self._retry = (flag, plain)
        sealed = self._aead.encrypt(
            _nonce(self._counter), plain, _aad(self._preamble, flag, self._counter)
        )
        self._write_all(_RECORD.pack(len(sealed), flag) + sealed)
        self._retry = None
        self._counter += 1
        self.sealed_plain += len(plain)
        self.file_bytes += _RECORD.size + len(sealed)
        self._ended = flag == _FLAG_END

    def _flush_retry(self) -> None:
        if self._retry is not None:
            self._record(*self._retry)

    def cut(self) -> None:
        """After a failed write (a full disk): drop the torn record; it is written again,
        the same bytes, by the next ``write``, ``sync`` or ``close``."""
        os.ftruncate(self._fd, self.file_bytes)
        os.lseek(self._fd, self.file_bytes, os.SEEK_SET)

    def write(self, data: bytes) -> None:
        self._flush_retry()
        self._buffer += data
        self.plain_bytes += len(data)
        while len(self._buffer) >= CHUNK_BYTES:
            block = bytes(self._buffer[:CHUNK_BYTES])
            del self._buffer[:CHUNK_BYTES]
            self._record(_FLAG_DATA, block)

    def sync(self) -> None:
        """Seal what is buffered and make it durable (a crash loses nothing before)."""
        self._flush_retry()
        if self._buffer and not self._ended:
            block = bytes(self._buffer)
            self._buffer.clear()
            self._record(_FLAG_DATA, block)
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd < 0:
            return
        self.sync()
        if not self._ended:
            self._record(_FLAG_END, b"")
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1


@dataclass(frozen=True)
class Scan:
    """What an encrypted file holds: whole records, plaintext bytes, whether it ended."""

    records: int
    plain_bytes: int
    good_bytes: int  # file bytes up to the end of the last whole, authentic record
    complete: bool


def chunks(
    path: Path, *, laptop_key: bytes | None = None, private_key: Any = None, strict: bool = True
) -> Iterator[bytes]:
    """The plaintext, record by record.  ``strict``: a file without its end record (or with
    a damaged one) is an error; otherwise reading stops at the last authentic record."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    with path.open("rb") as handle:
        preamble = read_preamble(handle)
        aead = AESGCM(key_for(preamble, laptop_key=laptop_key, private_key=private_key))
        counter = 0
        while True:
            head = handle.read(_RECORD.size)
            if len(head) < _RECORD.size:
                if strict:
                    raise AtRestError(f"{path.name} ends early (the recording was cut off).")
                return
            size, flag = _RECORD.unpack(head)
            sealed = handle.read(size)
            if len(sealed) < size or size < TAG_BYTES:
                if strict:
                    raise AtRestError(f"{path.name} ends in the middle of a chunk.")
                return
            try:
                plain = aead.decrypt(_nonce(counter), sealed, _aad(preamble.raw, flag, counter))
            except InvalidTag:
                if counter == 0 and strict:
                    raise AtRestError(
                        f"Wrong key for {path.name}, or the file is damaged."
                    ) from None
                if strict:
                    raise AtRestError(f"{path.name} is damaged at chunk {counter}.") from None
                return
            counter += 1
            if flag == _FLAG_END:
                return
            yield plain


def scan(path: Path, *, laptop_key: bytes | None = None, private_key: Any = None) -> Scan:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    with path.open("rb") as handle:
        preamble = read_preamble(handle)
        aead = AESGCM(key_for(preamble, laptop_key=laptop_key, private_key=private_key))
        counter = plain = 0
        good = len(preamble.raw)
        while True:
            head = handle.read(_RECORD.size)
            if len(head) < _RECORD.size:
                return Scan(counter, plain, good, False)
            size, flag = _RECORD.unpack(head)
            sealed = handle.read(size)
            if len(sealed) < size:
                return Scan(counter, plain, good, False)
            try:
                text = aead.decrypt(_nonce(counter), sealed, _aad(preamble.raw, flag, counter))
            except InvalidTag:
                return Scan(counter, plain, good, False)
            counter += 1
            good += _RECORD.size + size
            if flag == _FLAG_END:
                return Scan(counter, plain, good, True)
            plain += len(text)


def recover(path: Path, *, laptop_key: bytes) -> Scan:
    """A file whose writer was killed: cut what follows the last authentic record and add
    the end record, so it reads like any complete file.  No-op on a complete file."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    found = scan(path, laptop_key=laptop_key)
    if found.complete:
        return found
    with path.open("rb") as handle:
        preamble = read_preamble(handle)
    aead = AESGCM(key_for(preamble, laptop_key=laptop_key))
    sealed = aead.encrypt(_nonce(found.records), b"", _aad(preamble.raw, _FLAG_END, found.records))
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, found.good_bytes)
        os.lseek(fd, found.good_bytes, os.SEEK_SET)
        os.write(fd, _RECORD.pack(len(sealed), _FLAG_END) + sealed)
        os.fsync(fd)
    finally:
        os.close(fd)
    return Scan(found.records + 1, found.plain_bytes, found.good_bytes, True)


def encrypt_file(source: Path, target: Path, preamble: bytes, key: bytes) -> int:
    """Stream ``source`` into a new encrypted ``target``; returns plaintext bytes."""
    with source.open("rb") as handle:
        return encrypt_chunks(iter(lambda: handle.read(CHUNK_BYTES), b""), target, preamble, key)


def encrypt_chunks(blocks: Iterable[bytes], target: Path, preamble: bytes, key: bytes) -> int:
    """Stream ``blocks`` (plaintext, any sizes) into a new encrypted ``target``."""
    writer = EncryptedWriter(target, preamble, key)
    try:
        for block in blocks:
            writer.write(block)
        writer.close()
    except BaseException:
        writer.close()
        target.unlink(missing_ok=True)
        raise
    return writer.plain_bytes


def encrypt_with_laptop_key(source: Path, target: Path, laptop_key: bytes) -> int:
    """Any file (an import's untouched original) as a new laptop-key file; plaintext bytes."""
    preamble, salt = laptop_preamble()
    return encrypt_file(source, target, preamble, _file_key(laptop_key, salt))


def decrypt_file(
    source: Path, target: Path, *, laptop_key: bytes | None = None, private_key: Any = None
) -> int:
    """Stream an encrypted file back to plaintext (0600); returns its bytes."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    total = 0
    with os.fdopen(fd, "wb") as out:
        for plain in chunks(source, laptop_key=laptop_key, private_key=private_key):
            out.write(plain)
            total += len(plain)
    return total


class PlainReader:
    """A read-only file object over an encrypted file (for players and decoders that read
    a stream): holds one record in memory at a time."""

    def __init__(self, path: Path, *, laptop_key: bytes | None = None, private_key: Any = None):
        self._chunks = chunks(path, laptop_key=laptop_key, private_key=private_key, strict=False)
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        parts, have = [self._pending], len(self._pending)
        while size < 0 or have < size:
            block = next(self._chunks, None)
            if block is None:
                break
            parts.append(block)
            have += len(block)
        data = b"".join(parts)
        if size < 0:
            self._pending = b""
            return data
        self._pending = data[size:]
        return data[:size]
