"""Database upkeep: online backups."""

from __future__ import annotations

from pathlib import Path

from cxfield.domain.errors import CxfieldError
from cxfield.storage import migrate
from cxfield.storage.database import Database


def backup(database: Database, out: Path | None, backups_dir: Path) -> Path:
    """Copy the live database with SQLite's online backup API (safe while the app runs)."""
    target = out or backups_dir / f"cxfield-{migrate.timestamp()}.sqlite"
    if target.exists() and target.is_dir():
        target = target / f"cxfield-{migrate.timestamp()}.sqlite"
    try:
        return migrate.backup_file(database.path, target)
    except OSError as exc:
        raise CxfieldError(f"Cannot write backup {target}: {exc.strerror or exc}.") from exc
