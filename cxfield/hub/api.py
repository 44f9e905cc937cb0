"""The sync endpoints under ``/v1``: enrolment, who am I, push, the change feed,
conflicts and a session's rows.  Handlers are plain functions (FastAPI runs them on its
thread pool); the work is in :mod:`push`, :mod:`pull`, :mod:`conflicts`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cxfield.hub import accounts, conflicts, pull
from cxfield.hub.accounts import AuthError, Caller
from cxfield.hub.http import account_seen, protocol_mismatch
from cxfield.hub.models import ResolveResponse, SessionRows
from cxfield.hub.push import HubBusy, push_batch
from cxfield.hub.state import HubState
from cxfield.hub.web import throttle
from cxfield.sync.protocol import (
    MAX_PULL_PAGE,
    PROTOCOL_VERSION,
    Account,
    ChangesResponse,
    ConflictsResponse,
    EnrolRequest,
    EnrolResponse,
    ErrorBody,
    PushRequest,
    PushResponse,
    ResolveRequest,
)

bearer = HTTPBearer(auto_error=False, description="The device token from POST /v1/enrol.")
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 426, 429)
}
router = APIRouter(prefix="/v1", responses=ERRORS)


def hub(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state


HubDep = Annotated[HubState, Depends(hub)]


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


def check_token_throttle(state: HubState, request: Request) -> None:
    """429 while this address has too many refused tokens (web/throttle.py), whatever the
    token it sends now: the answer must not tell a valid token from a guess."""
    wait = throttle.token_wait(state.engine, _client(request))
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            throttle.token_locked_text(wait),
            headers={"Retry-After": str(wait)},
        )


def _count_if_guessed(state: HubState, request: Request, token: str) -> None:
    """A refused token counts against its address unless this hub issued it (revoked or
    used up: a colleague's laptop behind the same office address, not a guess)."""
    if not accounts.token_issued(state.engine, token):
        throttle.token_failed(state.engine, _client(request))


def current_caller(
    request: Request,
    state: HubDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This request needs the device's token (Authorization: Bearer TOKEN); "
            "connect the laptop with `cxfield sync connect`.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    check_token_throttle(state, request)
    caller = accounts.authenticate(state.engine, credentials.credentials)
    if caller is None:
        _count_if_guessed(state, request, credentials.credentials)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "This device token is not valid on this hub (revoked, or never issued here); "
            "enrol the device again.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    account_seen(request, caller.account.id)
    return caller


def syncing_caller(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if caller.account.role == "viewer":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "Viewer accounts do not sync; they read the hub's web pages.",
        )
    return caller


CallerDep = Annotated[Caller, Depends(syncing_caller)]


def check_protocol(sent: int) -> None:
    if sent != PROTOCOL_VERSION:
        raise HTTPException(status.HTTP_426_UPGRADE_REQUIRED, protocol_mismatch(sent))


def _account(info: accounts.AccountInfo) -> Account:
    return Account(id=info.id, name=info.name, role=info.role)


@router.post(
    "/enrol", response_model=EnrolResponse, summary="Swap an enrolment token for a device token"
)
def enrol(body: EnrolRequest, state: HubDep, request: Request) -> EnrolResponse:
    check_protocol(body.protocol)
    check_token_throttle(state, request)
    try:
        token, token_id, info = accounts.enrol(
            state.engine, body.token, body.device_id, body.device_label
        )
    except AuthError as exc:
        _count_if_guessed(state, request, body.token)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    account_seen(request, info.id)
    return EnrolResponse(
        token=token, token_id=token_id, account=_account(info), hub_id=state.hub_id
    )


@router.get("/me", response_model=Account, summary="The account behind this device token")
def me(caller: Annotated[Caller, Depends(current_caller)]) -> Account:
    return _account(caller.account)


@router.post("/push", response_model=PushResponse, summary="Push a batch of rows (one transaction)")
def push(body: PushRequest, state: HubDep, caller: CallerDep) -> PushResponse:
    check_protocol(body.protocol)
    try:
        return push_batch(state.engine, caller, body, blobs_dir=state.config.blobs_dir)
    except HubBusy as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from None


@router.get(
    "/changes", response_model=ChangesResponse, summary="Changes since a cursor, in seq order"
)
def changes(
    state: HubDep,
    caller: CallerDep,
    since: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_PAGE)] = MAX_PULL_PAGE,
) -> ChangesResponse:
    return pull.changes_since(state.engine, caller, since, limit)


@router.get(
    "/conflicts", response_model=ConflictsResponse, summary="Conflicts this account may see"
)
def list_conflicts(
    state: HubDep, caller: CallerDep, include_resolved: Annotated[bool, Query(alias="all")] = False
) -> ConflictsResponse:
    return pull.list_conflicts(state.engine, caller, include_resolved)


@router.post(
    "/conflicts/{conflict_id}/resolve",
    response_model=ResolveResponse,
    summary="Keep one version of a conflicting row",
)
def resolve_conflict(
    conflict_id: Annotated[str, Path(max_length=36)],
    body: ResolveRequest,
    state: HubDep,
    caller: CallerDep,
) -> ResolveResponse:
    try:
        info, version = conflicts.resolve(state.engine, caller, conflict_id, body.keep)
    except conflicts.ConflictNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except conflicts.ConflictForbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None
    except conflicts.ConflictClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return ResolveResponse(conflict=info, version=version)


@router.get(
    "/sessions/{session_id}", response_model=SessionRows, summary="Every row of one session"
)
def session_rows(
    session_id: Annotated[str, Path(max_length=36)], state: HubDep, caller: CallerDep
) -> SessionRows:
    session, found = pull.session_rows(state.engine, session_id)
    if session is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such session on this hub.")
    if not pull.may_see_record(caller, "session", session.owner_account_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "This session belongs to another researcher; only they, supervisors and admins "
            "can read it.",
        )
    return SessionRows(session_id=session_id, rows=found)
