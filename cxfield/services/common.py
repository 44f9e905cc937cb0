"""Helpers every service shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel

from cxfield.domain.errors import NotFoundError
from cxfield.domain.ids import utcnow
from cxfield.storage.models import SyncFields

T = TypeVar("T", bound=SyncFields)

ProgressCallback = Callable[[int, int], None]


def get_live(db: Session, model: type[T], record_id: str, what: str | None = None) -> T:
    """Fetch a record that exists and is not tombstoned, or raise NotFoundError."""
    obj = db.get(model, record_id)
    if obj is None or obj.deleted_at is not None:
        name = what or model.__name__.lower()
        raise NotFoundError(f"No {name} with id {record_id}.")
    return obj


def tombstone(db: Session, obj: SyncFields) -> None:
    """Soft-delete: the row stays (so the deletion can sync) but is hidden everywhere."""
    if obj.deleted_at is None:
        obj.deleted_at = utcnow()
        db.add(obj)


def public(obj: SQLModel) -> dict[str, Any]:
    """A JSON-ready dict of a record."""
    return obj.model_dump(mode="json")
