"""One runner per session: a lock file in the data directory holding pid and host.

A second runner on the same session (another window, another process) gets a clear
message instead of two editors overwriting each other.  A lock left behind by a crashed
process on this host (its pid is gone) is stale and taken over, so a crash never locks a
researcher out of their own session."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cxfield.domain.errors import ConflictError
from cxfield.domain.ids import utcnow


@dataclass(frozen=True)
class LockOwner:
    pid: int
    host: str
    since: str


def lock_path(lock_dir: Path, session_id: str) -> Path:
    safe = "".join(ch for ch in session_id if ch.isalnum() or ch == "-")
    return lock_dir / f"session-{safe}.lock"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _windows_pid_alive(pid: int) -> bool:
    """On Windows ``os.kill(pid, 0)`` would *terminate* the process: ask the kernel instead."""
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    query_limited_information, still_active, access_denied = 0x1000, 259, 5
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return bool(kernel32.GetLastError() == access_denied)  # exists, not ours to query
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def read_owner(path: Path) -> LockOwner | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockOwner(int(data["pid"]), str(data["host"]), str(data.get("since", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_stale(owner: LockOwner | None) -> bool:
    """A lock is stale when its process on this host is gone (or the file is unreadable)."""
    if owner is None:
        return True
    if owner.host != socket.gethostname():
        return False  # cannot check another machine's processes: respect the lock
    return not _pid_alive(owner.pid)


class RunnerLock:
    """Held while a runner has a session open; release it when the runner closes."""

    def __init__(self, lock_dir: Path, session_id: str) -> None:
        self.path = lock_path(lock_dir, session_id)
        self.session_id = session_id
        self.took_over_stale = False
        self._held = False

    def acquire(self) -> RunnerLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "since": utcnow().isoformat()}
        )
        for _attempt in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = read_owner(self.path)
                if not is_stale(owner):
                    assert owner is not None
                    raise ConflictError(_held_message(owner)) from None
                self.took_over_stale = True
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(record)
                handle.flush()
                os.fsync(handle.fileno())
            self._held = True
            return self
        raise ConflictError("This session's lock keeps changing; is another runner starting?")

    @property
    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        if not self._held:
            return
        owner = read_owner(self.path)
        if owner is not None and owner.pid == os.getpid() and owner.host == socket.gethostname():
            self.path.unlink(missing_ok=True)
        self._held = False


def _held_message(owner: LockOwner) -> str:
    where = "this computer" if owner.host == socket.gethostname() else f"computer {owner.host}"
    since = ""
    with contextlib.suppress(ValueError):
        since = " since " + datetime.fromisoformat(owner.since).astimezone().strftime("%H:%M")
    return (
        f"This session is already open in another cxfield runner (process {owner.pid} on "
        f"{where}{since}). Close that runner first."
    )


def acquire(lock_dir: Path, session_id: str) -> RunnerLock:
    """Take the session's runner lock or raise ConflictError naming who holds it."""
    return RunnerLock(lock_dir, session_id).acquire()
