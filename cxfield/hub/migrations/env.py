"""Alembic environment of the hub: always run with a connection handed in by
``cxfield.hub.migrate`` (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from cxfield.hub.storage import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - cxfield always passes one
    raise RuntimeError("Run hub migrations through `cxfield hub db upgrade`.")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
