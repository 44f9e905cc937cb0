"""transcription engine per job, suggested speakers on transcript segments

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02

``transcription_job.engine`` says which engine runs a queued job (NULL: openai-whisper, as
every job before this revision).  ``transcript_segment.speaker_suggested`` holds the speaker
that voice clustering suggests for a segment whose speaker nobody has set yet; it is only a
suggestion until a person confirms a speaker (which clears it).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transcription_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("engine", sa.String(length=20), nullable=True))
    with op.batch_alter_table("transcript_segment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("speaker_suggested", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transcript_segment", schema=None) as batch_op:
        batch_op.drop_column("speaker_suggested")
    with op.batch_alter_table("transcription_job", schema=None) as batch_op:
        batch_op.drop_column("engine")
