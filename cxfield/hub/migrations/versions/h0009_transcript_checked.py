"""the projection carries who checked a recording's transcript and when, and the study's
clock for audio retention (laptop migration 0010); the two tables are refilled from
hub_record, which holds them in every row pushed since

Revision ID: h0009
Revises: h0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0009"
down_revision = "h0008"
branch_labels = None
depends_on = None

#: projection table -> the columns laptop migration 0010 added to it
ADDED = {
    "recording": ("transcript_checked_at", "transcript_checked_by"),
    "study_protection": ("audio_clock",),
}


def upgrade() -> None:
    from cxfield.hub import projection
    from cxfield.hub import storage as t

    bind = op.get_bind()
    for name, columns in ADDED.items():
        # h0003 makes the tables the code defines: a hub created since has the columns
        present = {c["name"] for c in sa.inspect(bind).get_columns(name)}
        missing = [c for c in columns if c not in present]
        if missing:
            with op.batch_alter_table(name) as batch:
                for column in missing:
                    source = t.projection[name].c[column]
                    batch.add_column(sa.Column(column, source.type, nullable=True))
    projection.refill(bind, list(ADDED))


def downgrade() -> None:
    bind = op.get_bind()
    for name, columns in ADDED.items():
        present = {c["name"] for c in sa.inspect(bind).get_columns(name)}
        with op.batch_alter_table(name) as batch:
            for column in columns:
                if column in present:
                    batch.drop_column(column)
