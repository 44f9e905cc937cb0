"""Atomic file writing: a reader never sees a half-written export, and a failed or
cancelled export leaves nothing behind.

Each file is written to a temporary file in the target folder (same file system, so the
final rename is atomic), flushed to disk, and renamed over the target only when complete.
Exports are created with mode 0600 (readable by the exporting user only), because they hold
research data about members of the public."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from cxfield.domain.errors import CxfieldError


class ExportPathError(CxfieldError):
    """The output path cannot be written (missing folder, no permission, disk full...)."""


def check_target(path: Path) -> Path:
    """The absolute target path, after checking that its folder exists and is writable."""
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise ExportPathError(f"{target} is a folder; give a file name.")
    folder = target.parent
    if not folder.is_dir():
        raise ExportPathError(f"Cannot write {target}: folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportPathError(f"Cannot write {target}: folder {folder} is not writable.")
    return target


def check_folder(path: Path, *, create: bool = True) -> Path:
    """An output folder (created if its parent exists), checked to be writable."""
    folder = Path(path).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise ExportPathError(f"{folder} is a file, not a folder.")
    if not folder.exists():
        if not folder.parent.is_dir():
            raise ExportPathError(f"Cannot write to {folder}: {folder.parent} does not exist.")
        if not create:
            if not os.access(folder.parent, os.W_OK | os.X_OK):
                raise ExportPathError(f"Cannot create {folder}: {folder.parent} is not writable.")
            return folder
        try:
            folder.mkdir()
        except OSError as exc:
            raise ExportPathError(f"Cannot create folder {folder}: {exc.strerror}.") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportPathError(f"Cannot write to {folder}: the folder is not writable.")
    return folder


def _temp_for(target: Path) -> tuple[int, Path]:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise ExportPathError(f"Cannot write {target}: {exc.strerror}.") from exc
    return fd, Path(name)


@contextmanager
def atomic_file(path: Path, mode: str = "wb", **open_args: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it replaces ``path``, on any error
    (or cancellation) it is removed and the old ``path``, if any, is left as it was."""
    target = check_target(path)
    fd, temp = _temp_for(target)
    try:
        with os.fdopen(fd, mode, **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except OSError as exc:
        with suppress(OSError):
            temp.unlink()
        raise ExportPathError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    except BaseException:
        with suppress(OSError):
            temp.unlink()
        raise


class AtomicFileSet:
    """Several files that appear together or not at all (the CSV tables of one export).

    ``open(name)`` gives a temporary file in the folder; ``commit()`` renames them all once
    every one is complete; ``discard()`` (or leaving the ``with`` block by an error) removes
    them."""

    def __init__(self, folder: Path) -> None:
        self._created = not Path(folder).expanduser().exists()
        self.folder = check_folder(folder)
        self._pending: list[tuple[Path, Path]] = []
        self._committed = False

    def open(self, name: str, mode: str = "w", **open_args: Any) -> IO[Any]:
        target = self.folder / name
        if target.is_dir():
            raise ExportPathError(f"{target} is a folder; cannot write the {name} table.")
        fd, temp = _temp_for(target)
        self._pending.append((temp, target))
        return os.fdopen(fd, mode, **open_args)

    def commit(self) -> list[Path]:
        try:
            for temp, _ in self._pending:
                with open(temp, "rb") as handle:
                    os.fsync(handle.fileno())
            for temp, target in self._pending:
                os.replace(temp, target)
        except OSError as exc:
            self.discard()
            raise ExportPathError(f"Cannot write to {self.folder}: {exc.strerror}.") from exc
        written = [target for _, target in self._pending]
        self._pending = []
        self._committed = True
        return written

    def discard(self) -> None:
        for temp, _ in self._pending:
            with suppress(OSError):
                temp.unlink()
        self._pending = []
        if self._created and not self._committed:
            with suppress(OSError):
                self.folder.rmdir()  # only if empty: a folder we made for nothing

    def __enter__(self) -> AtomicFileSet:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.discard()
