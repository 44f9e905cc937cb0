"""The laptop's sync bookkeeping: which rows wait to be pushed, what the hub knows of each
row (``sync_row``), the hub settings, and the one write transaction the sync uses.

A row waits to be pushed when it has no ``sync_row`` or its ``version`` differs from
``sync_row.local_version``; one SQL query per table answers it (indexed join).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, case, func, literal, or_, select, union_all
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cxfield.storage.database import Database
from cxfield.storage.models import LocalSetting, SyncConflict, SyncRow, SyncUpload
from cxfield.sync.protocol import TABLES

HUB_URL = "sync.hub_url"
CURSOR = "sync.cursor"
LAST_SYNCED = "sync.last_synced_at"
ACCOUNT = "sync.account"
CA_FILE = "sync.ca_file"
ALLOW_HTTP = "sync.allow_http"
HUB_ID = "sync.hub_id"
TOKEN_ID = "sync.token_id"
SETTINGS = (HUB_URL, CURSOR, LAST_SYNCED, ACCOUNT, CA_FILE, ALLOW_HTTP, HUB_ID, TOKEN_ID)

SYNC_ROW: Table = SyncRow.__table__  # type: ignore[attr-defined]
SYNC_CONFLICT: Table = SyncConflict.__table__  # type: ignore[attr-defined]
SYNC_UPLOAD: Table = SyncUpload.__table__  # type: ignore[attr-defined]


def table_of(name: str) -> Table:
    return TABLES[name].__table__  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class Bookkeeping:
    """A row's ``sync_row`` (absent: never pushed nor pulled)."""

    local_version: int
    hub_version: int
    hub_hash: str
    pushed_hash: str
    pushed_before: tuple[str, ...] = ()

    def pushed(self, hashes: set[str]) -> str | None:
        """The newest of the hashes this laptop pushed that is among ``hashes``."""
        for digest in (self.pushed_hash, *self.pushed_before):
            if digest and digest in hashes:
                return digest
        return None


@contextmanager
def write_transaction(database: Database, *, foreign_keys: bool = True) -> Iterator[Connection]:
    """One IMMEDIATE transaction on its own connection (reads and writes see one state).

    ``foreign_keys=False``: rows pulled from the hub arrive in change order, not parent
    first, so the foreign-key checks are off on this connection only."""
    with database.engine.connect() as conn:
        if not foreign_keys:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if not foreign_keys:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _waiting_condition(table: Table) -> Any:
    return or_(SYNC_ROW.c.row_id.is_(None), SYNC_ROW.c.local_version != table.c.version)


def _joined(table: Table) -> Any:
    return table.outerjoin(
        SYNC_ROW,
        and_(SYNC_ROW.c.table_name == table.name, SYNC_ROW.c.row_id == table.c.id),
    )


