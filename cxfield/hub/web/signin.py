"""Signing in to the web pages: a token typed once on the sign-in page becomes an HttpOnly
session cookie; scripts send ``Authorization: Bearer TOKEN`` instead.

* The cookie holds 32 random bytes; the hub stores only their SHA-256, so a copy of the
  database opens nothing.  A web session ends at sign-out, after :data:`SESSION_LIFETIME`,
  or when the token it was opened with is revoked or the account disabled.
* Sign-in is CSRF-safe by a double-submit token (a random value in a SameSite=Strict
  cookie and in the form, compared in constant time) and an Origin check; sign-out needs
  the session's own CSRF token.  A new session id is drawn at every sign-in (no fixation).
* An account's one-time enrolment token may be used to sign in: it is consumed, like a
  laptop's enrolment, and the page shows once the personal token it became."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, select, update

from cxfield.domain.ids import new_id, utcnow
from cxfield.hub import accounts
from cxfield.hub import storage as t
from cxfield.hub.accounts import AuthError, Caller
from cxfield.hub.config import write_transaction

SESSION_COOKIE = "cxfield_session"
CSRF_COOKIE = "cxfield_signin"
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class WebSession:
    cookie: str
    csrf: str
    caller: Caller


@dataclass(frozen=True)
class SignedIn:
    session: WebSession
    #: the personal token an enrolment token became (shown once), else None
    new_token: str | None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def sign_in(engine: Engine, token: str) -> SignedIn:
    """Open a web session with a device token, or with an enrolment token (consumed)."""
    token = token.strip()
    if not token or len(token) > 200:
        raise AuthError("Paste the token an admin gave you (cxfield hub users add/enrol).")
    caller = accounts.authenticate(engine, token)
    new_token = None
    if caller is None:
        try:
            new_token, token_id, info = accounts.enrol(
                engine, token, f"web-{new_id()}", "web sign-in"
            )
        except AuthError:
            raise AuthError(
                "This token is not valid on this hub (mistyped, revoked or used already)."
            ) from None
        caller = Caller(info, token_id, "")
    cookie, csrf = secrets.token_urlsafe(32), new_csrf()
    now = utcnow()
    with write_transaction(engine) as conn:
        conn.execute(
            t.web_session.insert().values(
                id_hash=_digest(cookie),
                account_id=caller.account.id,
                token_id=caller.token_id,
                csrf=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        accounts.audit(conn, caller.account.id, "web sign-in", caller.token_id)
    return SignedIn(WebSession(cookie, csrf, caller), new_token)


def current(engine: Engine, cookie: str) -> WebSession | None:
    """The live web session behind a cookie value, or None."""
    if not cookie or len(cookie) > 100:
        return None
    digest = _digest(cookie)
    with engine.connect() as conn:
        row = conn.execute(
            select(
                t.web_session,
                t.token.c.revoked_at,
                t.account.c.name,
                t.account.c.role,
                t.account.c.disabled_at,
            )
            .join(t.token, t.token.c.id == t.web_session.c.token_id)
            .join(t.account, t.account.c.id == t.web_session.c.account_id)
            .where(t.web_session.c.id_hash == digest)
        ).first()
    if row is None or not hmac.compare_digest(row.id_hash, digest):
        return None
    if row.ended_at is not None or row.revoked_at is not None or row.disabled_at is not None:
        return None
    if row.expires_at <= utcnow():
        return None
    info = accounts.AccountInfo(row.account_id, row.name, row.role)
    return WebSession(cookie, row.csrf, Caller(info, row.token_id, ""))


def sign_out(engine: Engine, session: WebSession) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            update(t.web_session)
            .where(t.web_session.c.id_hash == _digest(session.cookie))
            .values(ended_at=utcnow())
        )
