"""Supervisor review of sessions: the states, who may move a session between them, and the
rules shared by the laptop (CLI, GUI) and the hub.

draft → submitted (the researcher finishes) → approved | has_issues (returned to the
researcher, who edits and resubmits) | rejected.  Approved and rejected sessions are
read-only until a supervisor reopens one (with a reason): it goes back to the researcher as
has_issues.  Returning, rejecting and reopening need a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cxfield.domain.errors import ValidationError
from cxfield.domain.vocabulary import SessionStatus

COMMENT_MAX = 4000


class ReviewAction(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"
    REOPEN = "reopen"


class AnchorKind(StrEnum):
    """What a review comment is about."""

    SESSION = "session"
    STEP = "step"
    NOTE = "note"
    QUOTE = "quote"
    SEGMENT = "segment"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[SessionStatus]
    target: SessionStatus
    needs_comment: bool
    reviewers_only: bool


_S = SessionStatus
TRANSITIONS: dict[ReviewAction, Transition] = {
    ReviewAction.SUBMIT: Transition(
        frozenset({_S.DRAFT, _S.HAS_ISSUES}), _S.SUBMITTED, False, False
    ),
    ReviewAction.APPROVE: Transition(frozenset({_S.SUBMITTED}), _S.APPROVED, False, True),
    ReviewAction.RETURN: Transition(frozenset({_S.SUBMITTED}), _S.HAS_ISSUES, True, True),
    ReviewAction.REJECT: Transition(frozenset({_S.SUBMITTED}), _S.REJECTED, True, True),
    ReviewAction.REOPEN: Transition(
        frozenset({_S.APPROVED, _S.REJECTED}), _S.HAS_ISSUES, True, True
    ),
}

#: states in which nothing of the session may change (but a supervisor's reopen)
LOCKED = frozenset({_S.APPROVED, _S.REJECTED})
#: states a supervisor's queue shows by default
WAITING = frozenset({_S.SUBMITTED})

VERB = {
    ReviewAction.SUBMIT: "submit",
    ReviewAction.APPROVE: "approve",
    ReviewAction.RETURN: "return",
    ReviewAction.REJECT: "reject",
    ReviewAction.REOPEN: "reopen",
}
STATUS_LABEL = {
    _S.DRAFT: "Draft",
    _S.SUBMITTED: "Submitted",
    _S.APPROVED: "Approved",
    _S.HAS_ISSUES: "Has issues",
    _S.REJECTED: "Rejected",
}
#: "a session that is ..." in messages
PHRASE = {
    _S.DRAFT: "a draft",
    _S.SUBMITTED: "submitted",
    _S.APPROVED: "approved",
    _S.HAS_ISSUES: "returned with issues",
    _S.REJECTED: "rejected",
}
REVIEWERS_ONLY = "Only a supervisor or an admin can approve, return, reject or reopen a session."


def is_locked(status: SessionStatus | str) -> bool:
    return SessionStatus(status) in LOCKED


def clean_comment(text: str | None, *, required: bool, what: str = "A comment") -> str:
    cleaned = (text or "").strip()
    if required and not cleaned:
        raise ValidationError(f"{what} is needed: say what the researcher should look at.")
    if len(cleaned) > COMMENT_MAX:
        raise ValidationError(f"{what} is longer than {COMMENT_MAX} characters.")
    if "\x00" in cleaned:
        raise ValidationError(f"{what} holds a NUL character.")
    return cleaned


def next_status(
    status: SessionStatus | str, action: ReviewAction, *, reviewer: bool, comment: str = ""
) -> SessionStatus:
    """The state after ``action``, or a one-line ValidationError saying why not."""
    current = SessionStatus(status)
    rule = TRANSITIONS[action]
    if rule.reviewers_only and not reviewer:
        raise ValidationError(REVIEWERS_ONLY)
    if current not in rule.sources:
        allowed = " or ".join(PHRASE[s] for s in sorted(rule.sources))
        raise ValidationError(
            f"Cannot {VERB[action]} a session that is {PHRASE[current]}; "
            f"only one that is {allowed}."
        )
    clean_comment(comment, required=rule.needs_comment)
    return rule.target


def action_between(old: SessionStatus | str, new: SessionStatus | str) -> ReviewAction | None:
    """The review action that moves a session from ``old`` to ``new`` (None: no such move)."""
    before, after = SessionStatus(old), SessionStatus(new)
    for action, rule in TRANSITIONS.items():
        if before in rule.sources and rule.target == after:
            return action
    return None


def status_change_problem(
    old: SessionStatus | str | None, new: SessionStatus | str, *, reviewer: bool
) -> str | None:
    """Why a session may not go from ``old`` (None: a new session) to ``new``, or None."""
    after = SessionStatus(new)
    if old is None:
        if after in (_S.DRAFT, _S.SUBMITTED) or reviewer:
            return None
        return REVIEWERS_ONLY
    if SessionStatus(old) == after:
        return None
    action = action_between(old, after)
    if action is None:
        return f"A session cannot go from {PHRASE[SessionStatus(old)]} to {PHRASE[after]}."
    if TRANSITIONS[action].reviewers_only and not reviewer:
        return REVIEWERS_ONLY
    return None
