"""The hub's projection of synced rows into the laptop's own tables (see
:mod:`cxfield.hub.storage`): every push writes the records it changed there in the same
transaction, so the projection always equals ``hub_record``.

It is derived data: :func:`rebuild` makes it again from ``hub_record`` (migration
``h0003`` does; a hub migration that follows a change of the synced tables' columns calls
it again after recreating the tables)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from typing import Any, Protocol

from sqlalchemy import Connection, delete, select

from cxfield.hub import storage as t
from cxfield.sync.protocol import TABLES, decode_row

BATCH = 1000


class StoredRow(Protocol):
    @property
    def table_name(self) -> str: ...
    @property
    def row_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def _values(row: StoredRow) -> dict[str, Any]:
    values = decode_row(TABLES[row.table_name], dict(row.data))
    values["id"] = row.row_id
    values["version"] = row.version
    return values


def store(conn: Connection, rows: Iterable[StoredRow], fresh: Set[str] = frozenset()) -> None:
    """Write these hub records (new or changed versions) into the projection; ``fresh``:
    ids of records the hub did not hold before (nothing to replace)."""
    by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row.table_name in t.projection:
            by_table[row.table_name].append(_values(row))
    for name, values in by_table.items():
        table = t.projection[name]
        for start in range(0, len(values), BATCH):
            chunk = values[start : start + BATCH]
            known = [v["id"] for v in chunk if v["id"] not in fresh]
            if known:
                conn.execute(delete(table).where(table.c.id.in_(known)))
            # one INSERT per set of columns (a row pushed by an older laptop may lack some)
            shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for v in chunk:
                shapes[tuple(sorted(v))].append(v)
            for same in shapes.values():
                conn.execute(table.insert(), same)


def rebuild(conn: Connection) -> int:
    """Empty the projection and fill it again from ``hub_record``; returns the rows written."""
    return refill(conn, list(t.projection))


def refill(conn: Connection, tables: list[str]) -> int:
    """Empty these projection tables and fill them again from ``hub_record`` (a migration
    that added columns to them); returns the rows written."""
    for name in reversed([n for n in t.projection if n in tables]):
        conn.execute(delete(t.projection[name]))
    written = 0
    query = (
        select(t.record.c.table_name, t.record.c.row_id, t.record.c.version, t.record.c.data)
        .where(t.record.c.table_name.in_(tables))
        .order_by(t.record.c.seq)
    )
    batch: list[Any] = []
    for row in conn.execute(query):
        batch.append(row)
        if len(batch) >= BATCH:
            store(conn, batch)
            written += len(batch)
            batch = []
    store(conn, batch)
    return written + len(batch)
