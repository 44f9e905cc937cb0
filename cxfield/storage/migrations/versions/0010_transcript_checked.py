"""transcript checked: who marked a recording's transcript checked, and when; the study's
clock for audio retention (after approval, or after the transcript was checked)

Revision ID: 0010
Revises: 0009 (the integrator re-chains it)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_S = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "transcript_checked_at",
                cxfield.storage.types.UTCDateTime(length=32),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("transcript_checked_by", _S(length=200), nullable=True))
    with op.batch_alter_table("study_protection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audio_clock", _S(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("study_protection", schema=None) as batch_op:
        batch_op.drop_column("audio_clock")
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.drop_column("transcript_checked_by")
        batch_op.drop_column("transcript_checked_at")
