"""supervisor review and the audit trail: review_event, review_comment, audit_entry

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01

Three synced, append-only tables: the moves of a session between review states, comments
anchored to a session or to one thing in it, and every field changed after a session was
first submitted.  Existing data is not touched.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import cxfield.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def _sync_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", _TEXT(length=36), nullable=False),
        sa.Column("created_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("updated_at", cxfield.storage.types.UTCDateTime(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("device_id", _TEXT(length=36), nullable=False),
        sa.Column("deleted_at", cxfield.storage.types.UTCDateTime(length=32), nullable=True),
        sa.Column("session_id", _TEXT(), nullable=False),
    ]


def _table(name: str, *columns: sa.Column) -> None:  # type: ignore[type-arg]
    op.create_table(
        name,
        *_sync_columns(),
        *columns,
        sa.ForeignKeyConstraint(["session_id"], ["session.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_session_id"), ["session_id"], unique=False)


def upgrade() -> None:
    time = cxfield.storage.types.UTCDateTime(length=32)
    _table(
        "review_event",
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("comment", _TEXT(), nullable=False),
        sa.Column("actor_id", _TEXT(length=36), nullable=True),
        sa.Column("actor_name", _TEXT(length=200), nullable=False),
        sa.Column("at", time, nullable=False),
    )
    _table(
        "review_comment",
        sa.Column("anchor", sa.String(length=20), nullable=False),
        sa.Column("anchor_id", _TEXT(length=36), nullable=True),
        sa.Column("reply_to", _TEXT(length=36), nullable=True),
        sa.Column("text", _TEXT(), nullable=False),
        sa.Column("author_id", _TEXT(length=36), nullable=True),
        sa.Column("author_name", _TEXT(length=200), nullable=False),
        sa.Column("author_role", _TEXT(length=20), nullable=False),
        sa.Column("at", time, nullable=False),
    )
    _table(
        "audit_entry",
        sa.Column("table_name", _TEXT(length=40), nullable=False),
        sa.Column("row_id", _TEXT(length=36), nullable=False),
        sa.Column("field", _TEXT(length=60), nullable=False),
        sa.Column("before", cxfield.storage.types.JSONText(), nullable=True),
        sa.Column("after", cxfield.storage.types.JSONText(), nullable=True),
        sa.Column("actor_id", _TEXT(length=36), nullable=True),
        sa.Column("actor_name", _TEXT(length=200), nullable=False),
        sa.Column("at", time, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("review_comment")
    op.drop_table("review_event")
