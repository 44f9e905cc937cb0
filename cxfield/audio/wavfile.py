"""Crash-safe PCM WAV files: a writer whose file is valid at (almost) every moment, and repair.

Why WAV and not raw frames plus a sidecar: every player and Whisper read WAV, and the only
thing a killed writer leaves wrong is two size fields in the header.  The writer appends frames
with plain ``write`` calls (the kernel keeps them even if the process is killed) and every
``sync_interval`` seconds patches both size fields and ``fsync``s, so after ``kill -9`` the file
is already playable up to the last patch and :func:`repair` recovers everything written.

Only the standard library is used here, so recovery at start-up needs no optional package.
"""

from __future__ import annotations

import errno
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cxfield.domain.errors import CxfieldError
from cxfield.storage.files import PRIVATE_FILE_MODE

try:  # POSIX: an exclusive lock tells recovery that a recording is still alive
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")  # RIFF, fmt (16 bytes PCM), data header
HEADER_BYTES = HEADER.size  # 44


def wav_header(sample_rate: int, channels: int, sample_width: int, data_bytes: int) -> bytes:
    """The 44-byte header of a PCM WAV holding ``data_bytes`` of audio."""
    frame = channels * sample_width
    return HEADER.pack(
        b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, channels, sample_rate,
        sample_rate * frame, frame, 8 * sample_width, b"data", data_bytes,
    )  # fmt: skip


class PcmFrames:
    """Frames and duration of PCM audio, from its format and byte count."""

    sample_rate: int
    channels: int
    sample_width: int
    data_bytes: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.sample_width

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


class AudioFileError(CxfieldError):
    """A file that is not a usable WAV (or cannot be read/written)."""


class DiskFullError(CxfieldError):
    """The disk is (nearly) full; the recording was stopped and the file kept valid."""


@dataclass(frozen=True)
class WavInfo(PcmFrames):
    """Where the audio is in a WAV file and what it holds."""

    sample_rate: int
    channels: int
    sample_width: int
    data_offset: int
    #: bytes of audio actually present in the file (whole frames)
    data_bytes: int
    #: what the header claims
    declared_data_bytes: int
    declared_riff_bytes: int
    file_bytes: int
    data_is_last: bool

    @property
    def needs_repair(self) -> bool:
        if not self.data_is_last:
            return False
        return (
            self.declared_data_bytes != self.data_bytes
            or self.declared_riff_bytes != self.data_offset + self.data_bytes - 8
            or self.file_bytes != self.data_offset + self.data_bytes
        )


def read_info(path: Path) -> WavInfo:
    """Parse the chunks of a PCM WAV file, trusting the file's length over its header."""
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
            size = os.fstat(handle.fileno()).st_size
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                raise AudioFileError(f"{path.name} is not a WAV file.")
            riff_bytes = struct.unpack("<I", head[4:8])[0]
            fmt: tuple[int, int, int, int] | None = None
            pos = 12
            while pos + 8 <= size:
                handle.seek(pos)
                chunk_id, chunk_bytes = struct.unpack("<4sI", handle.read(8))
                if chunk_id == b"fmt ":
                    body = handle.read(min(chunk_bytes, 40))
                    if len(body) < 16:
                        break
                    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                    fmt = (tag, channels, rate, bits)
                elif chunk_id == b"data":
                    if fmt is None:
                        break
                    end = pos + 8 + chunk_bytes
                    last = not (end < size and _chunk_follows(handle, end, size))
                    return _info(path, fmt, pos + 8, chunk_bytes, riff_bytes, size, last)
                pos += 8 + chunk_bytes + (chunk_bytes & 1)
    except OSError as exc:
        raise AudioFileError(f"Cannot read {path}: {exc.strerror}.") from exc
    raise AudioFileError(f"{path.name} has no audio data (no valid fmt/data chunk).")


def _chunk_follows(handle: BinaryIO, pos: int, size: int) -> bool:
    """Does a well-formed chunk (printable id, fits in the file) start at ``pos``?"""
    handle.seek(pos)
    head = handle.read(8)
    if len(head) < 8:
        return False
    chunk_id, chunk_bytes = struct.unpack("<4sI", head)
    printable = all(32 <= byte < 127 for byte in chunk_id)
    return printable and pos + 8 + chunk_bytes <= size


