"""the shared journey map on the web: web sign-in sessions, the projection of synced
rows into the laptop's tables and the page's facts (both filled from hub_record)

Revision ID: h0003
Revises: h0001
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cxfield.storage.types

revision = "h0003"
down_revision = "h0001"
branch_labels = None
depends_on = None

UTC_TIME = cxfield.storage.types.UTCDateTime


def upgrade() -> None:
    from cxfield.hub import facts, projection
    from cxfield.hub import storage as t

    op.create_table(
        "hub_web_session",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("token_id", sa.String(36), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", UTC_TIME(), nullable=False),
        sa.Column("expires_at", UTC_TIME(), nullable=False),
        sa.Column("ended_at", UTC_TIME(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["hub_account.id"]),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_hub_web_session_account_id", "hub_web_session", ["account_id"])
    # The projection mirrors the synced tables as the code defines them (derived data,
    # rebuilt from hub_record): a later change of those tables recreates and refills it.
    bind = op.get_bind()
    for table in [*t.projection.values(), *reversed(t.FACT_TABLES), *t.TOTAL_TABLES]:
        table.create(bind)
    projection.rebuild(bind)
    facts.rebuild(bind)


def downgrade() -> None:
    from cxfield.hub import storage as t

    bind = op.get_bind()
    for table in [*t.TOTAL_TABLES, *t.FACT_TABLES, *t.projection.values()]:
        table.drop(bind, checkfirst=True)  # a later revision's totals may be gone already
    op.drop_index("ix_hub_web_session_account_id", table_name="hub_web_session")
    op.drop_table("hub_web_session")
