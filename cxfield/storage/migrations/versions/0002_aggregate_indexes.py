"""indexes for aggregating thousands of sessions (journey map, reports)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("step_capture", schema=None) as batch_op:
        batch_op.create_index("ix_step_capture_step_valence", ["step_id", "valence"], unique=False)
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.create_index("ix_session_study_started", ["study_id", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_index("ix_session_study_started")
    with op.batch_alter_table("step_capture", schema=None) as batch_op:
        batch_op.drop_index("ix_step_capture_step_valence")
