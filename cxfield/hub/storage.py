"""The hub's tables (SQLAlchemy Core, the hub's own metadata; created only by
``hub/migrations``).

* ``hub_record`` — the current hub version of every synced row, with the account that owns
  it (visibility) and ``seq``, its place in the change feed;
* ``hub_conflict`` — both versions of every conflicting change (also in the feed);
* ``hub_counter`` — the change cursor, bumped at the end of each write transaction;
* accounts, tokens (only their SHA-256), the admin audit trail and the blob register.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from cxfield.storage.types import JSONText, UTCDateTime

metadata = MetaData()

CHANGES_COUNTER = "changes"
HUB_ID_SETTING = "hub_id"

record = Table(
    "hub_record",
    metadata,
    Column("table_name", String(40), primary_key=True),
    Column("row_id", String(36), primary_key=True),
    Column("study_id", String(36), nullable=True, index=True),
    Column("session_id", String(36), nullable=True, index=True),
    Column("owner_account_id", String(36), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", JSONText, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("seq", BigInteger, nullable=False, unique=True),
    Column("updated_by", String(36), nullable=False),
    #: the device whose push made this version (its next edit is not a conflict with itself)
    Column("updated_by_device", String(36), nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    #: sites and researchers: the normalised name of a live row (one live row per name)
    Column("name_key", String(200), nullable=True),
    Index("ux_hub_record_name_key", "table_name", "name_key", unique=True),
)

conflict = Table(
    "hub_conflict",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("table_name", String(40), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("hub_version_before", Integer, nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("winner_hash", String(64), nullable=False),
    Column("loser_hash", String(64), nullable=False),
    #: the hash of the version the pushing device sent (winner or loser)
    Column("pushed_hash", String(64), nullable=False),
    Column("winner_data", JSONText, nullable=False),
    Column("loser_data", JSONText, nullable=False),
    Column("pushed_by", String(36), nullable=False),
    Column("pushed_device", String(36), nullable=False),
    Column("other_account", String(36), nullable=False),
    Column("other_device", String(36), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_by", String(36), nullable=True),
    Column("resolution", String(20), nullable=True),
    Column("seq", BigInteger, nullable=False, unique=True),
    Index("ix_hub_conflict_row", "table_name", "row_id"),
)

counter = Table(
    "hub_counter",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

setting = Table(
    "hub_setting",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

account = Table(
    "hub_account",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    #: casefolded, spaces collapsed: "Ana  Lima" and "ana lima" are one account
    Column("name_key", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
)

token = Table(
    "hub_token",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("hub_account.id"), nullable=False, index=True),
    Column("kind", String(10), nullable=False),  # enrol | device
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False, default=""),
    Column("device_id", String(36), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("last_seen_at", UTCDateTime, nullable=True),
)

audit = Table(
    "hub_audit",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    #: None: done on the hub's own machine (the ``cxfield hub`` CLI)
    Column("account_id", String(36), nullable=True),
    Column("action", String(40), nullable=False),
    Column("target", String(200), nullable=False),
    Column("detail", JSONText, nullable=True),
)

blob = Table(
    "hub_blob",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("complete", Boolean, nullable=False, default=False),
    Column("owner_account_id", String(36), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
)

withdrawal = Table(
    "hub_withdrawal",
    metadata,
    #: one row per withdrawn participant: the hub keeps no content of theirs from then on
    Column("participant_id", String(36), primary_key=True),
    Column("study_id", String(36), nullable=True),
    Column("requested_by", String(36), nullable=False),
    Column("requested_device", String(36), nullable=False, default=""),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("sessions", Integer, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("blobs", Integer, nullable=False),
)
