"""No brute force on the web sign-in: a short lock-out after too many failed sign-ins from
one client address, or on the whole hub, and no stale web sessions.

Every attempt is a row of ``hub_signin_attempt`` in the hub's database, so every hub
process on one PostgreSQL counts the same attempts.  An attempt is written (and committed)
*before* the token is checked, then the attempts in the window are counted: of several
attempts at once, at most one more than the limit can see a count under it (each counts
after its own row is committed), so no number of processes or parallel requests gets
past the limit.  A refused attempt removes its row (waiting out a lock-out does not make
it longer); a successful one removes its row and its address's failures; a failed one
stays, counted for :data:`WINDOW`.

Tokens are 32 random bytes, so guessing one is hopeless anyway: this stops a script from
trying, and keeps the audit trail and the database small.

The sync API's tokens (a device token on every request, an enrolment token on
``/v1/enrol``) count in the same rows, per address only, and only tokens this hub never
issued (a revoked laptop retrying is not guessing): :func:`token_wait` before the
check (a read, so syncing laptops pay no write per request), :func:`token_failed` after a
refused token.  Parallel requests in flight may each pass the check before the others'
failures are written, a handful more tries at most.  There is no hub-wide limit on them, so
a stranger's guesses cannot stop the team's laptops from syncing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, or_, select, true

from cxfield.domain.ids import new_id, utcnow
from cxfield.hub import storage as t
from cxfield.hub.config import write_transaction

#: failed sign-ins are counted for this long; a lock-out lasts at most this long
WINDOW = timedelta(minutes=5)
#: failed sign-ins from one client address within the window before it is locked out
PER_CLIENT = 5
#: failed sign-ins from all addresses together within the window before the hub is
PER_HUB = 50
MAX_CLIENT = 64


class SignInLocked(Exception):
    """Too many failed sign-ins: one line for the page, and seconds for Retry-After."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Attempt:
    id: str
    client: str


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def begin(engine: Engine, client: str, *, now: datetime | None = None) -> Attempt:
    """Record an attempt from ``client`` and check the limits (raises :class:`SignInLocked`,
    leaving no row).  Old attempts and stale web sessions are purged on the way."""
    now = now or utcnow()
    attempt = Attempt(new_id(), (client or "unknown")[:MAX_CLIENT])
    with write_transaction(engine) as conn:
        purge(conn, now)
        conn.execute(
            t.signin_attempt.insert().values(id=attempt.id, client=attempt.client, attempted_at=now)
        )
    since = now - WINDOW
    attempts = t.signin_attempt.c
    with engine.connect() as conn:
        locked = _over(conn, now, since, attempt, attempts.client == attempt.client, PER_CLIENT)
        where = "from this address"
        if locked is None:
            locked = _over(conn, now, since, attempt, true(), PER_HUB)
            where = "on this hub just now"
    if locked is not None:
        finish(engine, attempt, succeeded=False, counted=False)
        raise SignInLocked(
            f"Too many failed sign-ins {where}: try again in {_wait_text(locked)}.", locked
        )
    return attempt


def _over(
    conn: Connection,
    now: datetime,
    since: datetime,
    attempt: Attempt,
    which: ColumnElement[bool],
    limit: int,
) -> int | None:
    """Seconds until the lock-out ends when more than ``limit`` attempts (this one
    included) fall in the window, else None."""
    attempts = t.signin_attempt.c
    count = conn.execute(
        select(func.count()).where(which, attempts.attempted_at > since)
    ).scalar_one()
    if count <= limit:
        return None
    # the limit-th most recent earlier attempt: when it leaves the window, one more may try
    oldest: datetime | None = conn.execute(
        select(attempts.attempted_at)
        .where(which, attempts.attempted_at > since, attempts.id != attempt.id)
        .order_by(attempts.attempted_at.desc())
        .offset(limit - 1)
        .limit(1)
    ).scalar()
    if oldest is None:  # only attempts in flight: they are failures or gone in a moment
        return 1
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds()))


def finish(engine: Engine, attempt: Attempt, *, succeeded: bool, counted: bool = True) -> None:
    """After the token was checked: a failure stays counted; a success clears its address."""
    if counted and not succeeded:
        return
    attempts = t.signin_attempt.c
    with write_transaction(engine) as conn:
        if succeeded:
            conn.execute(delete(t.signin_attempt).where(attempts.client == attempt.client))
        else:
            conn.execute(delete(t.signin_attempt).where(attempts.id == attempt.id))


def purge(conn: Connection, now: datetime) -> int:
    """Remove attempts older than the window and web sessions that can open nothing any
    more (expired or signed out); returns how many web sessions went."""
    conn.execute(delete(t.signin_attempt).where(t.signin_attempt.c.attempted_at <= now - WINDOW))
    sessions = t.web_session.c
    gone = conn.execute(
        delete(t.web_session).where(or_(sessions.expires_at <= now, sessions.ended_at.isnot(None)))
    )
    return int(gone.rowcount or 0)


def purge_now(engine: Engine) -> int:
    """:func:`purge` in its own transaction (the hub does this when it starts)."""
    with write_transaction(engine) as conn:
        return purge(conn, utcnow())


def token_wait(engine: Engine, client: str, *, now: datetime | None = None) -> int | None:
    """Seconds until ``client`` may present a sync token again (None: it may now): after
    :data:`PER_CLIENT` failed tokens or sign-ins from that address within :data:`WINDOW`."""
    now = now or utcnow()
    attempts = t.signin_attempt.c
    with engine.connect() as conn:
        recent = list(
            conn.execute(
                select(attempts.attempted_at)
                .where(
                    attempts.client == (client or "unknown")[:MAX_CLIENT],
                    attempts.attempted_at > now - WINDOW,
                )
                .order_by(attempts.attempted_at.desc())
                .limit(PER_CLIENT)
            ).scalars()
        )
    if len(recent) < PER_CLIENT:
        return None
    oldest: datetime = recent[-1]
    return max(1, math.ceil((oldest + WINDOW - now).total_seconds()))


def token_failed(engine: Engine, client: str, *, now: datetime | None = None) -> None:
    """A sync token ``client`` presented opened nothing: counted for :data:`WINDOW`."""
    now = now or utcnow()
    with write_transaction(engine) as conn:
        purge(conn, now)
        conn.execute(
            t.signin_attempt.insert().values(
                id=new_id(), client=(client or "unknown")[:MAX_CLIENT], attempted_at=now
            )
        )


def token_locked_text(seconds: int) -> str:
    return (
        "Too many refused tokens from this address: try again in "
        f"{_wait_text(seconds)} (a revoked laptop must be connected again with a new "
        "enrolment token)."
    )
