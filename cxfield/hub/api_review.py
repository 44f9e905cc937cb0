"""``POST /v1/sessions/{id}/review``: a review decision made on the hub itself (a web
page, a script), through the same rules as a pushed one: the hub writes the session's new
state, its review event and its history entry as one pushed batch of the caller's.

403 when the account's role may not do it (a researcher approving), 409 when the session
is not in a state that allows it or another decision came first, 404 unknown/invisible,
422 when the comment holds personal details (:mod:`cxfield.hub.comment_check`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from cxfield.domain.errors import ValidationError
from cxfield.domain.ids import new_id, utcnow
from cxfield.domain.review import REVIEWERS_ONLY, ReviewAction, next_status
from cxfield.hub import comment_check, pull
from cxfield.hub.accounts import Caller
from cxfield.hub.api import CallerDep, HubDep, check_protocol
from cxfield.hub.push import push_batch
from cxfield.sync.protocol import PROTOCOL_VERSION, PushRequest, RowIn, content_hash, encode_value

router = APIRouter(prefix="/v1")


class ReviewRequest(BaseModel):
    protocol: int = PROTOCOL_VERSION
    action: Literal["submit", "approve", "return", "reject", "reopen"]
    comment: str = Field(default="", max_length=4000)


class ReviewResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    session_id: str
    status: str
    version: int


def _row(table: str, data: dict[str, Any], base: int) -> RowIn:
    return RowIn(table=table, id=data["id"], base=base, hash=content_hash(data, table), data=data)


def _new(caller: Caller, session_id: str, **values: Any) -> dict[str, Any]:
    now = encode_value(utcnow())
    return {
        "id": new_id(),
        "created_at": now,
        "updated_at": now,
        "device_id": caller.device_id,
        "deleted_at": None,
        "session_id": session_id,
        "at": now,
        **values,
    }


@router.post(
    "/sessions/{session_id}/review",
    response_model=ReviewResponse,
    summary="Submit, approve, return, reject or reopen a session",
)
def review_session(
    session_id: Annotated[str, Path(max_length=36)],
    body: ReviewRequest,
    state: HubDep,
    caller: CallerDep,
) -> ReviewResponse:
    check_protocol(body.protocol)
    record, _rows = pull.session_rows(state.engine, session_id)
    if record is None or not pull.may_see_record(caller, "session", record.owner_account_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such session on this hub.")
    action = ReviewAction(body.action)
    before = str(record.data["status"])
    try:
        after = next_status(
            before, action, reviewer=caller.sees_all_sessions, comment=body.comment
        ).value
    except ValidationError as exc:
        code = status.HTTP_403_FORBIDDEN if str(exc) == REVIEWERS_ONLY else 409
        raise HTTPException(code, str(exc)) from None
    found = comment_check.personal_details(body.comment)
    if found:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, comment_check.refusal(found))
    session = {**record.data, "status": after, "updated_at": encode_value(utcnow())}
    session["device_id"] = caller.device_id
    who = {"actor_id": caller.account.id, "actor_name": caller.account.name}
    event = _new(
        caller,
        session_id,
        action=action.value,
        from_status=before,
        to_status=after,
        comment=body.comment.strip(),
        **who,
    )
    entry = _new(
        caller,
        session_id,
        table_name="session",
        row_id=session_id,
        field="status",
        before=before,
        after=after,
        **who,
    )
    answer = push_batch(
        state.engine,
        caller,
        PushRequest(
            device_id=caller.device_id or "hub",
            rows=[
                _row("session", session, record.version),
                _row("review_event", event, 0),
                _row("audit_entry", entry, 0),
            ],
        ),
    )
    first = answer.results[0]
    if first.status != "applied":
        code = status.HTTP_403_FORBIDDEN if first.message == REVIEWERS_ONLY else 409
        raise HTTPException(code, first.message or f"The hub answered {first.status}.")
    return ReviewResponse(session_id=session_id, status=after, version=first.version)
