"""Alembic environment: always run with a connection handed in by cxfield."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from cxfield.storage import models  # noqa: F401  (registers every table)

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - cxfield always passes one
    raise RuntimeError("Run migrations through `cxfield db upgrade`.")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
