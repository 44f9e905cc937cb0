"""Composition root: resolves the data directory, opens (and upgrades) the database and
hands the wired pieces to a front end (CLI or GUI).  Nothing happens at import time, and
little is imported: the desktop app resolves the data directory before its window shows and
opens the database (SQLAlchemy, the services) behind it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from cxfield.domain.errors import DataDirError
from cxfield.storage.files import make_private_dir

if TYPE_CHECKING:
    from cxfield.storage import migrate
    from cxfield.storage.database import Database

APP_NAME = "cxfield"
DATA_DIR_ENV = "CXFIELD_DATA_DIR"
DB_FILENAME = "cxfield.sqlite"


def default_data_dir() -> Path:
    """``--data-dir`` wins, then ``$CXFIELD_DATA_DIR``, then the platform's user data dir."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass
class DataPaths:
    """Everything cxfield keeps lives under one directory (portable, backed up as one)."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / DB_FILENAME

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def recordings(self) -> Path:
        return self.root / "recordings"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


@dataclass
class AppContext:
    paths: DataPaths
    db: Database
    upgrade: migrate.UpgradeResult | None = None
    messages: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.db.dispose()


def prepare_data_dir(root: Path) -> DataPaths:
    """The data directory, created (0700: it holds research data) if it does not exist."""
    paths = DataPaths(root.expanduser().resolve())
    if paths.root.exists() and not paths.root.is_dir():
        raise DataDirError(f"Data directory {paths.root} is a file, not a directory.")
    try:
        make_private_dir(paths.root)
    except OSError as exc:
        raise DataDirError(f"Cannot create data directory {paths.root}: {exc.strerror}.") from exc
    if not os.access(paths.root, os.W_OK):
        raise DataDirError(f"Data directory {paths.root} is not writable.")
    return paths


def open_app(data_dir: Path | None = None) -> AppContext:
    """Open the data directory: check the database, back it up and upgrade it if needed."""
    return open_paths(prepare_data_dir(data_dir or default_data_dir()))


def open_paths(paths: DataPaths, *, retention_later: bool = False) -> AppContext:
    """:func:`open_app` on a data directory :func:`prepare_data_dir` has checked.

    ``retention_later``: the caller runs :func:`apply_retention` itself once the user has a
    window (the desktop app: its start is not held up by the daily retention check)."""
    from sqlalchemy.exc import SQLAlchemyError

    from cxfield.services.recording import recover_interrupted_recordings
    from cxfield.storage import migrate
    from cxfield.storage.database import Database

    # Checks first, read-only: a foreign or newer file must stay byte-for-byte untouched.
    migrate.check_compatible(paths.database)
    result = migrate.upgrade(paths.database, paths.backups)
    try:
        database = Database(paths.database)
    except SQLAlchemyError as exc:  # e.g. a full disk: SQLite cannot create its -wal file
        raise migrate.cannot_open(paths.database, exc) from exc
    ctx = AppContext(paths=paths, db=database, upgrade=result)
    from cxfield.services import at_rest

    if result.from_revision is None:  # a new data directory: its recordings are encrypted
        at_rest.set_encrypt_recordings(database, True)
    at_rest.open_laptop_key(database, paths.root)
    if result.backup is not None:
        ctx.messages.append(
            f"Database upgraded from {result.from_revision} to {result.to_revision}; "
            f"backup at {result.backup}."
        )
    # A recording interrupted by a crash or power cut is repaired and attached now.
    ctx.messages.extend(recover_interrupted_recordings(ctx.db, paths.root))
    if not retention_later:
        apply_retention(ctx)
    return ctx


def apply_retention(ctx: AppContext) -> None:
    """Studies that keep audio or transcripts only so long: checked at every start (and
    once a day by the desktop app); what went is said in ``ctx.messages``."""
    from cxfield.privacy import retention

    expired = retention.run(ctx.db, ctx.paths.root)
    if expired.items:
        ctx.messages.append(expired.line())
