"""Opening a database file safely: check it, back it up, upgrade it with Alembic.

The schema is created and changed only by the migrations in ``storage/migrations``.
Before anything writes to an existing file we check, read-only, that it is SQLite and
that its schema is one this version knows; otherwise the file is left byte-for-byte
untouched, nothing is created beside it (SQLite's ``-wal``/``-shm`` included) and a one-line
:class:`DataDirError` explains why.  An empty file is not a database either.

Creating and upgrading happen under a lock file, so two processes started at once on a new
data directory do not both create the schema.  A new database is built in a temporary file
and renamed into place when complete: a crash meanwhile leaves no half-made database.
"""

from __future__ import annotations

import ast
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from cxfield.domain.errors import DataDirError
from cxfield.storage.filelock import exclusive_lock
from cxfield.storage.files import OutputPathError, atomic_path, describe, make_private_dir

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_HEADER = b"SQLite format 3\x00"
#: absolute: Alembic reads the scripts from disk (in the packaged app too, where they are data)
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
#: how long a start waits for another process creating or upgrading the same database
LOCK_TIMEOUT_S = 120.0
#: side files SQLite may leave beside a database it wrote
SIDE_FILES = ("-journal", "-wal", "-shm")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@lru_cache(maxsize=1)
def revision_graph() -> dict[str, tuple[str, ...]]:
    """Each revision of ``migrations/versions`` with the revisions it follows, read from the
    scripts' ``revision``/``down_revision`` lines without importing Alembic (half a second
    of a start that needs no upgrade).  tests/test_startup_imports.py checks it against Alembic."""
    graph: dict[str, tuple[str, ...]] = {}
    for script in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                assert isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
                values[target.id] = ast.literal_eval(node.value)
        if "revision" not in values:
            continue
        down = values.get("down_revision")
        downs = () if down is None else (down,) if isinstance(down, str) else tuple(down)  # type: ignore[arg-type]
        graph[str(values["revision"])] = tuple(str(d) for d in downs)
    return graph


def head_revision() -> str:
    graph = revision_graph()
    followed = {down for downs in graph.values() for down in downs}
    heads = sorted(set(graph) - followed)
    if len(heads) != 1:
        raise DataDirError(f"The migrations have {len(heads)} heads ({', '.join(heads)}).")
    return heads[0]


def known_revisions() -> set[str]:
    return set(revision_graph())


def read_only_uri(db_path: Path) -> str:
    """An SQLite URI that reads ``db_path`` without creating anything beside it.

    ``immutable`` makes SQLite create no ``-shm``/``-wal`` files; it is only right when no
    ``-wal`` file holds pages newer than the file (an app running or killed), so with one
    the WAL is read too (its ``-shm`` then normally exists already)."""
    uri = db_path.resolve().as_uri()
    wal = db_path.with_name(db_path.name + "-wal")
    return f"{uri}?mode=ro" if wal.exists() else f"{uri}?immutable=1"


def current_revision(db_path: Path) -> str | None:
    """The schema revision of an existing file, read without writing anything.

    Returns None for a missing file or an SQLite file without tables (a new database)."""
    if not db_path.exists():
        return None
    if not db_path.is_file():  # a folder, a device, a pipe (reading one could block)
        raise DataDirError(
            f"{db_path} is {describe(db_path)}, not a cxfield database; it was left untouched "
            "(choose another --data-dir)."
        )
    if db_path.stat().st_size == 0:
        raise DataDirError(
            f"{db_path} is an empty file, not a cxfield database; it was left untouched "
            "(remove it to start a new database, or choose another --data-dir)."
        )
    with db_path.open("rb") as handle:
        header = handle.read(100)
    if header[: len(SQLITE_HEADER)] != SQLITE_HEADER:
        raise DataDirError(
            f"{db_path} is not an SQLite database, so it is not a cxfield database; "
            "it was left untouched (choose another --data-dir)."
        )
    _check_length(db_path, header)
    try:
        conn = sqlite3.connect(read_only_uri(db_path), uri=True)
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
        if _disk_full(db_path.parent):
            raise cannot_open(db_path, exc) from exc
        raise DataDirError(
            f"{db_path} cannot be read as SQLite ({exc}); it was left untouched."
        ) from exc
    return None if row is None else str(row[0])


def _check_length(db_path: Path, header: bytes) -> None:
    """Refuse a file shorter than its header says (cut short by a copy or a full disk).

    The header's page count is valid when its "version-valid-for" number equals the change
    counter; with a ``-wal`` file beside it the file may legitimately lag behind, so it is
    only checked without one."""
    if len(header) < 100 or db_path.with_name(db_path.name + "-wal").exists():
        return
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    change_counter, pages = header[24:28], int.from_bytes(header[28:32], "big")
    if header[92:96] != change_counter or not pages:
        return
    size, expected = db_path.stat().st_size, pages * page_size
    if size < expected:
        raise DataDirError(
            f"{db_path} is truncated ({size:,} of {expected:,} bytes); it was left untouched "
            "(restore it from a copy in backups/)."
        )


