"""The web sign-in against brute force and stale sessions, over real uvicorn servers on
loopback: two hub processes on one database (SQLite, and PostgreSQL when there is one).

Failed sign-ins are counted in the database, so a lock-out set on one process holds on
the other: after 5 failures from one address (or 50 on the whole hub) within 5 minutes,
sign-in answers 429 with Retry-After and one line saying why — even for a valid token —
while other addresses still sign in.  The address is the one uvicorn reports: behind a
reverse proxy on loopback, the X-Forwarded-For it sends (uvicorn trusts it from 127.0.0.1
only), which is how these tests play several clients."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from cxfield.domain.ids import utcnow
from cxfield.hub import storage as t
from cxfield.hub.web import throttle
from tests.hub_support import HubDatabase, RunningHub, age_signin_attempts, enrol, start_hub

pytestmark = pytest.mark.timeout(300)


def _sign_in(hub: RunningHub, address: str, token: str) -> httpx.Response:
    """The sign-in form fetched and sent from ``address``, as a browser would."""
    with httpx.Client(base_url=hub.url, headers={"X-Forwarded-For": address}) as browser:
        form = browser.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf, form.text[:300]
        return browser.post("/signin", data={"token": token, "csrf": csrf.group(1), "next": "/"})


def _token(hub: RunningHub, name: str) -> str:
    return enrol(hub.http, hub.add_user(name, "viewer"), f"script-{name}").token


def _attempts(hub_engine: Any, client: str | None = None) -> int:
    query = select(func.count()).select_from(t.signin_attempt)
    if client is not None:
        query = query.where(t.signin_attempt.c.client == client)
    with hub_engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _locked(answer: httpx.Response, where: str) -> None:
    assert answer.status_code == 429, answer.text[:300]
    assert 1 <= int(answer.headers["Retry-After"]) <= throttle.WINDOW.total_seconds()
    assert f"Too many failed sign-ins {where}: try again in " in answer.text
    assert "cxfield_session" not in answer.headers.get("set-cookie", "")


def test_an_address_is_locked_out_on_every_hub_process(
    two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    token = _token(two_hubs[0], "Ida Viewer")
    guesser, colleague = "203.0.113.7", "198.51.100.20"
    for n in range(throttle.PER_CLIENT):  # the failures, alternately on both processes
        wrong = _sign_in(two_hubs[n % 2], guesser, f"guess-{n}")
        assert wrong.status_code == 401 and "not valid on this hub" in wrong.text
    for hub in two_hubs:  # now refused on both, even with the right token
        _locked(_sign_in(hub, guesser, token), "from this address")
    assert _attempts(hub_engine, guesser) == throttle.PER_CLIENT  # refusals leave no row
    assert _sign_in(two_hubs[1], colleague, token).status_code == 303  # others still sign in
    # five minutes later (the failures moved back in the database) the address may sign in
    age_signin_attempts(hub_engine)
    signed = _sign_in(two_hubs[0], guesser, token)
    assert signed.status_code == 303 and "cxfield_session=" in signed.headers["set-cookie"]
    assert _attempts(hub_engine) == 0  # the old failures purged, the success cleared its own


def test_many_addresses_failing_lock_the_whole_hub(
    two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    token = _token(two_hubs[0], "Jo Viewer")
    for n in range(throttle.PER_HUB):
        assert _sign_in(two_hubs[n % 2], f"192.0.2.{n + 1}", "guess").status_code == 401
    _locked(_sign_in(two_hubs[1], "198.51.100.99", token), "on this hub just now")
    assert _attempts(hub_engine) == throttle.PER_HUB


def test_parallel_guesses_on_two_processes_get_no_more_than_the_limit(
    two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    """Twelve guesses at once, from one address, on both processes: the database count
    lets at most the limit through; the rest are refused."""
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(
            pool.map(lambda n: _sign_in(two_hubs[n % 2], "203.0.113.50", f"g{n}"), range(12))
        )
    codes = sorted(a.status_code for a in answers)
    assert set(codes) <= {401, 429} and codes.count(401) <= throttle.PER_CLIENT, codes
    assert codes.count(429) >= 12 - throttle.PER_CLIENT
    assert _attempts(hub_engine, "203.0.113.50") == codes.count(401)


def test_stale_web_sessions_are_purged_at_sign_in_and_at_start(
    hub_database: HubDatabase, two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    token = _token(two_hubs[0], "Kim Viewer")
    for _ in range(3):
        assert _sign_in(two_hubs[0], "198.51.100.1", token).status_code == 303
    with hub_engine.connect() as conn:
        ids = [r.id_hash for r in conn.execute(select(t.web_session.c.id_hash))]
    assert len(ids) == 3
    now = utcnow()
    sessions = t.web_session.c
    with hub_engine.begin() as conn:  # one expired, one signed out
        conn.execute(
            update(t.web_session)
            .where(sessions.id_hash == ids[0])
            .values(expires_at=now - timedelta(seconds=1))
        )
        conn.execute(update(t.web_session).where(sessions.id_hash == ids[1]).values(ended_at=now))
    assert _sign_in(two_hubs[1], "198.51.100.2", token).status_code == 303
    with hub_engine.connect() as conn:
        left = {r.id_hash for r in conn.execute(select(sessions.id_hash))}
    assert ids[0] not in left and ids[1] not in left and ids[2] in left and len(left) == 2
    # a hub process that starts purges too, before anyone signs in
    with hub_engine.begin() as conn:
        conn.execute(
            update(t.web_session)
            .where(sessions.id_hash == ids[2])
            .values(expires_at=now - timedelta(hours=1))
        )
    third = start_hub(hub_database, upgrade=False)
    third.stop()
    with hub_engine.connect() as conn:
        left = {r.id_hash for r in conn.execute(select(sessions.id_hash))}
    assert ids[2] not in left and len(left) == 1


def test_retry_after_is_when_the_oldest_counted_failure_leaves_the_window(
    hub_database: HubDatabase, hub_engine: Any
) -> None:
    """With a moved clock: failures a minute apart; the lock-out ends when the first of the
    last five is five minutes old, and Retry-After and the line say exactly that."""
    from cxfield.hub.migrate import upgrade_hub

    upgrade_hub(hub_database.url)
    start = utcnow()
    for n in range(throttle.PER_CLIENT):
        throttle.begin(hub_engine, "203.0.113.9", now=start + timedelta(minutes=n))  # each fails
    now = start + timedelta(minutes=4, seconds=30)
    with pytest.raises(throttle.SignInLocked) as refused:
        throttle.begin(hub_engine, "203.0.113.9", now=now)
    assert refused.value.retry_after == 30
    assert str(refused.value) == (
        "Too many failed sign-ins from this address: try again in 30 seconds."
    )
    later = start + timedelta(minutes=5, seconds=1)  # the first failure has left the window
    attempt = throttle.begin(hub_engine, "203.0.113.9", now=later)
    throttle.finish(hub_engine, attempt, succeeded=True)
    assert _attempts(hub_engine, "203.0.113.9") == 0
