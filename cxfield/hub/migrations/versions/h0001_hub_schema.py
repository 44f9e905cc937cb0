"""the hub's first schema: records, conflicts, the change counter, accounts, tokens,
audit trail and blobs

Revision ID: h0001
Revises:
Create Date: 2026-12-01
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import cxfield.storage.types

revision = "h0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = cxfield.storage.types.UTCDateTime
JSON_TEXT = cxfield.storage.types.JSONText


def upgrade() -> None:
    op.create_table(
        "hub_record",
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("row_id", sa.String(36), nullable=False),
        sa.Column("study_id", sa.String(36), nullable=True),
        sa.Column("session_id", sa.String(36), nullable=True),
        sa.Column("owner_account_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("data", JSON_TEXT(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(36), nullable=False),
        sa.Column("updated_by_device", sa.String(36), nullable=False),
        sa.Column("updated_at", UTC_TIME(), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("table_name", "row_id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index("ix_hub_record_study_id", "hub_record", ["study_id"])
    op.create_index("ix_hub_record_session_id", "hub_record", ["session_id"])
    op.create_index("ix_hub_record_owner_account_id", "hub_record", ["owner_account_id"])
    op.create_index(
        "ux_hub_record_name_key", "hub_record", ["table_name", "name_key"], unique=True
    )

    op.create_table(
        "hub_conflict",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("row_id", sa.String(36), nullable=False),
        sa.Column("hub_version_before", sa.Integer(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("winner_hash", sa.String(64), nullable=False),
        sa.Column("loser_hash", sa.String(64), nullable=False),
        sa.Column("pushed_hash", sa.String(64), nullable=False),
        sa.Column("winner_data", JSON_TEXT(), nullable=False),
        sa.Column("loser_data", JSON_TEXT(), nullable=False),
        sa.Column("pushed_by", sa.String(36), nullable=False),
        sa.Column("pushed_device", sa.String(36), nullable=False),
        sa.Column("other_account", sa.String(36), nullable=False),
        sa.Column("other_device", sa.String(36), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("resolved_at", UTC_TIME(), nullable=True),
        sa.Column("resolved_by", sa.String(36), nullable=True),
        sa.Column("resolution", sa.String(20), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_index("ix_hub_conflict_row", "hub_conflict", ["table_name", "row_id"])

    counter = op.create_table(
        "hub_counter",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(counter, [{"name": "changes", "value": 0}])

    setting = op.create_table(
        "hub_setting",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.bulk_insert(setting, [{"key": "hub_id", "value": str(uuid.uuid4())}])

    op.create_table(
        "hub_account",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("disabled_at", UTC_TIME(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_key"),
    )
    op.create_table(
        "hub_token",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=True),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("used_at", UTC_TIME(), nullable=True),
        sa.Column("revoked_at", UTC_TIME(), nullable=True),
        sa.Column("last_seen_at", UTC_TIME(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["hub_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_hub_token_account_id", "hub_token", ["account_id"])
    op.create_table(
        "hub_audit",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("at", UTC_TIME(), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("detail", JSON_TEXT(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_hub_audit_at", "hub_audit", ["at"])
    op.create_table(
        "hub_blob",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("owner_account_id", sa.String(36), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("completed_at", UTC_TIME(), nullable=True),
        sa.PrimaryKeyConstraint("sha256"),
    )


def downgrade() -> None:
    for name in (
        "hub_blob", "hub_audit", "hub_token", "hub_account", "hub_setting",
        "hub_counter", "hub_conflict", "hub_record",
    ):
        op.drop_table(name)
