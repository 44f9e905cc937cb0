"""protection of participants: per-study encryption and retention settings, withdrawal
receipts (synced), the sealed copy of a recording; sealed values and retention marks (local-only)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_str = sqlmodel.sql.sqltypes.AutoString
_time = cxfield.storage.types.UTCDateTime


def _sync_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", _str(length=36), nullable=False),
        sa.Column("created_at", _time(length=32), nullable=False),
        sa.Column("updated_at", _time(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("device_id", _str(length=36), nullable=False),
        sa.Column("deleted_at", _time(length=32), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sealed_sha256", _str(length=64), nullable=False, server_default="")
        )
    op.create_table(
        "study_protection",
        *_sync_columns(),
        sa.Column("study_id", _str(), nullable=False),
        sa.Column("encrypt", sa.Boolean(), nullable=False),
        sa.Column("public_key", _str(length=64), nullable=False),
        sa.Column("key_id", _str(length=16), nullable=False),
        sa.Column("audio_days", sa.Integer(), nullable=True),
        sa.Column("transcript_days", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("study_protection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_protection_study_id"), ["study_id"], unique=True)
    op.create_table(
        "withdrawal_receipt",
        *_sync_columns(),
        sa.Column("participant_id", _str(), nullable=False),
        sa.Column("study_id", _str(length=36), nullable=False),
        sa.Column("place", _str(length=10), nullable=False),
        sa.Column("applied_by", _str(length=36), nullable=False),
        sa.Column("applied_at", _time(length=32), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("withdrawal_receipt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_withdrawal_receipt_participant_id"), ["participant_id"], unique=False
        )
    op.create_table(
        "sealed_value",
        sa.Column("table_name", _str(length=40), nullable=False),
        sa.Column("row_id", _str(length=36), nullable=False),
        sa.Column("column", _str(length=40), nullable=False),
        sa.Column("plain_sha256", _str(length=64), nullable=False),
        sa.Column("sealed", _str(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "row_id", "column"),
    )
    op.create_table(
        "retention_mark",
        sa.Column("session_id", _str(length=36), nullable=False),
        sa.Column("approved_at", _time(length=32), nullable=False),
        sa.Column("audio_deleted_at", _time(length=32), nullable=True),
        sa.Column("transcript_deleted_at", _time(length=32), nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
    )


def downgrade() -> None:
    op.drop_table("retention_mark")
    op.drop_table("sealed_value")
    op.drop_table("withdrawal_receipt")
    op.drop_table("study_protection")
    op.execute("ALTER TABLE recording DROP COLUMN sealed_sha256")
