"""Reading and writing synced rows with SQLAlchemy Core (not the ORM), so the sync's own
writes never pass the ``before_flush`` hook that stamps local changes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select
from sqlalchemy.exc import IntegrityError

from cxfield.domain.ids import utcnow
from cxfield.storage.models import LocalSetting
from cxfield.sync import protocol
from cxfield.sync.state import SYNC_ROW, forget, table_of

#: A row updated by a pull jumps two versions: an ORM object loaded before the pull and
#: saved after it writes ``loaded + 1``, which then differs from the stored local version,
#: so that edit is pushed (and the hub flags it) instead of being mistaken for synced.
PULL_VERSION_STEP = 2


def load_rows(conn: Connection, name: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    table = table_of(name)
    wanted = list(ids)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for row in conn.execute(select(table).where(table.c.id.in_(chunk))):
            found[row.id] = dict(row._mapping)
    return found


def wire(name: str, row: dict[str, Any]) -> dict[str, Any]:
    return protocol.encode_row(protocol.TABLES[name], row)


def row_hash(name: str, row: dict[str, Any]) -> str:
    return protocol.content_hash(wire(name, row), name)


def insert_row(conn: Connection, name: str, data: dict[str, Any], version: int) -> bool:
    """Insert a row from wire data; False (nothing written) when it clashes with another
    local row on a unique constraint."""
    values = protocol.decode_row(protocol.TABLES[name], data) | {"version": version}
    try:
        with conn.begin_nested():
            conn.execute(table_of(name).insert().values(**values))
    except IntegrityError:
        return False
    return True


def update_row(
    conn: Connection, name: str, row_id: str, data: dict[str, Any], version: int
) -> bool:
    values = protocol.decode_row(protocol.TABLES[name], data) | {"version": version}
    values.pop("id", None)
    table = table_of(name)
    try:
        with conn.begin_nested():
            conn.execute(table.update().where(table.c.id == row_id).values(**values))
    except IntegrityError:
        return False
    return True


def _groups(
    name: str, items: list[tuple[dict[str, Any], int]]
) -> dict[frozenset[str], list[dict[str, Any]]]:
    """Column values by set of columns (one executemany statement per shape)."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for data, version in items:
        values = protocol.decode_row(protocol.TABLES[name], data) | {"version": version}
        groups.setdefault(frozenset(values), []).append(values)
    return groups


def _each(conn: Connection, statement: Any, rows: list[dict[str, Any]], key: str) -> set[str]:
    """Run ``statement`` for the rows as one batch; if a unique rule refuses it, row by row,
    returning the ids of the rows that were refused."""
    try:
        with conn.begin_nested():
            conn.execute(statement, rows)
        return set()
    except IntegrityError:
        pass
    refused = set()
    for row in rows:
        try:
            with conn.begin_nested():
                conn.execute(statement, row)
        except IntegrityError:
            refused.add(str(row[key]))
    return refused


def insert_rows(conn: Connection, name: str, items: list[tuple[dict[str, Any], int]]) -> set[str]:
    """Insert many rows from wire data (one statement per shape); returns the ids that
    clash with other local rows on a unique constraint (those are not written)."""
    table = table_of(name)
    refused: set[str] = set()
    for rows in _groups(name, items).values():
        refused |= _each(conn, table.insert(), rows, "id")
    return refused


def update_rows(conn: Connection, name: str, items: list[tuple[dict[str, Any], int]]) -> set[str]:
    """Update many rows from wire data; returns the ids that clash (not written)."""
    table = table_of(name)
    refused: set[str] = set()
    for shape, rows in _groups(name, items).items():
        columns = sorted(shape - {"id"})
        statement = (
            table.update()
            .where(table.c.id == bindparam("row_key"))
            .values({c: bindparam(f"new_{c}") for c in columns})
        )
        params = [{"row_key": r["id"]} | {f"new_{c}": r[c] for c in columns} for r in rows]
        refused |= _each(conn, statement, params, "row_key")
    return refused


def write_local_change(
    conn: Connection, name: str, row_id: str, data: dict[str, Any], device_id: str
) -> int:
    """Write chosen content as a change made on this laptop (version + 1, stamped now), so
    it waits to be pushed; returns the new version."""
    table = table_of(name)
    current = conn.execute(select(table.c.version).where(table.c.id == row_id)).scalar()
    version = int(current or 0) + 1
    values = protocol.decode_row(protocol.TABLES[name], data)
    values.update(version=version, updated_at=utcnow(), device_id=device_id)
    if current is None:
        values["id"] = row_id
        conn.execute(table.insert().values(**values))
    else:
        values.pop("id", None)
        conn.execute(table.update().where(table.c.id == row_id).values(**values))
    return version


def _references(name: str) -> list[tuple[Table, Any]]:
    """(table, column) of every synced column that points to ``name``'s id."""
    found = []
    for other in protocol.TABLES:
        table = table_of(other)
        for column in table.columns:
            for key in column.foreign_keys:
                if key.column.table.name == name:
                    found.append((table, column))
    return found


def merge_into(conn: Connection, name: str, duplicate_id: str, existing_id: str) -> None:
    """The hub already has this site/researcher under another id: point every local
    reference at that id (each such row changes, so it is pushed again) and drop the local
    duplicate, which the hub never stored."""
    for table, column in _references(name):
        conn.execute(
            table.update()
            .where(column == duplicate_id)
            .values({column.name: existing_id, "version": table.c.version + 1})
        )
    settings: Table = LocalSetting.__table__  # type: ignore[attr-defined]
    # Remembered choices (last site, last researcher) follow the merge.
    conn.execute(
        settings.update().where(settings.c.value == duplicate_id).values(value=existing_id)
    )
    table = table_of(name)
    stored = conn.execute(
        select(SYNC_ROW.c.hub_version).where(
            SYNC_ROW.c.table_name == name, SYNC_ROW.c.row_id == duplicate_id
        )
    ).scalar()
    if stored:
        # The hub holds this row already (it was renamed into a duplicate): tombstone it, so
        # the deletion reaches the hub too.
        conn.execute(
            table.update()
            .where(table.c.id == duplicate_id)
            .values(deleted_at=utcnow(), version=table.c.version + 1)
        )
        return
    conn.execute(table.delete().where(table.c.id == duplicate_id))
    forget(conn, name, duplicate_id)


def local_conflict_id(*parts: str) -> str:
    """A stable id for a laptop-side record (a refused row, a clash): the same event seen
    twice is recorded once."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "cxfield-sync:" + ":".join(parts)))
