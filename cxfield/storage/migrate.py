"""Opening a database file safely: check it, back it up, upgrade it with Alembic.

The schema is created and changed only by the migrations in ``storage/migrations``.
Before anything writes to an existing file we check, read-only, that it is SQLite and
that its schema is one this version knows; otherwise the file is left byte-for-byte
untouched and a one-line :class:`DataDirError` explains why.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from cxfield.domain.errors import DataDirError
from cxfield.storage.database import make_engine

SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(db_path: Path) -> str | None:
    """The schema revision of an existing file, read without writing anything.

    Returns None for a missing or empty file (a new database)."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    with db_path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise DataDirError(
            f"{db_path} is not an SQLite database, so it is not a cxfield database; "
            "it was left untouched (choose another --data-dir)."
        )
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                if tables:
                    raise DataDirError(
                        f"{db_path} is an SQLite database of another program; "
                        "it was left untouched (choose another --data-dir)."
                    )
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DataDirError(
            f"{db_path} cannot be read as SQLite ({exc}); it was left untouched."
        ) from exc
    return None if row is None else str(row[0])


@dataclass(frozen=True)
class UpgradeResult:
    from_revision: str | None
    to_revision: str
    backup: Path | None


def check_compatible(db_path: Path) -> str | None:
    """Raise DataDirError if the file is not ours or is newer than this app."""
    revision = current_revision(db_path)
    if revision is not None and revision not in known_revisions():
        from cxfield import __version__

        raise DataDirError(
            f"{db_path} has schema {revision}, which is newer than this cxfield "
            f"({__version__}); install a newer cxfield. The file was left untouched."
        )
    return revision


def backup_file(db_path: Path, target: Path) -> Path:
    """Copy a live database with SQLite's online backup API (safe while it is in use)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    partial.replace(target)
    return target


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def upgrade(db_path: Path, backup_dir: Path) -> UpgradeResult:
    """Bring the file to the newest schema, backing up an existing one first."""
    revision = check_compatible(db_path)
    head = head_revision()
    if revision == head:
        return UpgradeResult(revision, head, None)
    backup = None
    if revision is not None:
        backup = backup_file(
            db_path, backup_dir / f"cxfield-{timestamp()}-before-upgrade-from-{revision}.sqlite"
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    upgrade_to(db_path, head)
    return UpgradeResult(revision, head, backup)


def upgrade_to(db_path: Path, revision: str) -> None:
    """Run migrations up to ``revision`` (tests use this to build old schemas)."""
    engine = make_engine(db_path)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
