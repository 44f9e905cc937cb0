"""Creating and upgrading the hub's schema — only through its own Alembic history
(``hub/migrations``), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import OperationalError

from cxfield.hub.config import HubError, database_kind, make_engine, redact, write_transaction

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: any constant: hub processes starting together upgrade one after the other
_PG_UPGRADE_LOCK = 0x63786668  # "cxfh"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR.resolve()))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _current(conn: Connection, url: str) -> str | None:
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        tables = set(inspect(conn).get_table_names())
        if {"hub_record", "hub_account"} & tables:
            raise HubError(f"{redact(url)} has hub tables but no schema revision; left untouched.")
        return None
    if revision not in _known_revisions():
        raise HubError(
            f"{redact(url)} has schema revision {revision}, which this cxfield hub does not "
            "know (a newer hub, or another program's database); it was left untouched."
        )
    return revision


@contextmanager
def _reachable(url: str) -> Iterator[None]:
    """A database that cannot be opened is a one-line message, not a traceback."""
    try:
        yield
    except OperationalError as exc:
        if (
            exc.connection_invalidated
            or "connect" in str(exc.orig).lower()
            or isinstance(exc.orig, sqlite3.OperationalError)
        ):
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
            raise HubError(f"Cannot open the hub database {redact(url)}: {reason}") from None
        raise


@dataclass(frozen=True)
class HubUpgrade:
    from_revision: str | None
    to_revision: str


def upgrade_hub(url: str, revision: str = "head") -> HubUpgrade:
    """Create or upgrade the hub schema at ``url`` (idempotent; safe to run from several
    hub processes at once on PostgreSQL — they take an advisory lock in turn)."""
    engine = make_engine(url)
    try:
        with _reachable(url), write_transaction(engine) as conn:
            if database_kind(url) == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_UPGRADE_LOCK})
            before = _current(conn, url)
            target = head_revision() if revision == "head" else revision
            if before != target:
                config = alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, target)
            return HubUpgrade(before, target)
    finally:
        engine.dispose()


def downgrade_hub(url: str, revision: str) -> None:
    """Go back to an older schema (tests of the migration history use it)."""
    engine = make_engine(url)
    try:
        with write_transaction(engine) as conn:
            config = alembic_config()
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def check_current(conn: Connection, url: str) -> None:
    """Refuse to serve a database whose schema is not this hub's newest."""
    current = _current(conn, url)
    if current != head_revision():
        raise HubError(
            f"The hub database {redact(url)} is at schema {current or 'none'}, not "
            f"{head_revision()}; run `cxfield hub db upgrade`."
        )
