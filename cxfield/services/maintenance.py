"""Database upkeep: online backups."""

from __future__ import annotations

from pathlib import Path

from cxfield.domain.errors import CxfieldError
from cxfield.storage import migrate
from cxfield.storage.database import Database
from cxfield.storage.files import OutputPathError


def backup(database: Database, out: Path | None, backups_dir: Path) -> Path:
    """Copy the live database with SQLite's online backup API (safe while the app runs).

    The copy is 0600 and appears complete or not at all: a full disk, a device or FIFO as
    ``out`` or a missing permission gives a one-line error and leaves nothing behind."""
    name = f"cxfield-{migrate.timestamp()}.sqlite"
    target = Path(out).expanduser() if out else backups_dir / name
    if target.is_dir():
        target = target / name
    try:
        return migrate.backup_file(database.path, target)
    except OutputPathError as exc:
        if exc.__cause__ is None:  # a refused target: the message says what it is
            raise
        raise CxfieldError(f"Cannot write backup {target}: {migrate.reason_of(exc)}.") from exc
    except OSError as exc:
        raise CxfieldError(f"Cannot write backup {target}: {migrate.reason_of(exc)}.") from exc
