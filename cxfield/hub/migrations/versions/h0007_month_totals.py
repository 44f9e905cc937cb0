"""running totals per month: a date range on the page reads its whole months from them
and only the days of a month it cuts from the facts; a partial index of the pain-point
facts; the session facts' index carries what the overview reads (PostgreSQL INCLUDE)

Revision ID: h0007
Revises: h0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h0007"
down_revision = "h0006"
branch_labels = None
depends_on = None

SESSION_INDEX = "ix_hub_fact_session_study"
SESSION_COLUMNS = ["study_id", "status", "started_at"]


def _session_index(include: bool) -> None:
    from cxfield.hub import storage as t

    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE
    (index,) = [i for i in t.fact_session.indexes if i.name == SESSION_INDEX]
    op.drop_index(SESSION_INDEX, table_name=t.fact_session.name)
    extra = {"postgresql_include": index.dialect_options["postgresql"]["include"]}
    op.create_index(SESSION_INDEX, t.fact_session.name, SESSION_COLUMNS, **(extra if include else {}))


def upgrade() -> None:
    from cxfield.hub import facts
    from cxfield.hub import storage as t

    bind = op.get_bind()
    # h0003 makes the tables the code defines: a hub created since has them, filled
    new = [table for table in t.MONTH_TOTALS if not sa.inspect(bind).has_table(table.name)]
    for table in new:
        table.create(bind)
    facts.fill(bind, new)
    pain = t.fact_step_pain_index
    if pain.name not in {i["name"] for i in sa.inspect(bind).get_indexes(t.fact_step.name)}:
        pain.create(bind)
    _session_index(include=True)


def downgrade() -> None:
    from cxfield.hub import storage as t

    bind = op.get_bind()
    _session_index(include=False)
    t.fact_step_pain_index.drop(bind)
    for table in t.MONTH_TOTALS:
        table.drop(bind)
