"""sync bookkeeping: consent_text's own number apart from the sync counter, sync tables,
the per-study audio upload switch

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

``consent_text.version`` held the number of the wording (1, 2 ...) and so shadowed the sync
``version`` counter every other synced table has.  The number moves to ``consent_version``
(same values, same uniqueness per study) and ``version`` becomes the sync counter again
(1 for every existing row: nothing has synced yet).  ``sync_row``, ``sync_conflict`` and
``sync_upload`` are local-only bookkeeping of the sync with a team hub.
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite's own RENAME COLUMN (3.25+) rewrites the table's UNIQUE (study_id, version) in
    # place; no table copy, so no row can be lost on the way.
    op.execute("ALTER TABLE consent_text RENAME COLUMN version TO consent_version")
    op.execute("ALTER TABLE consent_text ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("audio_upload", sa.Boolean(), nullable=False, server_default="0")
        )

    op.create_table(
        "sync_row",
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("row_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("local_version", sa.Integer(), nullable=False),
        sa.Column("hub_version", sa.Integer(), nullable=False),
        sa.Column("hub_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("pushed_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "row_id"),
        # clustered on its key: "what is waiting" reads versions from the key lookup
        sqlite_with_rowid=False,
    )

    op.create_table(
        "sync_conflict",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("row_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("mine", cxfield.storage.types.JSONText(), nullable=True),
        sa.Column("theirs", cxfield.storage.types.JSONText(), nullable=True),
        sa.Column("winner", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("resolved_at", cxfield.storage.types.UTCDateTime(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sync_conflict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_conflict_table_name"), ["table_name"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_conflict_row_id"), ["row_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sync_conflict_resolved_at"), ["resolved_at"], unique=False
        )

    op.create_table(
        "sync_upload",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("recording_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("updated_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.PrimaryKeyConstraint("sha256"),
    )
    with op.batch_alter_table("sync_upload", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_upload_recording_id"), ["recording_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_upload_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("sync_upload")
    op.drop_table("sync_conflict")
    op.drop_table("sync_row")
    # plain DROP COLUMN (SQLite 3.35+): no copy of tables other rows point to
    op.execute("ALTER TABLE study DROP COLUMN audio_upload")
    op.execute("ALTER TABLE consent_text DROP COLUMN version")
    op.execute("ALTER TABLE consent_text RENAME COLUMN consent_version TO version")
