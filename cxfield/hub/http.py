"""The hub's HTTP plumbing: body-size limit, protocol header check, access log and errors
as one-line JSON (``{"detail": "..."}``).

The middlewares are plain ASGI so they act before anything reads or parses the body."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cxfield.sync.protocol import MAX_BODY_BYTES, MAX_PUSH_ROWS, PROTOCOL_HEADER, PROTOCOL_VERSION

access_log = logging.getLogger("cxfield.hub.access")
log = logging.getLogger("cxfield.hub")
ACCOUNT_SCOPE_KEY = "cxfield.account"


def protocol_mismatch(sent: object) -> str:
    return (
        f"This hub speaks sync protocol {PROTOCOL_VERSION}; the request used {sent}. "
        "Update cxfield on the laptop or on the hub so both speak the same protocol."
    )


async def _send_json(
    send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class BodyLimit:
    """413 before parsing: a declared Content-Length over the limit is refused at once; a
    body without one is counted as it streams in."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _send_json(send, 400, "Content-Length is not a number.")
                return
            if int(declared) > self.limit:
                await _send_json(send, 413, self._message(), {"connection": "close"})
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        megabytes = self.limit // (1024 * 1024)
        return f"The request is larger than {megabytes} MB; send it in smaller parts."


class ProtocolHeader:
    """``X-Cxfield-Protocol`` with another major version → 426 with a clear message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sent = _header(scope, PROTOCOL_HEADER.lower().encode())
            if sent is not None:
                major = sent.strip().split(".")[0]
                if not major.isdigit():
                    await _send_json(send, 400, f"{PROTOCOL_HEADER} must be a version number.")
                    return
                if int(major) != PROTOCOL_VERSION:
                    await _send_json(send, 426, protocol_mismatch(sent.strip()))
                    return
        await self.app(scope, receive, send)


class AccessLog:
    """One JSON line per request on stderr: time, method, route template, status,
    milliseconds, account id — no names, tokens, paths with ids or query strings."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        finally:
            route = scope.get("route")
            access_log.info(
                json.dumps(
                    {
                        "ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "method": scope.get("method"),
                        "route": getattr(route, "path", None) or "(no route)",
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                        "account": scope.get(ACCOUNT_SCOPE_KEY),
                    }
                )
            )


def one_line(text: object) -> str:
    return " ".join(str(text).split())[:500]


def _validation_detail(exc: RequestValidationError) -> tuple[int, str]:
    errors = list(exc.errors())
    body = exc.body
    if isinstance(body, dict) and "protocol" in body and body["protocol"] != PROTOCOL_VERSION:
        return 426, protocol_mismatch(body["protocol"])
    for error in errors:
        if tuple(error.get("loc", ())) == ("body", "rows") and error.get("type") == "too_long":
            return 413, f"A push carries at most {MAX_PUSH_ROWS} rows; send smaller batches."
    if not errors:
        return 422, "Invalid request."
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return 422, one_line(f"Invalid request: {where}: {first.get('msg', 'invalid')}{more}")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status, detail = _validation_detail(exc)
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(
            {"detail": one_line(exc.detail)},
            status_code=exc.status_code,
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error", exc_info=exc)
        return JSONResponse(
            {"detail": "Internal error on the hub; it was logged. Nothing was changed."},
            status_code=500,
        )


def configure_logging() -> None:
    """Access lines as they are (JSON), the hub's own messages prefixed; both on stderr."""
    for name, fmt in (
        ("cxfield.hub.access", "%(message)s"),
        ("cxfield.hub", "cxfield hub: %(message)s"),
    ):
        logger = logging.getLogger(name)
        if not logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(fmt))
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def account_seen(request: Request, account_id: str) -> None:
    request.scope[ACCOUNT_SCOPE_KEY] = account_id
