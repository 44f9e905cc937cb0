"""Audio uploads: chunked, resumable after a dropped connection and after a hub restart,
content-addressed and verified before they count."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from urllib.parse import urlsplit

import pytest

from tests.hub_support import InProcessHub, RunningHub, start_hub

MB = 1024 * 1024


def _blob(size: int) -> tuple[bytes, str]:
    data = os.urandom(size)
    return data, hashlib.sha256(data).hexdigest()


def _drop_mid_chunk(hub_url: str, token: str, sha: str, offset: int, chunk: bytes) -> None:
    """Send a PATCH whose body stops a third of the way in, then hang up."""
    parts = urlsplit(hub_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"PATCH /v1/blobs/{sha} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\nUpload-Offset: {offset}\r\n"
            "Content-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(chunk)}\r\n\r\n"
        )
        sock.sendall(head.encode() + chunk[: len(chunk) // 3])


def test_an_upload_resumes_where_the_hub_stopped_and_is_verified(hub_server: RunningHub) -> None:
    hub = hub_server
    ana = hub.device("Ana")
    data, sha = _blob(3 * MB + 123)
    url = f"/v1/blobs/{sha}"
    assert hub.http.head(url, headers=ana.headers).status_code == 404
    created = hub.http.post(url, headers={**ana.headers, "Upload-Length": str(len(data))})
    assert created.status_code == 201
    assert created.json() == {"sha256": sha, "length": len(data), "offset": 0, "complete": False}
    first = hub.http.patch(url, content=data[:MB], headers={**ana.headers, "Upload-Offset": "0"})
    assert first.status_code == 200 and first.headers["Upload-Offset"] == str(MB)

    _drop_mid_chunk(hub.url, ana.token, sha, MB, data[MB : 2 * MB])
    deadline = time.monotonic() + 10  # the hub notices the hang-up and counts nothing of it
    while '"route": "/v1/blobs/{sha256}", "status": 499' not in hub.log_text():
        assert time.monotonic() < deadline, hub.log_text()[-2000:]
        time.sleep(0.05)
    assert hub.http.head(url, headers=ana.headers).headers["Upload-Offset"] == str(MB)
    assert "internal error" not in hub.log_text()
    # the hub itself stops and starts again (another process on the same database and folder)
    hub.stop()
    hub = start_hub(hub.db, upgrade=False)
    try:
        state = hub.http.head(url, headers=ana.headers)
        assert (state.headers["Upload-Offset"], state.headers["X-Complete"]) == (str(MB), "false")
        wrong = hub.http.patch(
            url, content=data[:MB], headers={**ana.headers, "Upload-Offset": "0"}
        )
        assert wrong.status_code == 409 and wrong.headers["Upload-Offset"] == str(MB)
        assert "continue from there" in wrong.json()["detail"]

        offset = int(state.headers["Upload-Offset"])
        while offset < len(data):
            chunk = data[offset : offset + MB]
            answer = hub.http.patch(
                url, content=chunk, headers={**ana.headers, "Upload-Offset": str(offset)}
            )
            assert answer.status_code == 200, answer.text
            offset = int(answer.headers["Upload-Offset"])
        assert answer.headers["X-Complete"] == "true" and answer.json()["complete"] is True
        stored = hub.db.hub_dir / "blobs" / sha[:2] / sha
        assert stored.read_bytes() == data
        assert not (hub.db.hub_dir / "blobs" / "partial" / sha).exists()

        # starting it again is answered "complete" (a laptop that lost the last answer)
        again = hub.http.post(url, headers={**ana.headers, "Upload-Length": str(len(data))})
        assert again.status_code == 200 and again.headers["X-Complete"] == "true"
        assert hub.http.get(url, headers=ana.headers).content == data
        bo, sam = hub.device("Bo"), hub.device("Sam", "supervisor")
        assert hub.http.get(url, headers=bo.headers).status_code == 403
        assert hub.http.get(url, headers=sam.headers).content == data
        other = "cd" * 32
        missing = hub.http.post(
            "/v1/blobs/missing", json={"sha256": [sha, other]}, headers=bo.headers
        )
        assert missing.json()["missing"] == [other]
    finally:
        hub.stop()


@pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)
def test_a_file_that_does_not_match_its_checksum_is_refused_and_discarded(
    hub_app: InProcessHub,
) -> None:
    ana = hub_app.device("Ana")
    data, sha = _blob(MB)
    url = f"/v1/blobs/{sha}"
    tampered = bytes([data[0] ^ 1]) + data[1:]
    hub_app.client.post(url, headers={**ana.headers, "Upload-Length": str(len(data))})
    half = len(data) // 2
    hub_app.client.patch(
        url, content=tampered[:half], headers={**ana.headers, "Upload-Offset": "0"}
    )
    refused = hub_app.client.patch(
        url, content=tampered[half:], headers={**ana.headers, "Upload-Offset": str(half)}
    )
    assert refused.status_code == 422
    assert "does not match its SHA-256" in refused.json()["detail"]
    state = hub_app.client.head(url, headers=ana.headers)
    assert (state.headers["Upload-Offset"], state.headers["X-Complete"]) == ("0", "false")
    blobs = hub_app.db.hub_dir / "blobs"
    assert not list(blobs.rglob(sha))
    # the right bytes are accepted afterwards
    done = hub_app.client.patch(url, content=data, headers={**ana.headers, "Upload-Offset": "0"})
    assert done.status_code == 200 and done.json()["complete"] is True
    assert (blobs / sha[:2] / sha).read_bytes() == data


@pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)
def test_uploads_refuse_what_does_not_fit(hub_app: InProcessHub) -> None:
    ana = hub_app.device("Ana")
    data, sha = _blob(1000)
    url = f"/v1/blobs/{sha}"
    client = hub_app.client
    never = client.patch(url, content=data, headers={**ana.headers, "Upload-Offset": "0"})
    assert never.status_code == 404 and "POST it first" in never.json()["detail"]
    huge = client.post(url, headers={**ana.headers, "Upload-Length": str(2**40)})
    assert huge.status_code == 413
    client.post(url, headers={**ana.headers, "Upload-Length": str(len(data))})
    past = client.patch(url, content=data + b"x", headers={**ana.headers, "Upload-Offset": "0"})
    assert past.status_code == 400 and "past the file's length" in past.json()["detail"]
    big_chunk = client.patch(
        url, content=b"\0" * (8 * MB + 1), headers={**ana.headers, "Upload-Offset": "0"}
    )
    assert big_chunk.status_code == 413
    bad_sha = client.post("/v1/blobs/not-a-hash", headers={**ana.headers, "Upload-Length": "1"})
    assert bad_sha.status_code == 422
    no_length = client.post(url, headers=ana.headers)
    assert no_length.status_code == 422 and "Upload-Length" in no_length.json()["detail"]
    assert client.head(url, headers=ana.headers).headers["Upload-Offset"] == "0"
