"""Real hubs for tests: ``python -m cxfield hub serve`` in a subprocess on a free loopback
port (``hub_server``), or the same app in-process (``hub_app``) — on SQLite and on
PostgreSQL (``hub_database`` is parametrised over both).

The fixtures are registered for every test by ``pytest_plugins`` in tests/conftest.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cxfield.sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    TABLES,
    content_hash,
    encode_row,
)
from tests.pg_support import create_database, drop_database, skip_without_pg

REPO = Path(__file__).resolve().parent.parent
DATABASES = ["sqlite", "postgresql"]


@dataclass(frozen=True)
class HubDatabase:
    kind: str
    url: str
    hub_dir: Path


@pytest.fixture(params=DATABASES)
def hub_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubDatabase]:
    """An empty hub database (SQLite in the hub folder, or a fresh PostgreSQL database)."""
    hub_dir = tmp_path / "hub"
    hub_dir.mkdir()
    if request.param == "sqlite":
        yield HubDatabase("sqlite", f"sqlite:///{hub_dir / 'hub.sqlite'}", hub_dir)
        return
    skip_without_pg()
    name, url = create_database()
    try:
        yield HubDatabase("postgresql", url, hub_dir)
    finally:
        drop_database(name)


def hub_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("CXFIELD_HUB_DATABASE", None)
    env.pop("CXFIELD_HUB_DIR", None)
    return env


def run_hub_cli(
    db: HubDatabase, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``cxfield hub ARGS --dir HUBDIR --database URL`` in a subprocess."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cxfield",
            "hub",
            *args,
            "--dir",
            str(db.hub_dir),
            "--database",
            db.url,
        ],
        capture_output=True,
        text=True,
        env=hub_env(),
        timeout=120,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"cxfield hub {' '.join(args)} failed: {done.stderr.strip()}")
    return done


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def hub_cli(db: HubDatabase, *args: str, check: bool = True) -> CliResult:
    """``cxfield hub ARGS --dir HUBDIR --database URL`` through the CLI's own ``main`` in
    this process (the same code as the command, without a Python start-up per call)."""
    import contextlib
    import io

    from cxfield.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = ["hub", *args, "--dir", str(db.hub_dir), "--database", db.url]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    if check and code != 0:
        raise AssertionError(f"cxfield hub {' '.join(args)} failed: {err.getvalue().strip()}")
    return CliResult(code, out.getvalue(), err.getvalue())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def headers(token: str | None = None) -> dict[str, str]:
    out = {PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    if token:
        out["Authorization"] = f"Bearer {token}"
    return out


@dataclass
class Device:
    token: str
    account_id: str
    device_id: str

    @property
    def headers(self) -> dict[str, str]:
        return headers(self.token)


@dataclass
class RunningHub:
    db: HubDatabase
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    ca_file: Path | None = None
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        verify: Any = str(self.ca_file) if self.ca_file else True
        self.http = httpx.Client(base_url=self.url, timeout=30, verify=verify)

    def add_user(self, name: str, role: str) -> str:
        """A new account's enrolment token (what ``cxfield hub users add`` prints; made
        in-process here, as the CLI would, to keep tests quick)."""
        return add_user(self.db, name, role)

    def device(self, name: str, role: str = "researcher", device_id: str | None = None) -> Device:
        return enrol(self.http, self.add_user(name, role), device_id or f"dev-{name}")

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def add_user(db: HubDatabase, name: str, role: str) -> str:
    from cxfield.hub import accounts
    from cxfield.hub.config import make_engine

    engine = make_engine(db.url)
    try:
        return accounts.add_user(engine, name, role)[1]
    finally:
        engine.dispose()


def enrol(http: Any, enrol_token: str, device_id: str) -> Device:
    answer = http.post(
        "/v1/enrol",
        json={"token": enrol_token, "device_id": device_id, "device_label": "test"},
        headers=headers(),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return Device(body["token"], body["account"]["id"], device_id)


def start_hub(
    db: HubDatabase, *, tls: tuple[Path, Path] | None = None, upgrade: bool = True
) -> RunningHub:
    """Start ``cxfield hub serve`` (HTTPS with ``tls=(cert, key)``) and wait until /health
    answers."""
    if upgrade:  # as `cxfield hub db upgrade` does
        from cxfield.hub.migrate import upgrade_hub

        upgrade_hub(db.url)
    for _attempt in range(3):
        port = free_port()
        log = db.hub_dir / f"serve-{port}.log"
        handle = log.open("wb")
        command = [sys.executable, "-m", "cxfield", "hub", "serve", "--dir", str(db.hub_dir)]
        command += ["--database", db.url, "--port", str(port)]
        if tls:
            command += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=hub_env())
        handle.close()
        scheme = "https" if tls else "http"
        hub = RunningHub(db, f"{scheme}://127.0.0.1:{port}", process, log, tls[0] if tls else None)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if hub.http.get("/health").status_code == 200:
                    return hub
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        hub.stop()
        if "address already in use" not in hub.log_text().lower():
            raise AssertionError(f"the hub did not start:\n{hub.log_text()[-3000:]}")
    raise AssertionError("no free port for the hub")


@pytest.fixture
def hub_server(hub_database: HubDatabase) -> Iterator[RunningHub]:
    """A hub served by a real uvicorn in a subprocess (SQLite or PostgreSQL)."""
    hub = start_hub(hub_database)
    try:
        yield hub
    finally:
        hub.stop()


# --- in-process ---------------------------------------------------------------------------


@dataclass
class InProcessHub:
    db: HubDatabase
    app: Any
    client: Any

    @property
    def engine(self) -> Any:
        return self.app.state.hub.engine

    def device(self, name: str, role: str = "researcher", device_id: str | None = None) -> Device:
        from cxfield.hub import accounts

        _info, token = accounts.add_user(self.engine, name, role)
        return enrol(self.client, token, device_id or f"dev-{name}")


@pytest.fixture
def hub_app(hub_database: HubDatabase) -> Iterator[InProcessHub]:
    """The hub app in this process (fastapi's TestClient), on a real database."""
    from fastapi.testclient import TestClient

    from cxfield.hub.app import create_app
    from cxfield.hub.config import HubConfig
    from cxfield.hub.migrate import upgrade_hub

    upgrade_hub(hub_database.url)
    app = create_app(HubConfig(hub_database.hub_dir, hub_database.url))
    with TestClient(app) as client:
        yield InProcessHub(hub_database, app, client)


# --- rows -------------------------------------------------------------------------------


def wire(obj: Any, base: int = 0, **changes: Any) -> dict[str, Any]:
    """A pushable row from a model object (``changes`` edit its wire data)."""
    table = type(obj).__tablename__
    data = encode_row(TABLES[table], obj)
    data.update(changes)
    return {
        "table": table,
        "id": data["id"],
        "base": base,
        "hash": content_hash(data, table),
        "data": data,
    }


def edited(row: dict[str, Any], base: int, **changes: Any) -> dict[str, Any]:
    data = {**row["data"], **changes}
    return {**row, "base": base, "hash": content_hash(data, row["table"]), "data": data}


def push_body(rows: list[dict[str, Any]], device_id: str = "dev") -> dict[str, Any]:
    return {"protocol": PROTOCOL_VERSION, "device_id": device_id, "rows": rows}


@pytest.fixture
def two_hubs(hub_database: HubDatabase) -> Iterator[tuple[RunningHub, RunningHub]]:
    """Two ``cxfield hub serve`` processes on one database, as a team that outgrew one
    process runs them."""
    first = start_hub(hub_database)
    second = start_hub(hub_database, upgrade=False)
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


@pytest.fixture
def hub_engine(hub_database: HubDatabase) -> Iterator[Any]:
    """An engine on the hub's database, for what a test reads or moves there directly."""
    from cxfield.hub.config import make_engine

    made = make_engine(hub_database.url)
    yield made
    made.dispose()


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Any]:
    """An in-process hub with laptops to sync (tests.sync_support.Team)."""
    from tests.sync_support import Team

    made = Team(tmp_path)
    yield made
    made.close()


def age_signin_attempts(engine: Any) -> None:
    """Move every counted sign-in or token failure back by the throttle's window, as if
    five minutes had passed."""
    from sqlalchemy import select, update

    from cxfield.hub import storage as t
    from cxfield.hub.web import throttle

    with engine.begin() as conn:
        for row in conn.execute(select(t.signin_attempt)).all():
            conn.execute(
                update(t.signin_attempt)
                .where(t.signin_attempt.c.id == row.id)
                .values(attempted_at=row.attempted_at - throttle.WINDOW)
            )
