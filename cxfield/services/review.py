"""Supervisor review: moving a session between review states (with its event record) and
comments anchored to the session or to one thing in it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from cxfield.domain.errors import ValidationError
from cxfield.domain.ids import utcnow
from cxfield.domain.review import (
    TRANSITIONS,
    AnchorKind,
    ReviewAction,
    clean_comment,
    next_status,
)
from cxfield.domain.vocabulary import SessionStatus
from cxfield.services.common import get_live
from cxfield.services.visits import close_open_visits
from cxfield.storage.actor import Actor, actor_of
from cxfield.storage.database import Database
from cxfield.storage.models import (
    Note,
    ResearchSession,
    ReviewComment,
    ReviewEvent,
    Step,
    TranscriptSegment,
)

NO_PROFILE = (
    "Nobody is signed in on this laptop: connect to the hub (cxfield sync connect) or "
    "choose your profile first (Review → Your profile… in the app, or cxfield review profile)."
)


def current_actor(database: Database) -> Actor:
    with database.session() as db:
        return actor_of(db)


def record_move(
    db: Session, session: ResearchSession, action: ReviewAction, comment: str = ""
) -> ReviewEvent:
    """Move ``session`` (in this unit of work) and record the event; one-line errors."""
    actor = actor_of(db)
    rule = TRANSITIONS[action]
    if rule.reviewers_only and not actor.known:
        raise ValidationError(NO_PROFILE)
    target = next_status(session.status, action, reviewer=actor.is_reviewer, comment=comment)
    moment = utcnow()
    event = ReviewEvent(
        session_id=session.id,
        action=action,
        from_status=session.status,
        to_status=target,
        comment=clean_comment(comment, required=rule.needs_comment),
        actor_id=actor.id,
        actor_name=actor.name,
        at=moment,
    )
    if action == ReviewAction.SUBMIT and session.status == SessionStatus.DRAFT:
        close_open_visits(db, session.id, moment)
        session.ended_at = session.ended_at or moment
    session.status = target
    db.add(session)
    db.add(event)
    return event


def move(
    database: Database, session_id: str, action: ReviewAction, comment: str = ""
) -> ReviewEvent:
    """Submit, approve, return, reject or reopen one session."""
    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
        return record_move(db, session, action, comment)


def submit(database: Database, session_id: str, comment: str = "") -> ReviewEvent:
    return move(database, session_id, ReviewAction.SUBMIT, comment)


def _check_anchor(
    db: Session, session: ResearchSession, anchor: AnchorKind, anchor_id: str | None
) -> None:
    if anchor == AnchorKind.SESSION:
        if anchor_id:
            raise ValidationError("A comment on the whole session names no item.")
        return
    if not anchor_id:
        raise ValidationError(f"Say which {anchor.value} the comment is about.")
    if anchor in (AnchorKind.STEP, AnchorKind.QUOTE):
        step = db.get(Step, anchor_id)
        ok = step is not None and step.deleted_at is None and step.study_id == session.study_id
    elif anchor == AnchorKind.NOTE:
        note = db.get(Note, anchor_id)
        ok = note is not None and note.deleted_at is None and note.session_id == session.id
    else:
        segment = db.get(TranscriptSegment, anchor_id)
        ok = (
            segment is not None
            and segment.deleted_at is None
            and (segment.session_id == session.id)
        )
    if not ok:
        raise ValidationError(f"No {anchor.value} {anchor_id} in session {session.id}.")


def _step_by_name(db: Session, session: ResearchSession, value: str) -> str:
    """A step named by its id or by its name in the session's journey map (case and
    spacing aside: `--step Wait`); a name two steps share is refused in one line."""
    if db.get(Step, value) is not None:
        return value
    wanted = " ".join(value.split()).casefold()
    found = [
        s.id
        for s in db.exec(
            select(Step).where(Step.study_id == session.study_id, col(Step.deleted_at).is_(None))
        )
        if " ".join(s.name.split()).casefold() == wanted
    ]
    if len(found) > 1:
        raise ValidationError(f"Two steps are called {value!r}: give the step's id.")
    return found[0] if found else value


def add_comment(
    database: Database,
    session_id: str,
    text: str,
    *,
    anchor: AnchorKind = AnchorKind.SESSION,
    anchor_id: str | None = None,
    reply_to: str | None = None,
) -> ReviewComment:
    """A comment (or a reply, which takes the anchor of the comment it answers)."""
    body = clean_comment(text, required=True, what="The comment")
    with database.session() as db:
        session = get_live(db, ResearchSession, session_id, "session")
        actor = actor_of(db)
        if not actor.known:
            raise ValidationError(NO_PROFILE)
        if reply_to:
            parent = db.get(ReviewComment, reply_to)
            if parent is None or parent.session_id != session.id:
                raise ValidationError(f"No comment {reply_to} in session {session.id}.")
            anchor, anchor_id = parent.anchor, parent.anchor_id
        else:
            if anchor in (AnchorKind.STEP, AnchorKind.QUOTE) and anchor_id:
                anchor_id = _step_by_name(db, session, anchor_id)
            _check_anchor(db, session, anchor, anchor_id)
        comment = ReviewComment(
            session_id=session.id,
            anchor=anchor,
            anchor_id=anchor_id,
            reply_to=reply_to,
            text=body,
            author_id=actor.id,
            author_name=actor.name,
            author_role=actor.role,
        )
        db.add(comment)
        return comment


def _live(db: Session, model: Any, session_ids: Iterable[str]) -> list[Any]:
    ids = sorted(set(session_ids))
    if not ids:
        return []
    query = (
        select(model)
        .where(col(model.session_id).in_(ids), col(model.deleted_at).is_(None))
        .order_by(col(model.at), col(model.id))
    )
    return list(db.exec(query).all())


def events_of(database: Database, session_id: str) -> list[ReviewEvent]:
    with database.session() as db:
        return _live(db, ReviewEvent, [session_id])


def comments_of(database: Database, session_id: str) -> list[ReviewComment]:
    """Oldest first; replies follow the comments they answer (use :func:`threads`)."""
    with database.session() as db:
        return _live(db, ReviewComment, [session_id])


@dataclass(frozen=True)
class Thread:
    comment: ReviewComment
    replies: list[ReviewComment]


def threads(comments: list[ReviewComment]) -> list[Thread]:
    """Top-level comments with their replies (a reply to a reply joins the same thread)."""
    by_id = {c.id: c for c in comments}

    def root(c: ReviewComment) -> str:
        seen = set()
        while c.reply_to and c.reply_to in by_id and c.id not in seen:
            seen.add(c.id)
            c = by_id[c.reply_to]
        return c.id

    found: dict[str, Thread] = {}
    for c in comments:
        top = root(c)
        if top == c.id:
            found[c.id] = Thread(c, [])
    for c in comments:
        top = root(c)
        if top != c.id and top in found:
            found[top].replies.append(c)
    return list(found.values())


def use_profile(database: Database, name: str, role: str | None = None) -> Actor:
    """Offline: make the researcher ``name`` (made if new, with ``role``) this laptop's
    profile.  Connected to a hub, the hub account is the profile and this is refused."""
    from cxfield.services import sites
    from cxfield.storage.actor import ACCOUNT_KEY

    if database.get_setting(ACCOUNT_KEY):
        raise ValidationError(
            "This laptop is connected to a hub: its account is your profile "
            "(cxfield sync disconnect first to use a local one)."
        )
    wanted = " ".join(name.split()).casefold()
    found = [r for r in sites.list_researchers(database) if r.name.casefold() == wanted]
    if found:
        researcher = found[0]
        if role and researcher.role.value != role:
            raise ValidationError(
                f"{researcher.name} is a {researcher.role.value}; pick another name for a "
                f"{role} profile."
            )
    else:
        researcher = sites.add_researcher(database, name, role or "researcher")
    database.set_setting(sites.DEFAULT_RESEARCHER_KEY, researcher.id)
    return current_actor(database)


def anchor_label(detail: dict[str, Any], comment: ReviewComment) -> str:
    """What a comment is about, in words ("Step Wait", "Quote of Wait", "Note 03:12 …")."""
    kind, target = comment.anchor.value, comment.anchor_id
    if kind == "session" or not target:
        return "The session"
    if kind in ("step", "quote"):
        name = next((s["step"] for s in detail["steps"] if s["step_id"] == target), "?")
        return f"Step {name}" if kind == "step" else f"Quote of {name}"
    if kind == "note":
        note = next((n for n in detail["notes"] if n["id"] == target), None)
        return "Note " + (note["text"][:40] if note else "(removed)")
    segment = next((s for s in detail["transcript"] if s["id"] == target), None)
    if segment is None:
        return "Transcript (removed segment)"
    minutes, seconds = divmod(int(segment["start_s"]), 60)
    return f"Transcript {minutes:02d}:{seconds:02d} {segment['text'][:30]}"


def erase_review_records(db: Session, session_id: str) -> None:
    """With a session's content (a participant withdrew): its review comments, decision
    comments and history values are blanked and tombstoned, so that no copy of what the
    participant said survives in them (the tombstones sync like any deletion)."""
    from cxfield.services.common import tombstone
    from cxfield.storage.models import AuditEntry

    for comment in db.exec(select(ReviewComment).where(ReviewComment.session_id == session_id)):
        comment.text = ""
        tombstone(db, comment)
    for event in db.exec(select(ReviewEvent).where(ReviewEvent.session_id == session_id)):
        event.comment = ""
        tombstone(db, event)
    for entry in db.exec(select(AuditEntry).where(AuditEntry.session_id == session_id)):
        entry.before = entry.after = None
        tombstone(db, entry)
