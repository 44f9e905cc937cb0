"""``cxfield hub serve`` over TLS, and what it says about plain HTTP."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from cxfield.hub.serve import is_loopback
from tests.hub_support import HubDatabase, hub_cli, start_hub


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "hub.pem", folder / "hub-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)
def test_the_hub_serves_https_with_its_certificate(
    hub_database: HubDatabase, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    hub = start_hub(hub_database, tls=(cert, key))
    try:
        assert hub.url.startswith("https://")
        assert hub.http.get("/health").json() == {
            "status": "ok",
            "protocol": 1,
            "database": "sqlite",
        }
        with pytest.raises(httpx.ConnectError):  # not trusted without the CA file
            httpx.get(f"{hub.url}/health", timeout=10)
        assert "serving https://127.0.0.1" in hub.log_text()
        assert "warning" not in hub.log_text()
    finally:
        hub.stop()


@pytest.mark.parametrize("hub_database", ["sqlite"], indirect=True)
def test_tls_needs_both_files(hub_database: HubDatabase, tmp_path: Path) -> None:
    cert, _key = _self_signed(tmp_path)
    only_cert = hub_cli(hub_database, "serve", "--tls-cert", str(cert), check=False)
    assert only_cert.returncode == 2 and "both --tls-cert and --tls-key" in only_cert.stderr


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "127.1.2.3"))
    assert not any(
        is_loopback(h) for h in ("0.0.0.0", "192.168.1.10", "::", "no-such-host.invalid")
    )


def test_a_database_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    from tests.hub_support import HubDatabase as Db

    unreachable = Db("postgresql", "postgresql+psycopg://cx@127.0.0.1:1/none", tmp_path)
    answer = hub_cli(unreachable, "db", "upgrade", check=False)
    assert answer.returncode == 1
    assert answer.stderr.startswith("cxfield: error: Cannot open the hub database ")
    assert len(answer.stderr.strip().splitlines()) == 1
    not_a_db = Db("mysql", "mysql://cx@127.0.0.1/none", tmp_path)
    refused = hub_cli(not_a_db, "users", "list", check=False)
    assert refused.returncode == 1 and "runs on SQLite or PostgreSQL" in refused.stderr
