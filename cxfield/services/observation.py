"""Observation mode: when the customer enters and leaves each step.

One mark per key press: *entered* opens a visit of the step and ends the visit the customer
was in before; *left* ends the current visit without entering another, so the gap until the
next *entered* is a wait.  Visits are not linear: any step may be entered next, and a step
entered again (a customer sent back to the queue) gets a second visit — every mark is kept
(:class:`~cxfield.storage.models.ObservationVisit`).  The step's capture carries a summary
(first entered, last left) so the runner and the capture panel read one row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from cxfield.domain.errors import ValidationError
from cxfield.domain.ids import as_utc, utcnow
from cxfield.services.capture import editable_session
from cxfield.services.common import get_live
from cxfield.services.visits import close_open_visits, open_visit, summary_capture
from cxfield.storage.database import Database
from cxfield.storage.models import ObservationVisit, ResearchSession, Step, StepCapture


@dataclass(frozen=True)
class StepTiming:
    step_id: str
    #: first entry into the step
    entered: datetime | None
    #: end of the last visit (None while the customer is in the step)
    left: datetime | None
    #: seconds spent in the step, all finished visits together
    step_s: float | None
    #: seconds between leaving the previous step (in time) and first entering this one
    wait_s: float | None
    #: how many times the customer entered the step
    visits: int = 1


def mark_entered(
    database: Database, session_id: str, step_id: str, at: datetime | None = None
) -> StepCapture:
    """The customer entered ``step_id`` now: open a visit of it, and end the one they were
    in.  Pressing the mark of the step the customer is already in changes nothing."""
    moment = as_utc(at) if at else utcnow()
    with database.session() as db:
        session = editable_session(db, session_id)
        step = db.get(Step, step_id)
        if step is None or step.study_id != session.study_id:
            raise ValidationError("That step is not part of this session's study.")
        current = open_visit(db, session_id)
        if current is not None and current.step_id == step_id:
            return summary_capture(db, session_id, step_id)
        close_open_visits(db, session_id, moment)
        db.add(ObservationVisit(session_id=session_id, step_id=step_id, entered_at=moment))
        capture = summary_capture(db, session_id, step_id)
        if capture.observed_start is None:
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
        current = open_visit(db, session_id)
        if current is None:
            return None
        close_open_visits(db, session_id, moment)
        return summary_capture(db, session_id, current.step_id)


def current_step(database: Database, session_id: str) -> str | None:
    """The step the customer is in now, if any."""
    with database.session() as db:
        current = open_visit(db, session_id)
        return current.step_id if current else None


def last_entered(database: Database, session_id: str) -> str | None:
    """The step entered most recently (whether or not the customer is still in it)."""
    with database.session() as db:
        latest = db.exec(
            select(ObservationVisit)
            .where(
                ObservationVisit.session_id == session_id,
                col(ObservationVisit.deleted_at).is_(None),
            )
            .order_by(col(ObservationVisit.entered_at).desc())
        ).first()
        return latest.step_id if latest else None


def visits(database: Database, session_id: str) -> list[ObservationVisit]:
    """Every visit of the observation, in time order."""
    with database.session() as db:
        get_live(db, ResearchSession, session_id, "session")
        return list(
            db.exec(
                select(ObservationVisit)
                .where(
                    ObservationVisit.session_id == session_id,
                    col(ObservationVisit.deleted_at).is_(None),
                )
                .order_by(col(ObservationVisit.entered_at))
            ).all()
        )


def timeline(database: Database, session_id: str) -> dict[str, StepTiming]:
    """Step and wait durations of an observation, per step id (in order of first entry)."""
    result: dict[str, StepTiming] = {}
    previous_end: datetime | None = None
    for visit in visits(database, session_id):
        start = as_utc(visit.entered_at)
        end = as_utc(visit.left_at) if visit.left_at else None
        spent = (end - start).total_seconds() if end else None
        known = result.get(visit.step_id)
        if known is None:
            wait_s = None
            if previous_end is not None:
                wait_s = max(0.0, (start - previous_end).total_seconds())
            result[visit.step_id] = StepTiming(visit.step_id, start, end, spent, wait_s)
        else:
            total = None
            if known.step_s is not None and spent is not None:
                total = known.step_s + spent
            result[visit.step_id] = StepTiming(
                visit.step_id, known.entered, end, total, known.wait_s, known.visits + 1
            )
        if end is not None:
            previous_end = end
    return result
