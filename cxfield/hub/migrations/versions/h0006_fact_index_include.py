"""the page's fact indexes carry the filtered columns (PostgreSQL INCLUDE): a date range,
site or researcher filter reads the index alone instead of 300,000 table rows

Revision ID: h0006
Revises: h0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "h0006"
down_revision = "h0005"
branch_labels = None
depends_on = None

INDEXES = ("ix_hub_fact_step_study", "ix_hub_fact_step_segment_study")


def _recreate(include: bool) -> None:
    from cxfield.hub import storage as t

    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite has no INCLUDE: its indexes stay as they are
    for table in (t.fact_step, t.fact_step_segment):
        for index in table.indexes:
            if index.name not in INDEXES:
                continue
            op.drop_index(index.name, table_name=table.name)
            columns = [c.name for c in index.columns]
            extra = {"postgresql_include": index.dialect_options["postgresql"]["include"]}
            op.create_index(index.name, table.name, columns, **(extra if include else {}))


def upgrade() -> None:
    _recreate(include=True)


def downgrade() -> None:
    _recreate(include=False)
