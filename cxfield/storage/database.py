"""The SQLite engine and units of work, with sync bookkeeping done in one place.

On every flush, new and changed :class:`SyncFields` rows get ``updated_at`` set, their
``version`` increased and ``device_id`` stamped with this installation's id, so no
service can forget it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from cxfield.domain.ids import new_id, utcnow
from cxfield.storage import review_hooks  # noqa: F401  (its check runs before the stamps)
from cxfield.storage.models import LocalSetting, SyncFields

DEVICE_ID_KEY = "device_id"


def make_engine(db_path: Path) -> Engine:
    """An engine for the database file with WAL and foreign keys on every connection."""
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=NullPool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        write_ahead_log(dbapi_conn)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a committed note survives power loss, not only a crash of the app.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def write_ahead_log(conn: sqlite3.Connection, patience_s: float = 30.0) -> None:
    """Put the database in WAL mode (it persists in the file), waiting for other writers.

    Switching the journal mode needs the file to itself, and SQLite answers "database is
    locked" at once, without its busy handler, while another connection is inside a write
    transaction — two hub processes starting together on a new file did. So the mode is
    read first (the usual case: already WAL) and the switch retried until ``patience_s``."""
    deadline = time.monotonic() + patience_s
    while True:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        if mode in ("wal", "memory"):
            return
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        return  # switched, or left as it is where SQLite cannot (a read-only file)


def _stamp_sync_fields(session: OrmSession, _context: Any, _instances: Any) -> None:
    device_id = session.info.get(DEVICE_ID_KEY, "")
    now = utcnow()
    for obj in session.new:
        if isinstance(obj, SyncFields):
            obj.device_id = device_id
            obj.updated_at = now
    for obj in session.dirty:
        if isinstance(obj, SyncFields) and session.is_modified(obj, include_collections=False):
            obj.version = (obj.version or 0) + 1
            obj.device_id = device_id
            obj.updated_at = now


event.listen(OrmSession, "before_flush", _stamp_sync_fields)


def insert_new_rows(session: Session, model: type[SyncFields], rows: list[dict[str, Any]]) -> None:
    """Insert many new rows of a synced table in one statement (executemany), stamped as
    the flush hook stamps new objects: this device's id, ``updated_at`` now, ``version`` 1.
    For imports of tens of thousands of rows (operations data), where building and flushing
    one object per row would take minutes."""
    if not rows:
        return
    device_id = session.info.get(DEVICE_ID_KEY, "")
    now = utcnow()
    for row in rows:
        row.setdefault("id", new_id())
        row.setdefault("created_at", now)
        row.setdefault("deleted_at", None)
        row.update(updated_at=now, version=1, device_id=device_id)
    session.execute(insert(model), rows)


class Database:
    """Owns the engine; hands out one short unit of work at a time.

    Objects are returned detached (``expire_on_commit=False``) so that services can pass
    them to other threads or front ends without a live session."""

    def __init__(self, db_path: Path, device_id: str | None = None) -> None:
        self.path = db_path
        self.engine = make_engine(db_path)
        self.device_id = device_id or self._load_device_id()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with Session(self.engine, expire_on_commit=False) as db:
            db.info[DEVICE_ID_KEY] = getattr(self, "device_id", "")
            try:
                yield db
                db.commit()
            except BaseException:
                db.rollback()
                raise

    def get_setting(self, key: str, default: Any = None) -> Any:
        with self.session() as db:
            row = db.get(LocalSetting, key)
            return default if row is None else row.value

    def set_setting(self, key: str, value: Any) -> None:
        with self.session() as db:
            row = db.get(LocalSetting, key)
            if row is None:
                db.add(LocalSetting(key=key, value=value))
            else:
                row.value = value
                db.add(row)

    def _load_device_id(self) -> str:
        existing = self.get_setting(DEVICE_ID_KEY)
        if isinstance(existing, str) and existing:
            return existing
        # Two processes opening a new database at once both get here: the first insert
        # wins and both read back the same id (no "UNIQUE constraint failed").
        table = LocalSetting.__table__  # type: ignore[attr-defined]
        with self.session() as db:
            db.execute(
                sqlite_insert(table)
                .values(key=DEVICE_ID_KEY, value=new_id())
                .on_conflict_do_nothing(index_elements=["key"])
            )
        stored = self.get_setting(DEVICE_ID_KEY)
        if isinstance(stored, str) and stored:
            return stored
        device_id = new_id()  # a row holding no usable id (edited by hand): replace it
        self.set_setting(DEVICE_ID_KEY, device_id)
        return device_id

    def dispose(self) -> None:
        self.engine.dispose()
