"""The web pages' routes: sign-in and sign-out, the list of studies, a study's shared map,
its report PDF and its CSV tables.  Every page with study data needs a signed-in account
(cookie or ``Authorization: Bearer``); a researcher sees aggregates of their own sessions
only, a viewer, supervisor or admin those of every synced session."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from cxfield.domain.errors import NotFoundError, ValidationError
from cxfield.hub import accounts
from cxfield.hub.accounts import AuthError, Caller
from cxfield.hub.http import account_seen
from cxfield.hub.state import HubState
from cxfield.hub.web import layout, sealed, signin, tables, throttle
from cxfield.hub.web.data import HubDatabase, PageQuery, map_data, quotes_shown, selection, studies
from cxfield.hub.web.mappage import MapPage

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes forms send Origin: null
    "Cache-Control": "no-store",
}


def _state(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def _safe_next(value: str) -> str:
    """Only a path on this hub (no open redirect)."""
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def _caller(request: Request) -> tuple[Caller | None, str, bool]:
    """(caller, the session's CSRF token, whether a Bearer token was sent)."""
    engine = _state(request).engine
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        caller = None
        if scheme.lower() == "bearer" and token.strip():
            caller = await run_in_threadpool(accounts.authenticate, engine, token.strip())
        if caller is not None:
            account_seen(request, caller.account.id)
        return caller, "", True
    cookie = request.cookies.get(signin.SESSION_COOKIE, "")
    session = await run_in_threadpool(signin.current, engine, cookie) if cookie else None
    if session is None:
        return None, "", False
    account_seen(request, session.caller.account.id)
    return session.caller, session.csrf, False


def _must_sign_in(request: Request, bearer: bool) -> Response:
    if bearer:
        return PlainTextResponse(
            "This token is not valid on this hub.", 401, headers={"WWW-Authenticate": "Bearer"}
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?{_q(next=target)}", status_code=303, headers=HEADERS)


def _q(**values: str) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


async def _work(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(fn, *args, **kwargs)


@router.get("/web.css")
def style() -> Response:
    return Response(layout.CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002
    csrf = signin.new_csrf()
    response = _html(layout.page("Sign in", layout.signin_form(csrf, _safe_next(next))))
    _set_signin_cookie(response, request, csrf)
    return response


def _set_signin_cookie(response: Response, request: Request, csrf: str) -> None:
    response.set_cookie(
        signin.CSRF_COOKIE, csrf, max_age=3600, httponly=True, samesite="strict",
        secure=_secure(request), path="/signin",
    )  # fmt: skip


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body())[:10_000].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


@router.post("/signin", response_class=HTMLResponse)
async def signin_submit(request: Request) -> Response:
    form = await _form(request)
    next_url = _safe_next(form.get("next", "/"))
    sent, expected = form.get("csrf", ""), request.cookies.get(signin.CSRF_COOKIE, "")
    if not _same_origin(request) or not signin.same(sent, expected):
        csrf = signin.new_csrf()
        message = "The sign-in form had expired; please sign in again."
        response = _html(layout.page("Sign in", layout.signin_form(csrf, next_url, message)), 403)
        _set_signin_cookie(response, request, csrf)
        return response
    engine = _state(request).engine
    try:  # counted in the database, so every hub process on it shares the lock-out
        attempt = await _work(throttle.begin, engine, request.client.host if request.client else "")
    except throttle.SignInLocked as exc:
        return _signin_again(
            request, next_url, str(exc), 429, {"Retry-After": str(exc.retry_after)}
        )
    try:
        done = await _work(signin.sign_in, engine, form.get("token", ""))
    except AuthError as exc:  # the attempt stays, counted as a failure
        return _signin_again(request, next_url, str(exc), 401)
    except Exception:
        await _work(throttle.finish, engine, attempt, succeeded=False, counted=False)
        raise
    await _work(throttle.finish, engine, attempt, succeeded=True)
    caller = done.session.caller
    signed: Response
    if done.new_token:
        body = layout.token_shown_once(done.new_token, next_url)
        signed = _html(layout.page("Signed in", body, caller, done.session.csrf))
    else:
        signed = RedirectResponse(next_url, status_code=303, headers=HEADERS)
    signed.set_cookie(
        signin.SESSION_COOKIE, done.session.cookie,
        max_age=int(signin.SESSION_LIFETIME.total_seconds()), httponly=True, samesite="lax",
        secure=_secure(request), path="/",
    )  # fmt: skip
    signed.delete_cookie(signin.CSRF_COOKIE, path="/signin")
    return signed


def _signin_again(
    request: Request,
    next_url: str,
    message: str,
    status: int,
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in form again, with one line saying why."""
    csrf = signin.new_csrf()
    response = _html(layout.page("Sign in", layout.signin_form(csrf, next_url, message)), status)
    response.headers.update(headers or {})
    _set_signin_cookie(response, request, csrf)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    engine = _state(request).engine
    cookie = request.cookies.get(signin.SESSION_COOKIE, "")
    session = await _work(signin.current, engine, cookie) if cookie else None
    form = await _form(request)
    if session is not None:
        if not _same_origin(request) or not signin.same(form.get("csrf", ""), session.csrf):
            return PlainTextResponse("Sign-out refused: the form did not come from this hub.", 403)
        await _work(signin.sign_out, engine, session)
    response = RedirectResponse("/signin", status_code=303, headers=HEADERS)
    response.delete_cookie(signin.SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
async def study_list(request: Request) -> Response:
    caller, csrf, bearer = await _caller(request)
    if caller is None:
        return _must_sign_in(request, bearer)
    listing = await _work(studies, HubDatabase(_state(request).engine), caller)
    rows = "".join(
        f'<tr><td><a href="/studies/{escape(s.id)}">{escape(s.name)}</a></td>'
        f'<td>{escape(s.program)}</td><td class="num">{s.sessions}</td></tr>'
        for s in listing
    )
    body = "<h1>Studies</h1>" + (
        f"<table><thead><tr><th>Study</th><th>Program</th><th>Sessions</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if rows
        else '<p class="muted">No study has been synced to this hub yet.</p>'
    )
    return _html(layout.page("Studies", body, caller, csrf))


def _map(state: HubState, study_id: str, query: PageQuery, caller: Caller) -> tuple[str, int]:
    database = HubDatabase(state.engine)
    try:
        flt, lines = selection(database, study_id, query, caller)
        error, status = "", 200
    except ValidationError as exc:
        flt, lines = selection(database, study_id, PageQuery(), caller)
        error, status = f"{exc} The page shows the default selection.", 400
    data = map_data(
        database,
        study_id,
        flt,
        lines,
        lens=query.lens,
        quotes=quotes_shown(state.engine, study_id),
        ops=True,
    )
    return MapPage(data, query, study_id).render(error), status


@router.get("/studies/{study_id}", response_class=HTMLResponse)
async def study_map(request: Request, study_id: str) -> Response:
    caller, csrf, bearer = await _caller(request)
    if caller is None:
        return _must_sign_in(request, bearer)
    query = PageQuery.from_params(request.query_params)
    try:
        body, status = await _work(_map, _state(request), study_id, query, caller)
    except NotFoundError:
        return _html(layout.page("Not found", "<h1>No such study</h1>", caller, csrf), 404)
    return _html(layout.page("Journey map", body, caller, csrf), status)


def _export_data(state: HubState, study_id: str, query: PageQuery, caller: Caller) -> Any:
    database = HubDatabase(state.engine)
    flt, lines = selection(database, study_id, query, caller)
    return database, flt, lines


def _pdf(state: HubState, study_id: str, query: PageQuery, caller: Caller) -> bytes:
    from cxfield.export.study_data import gather
    from cxfield.export.study_pdf import write_study_pdf

    database, flt, lines = _export_data(state, study_id, query, caller)
    data = gather(database, study_id, flt, lines)
    if sealed.study_encrypted(database, study_id):
        data.quotes, data.staff_quotes, data.staff_workarounds = {}, {}, {}
        data.pain_points = sealed.readable(data.pain_points)
        data.staff_pain_points = sealed.readable(data.staff_pain_points)
        data.filters = [*data.filters, sealed.NOTICE]
    elif not quotes_shown(state.engine, study_id):
        # workarounds are staff's notes in their words, shown as quotes are
        data.quotes, data.staff_quotes, data.staff_workarounds = {}, {}, {}
        data.filters = [*data.filters, "Quotes: not shown (hub study setting)"]
    out = io.BytesIO()
    write_study_pdf(out, data, exported_at=datetime.now(UTC))
    return out.getvalue()


def _csv(state: HubState, study_id: str, query: PageQuery, caller: Caller, name: str) -> str:
    database, flt, lines = _export_data(state, study_id, query, caller)
    data = map_data(database, study_id, flt, lines, lens=query.lens, quotes=False)
    return tables.csv_text(name, data)


@router.get("/studies/{study_id}/report.pdf")
async def study_pdf(request: Request, study_id: str) -> Response:
    caller, _csrf, bearer = await _caller(request)
    if caller is None:
        return _must_sign_in(request, bearer)
    query = PageQuery.from_params(request.query_params)
    try:
        pdf = await _work(_pdf, _state(request), study_id, query, caller)
    except (NotFoundError, ValidationError) as exc:
        return PlainTextResponse(str(exc), 404 if isinstance(exc, NotFoundError) else 400)
    disposition = f'attachment; filename="study-report-{study_id[:8]}.pdf"'
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": disposition, "Cache-Control": "no-store"})  # fmt: skip


@router.get("/studies/{study_id}/{name}.csv")
async def study_csv(request: Request, study_id: str, name: str) -> Response:
    caller, _csrf, bearer = await _caller(request)
    if caller is None:
        return _must_sign_in(request, bearer)
    if name not in tables.TABLES:
        return PlainTextResponse(f"No table {name!r}; there are: {', '.join(tables.TABLES)}.", 404)
    query = PageQuery.from_params(request.query_params)
    try:
        text = await _work(_csv, _state(request), study_id, query, caller, name)
    except (NotFoundError, ValidationError) as exc:
        return PlainTextResponse(str(exc), 404 if isinstance(exc, NotFoundError) else 400)
    disposition = f'attachment; filename="{name}-{study_id[:8]}.csv"'
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": disposition, "Cache-Control": "no-store"})  # fmt: skip
