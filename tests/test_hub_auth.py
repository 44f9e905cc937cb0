"""Who may do what on a hub served by uvicorn in a subprocess (SQLite and PostgreSQL):
401 without a valid device token, 403 where the role or ownership forbids; tokens kept only
as hashes; an access log without personal data; the ``cxfield hub users|tokens`` CLI."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from cxfield.hub import storage
from cxfield.hub.config import make_engine
from cxfield.storage.models import ResearchSession, Stage, Study
from tests.hub_support import RunningHub, enrol, headers, hub_cli, push_body, run_hub_cli, wire

SHA = "ab" * 32
PROTECTED = [
    ("GET", "/v1/me"),
    ("POST", "/v1/push"),
    ("GET", "/v1/changes"),
    ("GET", "/v1/conflicts"),
    ("POST", "/v1/conflicts/x/resolve"),
    ("GET", "/v1/sessions/x"),
    ("HEAD", f"/v1/blobs/{SHA}"),
    ("POST", f"/v1/blobs/{SHA}"),
    ("PATCH", f"/v1/blobs/{SHA}"),
    ("GET", f"/v1/blobs/{SHA}"),
    ("POST", "/v1/blobs/missing"),
]


def _statuses(hub: RunningHub, token: str | None) -> set[int]:
    """Each endpoint from its own address: more than 5 refused guesses from one address
    are answered 429 (tests/test_hub_token_limits.py)."""
    return {
        hub.http.request(
            m, p, headers={**headers(token), "X-Forwarded-For": f"192.0.2.{n + 1}"}
        ).status_code
        for n, (m, p) in enumerate(PROTECTED)
    }


def test_the_401_403_matrix(hub_server: RunningHub) -> None:
    hub = hub_server
    assert _statuses(hub, None) == {401}
    assert _statuses(hub, "not-a-token-at-all-but-long-enough") == {401}
    answer = hub.http.get("/v1/me")
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in answer.json()["detail"]

    ana_enrol = hub.add_user("Ana", "researcher")
    ana = enrol(hub.http, ana_enrol, "ana-laptop")
    used_again = hub.http.post(
        "/v1/enrol", json={"token": ana_enrol, "device_id": "x"}, headers=headers()
    )
    assert used_again.status_code == 401 and "used already" in used_again.json()["detail"]
    bo = hub.device("Bo")
    viewer = hub.device("Vic", "viewer")

    study = Study(name="Shared map")
    session = ResearchSession(study_id=study.id)
    pushed = hub.http.post(
        "/v1/push", json=push_body([wire(study), wire(session)]), headers=ana.headers
    )
    assert [r["status"] for r in pushed.json()["results"]] == ["applied", "applied"]

    # a researcher reading another researcher's session
    assert hub.http.get(f"/v1/sessions/{session.id}", headers=ana.headers).status_code == 200
    other = hub.http.get(f"/v1/sessions/{session.id}", headers=bo.headers)
    assert other.status_code == 403 and "another researcher" in other.json()["detail"]
    # a researcher changing a published map
    rename = wire(study, base=1, name="Bo's map")
    stage = wire(Stage(study_id=study.id, name="New stage"))
    refused = hub.http.post("/v1/push", json=push_body([rename, stage]), headers=bo.headers)
    assert refused.status_code == 200
    assert [r["status"] for r in refused.json()["results"]] == ["forbidden", "forbidden"]
    assert "study's owner" in refused.json()["results"][0]["message"]
    # a viewer calling the sync API
    assert hub.http.get("/v1/me", headers=viewer.headers).json()["role"] == "viewer"
    for method, path in PROTECTED[1:]:
        assert hub.http.request(method, path, headers=viewer.headers).status_code == 403, path

    # a revoked token, by id and by user
    me = hub.http.get("/v1/me", headers=bo.headers)
    assert me.status_code == 200
    tokens = json.loads(hub_cli(hub.db, "tokens", "list", "--user", "Bo", "--json").stdout)
    device_tokens = [t["id"] for t in tokens if t["kind"] == "device"]
    hub_cli(hub.db, "tokens", "revoke", device_tokens[0])
    assert hub.http.get("/v1/me", headers=bo.headers).status_code == 401
    assert hub.http.get("/v1/me", headers=ana.headers).status_code == 200
    hub_cli(hub.db, "tokens", "revoke", "--user", "Ana")
    assert _statuses(hub, ana.token) == {401}

    # the access log: one JSON line per request, route templates, no names or tokens
    log = hub.log_text()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert {"ts", "method", "route", "status", "ms", "account"} <= set(lines[-1])
    routes = {line["route"] for line in lines}
    assert "/v1/sessions/{session_id}" in routes and "/v1/blobs/{sha256}" in routes
    for secret in (ana.token, bo.token, ana_enrol, "Ana", "Bo", session.id, "since="):
        assert secret not in log
    assert {line["account"] for line in lines} >= {ana.account_id, bo.account_id}


def test_tokens_are_stored_only_as_sha256(hub_server: RunningHub) -> None:
    hub = hub_server
    enrol_token = hub.add_user("Ana", "researcher")
    device = enrol(hub.http, enrol_token, "laptop")
    assert len(enrol_token) >= 43 and len(device.token) >= 43  # 32 random bytes, base64url
    engine = make_engine(hub.db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(storage.token)).all()
    finally:
        engine.dispose()
    stored = {value for row in rows for value in row if isinstance(value, str)}
    assert enrol_token not in stored and device.token not in stored
    assert {r.token_hash for r in rows} == {
        hashlib.sha256(t.encode()).hexdigest() for t in (enrol_token, device.token)
    }


def test_the_hub_cli_manages_accounts_with_one_line_errors(hub_server: RunningHub) -> None:
    db = hub_server.db
    added = run_hub_cli(db, "users", "add", "Ana Lima", "--role", "supervisor")  # a real process
    token = added.stdout.strip()
    assert len(token.splitlines()) == 1 and len(token) >= 43
    assert "shown once" in added.stderr
    again = hub_cli(db, "users", "add", "ana  lima", "--role", "researcher", check=False)
    assert again.returncode == 1
    assert again.stderr.strip() == "cxfield: error: An account called 'Ana Lima' exists already."
    second = hub_cli(db, "users", "enrol", "Ana Lima").stdout.strip()
    assert second != token
    enrol(hub_server.http, token, "laptop")
    enrol(hub_server.http, second, "tablet")
    listed = json.loads(hub_cli(db, "users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["devices"]) for u in listed] == [("Ana Lima", "supervisor", 2)]
    table = hub_cli(db, "users", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "ROLE", "DEVICES", "LAST", "SEEN", "ID"]
    assert table[1].startswith("Ana Lima  supervisor  2")
    unknown = hub_cli(db, "users", "enrol", "Nobody", check=False)
    assert unknown.returncode == 1 and "No account is called 'Nobody'" in unknown.stderr
    usage = hub_cli(db, "tokens", "revoke", check=False)
    assert usage.returncode == 2 and "TOKEN_ID or --user" in usage.stderr
    bad_role = hub_cli(db, "users", "add", "Zed", "--role", "boss", check=False)
    assert bad_role.returncode == 2
