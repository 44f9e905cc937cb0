"""The sync API against token guessing, over two real uvicorn processes on one database
(SQLite, and PostgreSQL when there is one): after 5 refused device or enrolment tokens from
one address within 5 minutes, every API request from it answers 429 with Retry-After and one
line saying why -- even with a valid token, so the answer tells nothing about the token --
while other addresses sync on.  There is no hub-wide limit: a stranger's guesses from many
addresses do not stop the team.  The laptop says so in one line and changes nothing.

Addresses are played with X-Forwarded-For, which uvicorn trusts from 127.0.0.1 only (as
behind a reverse proxy on loopback)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from cxfield.hub import storage as t
from cxfield.hub.web import throttle
from cxfield.sync.client import HubClient, HubThrottled
from tests.hub_support import RunningHub, age_signin_attempts, headers

pytestmark = pytest.mark.timeout(300)

GUESSER, COLLEAGUE = "203.0.113.7", "198.51.100.20"


def _me(hub: RunningHub, address: str, token: str) -> httpx.Response:
    return hub.http.get("/v1/me", headers={**headers(token), "X-Forwarded-For": address})


def _failures(hub_engine: Any, client: str) -> int:
    query = select(func.count()).where(t.signin_attempt.c.client == client)
    with hub_engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_refused_tokens_lock_out_their_address_on_every_process(
    two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    device = two_hubs[0].device("Ana Researcher")
    assert (
        _me(two_hubs[1], GUESSER, device.token).status_code == 200
    )  # a valid token counts nothing
    for n in range(throttle.PER_CLIENT):  # alternately on both processes
        wrong = _me(two_hubs[n % 2], GUESSER, f"guess-{n}")
        assert wrong.status_code == 401 and "not valid on this hub" in wrong.text
    assert _failures(hub_engine, GUESSER) == throttle.PER_CLIENT
    for hub in two_hubs:  # refused on both, even with the right token, and not counted again
        locked = _me(hub, GUESSER, device.token)
        assert locked.status_code == 429, locked.text
        assert 1 <= int(locked.headers["Retry-After"]) <= throttle.WINDOW.total_seconds()
        assert "Too many refused tokens from this address: try again in " in locked.text
    assert _failures(hub_engine, GUESSER) == throttle.PER_CLIENT
    assert _me(two_hubs[1], COLLEAGUE, device.token).status_code == 200  # others sync on
    # A request without a token is not a guess: 401, not counted.
    bare = two_hubs[0].http.get("/v1/me", headers={"X-Forwarded-For": COLLEAGUE})
    assert bare.status_code == 401 and _failures(hub_engine, COLLEAGUE) == 0

    # Five minutes later (the failures moved back in the database) the address syncs again.
    age_signin_attempts(hub_engine)
    assert _me(two_hubs[0], GUESSER, device.token).status_code == 200


def test_guessed_enrolment_tokens_count_and_the_laptop_says_why(
    two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    real = two_hubs[0].add_user("Sam Supervisor", "supervisor")
    body = {"device_id": "dev-x", "device_label": "test"}
    for n in range(throttle.PER_CLIENT):
        answer = two_hubs[n % 2].http.post(
            "/v1/enrol",
            json={**body, "token": f"guess-{n}-0123456789abcdef"},
            headers={**headers(), "X-Forwarded-For": GUESSER},
        )
        assert answer.status_code == 401, answer.text
    refused = two_hubs[1].http.post(
        "/v1/enrol",
        json={**body, "token": real},
        headers={**headers(), "X-Forwarded-For": GUESSER},
    )
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    # The laptop's client: one line, nothing changed; the enrolment token is still unused.
    http = httpx.Client(base_url=two_hubs[0].url, headers={"X-Forwarded-For": GUESSER}, timeout=30)
    client = HubClient(two_hubs[0].url, allow_http=True, http=http)
    try:
        with pytest.raises(HubThrottled) as raised:
            client.request("GET", "/v1/me", ok=(200,), headers={"Authorization": "Bearer x"})
    finally:
        client.close()
    message = str(raised.value)
    from cxfield.gui.sync.sync_worker import explain

    assert explain(raised.value)[1] == message  # the app's sync window says the same line
    assert "refusing this address for now" in message and "nothing changed" in message
    assert "\n" not in message
    fine = two_hubs[0].http.post(
        "/v1/enrol",
        json={**body, "token": real},
        headers={**headers(), "X-Forwarded-For": COLLEAGUE},
    )
    assert fine.status_code == 200, fine.text


def test_a_revoked_laptop_retrying_locks_out_nobody(
    two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    """Behind one office address: a colleague's revoked laptop pressing Sync again and again
    is told it was revoked every time, and the others sync on."""
    from cxfield.hub import accounts

    revoked, colleague = two_hubs[0].device("Bo Researcher"), two_hubs[0].device("Ana Researcher")
    with hub_engine.connect() as conn:
        token_id = conn.execute(
            select(t.token.c.id).where(
                t.token.c.device_id == revoked.device_id, t.token.c.kind == "device"
            )
        ).scalar_one()
    accounts.revoke_token(hub_engine, token_id)
    for n in range(throttle.PER_CLIENT * 2):
        answer = _me(two_hubs[n % 2], GUESSER, revoked.token)
        assert answer.status_code == 401, answer.text
    assert _failures(hub_engine, GUESSER) == 0
    assert _me(two_hubs[1], GUESSER, colleague.token).status_code == 200


def test_guesses_from_many_addresses_do_not_stop_the_team(
    two_hubs: tuple[RunningHub, RunningHub], hub_engine: Any
) -> None:
    device = two_hubs[0].device("Ana Researcher")
    for n in range(throttle.PER_HUB + 5):
        assert _me(two_hubs[n % 2], f"192.0.2.{n + 1}", "guess").status_code == 401
    assert _me(two_hubs[1], COLLEAGUE, device.token).status_code == 200
