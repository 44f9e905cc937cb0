"""observation visits (every entry into a step is kept) and the A-11 population name

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Before this revision an observation kept one start/end pair per step, so a customer sent
back to a step overwrote the first visit.  ``observation_visit`` keeps every visit; the
existing pairs become one visit each (same device, same creation time), so no recorded time
is lost by the upgrade.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observation_visit",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("created_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("deleted_at", cxfield.storage.types.UTCDateTime(length=32), nullable=True),
        sa.Column("session_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("step_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entered_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("left_at", cxfield.storage.types.UTCDateTime(length=32), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["session.id"]),
        sa.ForeignKeyConstraint(["step_id"], ["step.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("observation_visit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_observation_visit_session_id"), ["session_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_observation_visit_step_id"), ["step_id"], unique=False)
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "a11_population",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )

    # One visit per recorded start/end pair; the stored text of the times is copied as is
    # (same column type), so nothing is re-parsed or shifted.
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT session_id, step_id, observed_start, observed_end, created_at, updated_at, "
            "device_id, deleted_at FROM step_capture WHERE observed_start IS NOT NULL"
        )
    ).all()
    insert = sa.text(
        "INSERT INTO observation_visit (id, created_at, updated_at, version, device_id, "
        "deleted_at, session_id, step_id, entered_at, left_at) VALUES (:id, :created_at, "
        ":updated_at, 1, :device_id, :deleted_at, :session_id, :step_id, :entered_at, :left_at)"
    )
    for row in rows:
        bind.execute(
            insert,
            {
                "id": str(uuid.uuid4()),
                "created_at": row.created_at,
                "updated_at": row.updated_at,
                "device_id": row.device_id,
                "deleted_at": row.deleted_at,
                "session_id": row.session_id,
                "step_id": row.step_id,
                "entered_at": row.observed_start,
                "left_at": row.observed_end,
            },
        )


def downgrade() -> None:
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.drop_column("a11_population")
    with op.batch_alter_table("observation_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_visit_step_id"))
        batch_op.drop_index(batch_op.f("ix_observation_visit_session_id"))
    op.drop_table("observation_visit")
