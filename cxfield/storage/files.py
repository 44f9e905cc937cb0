"""Writing files safely: the one place every writer of cxfield goes through (exports,
study definitions, transcripts, database backups, new databases).

- :func:`check_target` refuses a target that exists and is not a regular file (a device such
  as ``/dev/full``, a named pipe, a socket, a folder, or a symbolic link to one of them):
  renaming a finished file over it would replace the device node itself.
- :func:`atomic_file` / :func:`atomic_path` write to a temporary file in the target's folder
  (same file system, so the final rename is atomic), make it durable and rename it over the
  target only when complete; on any error (a full disk, a cancel) the temporary file is
  removed and an older target is left as it was.
- Files are created with mode 0600 and folders with 0700 (readable by this user only):
  they hold research data about members of the public.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from cxfield.domain.errors import CxfieldError

#: research data (recordings, exports, backups, the database) is readable by its owner only
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class OutputPathError(CxfieldError):
    """The output path cannot be written (missing folder, no permission, a device, disk
    full...); nothing was written."""


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "a file"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def describe(path: Path) -> str:
    """What ``path`` is, for a message ("a character device", "a link to a folder")."""
    kind = _kind(os.stat(path).st_mode)
    return f"a link to {kind}" if os.path.islink(path) else kind


def refuse_special(target: Path) -> None:
    """Raise :class:`OutputPathError` if ``target`` exists and is not a regular file (a
    symbolic link is judged by what it points to; a dangling one is only a name)."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputPathError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise OutputPathError(f"{target} is {describe(target)}; give a file name.")
    raise OutputPathError(
        f"{target} is {describe(target)}, not a regular file; it was left as it is "
        "(give the name of a new file)."
    )


def check_target(path: Path) -> Path:
    """The absolute target path, after checking that it is a new or regular file and that
    its folder exists and is writable."""
    target = Path(path).expanduser().absolute()
    refuse_special(target)
    folder = target.parent
    if not folder.is_dir():
        raise OutputPathError(f"Cannot write {target}: folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"Cannot write {target}: folder {folder} is not writable.")
    return target


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; the folders made are 0700."""
    path = Path(path)
    if not path.is_dir():
        if not path.parent.is_dir():
            make_private_dir(path.parent)
        with suppress(FileExistsError):
            path.mkdir(mode=PRIVATE_DIR_MODE)
    return path


def temp_beside(target: Path, suffix: str = ".part") -> tuple[int, Path]:
    """A new, empty, hidden 0600 file in ``target``'s folder: (open descriptor, path)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise OutputPathError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
    return fd, Path(name)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` survive a power cut (best effort: not every platform
    can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_into(temp: Path, target: Path) -> None:
    """Rename a finished temporary file over ``target`` (checked again: a device could have
    appeared there while the file was written)."""
    refuse_special(target)
    os.replace(temp, target)
    fsync_dir(target.parent)


def _message(target: Path, exc: OSError) -> str:
    return f"Cannot write {target}: {exc.strerror or exc}."


@contextmanager
def atomic_file(path: Path, mode: str = "wb", **open_args: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it replaces ``path``, on any error
    (or cancellation) it is removed and the old ``path``, if any, is left as it was."""
    target = check_target(path)
    fd, temp = temp_beside(target)
    try:
        with os.fdopen(fd, mode, **open_args) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        replace_into(temp, target)
    except OSError as exc:
        with suppress(OSError):
            temp.unlink()
        raise OutputPathError(_message(target, exc)) from exc
    except BaseException:
        with suppress(OSError):
            temp.unlink()
        raise


@contextmanager
def atomic_path(path: Path, *, leftovers: tuple[str, ...] = ()) -> Iterator[Path]:
    """Like :func:`atomic_file` for writers that need a file name (SQLite): yields the path
    of an empty 0600 temporary file.  ``leftovers`` are suffixes of side files the writer
    may leave beside it on failure (``-journal``), removed with it."""
    target = check_target(path)
    fd, temp = temp_beside(target)
    os.close(fd)
    try:
        yield temp
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        replace_into(temp, target)
    except BaseException as exc:
        for name in (temp.name, *(temp.name + suffix for suffix in leftovers)):
            with suppress(OSError):
                (temp.parent / name).unlink()
        if isinstance(exc, OSError):
            raise OutputPathError(_message(target, exc)) from exc
        raise


class SpaceReserve:
    """Disk space held by a hidden file and given back on :meth:`release`.

    A recording fills the disk it is written to; if something else fills it to the last
    byte meanwhile, the database could not even record that the recording stopped.  The
    recorder keeps a few MB in reserve and releases them right before that last write."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = 0
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except OSError:
            return  # no room even for this: the recorder's own space check will say so
        try:
            self._allocate(fd, size)
            self.size = size
        except OSError:
            with suppress(OSError):
                path.unlink()
        finally:
            os.close(fd)

    @staticmethod
    def _allocate(fd: int, size: int) -> None:
        if hasattr(os, "posix_fallocate"):
            try:
                os.posix_fallocate(fd, 0, size)
                return
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
        block = b"\0" * (1 << 20)  # no fallocate here: real blocks, written once
        for _ in range(0, size, len(block)):
            os.write(fd, block)
        os.fsync(fd)

    def release(self) -> None:
        """Give the space back (idempotent)."""
        with suppress(OSError):
            self.path.unlink()
        self.size = 0
