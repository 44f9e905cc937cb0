"""What the hub checks in a pushed row before it is stored, and what it reads from it.

A row is stored only if its table is synced, its ``data`` has exactly the table's columns
with values of the right types, and its hash is the hash of that data; otherwise it is
``invalid`` with a one-line reason (and nothing of it is stored)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy.types import TypeDecorator

from cxfield.storage.types import EnumText, JSONText, UTCDateTime
from cxfield.sync.protocol import (
    NAMED_TEAM_TABLES,
    PARTICIPANT_TABLES,
    SESSION_TABLES,
    STUDY_DEFINITION_TABLES,
    TABLES,
    RowIn,
    content_hash,
    normalised_name,
)

Key = tuple[str, str]


def _columns(table: str) -> dict[str, Column[Any]]:
    cls = TABLES[table]
    return {
        col.name: col
        for col in cls.__table__.columns  # type: ignore[attr-defined]
        if col.name != "version"
    }


COLUMNS: dict[str, dict[str, Column[Any]]] = {name: _columns(name) for name in TABLES}


def _value_problem(col: Column[Any], value: Any) -> str | None:
    kind = col.type
    if value is None:
        return None if col.nullable else "must not be null"
    if isinstance(kind, JSONText):
        return None
    if isinstance(kind, UTCDateTime):
        if not isinstance(value, str) or len(value) > 40:
            return "must be an ISO-8601 time"
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return "must be an ISO-8601 time"
        return None if parsed.tzinfo is not None else "must be a UTC time (ending in Z)"
    if isinstance(kind, EnumText):
        allowed = {member.value for member in kind.enum_class}
        return None if value in allowed else f"must be one of {', '.join(sorted(allowed))}"
    plain = kind.impl_instance if isinstance(kind, TypeDecorator) else kind  # e.g. AutoString
    python_type = plain.python_type
    if python_type is bool:
        return None if isinstance(value, bool) else "must be true or false"
    if python_type is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
        return None if ok else "must be a whole number"
    if python_type is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok and math.isfinite(value) else "must be a number"
    if python_type is str:
        if not isinstance(value, str):
            return "must be text"
        length = getattr(plain, "length", None)
        if length is not None and len(value) > length:
            return f"is longer than {length} characters"
        if "\x00" in value:
            return "must not contain NUL characters"
        return None
    return None  # pragma: no cover - every synced column type is handled above


def row_problem(row: RowIn) -> str | None:
    """Why the hub cannot store this row, or None."""
    columns = COLUMNS.get(row.table)
    if columns is None:
        return f"Unknown table {row.table!r}."
    data = row.data
    if data.get("id") != row.id:
        return "The row's data.id differs from its id."
    unknown = sorted(set(data) - set(columns))
    if unknown:
        return f"Unknown column {row.table}.{unknown[0]}."
    for name, col in columns.items():
        if name not in data:
            if col.nullable:
                continue
            return f"Missing column {row.table}.{name}."
        problem = _value_problem(col, data[name])
        if problem:
            return f"{row.table}.{name} {problem}."
    if content_hash(data, row.table) != row.hash:
        return "The row's hash is not the SHA-256 of its data (changed on the way?)."
    return None


def is_deleted(data: dict[str, Any]) -> bool:
    return data.get("deleted_at") is not None


def name_key(table: str, data: dict[str, Any]) -> str | None:
    """The normalised name that must be unique among live sites (or researchers)."""
    if table not in NAMED_TEAM_TABLES or is_deleted(data):
        return None
    return normalised_name(str(data.get("name", "")))[:200] or None


def parent_key(table: str, data: dict[str, Any]) -> Key | None:
    """The row whose owner decides who may change this one."""
    if table in SESSION_TABLES and table != "session":
        return ("session", str(data["session_id"]))
    if table in ("consent_record", "withdrawal_receipt"):
        return ("participant", str(data["participant_id"]))
    if table in STUDY_DEFINITION_TABLES and table != "study":
        return ("study", str(data["study_id"]))
    return None


def session_id_of(table: str, row_id: str, data: dict[str, Any]) -> str | None:
    if table == "session":
        return row_id
    value = data.get("session_id")
    return str(value) if value is not None else None


def direct_study_id(table: str, row_id: str, data: dict[str, Any]) -> str | None:
    """The study a row names itself (session children and consent records name it
    through their parent)."""
    if table == "study":
        return row_id
    value = data.get("study_id")
    return str(value) if value is not None else None


def is_private(table: str) -> bool:
    """Session and participant data: seen by its owner, supervisors and admins only."""
    return table in SESSION_TABLES or table in PARTICIPANT_TABLES
