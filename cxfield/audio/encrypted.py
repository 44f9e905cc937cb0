"""Recordings encrypted at rest with the laptop key, and the one way every reader opens a
recording whether it is encrypted or a plain WAV.

An encrypted recording is a laptop-key CXAR container (:mod:`cxfield.audio.at_rest`) whose
plaintext is a WAV file: record 0 is the 44-byte PCM header (its format; its sizes are never
trusted), every later record holds PCM frames.  The recorder seals a record at every sync
(four times a second), so a killed recorder loses less than a quarter of a second and
:func:`repair` (``at_rest.recover``) cuts a torn last record.  No record is ever rewritten:
each nonce seals one plaintext only.

Readers keep an index of the records (their file offsets and plaintext starts, read from
the record heads without decrypting) and at most one decrypted record, so a seek costs
one record and a two-hour file is never whole in memory.  ``sha256`` of a recording is the
hash of its WAV: of the file for a plain WAV, of the plaintext WAV (with real sizes in its
header) for an encrypted one, which is what the hub receives when the audio is uploaded.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cxfield.audio import at_rest
from cxfield.audio.at_rest import AtRestError, is_encrypted
from cxfield.audio.wavfile import (
    HEADER,
    AudioFileError,
    DiskFullError,
    PcmFrames,
    RepairResult,
    _fsync_dir,
    read_info,
    wav_header,
)
from cxfield.audio.wavfile import repair as repair_wav

try:  # POSIX: the same lock as WavWriter, so recovery leaves a live recording alone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_RECORD_HEAD = 5  # LENGTH(4) FLAG(1)

KeySource = Callable[[], bytes]
#: per data directory: how to get its laptop key, and the key once it was asked for
_sources: dict[Path, KeySource] = {}
_keys: dict[Path, bytes] = {}


def use_laptop_key(source: KeySource | bytes, data_root: Path) -> None:
    """Where readers of ``data_root``'s recordings get the laptop key (the app and the CLI
    set it when they open a data directory; it is asked for only when an encrypted file
    is opened)."""
    root = Path(data_root).resolve()
    _keys.pop(root, None)
    if isinstance(source, bytes):
        _keys[root] = source
        _sources[root] = lambda: source
    else:
        _sources[root] = source


def laptop_key(path: Path) -> bytes:
    """The laptop key of the data directory ``path`` lies in (the only one open, for a
    file elsewhere); one clear line when there is none."""
    target = Path(path).resolve()
    roots = [root for root in _sources if target.is_relative_to(root)]
    if not roots and len(_sources) == 1:
        roots = list(_sources)
    if not roots:
        raise AtRestError(f"{target.name} is encrypted and no laptop key is open for it here.")
    root = max(roots, key=lambda r: len(r.parts))
    if root not in _keys:
        _keys[root] = _sources[root]()
    return _keys[root]


@dataclass(frozen=True)
class PcmInfo(PcmFrames):
    sample_rate: int
    channels: int
    sample_width: int
    data_bytes: int
    encrypted: bool


class PcmReader(Protocol):
    path: Path

    @property
    def info(self) -> PcmInfo: ...

    def read_frames(self, start: int, end: int) -> bytes: ...

    def pcm_blocks(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class EncryptedWavWriter:
    """The recorder's writer for an encrypted recording (the interface of ``WavWriter``)."""

    def __init__(self, path: Path, sample_rate: int, channels: int = 1, *, key: bytes) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.frame_bytes = 2 * channels
        self._gave_up = False
        preamble, salt = at_rest.laptop_preamble()
        try:
            self._sealed = at_rest.EncryptedWriter(path, preamble, at_rest._file_key(key, salt))
        except OSError as exc:
            raise AudioFileError(f"Cannot create {path}: {exc.strerror}.") from exc
        if fcntl is not None:
            fcntl.flock(self._sealed.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._sealed.write(wav_header(sample_rate, channels, 2, 0))
        self._sealed.sync()  # record 0: the format, durable before the first frame
        _fsync_dir(path.parent)

    @property
    def data_bytes(self) -> int:
        """PCM taken (also what waits in memory to be sealed), or only what is sealed once
        :meth:`give_up` was called."""
        taken = self._sealed.sealed_plain if self._gave_up else self._sealed.plain_bytes
        return max(taken - HEADER.size, 0)

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes

    def write(self, pcm: bytes) -> None:
        self._guard(lambda: self._sealed.write(pcm))

    def sync(self) -> None:
        """Seal what is buffered as one record and make it durable."""
        self._guard(self._sealed.sync)

    def close(self) -> None:
        """Seal the rest and the end record.  On a full disk the file keeps its whole
        records and stays open with the rest in memory: call ``close`` again once space
        was freed (the recorder does, after giving back its reserve); ``give_up`` keeps
        only what is sealed."""
        if self._sealed.fileno() >= 0:
            self._guard(self._sealed.close)

    def give_up(self) -> None:
        if self._sealed.fileno() < 0:
            return
        self._sealed.abandon()
        self._gave_up = True

    def _guard(self, step: Callable[[], None]) -> None:
        import errno

        try:
            step()
        except OSError as exc:
            try:
                self._sealed.cut()  # the torn record goes; what is buffered stays in memory
            except OSError:
                self.give_up()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError("The disk is full; the recording was stopped.") from exc
            raise AudioFileError(f"Cannot write {self.path}: {exc.strerror}.") from exc


class EncryptedWav:
    """Random access to the PCM of an encrypted recording (also one still being written:
    :meth:`refresh` reads the record heads that arrived since)."""

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.path = Path(path)
        self._handle = self.path.open("rb")
        try:
            preamble = at_rest.read_preamble(self._handle)
            if preamble.kind != at_rest.KIND_LAPTOP:
                raise AtRestError(f"{self.path.name} is not a recording of this laptop.")
            self._aad_base = preamble.raw
            file_key = at_rest.key_for(preamble, laptop_key=key or laptop_key(self.path))
            self._aead = AESGCM(file_key)
            self._offsets = array("q")  # file offset of each record's head (record 0 first)
            self._starts = array("q")  # plaintext offset of each record
            self._scan_at = len(preamble.raw)
            self._plain_end = 0
            self.complete = False
            self._cached: tuple[int, bytes] = (-1, b"")
            self.refresh()
            if not self._offsets:
                raise AtRestError(f"{self.path.name} holds no audio yet.")
            header = self._record(0)
        except BaseException:
            self._handle.close()
            raise
        if len(header) < HEADER.size or header[:4] != b"RIFF" or header[12:16] != b"fmt ":
            self._handle.close()
            raise AtRestError(f"{self.path.name} is not an encrypted recording.")
        _, _, _, _, _, _, channels, rate, _, _, bits, _, _ = HEADER.unpack(header[: HEADER.size])
        self._header_bytes = len(header)
        self._format = (rate, channels, bits // 8)

    def refresh(self) -> None:
        """Index the whole records written since the last look (heads only, no decrypting)."""
        if self.complete:
            return
        size = os.fstat(self._handle.fileno()).st_size
        while self._scan_at + _RECORD_HEAD <= size:
            head = os.pread(self._handle.fileno(), _RECORD_HEAD, self._scan_at)
            length, flag = at_rest._RECORD.unpack(head)
            if self._scan_at + _RECORD_HEAD + length > size or length < at_rest.TAG_BYTES:
                return  # a record still being written (or cut by a crash)
            if flag == at_rest._FLAG_END:
                self.complete = True
                return
            self._offsets.append(self._scan_at)
            self._starts.append(self._plain_end)
            self._plain_end += length - at_rest.TAG_BYTES
            self._scan_at += _RECORD_HEAD + length

    @property
    def info(self) -> PcmInfo:
        rate, channels, width = self._format
        data = max(self._plain_end - self._header_bytes, 0)
        return PcmInfo(rate, channels, width, data - data % (channels * width), True)

    @property
    def buffered_bytes(self) -> int:
        """Plaintext held by this reader (one record at most)."""
        return len(self._cached[1])

    def _record(self, index: int) -> bytes:
        from cryptography.exceptions import InvalidTag

        if self._cached[0] == index:
            return self._cached[1]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else self._plain_end
        length = end - self._starts[index] + at_rest.TAG_BYTES
        sealed = os.pread(self._handle.fileno(), length, self._offsets[index] + _RECORD_HEAD)
        try:
            plain = self._aead.decrypt(
                at_rest._nonce(index),
                sealed,
                at_rest._aad(self._aad_base, at_rest._FLAG_DATA, index),
            )
        except InvalidTag:
            if index == 0:
                raise AtRestError(
                    f"Wrong key for {self.path.name}: it was encrypted with another laptop "
                    "key (import that key: cxfield keys import-laptop FILE)."
                ) from None
            raise AtRestError(f"{self.path.name} is damaged at chunk {index}.") from None
        self._cached = (index, plain)
        return plain

    def read_bytes(self, start: int, end: int) -> bytes:
        """Plaintext bytes ``start..end`` of the PCM (after the header)."""
        start += self._header_bytes
        end = min(end + self._header_bytes, self._plain_end)
        parts: list[bytes] = []
        index = max(bisect.bisect_right(self._starts, start) - 1, 0)
        while start < end and index < len(self._starts):
            plain = self._record(index)
            first = start - self._starts[index]
            take = plain[first : first + end - start]
            parts.append(take)
            start += len(take)
            index += 1
        return b"".join(parts)

    def read_frames(self, start: int, end: int) -> bytes:
        frame = self.info.frame_bytes
        end = min(end, self.info.frames)
        return self.read_bytes(start * frame, end * frame) if end > start else b""

    def pcm_blocks(self) -> Iterator[bytes]:
        """The PCM record by record (one decrypted record in memory at a time)."""
        total = self.info.data_bytes
        for index in range(1, len(self._starts)):
            first = self._starts[index] - self._header_bytes
            if first >= total:
                return
            plain = self._record(index)
            yield plain[: total - first]

    def close(self) -> None:
        self._cached = (-1, b"")
        self._handle.close()


class PlainWav:
    """The same interface over a plain PCM WAV file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        wav = read_info(self.path)
        self._offset = wav.data_offset
        self._info = PcmInfo(wav.sample_rate, wav.channels, wav.sample_width, wav.data_bytes, False)
        self._handle = self.path.open("rb")

    @property
    def info(self) -> PcmInfo:
        return self._info

    def read_frames(self, start: int, end: int) -> bytes:
        frame = self._info.frame_bytes
        end = min(end, self._info.frames)
        if end <= start:
            return b""
        return os.pread(self._handle.fileno(), (end - start) * frame, self._offset + start * frame)

    def pcm_blocks(self) -> Iterator[bytes]:
        step = at_rest.CHUNK_BYTES // self._info.frame_bytes
        for start in range(0, self._info.frames, step):
            yield self.read_frames(start, start + step)

    def close(self) -> None:
        self._handle.close()


def open_pcm(path: Path, key: bytes | None = None) -> PcmReader:
    """A reader of a recording's PCM, encrypted or not.  Every reader goes through here."""
    return EncryptedWav(path, key) if is_encrypted(Path(path)) else PlainWav(path)


def pcm_info(path: Path) -> PcmInfo:
    reader = open_pcm(path)
    try:
        return reader.info
    finally:
        reader.close()


def wav_chunks(path: Path) -> Iterator[bytes]:
    """The recording as WAV bytes: a plain file as it is on disk; an encrypted one as the
    WAV it holds, with the real sizes in its header (decrypted as it is read)."""
    if not is_encrypted(path):
        with path.open("rb") as handle:
            yield from iter(lambda: handle.read(1 << 20), b"")
        return
    reader = EncryptedWav(path)
    try:
        info = reader.info
        yield wav_header(info.sample_rate, info.channels, info.sample_width, info.data_bytes)
        yield from reader.pcm_blocks()
    finally:
        reader.close()


def wav_size(path: Path) -> int:
    """Bytes of :func:`wav_chunks` (the file's size for a plain WAV)."""
    if not is_encrypted(path):
        return path.stat().st_size
    return HEADER.size + pcm_info(path).data_bytes


def audio_sha256(path: Path) -> str:
    """The recording's checksum: that of the WAV it is (see the module docstring)."""
    digest = hashlib.sha256()
    for block in wav_chunks(path):
        digest.update(block)
    return digest.hexdigest()


def write_plain_wav(path: Path, target: Path) -> int:
    """The recording as a plain WAV file (0600), streamed; returns its size."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    total = 0
    with os.fdopen(fd, "wb") as out:
        for block in wav_chunks(path):
            out.write(block)
            total += len(block)
    return total


def encrypt_wav(source: Path, target: Path, key: bytes) -> PcmInfo:
    """A plain 16-bit WAV (an import's copy) as a new encrypted recording."""
    reader = PlainWav(source)
    try:
        info = reader.info
        if info.sample_width != 2:
            raise AudioFileError(f"{source.name}: only 16-bit audio is kept encrypted.")
        writer = EncryptedWavWriter(target, info.sample_rate, info.channels, key=key)
        try:
            for block in reader.pcm_blocks():
                writer.write(block)
        finally:
            writer.close()
    finally:
        reader.close()
    return info


def repair(path: Path) -> RepairResult:
    """Start-up recovery of an interrupted recording, encrypted or not."""
    if not is_encrypted(path):
        return repair_wav(path)
    key = laptop_key(path)
    found = at_rest.scan(path, laptop_key=key)
    if not found.complete:
        at_rest.recover(path, laptop_key=key)
    if found.plain_bytes < HEADER.size:  # killed before its format was written: no audio
        return RepairResult(path, not found.complete, 0.0, 0, 0)
    info = pcm_info(path)
    return RepairResult(path, not found.complete, info.duration_s, info.frames, info.sample_rate)
