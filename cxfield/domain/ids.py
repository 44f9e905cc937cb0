"""Identifiers and clocks for records created offline on many devices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    """A device-generated, globally unique record id (UUID4 as text)."""
    return str(uuid.uuid4())


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat naive datetimes as UTC and convert aware ones to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
