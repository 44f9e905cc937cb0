"""Where a hub keeps its state: one folder (blobs, the default SQLite file) and a database.

A hub keeps nothing else, so several hub processes can serve one PostgreSQL database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cxfield.domain.errors import CxfieldError
from cxfield.storage.database import write_ahead_log

DEFAULT_DB_FILENAME = "hub.sqlite"
#: a write option on a connection: SQLite takes the write lock at BEGIN (no upgrade races)
WRITE_OPTION = "cxfield_hub_write"


class HubError(CxfieldError):
    """A hub problem with a one-line message for the person running it."""


@dataclass(frozen=True)
class HubConfig:
    hub_dir: Path
    database_url: str | None = None
    #: largest audio file a client may upload (bytes)
    max_blob_bytes: int = 16 * 1024**3

    @property
    def url(self) -> str:
        if self.database_url:
            return normalise_url(self.database_url)
        return f"sqlite:///{(self.hub_dir / DEFAULT_DB_FILENAME).resolve()}"

    @property
    def blobs_dir(self) -> Path:
        return self.hub_dir / "blobs"

    @property
    def dialect(self) -> str:
        return database_kind(self.url)


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3; anything but SQLite or PostgreSQL is refused."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise HubError(
            f"Not a database URL: {redact(url)} "
            "(use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB)."
        ) from None
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        if not parsed.database or parsed.database == ":memory:":
            raise HubError("A hub needs an SQLite file, not an in-memory database.")
        return url
    raise HubError(
        f"Unsupported database {parsed.drivername!r}: the hub runs on SQLite or PostgreSQL "
        "(postgresql+psycopg://USER@HOST/DB)."
    )


def database_kind(url: str) -> str:
    return "postgresql" if make_url(url).get_backend_name() == "postgresql" else "sqlite"


def redact(url: str) -> str:
    """A URL fit for messages and logs (no password)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def make_engine(url: str) -> Engine:
    """An engine for the hub database: WAL, busy timeout, foreign keys and write
    transactions that take SQLite's lock at BEGIN; a plain pool on PostgreSQL."""
    url = normalise_url(url)
    if database_kind(url) == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    path = make_url(url).database
    assert path is not None
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HubError(
            f"Cannot create the hub database folder for {path}: {exc.strerror}."
        ) from None
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's begin event below emits BEGIN
        write_ahead_log(dbapi_conn)
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction: SQLite's writer lock from the start; on PostgreSQL row locks
    are taken by the statements themselves (``SELECT … FOR UPDATE``)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn
