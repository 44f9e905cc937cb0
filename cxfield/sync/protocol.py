"""The sync protocol shared by the laptop's client and the hub (one module, both sides).

A synced row travels as ``{"table", "id", "base", "hash", "data"}``:

* ``data`` holds every column of the row except the local ``version`` counter, in wire form
  (datetimes as ISO-8601 UTC text ending in ``Z``, enums as their values, JSON columns as
  JSON);
* ``hash`` is the SHA-256 of the canonical JSON of ``data`` without ``updated_at`` and
  ``device_id``, so the same content made twice is a duplicate, not a conflict;
* ``base`` is the hub version the client's copy was derived from (0 for a new row).

Laptop clocks never order anything: the hub's per-row version detects conflicts and the
hub's change sequence orders the pull feed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Column

from cxfield.storage.models import SYNCED_TABLES, SyncFields
from cxfield.storage.types import UTCDateTime

PROTOCOL_VERSION = 1
PROTOCOL_HEADER = "X-Cxfield-Protocol"

#: limits a real team never reaches; larger requests are refused (413) before parsing
MAX_PUSH_ROWS = 500
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_PULL_PAGE = 1000
MAX_CHUNK_BYTES = 8 * 1024 * 1024

#: columns that say who/when changed a row, left out of the content hash
UNHASHED_COLUMNS = frozenset({"updated_at", "device_id"})

TABLES: dict[str, type[SyncFields]] = {str(cls.__tablename__): cls for cls in SYNCED_TABLES}
#: parent-first order (push order)
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)

#: the journey map and study definition: only the study's owner, supervisors and admins
STUDY_DEFINITION_TABLES = frozenset({"study", "stage", "step", "consent_text", "study_protection"})
#: team data every account sees
TEAM_TABLES = STUDY_DEFINITION_TABLES | {"site", "researcher"}
#: rows owned by the account that pushed their session (or participant) first
SESSION_TABLES = frozenset(
    {
        "session",
        "step_capture",
        "observation_visit",
        "note",
        "recording",
        "transcript_segment",
        "survey_response",
        "review_event",
        "review_comment",
        "audit_entry",
    }
)
PARTICIPANT_TABLES = frozenset({"participant", "consent_record", "withdrawal_receipt"})
#: imported operations data (queue exports, case-system dates): team data every account
#: sees and any researcher may add; ids are made from the content, so the same file
#: imported on two laptops is one set of records on the hub, never two
OPS_TABLES = frozenset({"ops_import", "ops_record", "ops_step_time"})
#: per operations table, the columns that say how a laptop imported the record (its file
#: name, line, when) rather than the record itself: left out of the content hash
IMPORT_COLUMNS: dict[str, frozenset[str]] = {
    "ops_import": frozenset({"created_at", "source_name", "rows", "added", "imported_at"}),
    "ops_record": frozenset({"created_at", "import_id", "line"}),
    "ops_step_time": frozenset({"created_at"}),
}
#: team records that must not appear twice under two ids (matched by normalised name)
NAMED_TEAM_TABLES = frozenset({"site", "researcher"})

Role = Literal["researcher", "supervisor", "admin", "viewer"]
RowStatus = Literal["applied", "duplicate", "conflict", "forbidden", "invalid"]


# --- row codec -------------------------------------------------------------------------


def _columns(table_cls: type[SyncFields]) -> list[Column[Any]]:
    return list(table_cls.__table__.columns)  # type: ignore[attr-defined]


def _wire_time(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _wire_time(value)
    if isinstance(value, Enum):
        return value.value
    return value


def encode_row(table_cls: type[SyncFields], row: Any) -> dict[str, Any]:
    """The wire ``data`` of a row (an ORM object or a Core row mapping)."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    if hasattr(row, "_mapping"):
        mapping = row._mapping
        get = mapping.get
    return {
        col.name: encode_value(get(col.name))
        for col in _columns(table_cls)
        if col.name != "version"
    }


def decode_row(table_cls: type[SyncFields], data: dict[str, Any]) -> dict[str, Any]:
    """Python values for a Core insert/update from wire ``data``; unknown keys are dropped."""
    values: dict[str, Any] = {}
    for col in _columns(table_cls):
        if col.name == "version" or col.name not in data:
            continue
        value = data[col.name]
        if value is not None and isinstance(col.type, UTCDateTime):
            value = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        values[col.name] = value
    return values


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(data: dict[str, Any], table: str) -> str:
    """The hash that tells one row's content from another's: without the columns that say
    only where and when a copy was made (and, for operations data, how this laptop
    imported it), so the same fact made on two laptops is a duplicate, not a conflict."""
    skipped = UNHASHED_COLUMNS | IMPORT_COLUMNS.get(table, frozenset())
    hashed = {k: v for k, v in data.items() if k not in skipped}
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()


def normalised_name(name: str) -> str:
    """How the hub tells that two sites (or researchers) made on two laptops are one."""
    return " ".join(str(name).split()).casefold()


# --- messages ----------------------------------------------------------------------------


class Account(BaseModel):
    id: str
    name: str
    role: Role


class EnrolRequest(BaseModel):
    protocol: int = PROTOCOL_VERSION
    token: str = Field(min_length=16, max_length=200)
    device_id: str = Field(min_length=1, max_length=36)
    device_label: str = Field(default="", max_length=200)


class EnrolResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    token: str
    token_id: str
    account: Account
    hub_id: str


class RowIn(BaseModel):
    table: str = Field(max_length=40)
    id: str = Field(min_length=1, max_length=36)
    base: int = Field(ge=0)
    hash: str = Field(min_length=64, max_length=64, pattern="^[0-9a-f]{64}$")
    data: dict[str, Any]
    #: set when this push resolves a conflict the hub reported
    resolves: str | None = Field(default=None, max_length=36)


class PushRequest(BaseModel):
    protocol: int = PROTOCOL_VERSION
    device_id: str = Field(min_length=1, max_length=36)
    rows: list[RowIn] = Field(max_length=MAX_PUSH_ROWS)


class RowResult(BaseModel):
    table: str
    id: str
    status: RowStatus
    version: int = 0
    message: str | None = None
    conflict_id: str | None = None
    merged_into: str | None = None
    #: with status "conflict": both versions and the winner, so the pushing laptop applies
    #: the hub's winner at once (also when it replays a push whose answer it never got)
    conflict: ConflictInfo | None = None


class PushResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    results: list[RowResult]


class Change(BaseModel):
    seq: int
    table: str
    id: str
    version: int
    hash: str
    data: dict[str, Any]


class ConflictInfo(BaseModel):
    id: str
    seq: int
    table: str
    row_id: str
    winner_hash: str
    loser_hash: str
    winner_data: dict[str, Any]
    loser_data: dict[str, Any]
    created_at: str
    resolved_at: str | None = None
    #: the two parties: the device whose push met another version, and the device that
    #: made that version; ``pushed_hash`` is the pushed side (so each laptop knows "mine")
    pushed_device: str = ""
    other_device: str = ""
    pushed_hash: str = ""


class ChangesResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    changes: list[Change]
    conflicts: list[ConflictInfo] = []
    next: int
    more: bool


class ConflictsResponse(BaseModel):
    """``GET /v1/conflicts``: the conflicts the account may see, unresolved first."""

    protocol: int = PROTOCOL_VERSION
    conflicts: list[ConflictInfo]


class ResolveRequest(BaseModel):
    keep: Literal["mine", "theirs"]


class Health(BaseModel):
    status: str
    protocol: int = PROTOCOL_VERSION
    database: str


class ErrorBody(BaseModel):
    detail: str


RowResult.model_rebuild()