def _info(
    path: Path,
    fmt: tuple[int, int, int, int],
    data_offset: int,
    declared: int,
    riff_bytes: int,
    size: int,
    data_is_last: bool,
) -> WavInfo:
    tag, channels, rate, bits = fmt
    # 1 = PCM, 0xFFFE = WAVE_FORMAT_EXTENSIBLE (PCM inside for what we write/convert)
    if tag not in (1, 0xFFFE) or bits not in (8, 16, 24, 32) or channels < 1 or rate < 1:
        raise AudioFileError(f"{path.name} is not integer PCM audio (format {tag}, {bits} bit).")
    frame = channels * bits // 8
    present = size - data_offset
    # A killed writer leaves a header that claims too little (or too much): when no other
    # chunk follows, the data chunk is the last one and everything after its header is audio.
    available = present if data_is_last else declared
    available -= available % frame
    return WavInfo(
        sample_rate=rate,
        channels=channels,
        sample_width=bits // 8,
        data_offset=data_offset,
        data_bytes=max(available, 0),
        declared_data_bytes=declared,
        declared_riff_bytes=riff_bytes,
        file_bytes=size,
        data_is_last=data_is_last,
    )


@dataclass(frozen=True)
class RepairResult:
    path: Path
    changed: bool
    duration_s: float
    frames: int
    sample_rate: int


def repair(path: Path) -> RepairResult:
    """Make a WAV left behind by a killed recorder valid: sizes in the header match the audio
    present, a trailing partial frame is cut.  A good file is left byte-for-byte alone."""
    info = read_info(path)
    if info.needs_repair:
        try:
            with path.open("r+b") as handle:
                handle.truncate(info.data_offset + info.data_bytes)
                _patch_sizes(handle.fileno(), info.data_offset, info.data_bytes)
                os.fsync(handle.fileno())
        except OSError as exc:
            raise AudioFileError(f"Cannot repair {path}: {exc.strerror}.") from exc
    return RepairResult(path, info.needs_repair, info.duration_s, info.frames, info.sample_rate)


def _patch_sizes(fd: int, data_offset: int, data_bytes: int) -> None:
    os.pwrite(fd, struct.pack("<I", data_offset + data_bytes - 8), 4)
    os.pwrite(fd, struct.pack("<I", data_bytes), data_offset - 4)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_locked(path: Path) -> bool:
    """True while a live recorder (in any process) holds the file open for writing."""
    if fcntl is None:  # pragma: no cover - no advisory locks: assume not live
        return False
    try:
        with path.open("rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return False
    except FileNotFoundError:
        return False


class WavWriter:
    """Append-only 16-bit PCM WAV writer that keeps the file valid on disk.

    ``sync()`` patches the header and ``fsync``s; the recorder's writer thread calls it at
    least twice a second.  The file is locked (``flock``) while open so that start-up recovery
    never touches a recording that is still running in another window or process."""

    def __init__(self, path: Path, sample_rate: int, channels: int = 1) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.frame_bytes = 2 * channels
        self.data_bytes = 0
        try:
            # 0600: a recording is research data, readable by this user only
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except OSError as exc:
            raise AudioFileError(f"Cannot create {path}: {exc.strerror}.") from exc
        if fcntl is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        header = wav_header(sample_rate, channels, 2, 0)
        self._write_all(header)
        os.fsync(self._fd)
        _fsync_dir(path.parent)

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes

    def write(self, pcm: bytes) -> None:
        """Append whole frames.  On a full disk the partial tail is cut, the header fixed and
        :class:`DiskFullError` raised: the file stays valid."""
        try:
            self._write_all(pcm)
            self.data_bytes += len(pcm)
        except OSError as exc:
            written = os.fstat(self._fd).st_size - HEADER_BYTES
            self.data_bytes = max(written - written % self.frame_bytes, 0)
            os.ftruncate(self._fd, HEADER_BYTES + self.data_bytes)
            self.sync()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError("The disk is full; the recording was stopped.") from exc
            raise AudioFileError(f"Cannot write {self.path}: {exc.strerror}.") from exc

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def sync(self) -> None:
        """Patch the sizes in the header and make everything durable."""
        _patch_sizes(self._fd, HEADER_BYTES, self.data_bytes)
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd < 0:
            return
        try:
            self.sync()
        finally:
            os.close(self._fd)  # also releases the lock
            self._fd = -1


def _fsync_dir(directory: Path) -> None:
    # The new file's directory entry must survive a power cut too.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
