"""Review rules the hub enforces on pushed rows, from the account's role (nothing the
laptop says about itself counts):

* only supervisors and admins approve, return, reject or reopen (a session row moving to
  such a state, or arriving new in one, or a review_event of such an action, pushed by a
  researcher: ``forbidden``; what the session holds is kept, out of sight without its
  session, so that nothing is lost when the session comes again submitted);
* a review decision made on a stale copy (the session changed on the hub meanwhile, e.g.
  another supervisor decided first) is refused: one wins, the other is told;
* an approved or rejected session is read-only: a changed row of it is refused (the laptop
  keeps its version as a flagged, refused change -- never a silent overwrite of the review);
* review events, comments and audit entries are append-only, and those that belong to a
  refused change are refused with it.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection, select

from cxfield.domain.review import (
    PHRASE,
    REVIEWERS_ONLY,
    ReviewAction,
    action_between,
    is_locked,
    status_change_problem,
)
from cxfield.domain.vocabulary import SessionStatus
from cxfield.hub import storage as t
from cxfield.privacy.retention import EXPIRED
from cxfield.storage.models import APPEND_ONLY_TABLES

APPEND_ONLY = "Review events, comments and history entries cannot be changed once made."
LOCKED = (
    "This session is {status} on the hub and read-only; your change is kept on this laptop "
    "(see cxfield sync conflicts). A supervisor can reopen the session."
)
DECIDED_FIRST = (
    "This session changed on the hub before your decision arrived (it is now {status}, "
    "by {who}); sync and decide again."
)
ARRIVING_DECIDED = (
    "Only a supervisor or an admin can send the hub a session that is already {status}: a "
    "researcher's laptop sends a new session as a draft or submitted for review (demo data: "
    "cxfield demo --submitted)."
)
REFUSED_WITH = "Refused with the change it belongs to: {reason}"
#: session columns a review move may change on a read-only session
MOVE_COLUMNS = frozenset({"status", "updated_at", "device_id", "researcher_id", "site_id"})


class RecordLike(Protocol):
    table_name: str
    row_id: str
    version: int
    content_hash: str
    data: dict[str, Any]
    stored: bool
    updated_by: str
    updated_by_device: str


class BatchLike(Protocol):
    conn: Connection
    device_id: str
    records: dict[tuple[str, str], Any]
    refused: dict[tuple[str, str], str]
    decided: dict[str, bool]


def _phrase(status: str) -> str:
    return status.replace("_", " ")


def _only_status_moved(old: dict[str, Any], new: dict[str, Any]) -> bool:
    keys = (set(old) | set(new)) - MOVE_COLUMNS
    return all(old.get(k) == new.get(k) for k in keys)


def _session_problem(
    batch: BatchLike, row: Any, existing: RecordLike | None, reviewer: bool
) -> str | None:
    new = str(row.data.get("status", "draft"))
    if existing is None:
        # A session new to the hub comes as it is on the laptop when a supervisor or an
        # admin sends it (offline reviews by a supervisor profile); from a researcher only
        # as a draft or submitted: arriving already decided would be deciding it.
        if status_change_problem(None, new, reviewer=reviewer) is None:
            return None
        return ARRIVING_DECIDED.format(status=PHRASE[SessionStatus(new)])
    old = str(existing.data.get("status", "draft"))
    moving = old != new
    stale = row.base != existing.version and existing.updated_by_device != batch.device_id
    if moving and stale and reviewer:
        # a decision made on a copy older than the hub's: another one came first
        return DECIDED_FIRST.format(status=_phrase(old), who=_who(batch, existing))
    if is_locked(old):
        reopening = reviewer and action_between(old, new) == ReviewAction.REOPEN
        if not (reopening and _only_status_moved(existing.data, row.data)):
            return LOCKED.format(status=_phrase(old))
    if moving:
        if stale:
            return DECIDED_FIRST.format(status=_phrase(old), who=_who(batch, existing))
        return status_change_problem(old, new, reviewer=reviewer)
    return None


def _who(batch: BatchLike, existing: RecordLike) -> str:
    name = batch.conn.execute(
        select(t.account.c.name).where(t.account.c.id == existing.updated_by)
    ).scalar()
    return str(name) if name else "another account"


def _append_only_problem(
    batch: BatchLike, row: Any, existing: RecordLike | None, reviewer: bool
) -> str | None:
    if existing is not None:
        return APPEND_ONLY
    data = row.data
    session_id = str(data.get("session_id"))
    if ("session", session_id) in batch.refused:
        return REFUSED_WITH.format(reason=batch.refused[("session", session_id)])
    if row.table == "audit_entry":
        target = (str(data.get("table_name")), str(data.get("row_id")))
        if target in batch.refused:
            return REFUSED_WITH.format(reason=batch.refused[target])
    decision = row.table == "review_event" and data.get("action") != ReviewAction.SUBMIT.value
    if decision and not reviewer:
        return REVIEWERS_ONLY
    return None


def _tombstoning(row: Any, existing: RecordLike | None) -> bool:
    return (
        existing is not None
        and existing.data.get("deleted_at") is None
        and row.data.get("deleted_at") is not None
    )


def _expiring(row: Any, existing: RecordLike | None) -> bool:
    """A recording whose audio the study's retention expired, nothing else changed (the
    study's own rule, like the laptop's ``RULE_KEY`` exemption)."""
    if existing is None or row.table != "recording" or row.data.get("state") != EXPIRED:
        return False
    keys = (set(existing.data) | set(row.data)) - {"state", "updated_at", "device_id"}
    return all(existing.data.get(k) == row.data.get(k) for k in keys)


def review_problem(
    batch: BatchLike, row: Any, existing: RecordLike | None, reviewer: bool
) -> str | None:
    """The ``forbidden`` message for a row that breaks a review rule, or None.  Called for
    rows that would change the hub (not for duplicates of what it holds)."""
    if _tombstoning(row, existing) or _expiring(row, existing):
        problem = None  # deleting is always allowed (withdrawal of consent, retention)
    elif row.table in APPEND_ONLY_TABLES:
        problem = _append_only_problem(batch, row, existing, reviewer)
    elif row.table == "session":
        problem = _session_problem(batch, row, existing, reviewer)
    else:
        problem = _child_problem(batch, row, existing)
    if problem:
        batch.refused[(row.table, row.id)] = problem
    return problem


#: what a laptop may still add to a read-only session: its audio and the machine's
#: transcript of it (a transcription that finished after the approval)
ADDABLE_WHEN_LOCKED = frozenset({"recording", "transcript_segment"})


def _decided_on_hub(batch: BatchLike, session_id: str) -> bool:
    """Whether the hub holds a decision (approve/reject) about the session: only then is a
    new row in it a late addition rather than the rest of a first upload (a session that
    arrived approved, e.g. reviewed offline, comes over several batches, events last)."""
    known = batch.decided.get(session_id)
    if known is None:
        found = batch.conn.execute(
            select(t.record.c.data).where(
                t.record.c.table_name == "review_event",
                t.record.c.session_id == session_id,
                t.record.c.deleted.is_(False),
            )
        )
        known = any(is_locked(str(row.data.get("to_status", "draft"))) for row in found)
        batch.decided[session_id] = known
    return known


def _child_problem(batch: BatchLike, row: Any, existing: RecordLike | None) -> str | None:
    if existing is None and row.table in ADDABLE_WHEN_LOCKED:
        return None
    session_id = row.data.get("session_id")
    if session_id is None:
        return None
    session = batch.records.get(("session", str(session_id)))
    if session is None or not session.stored:
        return None  # a session new to the hub: it comes with what it holds
    status = str(session.data.get("status", "draft"))
    if not is_locked(status):
        return None
    if existing is None and not _decided_on_hub(batch, str(session_id)):
        return None
    return LOCKED.format(status=_phrase(status))