def waiting_rows(conn: Connection, name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of one table waiting to be pushed, each with ``_base`` (the hub version its copy
    derives from, 0 for a new row) and ``_pushed`` (the hash last pushed)."""
    table = table_of(name)
    query = (
        select(
            table,
            func.coalesce(SYNC_ROW.c.hub_version, 0).label("_base"),
            func.coalesce(SYNC_ROW.c.pushed_hash, "").label("_pushed"),
        )
        .select_from(_joined(table))
        .where(_waiting_condition(table))
        .order_by(table.c.created_at, table.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def waiting_counts(database: Database) -> dict[str, int]:
    """How many rows of each synced table wait to be pushed (tables with none left out),
    in one statement: a sync with nothing to push costs one query."""
    counts = union_all(
        *(
            select(literal(name).label("name"), func.count().label("n"))
            .select_from(_joined(table_of(name)))
            .where(_waiting_condition(table_of(name)))
            for name in TABLES
        )
    )
    with database.engine.connect() as conn:
        return {row.name: int(row.n) for row in conn.execute(counts) if row.n}


def bookkeeping(conn: Connection, name: str, ids: list[str]) -> dict[str, Bookkeeping]:
    found: dict[str, Bookkeeping] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(
            select(SYNC_ROW).where(SYNC_ROW.c.table_name == name, SYNC_ROW.c.row_id.in_(chunk))
        )
        for row in rows:
            found[row.row_id] = Bookkeeping(
                row.local_version,
                row.hub_version,
                row.hub_hash,
                row.pushed_hash,
                tuple(row.pushed_before.split()),
            )
    return found


def mark_synced(
    conn: Connection,
    name: str,
    row_id: str,
    *,
    local_version: int,
    hub_version: int,
    hub_hash: str,
    pushed_hash: str | None = None,
) -> None:
    """Remember what the hub holds of a row (upsert of its ``sync_row``)."""
    mark_synced_many(
        conn,
        [
            {
                "table_name": name,
                "row_id": row_id,
                "local_version": local_version,
                "hub_version": hub_version,
                "hub_hash": hub_hash,
                "pushed_hash": pushed_hash or "",
            }
        ],
        pushed=pushed_hash is not None,
    )


_SYNCED_COLUMNS = ("local_version", "hub_version", "hub_hash")
#: how many earlier pushed hashes a row remembers
PUSHED_HISTORY = 8


def _remember(history: Any, digest: Any) -> Any:
    """SQL: ``digest`` in front of the space-separated ``history`` (once, a few kept)."""
    known = func.instr(" " + history + " ", " " + digest + " ") > 0
    return case(
        (or_(digest == "", known), history),
        else_=func.substr(func.trim(digest + " " + history), 1, PUSHED_HISTORY * 65 - 1),
    )


def mark_synced_many(conn: Connection, items: list[dict[str, Any]], *, pushed: bool) -> None:
    """:func:`mark_synced` for many rows in one statement (each item has ``table_name``,
    ``row_id``, the versions, ``hub_hash`` and ``pushed_hash``; ``pushed=False`` keeps the
    stored ``pushed_hash``)."""
    if not items:
        return
    statement = sqlite_insert(SYNC_ROW)
    changes: dict[str, Any] = {key: statement.excluded[key] for key in _SYNCED_COLUMNS}
    if pushed:
        changes["pushed_hash"] = statement.excluded.pushed_hash
        changes["pushed_before"] = _remember(SYNC_ROW.c.pushed_before, SYNC_ROW.c.pushed_hash)
    conn.execute(
        statement.on_conflict_do_update(index_elements=["table_name", "row_id"], set_=changes),
        [{"pushed_before": ""} | item for item in items],
    )


def note_pushing(database: Database, rows: list[tuple[str, str, str]]) -> None:
    """Before a batch is sent: remember each (table, id, hash) as pushed, so that a conflict
    the hub records for it is known as this laptop's even if the answer never arrives.  A
    row without bookkeeping gets local_version 0, so it still waits."""
    if not rows:
        return
    statement = sqlite_insert(SYNC_ROW)
    with write_transaction(database) as conn:
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["table_name", "row_id"],
                set_={
                    "pushed_before": _remember(
                        SYNC_ROW.c.pushed_before, statement.excluded.pushed_before
                    )
                },
            ),
            [
                {
                    "table_name": table,
                    "row_id": row_id,
                    "local_version": 0,
                    "hub_version": 0,
                    "hub_hash": "",
                    "pushed_hash": "",
                    "pushed_before": digest,
                }
                for table, row_id, digest in rows
            ],
        )


def forget(conn: Connection, name: str, row_id: str) -> None:
    conn.execute(
        SYNC_ROW.delete().where(SYNC_ROW.c.table_name == name, SYNC_ROW.c.row_id == row_id)
    )


def forget_all(database: Database) -> None:
    """Drop every trace of a hub (``sync disconnect``): a later hub starts from scratch."""
    with write_transaction(database) as conn:
        conn.execute(SYNC_ROW.delete())
        conn.execute(SYNC_CONFLICT.delete())
        conn.execute(SYNC_UPLOAD.delete())


def cursor(database: Database) -> int:
    value = database.get_setting(CURSOR, 0)
    return int(value) if isinstance(value, int) else 0


def store_cursor(conn: Connection, value: int) -> None:
    """Store the pull cursor inside the caller's transaction (with the page it follows)."""
    setting: Table = LocalSetting.__table__  # type: ignore[attr-defined]
    statement = sqlite_insert(setting).values(key=CURSOR, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value}))
