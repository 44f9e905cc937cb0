"""What waits for review: the queue (oldest submission first, with filters), the count in
the status bar, and the review summary of a study report."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from cxfield.domain.review import ReviewAction
from cxfield.domain.vocabulary import SessionStatus
from cxfield.services.sessions import SessionSummary, list_sessions
from cxfield.storage.actor import actor_of
from cxfield.storage.database import Database
from cxfield.storage.models import ResearchSession, ReviewComment, ReviewEvent


@dataclass(frozen=True)
class QueueItem:
    session: SessionSummary
    researcher_id: str | None
    site_id: str | None
    #: when it was last submitted (its end, or start, when no submit was recorded)
    submitted_at: datetime
    comments: int

    def as_json(self) -> dict[str, Any]:
        data = self.session.as_json()
        data.update(
            researcher_id=self.researcher_id,
            site_id=self.site_id,
            submitted_at=self.submitted_at.isoformat(),
            comments=self.comments,
        )
        return data


def _submitted_at(database: Database) -> dict[str, datetime]:
    with database.session() as db:
        rows = db.exec(
            select(ReviewEvent.session_id, func.max(ReviewEvent.at))
            .where(ReviewEvent.action == ReviewAction.SUBMIT, col(ReviewEvent.deleted_at).is_(None))
            .group_by(col(ReviewEvent.session_id))
        ).all()
    found: dict[str, datetime] = {}
    for session_id, at in rows:
        if isinstance(at, str):  # func.max reads the stored text
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        found[session_id] = at
    return found


def _refs(database: Database) -> dict[str, tuple[str | None, str | None]]:
    with database.session() as db:
        rows = db.exec(
            select(ResearchSession.id, ResearchSession.researcher_id, ResearchSession.site_id)
        ).all()
    return {sid: (rid, site) for sid, rid, site in rows}


def _comment_counts(database: Database) -> dict[str, int]:
    with database.session() as db:
        rows = db.exec(
            select(ReviewComment.session_id, func.count())
            .where(col(ReviewComment.deleted_at).is_(None))
            .group_by(col(ReviewComment.session_id))
        ).all()
    return {sid: int(n) for sid, n in rows}


def review_queue(
    database: Database,
    states: Sequence[str] = (SessionStatus.SUBMITTED.value,),
    *,
    study_id: str | None = None,
    site: str | None = None,
    researcher: str | None = None,
) -> list[QueueItem]:
    """Sessions in ``states``, the oldest submission first.  ``site`` and ``researcher``
    match an id or a name (case-insensitive)."""
    wanted = {SessionStatus(s).value for s in states}
    submitted, refs, counts = _submitted_at(database), _refs(database), _comment_counts(database)
    items = []
    for summary in list_sessions(database, study_id):
        if summary.status not in wanted:
            continue
        researcher_id, site_id = refs.get(summary.id, (None, None))
        if site and site.casefold() not in {
            (site_id or "").casefold(),
            (summary.site or "").casefold(),
        }:
            continue
        if researcher and researcher.casefold() not in {
            (researcher_id or "").casefold(),
            (summary.researcher or "").casefold(),
        }:
            continue
        at = submitted.get(summary.id) or summary.ended_at or summary.started_at
        items.append(QueueItem(summary, researcher_id, site_id, at, counts.get(summary.id, 0)))
    items.sort(key=lambda item: (item.submitted_at, item.session.id))
    return items


@dataclass(frozen=True)
class WaitingCount:
    """What the status bar says: sessions waiting for review (reviewer) or sessions
    returned to this researcher."""

    reviewer: bool
    count: int

    @property
    def line(self) -> str:
        if self.reviewer:
            return f"{self.count} to review" if self.count else ""
        return f"{self.count} returned to you" if self.count else ""


def waiting_count(database: Database) -> WaitingCount:
    with database.session() as db:
        actor = actor_of(db)
        query = (
            select(func.count())
            .select_from(ResearchSession)
            .where(col(ResearchSession.deleted_at).is_(None))
        )
        if actor.is_reviewer:
            query = query.where(ResearchSession.status == SessionStatus.SUBMITTED)
        else:
            query = query.where(ResearchSession.status == SessionStatus.HAS_ISSUES)
            if actor.id:  # their own, and sessions that name no researcher
                query = query.where(
                    (col(ResearchSession.researcher_id) == actor.id)
                    | col(ResearchSession.researcher_id).is_(None)
                )
        return WaitingCount(actor.is_reviewer, int(db.exec(query).one()))


@dataclass(frozen=True)
class ReviewSummary:
    """Sessions per state, median days from submission to decision, open issues per
    researcher (sessions returned and not yet resubmitted)."""

    per_state: dict[str, int]
    median_days_to_decision: float | None
    open_issues: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def review_summary(database: Database, study_id: str) -> ReviewSummary:
    sessions = list_sessions(database, study_id)
    per_state = {s.value: 0 for s in SessionStatus}
    open_issues: dict[str, int] = {}
    for summary in sessions:
        per_state[summary.status] = per_state.get(summary.status, 0) + 1
        if summary.status == SessionStatus.HAS_ISSUES.value:
            name = summary.researcher or "(no researcher)"
            open_issues[name] = open_issues.get(name, 0) + 1
    ids = {s.id for s in sessions}
    with database.session() as db:
        events = [
            e
            for e in db.exec(
                select(ReviewEvent)
                .where(col(ReviewEvent.deleted_at).is_(None))
                .order_by(col(ReviewEvent.at))
            ).all()
            if e.session_id in ids
        ]
    waits: list[float] = []
    # a session submitted before submissions were recorded: its end counts as submission
    pending: dict[str, datetime] = {s.id: s.ended_at or s.started_at for s in sessions}
    for e in events:
        if e.action == ReviewAction.SUBMIT:
            pending[e.session_id] = e.at
        elif e.action in (ReviewAction.APPROVE, ReviewAction.RETURN, ReviewAction.REJECT):
            start = pending.pop(e.session_id, None)
            if start is not None:
                waits.append((e.at - start).total_seconds() / 86400)
    median = round(statistics.median(waits), 2) if waits else None
    return ReviewSummary(per_state, median, dict(sorted(open_issues.items())))