def _disk_full(folder: Path) -> bool:
    try:
        return shutil.disk_usage(folder).free < 64 * 1024
    except OSError:
        return False


def cannot_open(db_path: Path, exc: BaseException) -> DataDirError:
    """The one-line error for a database that SQLite could not open or write."""
    if _disk_full(db_path.parent):
        return DataDirError(
            f"Cannot open {db_path}: the disk is full; free some space and try again."
        )
    return DataDirError(f"Cannot open {db_path}: {reason_of(exc)}.")


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
    """Copy a live database with SQLite's online backup API (safe while it is in use), into
    a 0600 temporary file renamed to ``target`` when complete (nothing is left on failure).

    Raises :class:`~cxfield.storage.files.OutputPathError` for a target that cannot be
    written (a device, a full disk, no permission)."""
    make_private_dir(target.parent)
    try:
        with atomic_path(target, leftovers=SIDE_FILES) as partial:
            source = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                dest = sqlite3.connect(partial)
                try:
                    source.backup(dest)
                finally:
                    dest.close()
            finally:
                source.close()
    except sqlite3.Error as exc:
        raise OutputPathError(f"Cannot write {target}: {reason_of(exc)}.") from exc
    return target


def timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def upgrade(db_path: Path, backup_dir: Path, lock_path: Path | None = None) -> UpgradeResult:
    """Bring the file to the newest schema (creating a new database if there is none),
    backing up an existing one first.  Only one process at a time does it (``lock_path``,
    by default ``locks/database.lock`` beside the database); the others wait and find it
    done."""
    revision = check_compatible(db_path)
    head = head_revision()
    if revision == head:
        return UpgradeResult(revision, head, None)
    lock = lock_path or db_path.parent / "locks" / "database.lock"
    busy = (
        f"Another cxfield is creating or upgrading the database in {db_path.parent}; "
        "try again when it has finished."
    )
    with exclusive_lock(lock, timeout_s=LOCK_TIMEOUT_S, busy=busy):
        revision = check_compatible(db_path)  # another process may have done it meanwhile
        if revision == head:
            return UpgradeResult(revision, head, None)
        if not db_path.exists():
            _create(db_path, head)
            return UpgradeResult(None, head, None)
        backup = None
        if revision is not None:
            name = f"cxfield-{timestamp()}-before-upgrade-from-{revision}.sqlite"
            try:
                backup = backup_file(db_path, backup_dir / name)
            except (OutputPathError, OSError) as exc:
                raise DataDirError(
                    f"Cannot back up {db_path} before upgrading it ({reason_of(exc)}); "
                    "nothing was changed."
                ) from exc
        try:
            upgrade_to(db_path, head)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise cannot_open(db_path, exc) from exc
    return UpgradeResult(revision, head, backup)


def _create(db_path: Path, head: str) -> None:
    """A new database, built in a temporary 0600 file and renamed into place complete."""
    try:
        with atomic_path(db_path, leftovers=SIDE_FILES) as temp:
            upgrade_to(temp, head, scratch=True)
            conn = sqlite3.connect(temp)
            try:  # folds the WAL into the file: the rename then moves everything
                conn.execute("PRAGMA journal_mode=DELETE")
            finally:
                conn.close()
    except (OutputPathError, OSError, SQLAlchemyError, sqlite3.Error) as exc:
        raise DataDirError(f"Cannot create the database {db_path}: {reason_of(exc)}.") from exc


def reason_of(exc: BaseException) -> str:
    """The short cause of a failed write, for a one-line message ("No space left on
    device", "the disk is full")."""
    if isinstance(exc, OutputPathError) and exc.__cause__ is not None:
        exc = exc.__cause__
    exc = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, sqlite3.Error) and "full" in text:
        return "the disk is full"
    return text.rstrip(".")


def upgrade_to(db_path: Path, revision: str, *, scratch: bool = False) -> None:
    """Run migrations up to ``revision`` (tests use this to build old schemas).

    ``scratch``: a new file nobody else sees yet, fsynced once before it is renamed into
    place — so its many DDL commits need not each wait for the disk."""
    from alembic import command

    from cxfield.storage.database import make_engine

    engine = make_engine(db_path)
    try:
        with engine.begin() as connection:
            if scratch:
                connection.exec_driver_sql("PRAGMA synchronous=OFF")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
