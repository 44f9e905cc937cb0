"""web sign-in lock-out: recent failed sign-ins, shared by every hub process

Revision ID: h0005
Revises: h0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cxfield.storage.types

revision = "h0005"
down_revision = "h0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_signin_attempt",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("attempted_at", cxfield.storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_hub_signin_attempt_client_time", "hub_signin_attempt", ["client", "attempted_at"]
    )
    op.create_index("ix_hub_signin_attempt_time", "hub_signin_attempt", ["attempted_at"])


def downgrade() -> None:
    op.drop_index("ix_hub_signin_attempt_time", table_name="hub_signin_attempt")
    op.drop_index("ix_hub_signin_attempt_client_time", table_name="hub_signin_attempt")
    op.drop_table("hub_signin_attempt")
