"""Alembic migration environment (run programmatically by cxfield.storage.migrate)."""
