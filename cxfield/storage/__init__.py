"""Persistence: SQLModel tables, the SQLite engine, Alembic migrations."""
