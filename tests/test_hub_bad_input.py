"""Malformed, truncated, oversized, wrong-type and hostile requests get a 4xx with a one-line
``{"detail": ...}`` and store nothing; a client of another protocol version gets 426."""

from __future__ import annotations

import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxfield.storage.models import Site
from cxfield.sync.protocol import MAX_BODY_BYTES, PROTOCOL_HEADER
from tests.hub_support import InProcessHub, RunningHub, push_body, wire

SQLITE_ONLY = pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)


def _detail(answer: Any) -> str:
    body = answer.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    assert "\n" not in body["detail"] and body["detail"]
    return str(body["detail"])


@SQLITE_ONLY
def test_an_oversized_body_is_refused_before_it_is_read(hub_server: RunningHub) -> None:
    """413 at once on the declared length: the hub does not wait for 9 MB that never come."""
    hub = hub_server
    ana = hub.device("Ana")
    parts = urlsplit(hub.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /v1/push HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Authorization: Bearer {ana.token}\r\nContent-Type: application/json\r\n"
                f'Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n{{"rows": ['
            ).encode()
        )
        started = time.monotonic()
        received = b""
        while b"larger than" not in received:  # headers and body may come apart
            block = sock.recv(65536)
            if not block:
                break
            received += block
        answer = received.decode("latin-1")
        assert time.monotonic() - started < 5
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "larger than 8 MB" in answer

    def chunks() -> Any:  # no Content-Length: counted as it streams
        for _ in range(9):
            yield b" " * (1024 * 1024)

    streamed = hub.http.post("/v1/push", content=chunks(), headers=ana.headers)
    assert streamed.status_code == 413 and "larger than 8 MB" in _detail(streamed)
    assert hub.http.get("/v1/changes", headers=ana.headers).json()["next"] == 0


@SQLITE_ONLY
def test_malformed_and_wrong_type_bodies_get_one_line_4xx(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    post = hub_app.client.post
    json_headers = {**ana.headers, "Content-Type": "application/json"}
    cases: list[tuple[Any, int, str]] = [
        (b"{not json", 422, "JSON"),
        (b'{"protocol": 1, "device_id": "d", "rows": [', 422, "JSON"),
        (json.dumps({"protocol": 1, "device_id": "d", "rows": "all"}).encode(), 422, "rows"),
        (json.dumps({"protocol": 1, "rows": []}).encode(), 422, "device_id"),
        (json.dumps([1, 2]).encode(), 422, "body"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "parsing"),  # hostile nesting
        (
            json.dumps(
                push_body([{"table": "site", "id": "x", "base": -1, "hash": "0" * 64, "data": {}}])
            ).encode(),
            422,
            "base",
        ),
        (json.dumps(push_body([wire(Site(name="x"))] * 501)).encode(), 413, "at most 500 rows"),
    ]
    for body, status, word in cases:
        answer = post("/v1/push", content=body, headers=json_headers)
        assert answer.status_code == status, (body[:80], answer.text)
        assert word in _detail(answer), (body[:80], answer.text)
    assert hub_app.client.get("/v1/changes", headers=ana.headers).json()["next"] == 0
    assert hub_app.client.get("/nowhere").status_code == 404
    assert _detail(hub_app.client.get("/nowhere")) == "Not Found"
    assert hub_app.client.delete("/v1/push", headers=ana.headers).status_code == 405
    bad_since = hub_app.client.get("/v1/changes", params={"since": "soon"}, headers=ana.headers)
    assert bad_since.status_code == 422 and "since" in _detail(bad_since)
    too_many = hub_app.client.get("/v1/changes", params={"limit": 5000}, headers=ana.headers)
    assert too_many.status_code == 422


@SQLITE_ONLY
def test_another_protocol_version_gets_426_with_a_clear_message(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    site = wire(Site(name="x"))
    newer_header = hub_app.client.post(
        "/v1/push", json=push_body([site]), headers={**ana.headers, PROTOCOL_HEADER: "2"}
    )
    assert newer_header.status_code == 426
    assert "speaks sync protocol 1; the request used 2" in _detail(newer_header)
    newer_body = hub_app.client.post(
        "/v1/push", json={**push_body([site]), "protocol": 2}, headers=ana.headers
    )
    assert newer_body.status_code == 426
    # a newer client's body need not even look like ours: still 426, not a validation error
    future = hub_app.client.post(
        "/v1/push", json={"protocol": 2, "batches": [{"rows": []}]}, headers=ana.headers
    )
    assert future.status_code == 426 and "Update cxfield" in _detail(future)
    enrol = hub_app.client.post(
        "/v1/enrol", json={"protocol": 3, "token": "t" * 43, "device_id": "d"}
    )
    assert enrol.status_code == 426
    garbled = hub_app.client.get("/v1/me", headers={**ana.headers, PROTOCOL_HEADER: "one"})
    assert garbled.status_code == 400
    assert hub_app.client.get("/v1/changes", headers=ana.headers).json()["next"] == 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def hostile_rows(draw: st.DrawFn) -> dict[str, Any]:
    """Rows that look like a site more or less: random columns, values, ids, bases."""
    row = wire(Site(name=draw(st.text(max_size=40))))
    data = dict(row["data"])
    for column in draw(st.lists(st.sampled_from(sorted(data) + ["extra"]), max_size=4)):
        data[column] = draw(JSON_VALUES)
    honest = draw(st.booleans())
    from cxfield.sync.protocol import content_hash

    table = draw(st.sampled_from(["site", "site", "note", "study", "bogus"]))
    return {
        "table": table,
        "id": data.get("id") if isinstance(data.get("id"), str) and data.get("id") else row["id"],
        "base": draw(st.integers(min_value=0, max_value=3)),
        "hash": content_hash(data, table) if honest else "f" * 64,
        "data": data,
    }


@SQLITE_ONLY
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(hostile_rows(), min_size=1, max_size=5))
def test_hypothesis_pushes_never_break_the_hub(
    hub_app: InProcessHub, rows: list[dict[str, Any]]
) -> None:
    if not hasattr(hub_app, "_ana"):
        hub_app._ana = hub_app.device("Ana")  # type: ignore[attr-defined]
    ana = hub_app._ana  # type: ignore[attr-defined]
    try:
        body = json.dumps(push_body(rows), allow_nan=True)
    except (TypeError, ValueError):
        return
    answer = hub_app.client.post(
        "/v1/push", content=body, headers={**ana.headers, "Content-Type": "application/json"}
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code != 200:
        _detail(answer)
        return
    results = answer.json()["results"]
    stored = {
        c["id"]: c["hash"]
        for c in hub_app.client.get(
            "/v1/changes", params={"limit": 1000}, headers=ana.headers
        ).json()["changes"]
    }
    for row, result in zip(rows, results, strict=True):
        assert result["status"] in {"applied", "duplicate", "conflict", "invalid", "forbidden"}
        if result["status"] == "invalid":
            assert result["message"] and stored.get(row["id"]) != row["hash"]
        if result["status"] == "applied":
            assert stored[row["id"]] == row["hash"]
