"""The row codec: every synced table's rows survive wire form (JSON) and come back
identical; the content hash ignores who/when, and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Boolean, Float, Integer, select
from sqlalchemy.types import String, Text

from cxfield.app import AppContext
from cxfield.storage.types import EnumText, JSONText, UTCDateTime
from cxfield.sync import protocol
from cxfield.sync.rows import insert_row
from cxfield.sync.state import table_of, write_transaction

WHEN = datetime(2026, 3, 1, 9, 15, 30, 123456, tzinfo=UTC)


def _sample(name: str, column: Any, n: int) -> Any:
    """A value of the column's type that is not its default (so a dropped column shows)."""
    kind = column.type
    if column.name == "id":
        return f"{name}-row-{n}"
    if column.foreign_keys:
        return f"parent-{column.name}"
    if isinstance(kind, UTCDateTime):
        return WHEN.replace(minute=n % 60)
    if isinstance(kind, EnumText):
        members = list(kind.enum_class)
        return members[-1]
    if isinstance(kind, JSONText):
        return {"é": ["ü", 1, None]} if column.name == "segments" else ["São Paulo", "日本"]
    if isinstance(kind, Boolean):
        return True
    if isinstance(kind, Integer):
        return 7 + n
    if isinstance(kind, Float):
        return 12.5
    if isinstance(getattr(kind, "impl", kind), String | Text):  # AutoString is a decorator
        length = getattr(kind, "length", None) or 40
        return ("Ünïcode ✓ " + name)[:length]
    raise AssertionError(f"no sample for {name}.{column.name} ({kind!r})")


def _row(name: str, n: int = 1) -> dict[str, Any]:
    return {c.name: _sample(name, c, n) for c in table_of(name).columns}


@pytest.mark.parametrize("name", protocol.TABLE_ORDER)
def test_every_column_round_trips_through_json(ctx: AppContext, name: str) -> None:
    row = _row(name)
    wire = protocol.encode_row(protocol.TABLES[name], row)
    assert "version" not in wire and set(wire) == {c.name for c in table_of(name).columns} - {
        "version"
    }
    sent = json.loads(json.dumps(wire))  # over the network
    # Written the way a pull writes it (Core, foreign keys off), read back, encoded again.
    with write_transaction(ctx.db, foreign_keys=False) as conn:
        assert insert_row(conn, name, sent, version=1)
        back = conn.execute(select(table_of(name))).one()._mapping
    again = protocol.encode_row(protocol.TABLES[name], back)
    assert again == wire
    assert protocol.content_hash(again, name) == protocol.content_hash(wire, name)
    for column in table_of(name).columns:
        if column.name != "version":
            assert back[column.name] == row[column.name], column.name


def test_the_hash_ignores_who_and_when_but_nothing_else() -> None:
    data = protocol.encode_row(protocol.TABLES["note"], _row("note"))
    digest = protocol.content_hash(data, "note")
    assert (
        protocol.content_hash(data | {"updated_at": "2030-01-01T00:00:00.000000Z"}, "note")
        == digest
    )
    assert protocol.content_hash(data | {"device_id": "another-laptop"}, "note") == digest
    for key in set(data) - protocol.UNHASHED_COLUMNS:
        changed = data | {key: "something else"}
        assert protocol.content_hash(changed, "note") != digest, key
    # A tombstone is content: deleting a row changes its hash.
    assert protocol.content_hash(data | {"deleted_at": None}, "note") != digest


def test_times_travel_as_utc_with_z() -> None:
    data = protocol.encode_row(protocol.TABLES["session"], _row("session"))
    assert data["started_at"] == "2026-03-01T09:01:30.123456Z"
    decoded = protocol.decode_row(protocol.TABLES["session"], data)
    assert decoded["started_at"] == WHEN.replace(minute=1)
    assert decoded["started_at"].tzinfo is not None


def test_how_a_laptop_imported_operations_data_is_not_its_content() -> None:
    """The same queue-export row imported on two laptops (other file name, line, time) has
    one hash; a different time in the row is a different hash."""
    base = {"id": "r1", "study_id": "s", "import_id": "i1", "row_hash": "ab", "line": 2,
            "site": "", "started_at": "2026-03-02T09:00:00.000000Z",
            "created_at": "2026-03-03T10:00:00.000000Z"}  # fmt: skip
    other = base | {"import_id": "i2", "line": 9, "created_at": "2026-04-01T08:00:00.000000Z"}
    assert protocol.content_hash(base, "ops_record") == protocol.content_hash(other, "ops_record")
    moved = base | {"started_at": "2026-03-02T09:05:00.000000Z"}
    assert protocol.content_hash(moved, "ops_record") != protocol.content_hash(base, "ops_record")
    # other tables keep every column but updated_at and device_id in their hash
    assert protocol.content_hash(base, "note") != protocol.content_hash(other, "note")
