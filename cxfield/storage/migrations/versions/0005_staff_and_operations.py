"""staff participants (kind, role, the study's staff roles and staff segment attributes,
the roles taking part in each step) and operations data (imported files, their rows, the time each row spent per step)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Every participant so far is a customer (``kind`` 'customer', no role).  Existing studies get
the default staff roles and staff segment attributes that a new study gets.  The three ops
tables are synced like the rest (SyncFields); their ids are made from their content.
Columns are added with SQLite's plain ADD COLUMN: no table is copied.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: the defaults of a new study at this revision (kept literal: later code may change them)
_ROLES = '["front desk", "caseworker", "eligibility worker", "supervisor", "call-centre agent"]'
_STAFF_SEGMENTS = (
    '[{"key": "years_in_post", "label": "Years in post", "values": ["under 1", "1–5", '
    '"over 5"]}, {"key": "office", "label": "Office", "values": []}]'
)


def _sync_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("created_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("deleted_at", cxfield.storage.types.UTCDateTime(length=32), nullable=True),
    ]


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    when = cxfield.storage.types.UTCDateTime
    op.execute("ALTER TABLE participant ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT 'customer'")
    op.execute("ALTER TABLE participant ADD COLUMN role VARCHAR(60) NOT NULL DEFAULT ''")
    op.execute(f"ALTER TABLE study ADD COLUMN staff_roles TEXT NOT NULL DEFAULT '{_ROLES}'")
    op.execute("ALTER TABLE step ADD COLUMN staff_roles TEXT NOT NULL DEFAULT '[]'")
    op.execute(
        "ALTER TABLE study ADD COLUMN staff_segment_attributes TEXT NOT NULL "
        f"DEFAULT '{_STAFF_SEGMENTS}'"
    )

    op.create_table(
        "ops_import",
        *_sync_columns(),
        sa.Column("study_id", text(), nullable=False),
        sa.Column("source_name", text(length=255), nullable=False),
        sa.Column("sha256", text(length=64), nullable=False),
        sa.Column("mapping", cxfield.storage.types.JSONText(), nullable=False),
        sa.Column("end_column", text(length=200), nullable=False),
        sa.Column("site_column", text(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("imported_at", when(length=32), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "sha256"),
    )
    with op.batch_alter_table("ops_import", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_import_study_id"), ["study_id"], unique=False)

    op.create_table(
        "ops_record",
        *_sync_columns(),
        sa.Column("study_id", text(), nullable=False),
        sa.Column("import_id", text(), nullable=False),
        sa.Column("row_hash", text(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("site", text(length=200), nullable=False),
        sa.Column("started_at", when(length=32), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["ops_import.id"]),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("study_id", "row_hash"),
    )
    with op.batch_alter_table("ops_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_record_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ops_record_study_id"), ["study_id"], unique=False)

    op.create_table(
        "ops_step_time",
        *_sync_columns(),
        sa.Column("record_id", text(), nullable=False),
        sa.Column("study_id", text(), nullable=False),
        sa.Column("step_id", text(), nullable=False),
        sa.Column("site", text(length=200), nullable=False),
        sa.Column("entered_at", when(length=32), nullable=False),
        sa.Column("left_at", when(length=32), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["ops_record.id"]),
        sa.ForeignKeyConstraint(["step_id"], ["step.id"]),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ops_step_time", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_step_time_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ops_step_time_step_id"), ["step_id"], unique=False)
        batch_op.create_index(
            "ix_ops_step_time_study_step", ["study_id", "step_id", "seconds"], unique=False
        )


def downgrade() -> None:
    op.drop_table("ops_step_time")
    op.drop_table("ops_record")
    op.drop_table("ops_import")
    # plain DROP COLUMN (SQLite 3.35+): no copy of tables other rows point to
    for table, column in (
        ("study", "staff_segment_attributes"),
        ("study", "staff_roles"),
        ("step", "staff_roles"),
        ("participant", "role"),
        ("participant", "kind"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
