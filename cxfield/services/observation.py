"""Observation mode: when the customer enters and leaves each step.

One mark per key press: *entered* stamps the step's ``observed_start`` and ends the step the
customer was in before (its ``observed_end``); *left* ends the current step without
entering another, so the gap until the next *entered* is a wait.  Visits are not linear:
any step may be entered next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from cxfield.domain.errors import ValidationError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.services.capture import editable_session
from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import ResearchSession, Step, StepCapture


@dataclass(frozen=True)
class StepTiming:
    step_id: str
    entered: datetime | None
    left: datetime | None
    #: seconds between entering and leaving the step
    step_s: float | None
    #: seconds between leaving the previous step (in time) and entering this one
    wait_s: float | None


def _open_step(db: Session, session_id: str) -> StepCapture | None:
    """The step the customer is in now: the latest entered step with no end yet."""
    return db.exec(
        select(StepCapture)
        .where(
            StepCapture.session_id == session_id,
            col(StepCapture.deleted_at).is_(None),
            col(StepCapture.observed_start).is_not(None),
            col(StepCapture.observed_end).is_(None),
        )
        .order_by(col(StepCapture.observed_start).desc())
    ).first()


def mark_entered(
    database: Database, session_id: str, step_id: str, at: datetime | None = None
) -> StepCapture:
    """The customer entered ``step_id`` now: stamp it, and end the step they were in."""
    moment = as_utc(at) if at else utcnow()
    with database.session() as db:
        session = editable_session(db, session_id)
        step = db.get(Step, step_id)
        if step is None or step.study_id != session.study_id:
            raise ValidationError("That step is not part of this session's study.")
        current = _open_step(db, session_id)
        if current is not None and current.step_id != step_id:
            current.observed_end = moment
            db.add(current)
        capture = db.exec(
            select(StepCapture).where(
                StepCapture.session_id == session_id, StepCapture.step_id == step_id
            )
        ).first()
        if capture is None:
            capture = StepCapture(session_id=session_id, step_id=step_id)
        capture.deleted_at = None
        if capture.observed_start is None or capture is not current:
            # Re-entering a step restarts its clock (the schema keeps one visit per step).
            capture.observed_start = moment
            capture.observed_end = None
        db.add(capture)
        return capture


def mark_left(
    database: Database, session_id: str, at: datetime | None = None
) -> StepCapture | None:
    """The customer left the step they were in (and now waits, or the visit ended)."""
    moment = as_utc(at) if at else utcnow()
    with database.session() as db:
        editable_session(db, session_id)
        current = _open_step(db, session_id)
        if current is None:
            return None
        current.observed_end = moment
        db.add(current)
        return current


def current_step(database: Database, session_id: str) -> str | None:
    """The step the customer is in now, if any."""
    with database.session() as db:
        current = _open_step(db, session_id)
        return current.step_id if current else None


def timeline(database: Database, session_id: str) -> dict[str, StepTiming]:
    """Step and wait durations of an observation, per step id."""
    with database.session() as db:
        get_live(db, ResearchSession, session_id, "session")
        captures = db.exec(
            select(StepCapture).where(
                StepCapture.session_id == session_id,
                col(StepCapture.deleted_at).is_(None),
                col(StepCapture.observed_start).is_not(None),
            )
        ).all()
    visits = sorted(captures, key=lambda c: as_utc(c.observed_start))  # type: ignore[arg-type]
    result: dict[str, StepTiming] = {}
    previous_end: datetime | None = None
    for capture in visits:
        start = as_utc(capture.observed_start)  # type: ignore[arg-type]
        end = as_utc(capture.observed_end) if capture.observed_end else None
        step_s = (end - start).total_seconds() if end else None
        wait_s = None
        if previous_end is not None:
            wait_s = max(0.0, (start - previous_end).total_seconds())
        result[capture.step_id] = StepTiming(capture.step_id, start, end, step_s, wait_s)
        previous_end = end
    return result
