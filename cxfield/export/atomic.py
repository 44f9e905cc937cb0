"""Atomic file writing: a reader never sees a half-written export, and a failed or
cancelled export leaves nothing behind.

Each file is written to a temporary file in the target folder (same file system, so the
final rename is atomic), flushed to disk, and renamed over the target only when complete.
Exports are created with mode 0600 (readable by the exporting user only), because they hold
research data about members of the public.  The single-file writer and the target check
(no device, pipe or folder is ever replaced) live in :mod:`cxfield.storage.files`, shared
with every other writer; this module adds the export folders and the CSV file sets."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

from cxfield.storage.files import (
    OutputPathError,
    atomic_file,
    check_target,
    describe,
    make_private_dir,
    refuse_special,
    replace_into,
    temp_beside,
)

__all__ = ["AtomicFileSet", "ExportPathError", "atomic_file", "check_folder", "check_target"]

#: the exports' name for :class:`~cxfield.storage.files.OutputPathError`
ExportPathError = OutputPathError


def check_folder(path: Path, *, create: bool = True) -> Path:
    """An output folder (created if its parent exists), checked to be writable."""
    folder = Path(path).expanduser().absolute()
    if folder.exists() and not folder.is_dir():
        raise ExportPathError(f"{folder} is {describe(folder)}, not a folder.")
    if not folder.exists():
        if not folder.parent.is_dir():
            raise ExportPathError(f"Cannot write to {folder}: {folder.parent} does not exist.")
        if not create:
            if not os.access(folder.parent, os.W_OK | os.X_OK):
                raise ExportPathError(f"Cannot create {folder}: {folder.parent} is not writable.")
            return folder
        try:
            make_private_dir(folder)
        except OSError as exc:
            raise ExportPathError(f"Cannot create folder {folder}: {exc.strerror}.") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportPathError(f"Cannot write to {folder}: the folder is not writable.")
    return folder


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
        refuse_special(target)
        fd, temp = temp_beside(target)
        self._pending.append((temp, target))
        return os.fdopen(fd, mode, **open_args)

    def commit(self) -> list[Path]:
        try:
            for temp, _ in self._pending:
                with open(temp, "rb") as handle:
                    os.fsync(handle.fileno())
            for _, target in self._pending:
                refuse_special(target)
            for temp, target in self._pending:
                replace_into(temp, target)
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
