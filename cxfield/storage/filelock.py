"""An exclusive lock between processes, held on a lock file by the operating system.

Used to serialise the creation and upgrade of the database: two commands (or the app and a
command) started at once on a new data directory would otherwise both create the schema.
The lock belongs to the open file, so a process that dies releases it at once; the file
itself stays (removing it would let a third process lock a different file)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cxfield.domain.errors import DataDirError
from cxfield.storage.files import PRIVATE_FILE_MODE, make_private_dir

POLL_S = 0.05


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def exclusive_lock(path: Path, *, timeout_s: float, busy: str) -> Iterator[None]:
    """Hold ``path`` locked inside the block, waiting up to ``timeout_s`` for another holder;
    ``busy`` is the one-line message when it does not let go in time."""
    try:
        make_private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
    except OSError as exc:
        raise DataDirError(f"Cannot create the lock file {path}: {exc.strerror or exc}.") from exc
    try:
        deadline = time.monotonic() + timeout_s
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise DataDirError(busy)
            time.sleep(POLL_S)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
