"""redaction: the study's redaction settings, and laptop-only tables of candidates,
listed names, scans, hand mutes and word timestamps

Revision ID: 0009
Revises: 0008 (the integrator re-chains it)
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = cxfield.storage.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "redaction",
                cxfield.storage.types.JSONText(),
                nullable=False,
                server_default="{}",
            )
        )
    op.create_table(
        "redaction_candidate",
        sa.Column("id", _S(length=36), nullable=False),
        sa.Column("session_id", _S(length=36), nullable=False),
        sa.Column("table_name", _S(length=40), nullable=False),
        sa.Column("row_id", _S(length=36), nullable=False),
        sa.Column("field", _S(length=40), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("kind", _S(length=20), nullable=False),
        sa.Column("text", _S(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("source", _S(length=40), nullable=False),
        sa.Column("state", _S(length=20), nullable=False),
        sa.Column("text_hash", _S(length=64), nullable=False),
        sa.Column("created_at", _T(length=32), nullable=False),
        sa.Column("decided_at", _T(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("session_id", "row_id", "state"):
        op.create_index(f"ix_redaction_candidate_{column}", "redaction_candidate", [column])
    op.create_table(
        "redaction_name",
        sa.Column("id", _S(length=36), nullable=False),
        sa.Column("session_id", _S(length=36), nullable=False),
        sa.Column("name", _S(length=200), nullable=False),
        sa.Column("created_at", _T(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redaction_name_session_id", "redaction_name", ["session_id"])
    op.create_table(
        "redaction_scan",
        sa.Column("session_id", _S(length=36), nullable=False),
        sa.Column("fingerprint", _S(length=64), nullable=False),
        sa.Column("scanned_at", _T(length=32), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "redaction_mute",
        sa.Column("id", _S(length=36), nullable=False),
        sa.Column("recording_id", _S(length=36), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("created_at", _T(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redaction_mute_recording_id", "redaction_mute", ["recording_id"])
    op.create_table(
        "transcript_words",
        sa.Column("segment_id", _S(length=36), nullable=False),
        sa.Column("recording_id", _S(length=36), nullable=False),
        sa.Column("words", cxfield.storage.types.JSONText(), nullable=False),
        sa.PrimaryKeyConstraint("segment_id"),
    )
    op.create_index("ix_transcript_words_recording_id", "transcript_words", ["recording_id"])


def downgrade() -> None:
    for table in (
        "transcript_words",
        "redaction_mute",
        "redaction_scan",
        "redaction_name",
        "redaction_candidate",
    ):
        op.drop_table(table)
    op.execute("ALTER TABLE study DROP COLUMN redaction")
