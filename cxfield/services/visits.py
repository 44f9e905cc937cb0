"""Visits of an observation's steps: the primitives shared by the observation marks and by
finishing a session (which ends the visit still open).  Kept apart from
:mod:`cxfield.services.observation` so that :mod:`cxfield.services.capture` can use them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from cxfield.domain.ids import as_utc
from cxfield.storage.models import ObservationVisit, StepCapture


def open_visit(db: Session, session_id: str) -> ObservationVisit | None:
    """The visit the customer is in now: the latest entered visit with no end yet."""
    return db.exec(
        select(ObservationVisit)
        .where(
            ObservationVisit.session_id == session_id,
            col(ObservationVisit.deleted_at).is_(None),
            col(ObservationVisit.left_at).is_(None),
        )
        .order_by(col(ObservationVisit.entered_at).desc())
    ).first()


def summary_capture(db: Session, session_id: str, step_id: str) -> StepCapture:
    """The step's capture (created, or revived, when needed) that summarises its visits."""
    capture = db.exec(
        select(StepCapture).where(
            StepCapture.session_id == session_id, StepCapture.step_id == step_id
        )
    ).first()
    if capture is None:
        capture = StepCapture(session_id=session_id, step_id=step_id)
    capture.deleted_at = None
    return capture


def close_open_visits(db: Session, session_id: str, moment: datetime) -> None:
    """End every visit still open (the customer left, or the session finished)."""
    open_visits = db.exec(
        select(ObservationVisit).where(
            ObservationVisit.session_id == session_id,
            col(ObservationVisit.deleted_at).is_(None),
            col(ObservationVisit.left_at).is_(None),
        )
    ).all()
    for visit in open_visits:
        visit.left_at = max(moment, as_utc(visit.entered_at))
        db.add(visit)
        capture = summary_capture(db, session_id, visit.step_id)
        capture.observed_end = visit.left_at
        db.add(capture)
