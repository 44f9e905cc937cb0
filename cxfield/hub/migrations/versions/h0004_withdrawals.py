"""withdrawn participants: the hub keeps no content of theirs

Revision ID: h0004
Revises: h0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cxfield.storage.types

revision = "h0004"
down_revision = "h0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_withdrawal",
        sa.Column("participant_id", sa.String(36), nullable=False),
        sa.Column("study_id", sa.String(36), nullable=True),
        sa.Column("requested_by", sa.String(36), nullable=False),
        sa.Column("requested_device", sa.String(36), nullable=False),
        sa.Column("applied_at", cxfield.storage.types.UTCDateTime(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("blobs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("participant_id"),
    )


def downgrade() -> None:
    op.drop_table("hub_withdrawal")
