"""the facts and running totals count a staff member's session as the staff side (mode
"staff"), so the shared map counts customers and staff apart: the facts are made again

Revision ID: h0008
Revises: h0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "h0008"
down_revision = "h0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from cxfield.hub import facts

    facts.rebuild(op.get_bind())


def downgrade() -> None:
    from sqlalchemy import delete, update

    from cxfield.hub import facts
    from cxfield.hub import storage as t

    bind = op.get_bind()
    # h0007's facts: a staff member's interview counted as any interview; totals made again
    for table in t.FACT_TABLES:
        if "mode" in table.c:
            bind.execute(update(table).where(table.c.mode == t.STAFF_SIDE).values(mode="interview"))
    for total in t.TOTAL_TABLES:
        bind.execute(delete(total))
    facts.fill(bind, t.TOTAL_TABLES)
