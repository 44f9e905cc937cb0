"""The hub is killed (SIGKILL) in the middle of a laptop's first sync, over real HTTP; it is
started again on the same folder and port, and the next sync loses and duplicates nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from tests.hub_support import (  # noqa: F401
    HubDatabase,
    free_port,
    hub_database,
    hub_env,
    run_hub_cli,
)
from tests.sync_support import live_rows
from tests.test_cli import run


def _serve(db: HubDatabase, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cxfield",
                "hub",
                "serve",
                "--dir",
                str(db.hub_dir),
                "--database",
                db.url,
                "--port",
                str(port),
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=hub_env(),
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the hub did not start:\n{log.read_text()[-2000:]}")


def _hub_records(db: HubDatabase) -> dict[tuple[str, str], str]:
    from cxfield.hub import storage
    from cxfield.hub.config import make_engine

    engine = make_engine(db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    storage.record.c.table_name,
                    storage.record.c.row_id,
                    storage.record.c.content_hash,
                )
            ).all()
            assert conn.execute(select(func.count()).select_from(storage.record)).scalar() == len(
                rows
            )
    finally:
        engine.dispose()
    return {(r.table_name, r.row_id): r.content_hash for r in rows}


def test_killing_the_hub_mid_sync_loses_and_duplicates_nothing(
    hub_database: HubDatabase,  # noqa: F811
    tmp_path: Path,
) -> None:
    from cxfield.app import open_app

    run_hub_cli(hub_database, "db", "upgrade")
    token = run_hub_cli(hub_database, "users", "add", "Ana", "--role", "researcher").stdout
    port, log = free_port(), hub_database.hub_dir / "serve.log"
    hub = _serve(hub_database, port, log)
    laptop = tmp_path / "ana"
    url = f"http://127.0.0.1:{port}"
    try:
        assert (
            run("sync", "connect", url, f"--token={token.strip()}", data_dir=laptop).returncode == 0
        )
        # a researcher's sessions go to the hub submitted (decided ones would be refused)
        demo = run("demo", "--sessions", "300", "--submitted", data_dir=laptop)
        assert demo.returncode == 0, demo.stderr
        sync = subprocess.Popen(
            [sys.executable, "-m", "cxfield", "--data-dir", str(laptop), "sync"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=hub_env(),
        )
        deadline = time.monotonic() + 60
        while '"/v1/push"' not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        hub.kill()  # mid-sync: some batches committed, one perhaps half-way, the rest not
        hub.wait(timeout=10)
        out, err = sync.communicate(timeout=120)
        assert sync.returncode == 3, err
        assert "Hub not reachable" in err and "Traceback" not in err and out == ""
        partial = _hub_records(hub_database)
        hub = _serve(hub_database, port, log)
        done = run("sync", data_dir=laptop)
        assert done.returncode == 0, done.stderr
        pushed = int(done.stdout.split()[1].rstrip(","))
    finally:
        hub.kill()
        hub.wait(timeout=10)
    on_hub = _hub_records(hub_database)
    ctx = open_app(laptop)
    try:
        here = live_rows(ctx)
    finally:
        ctx.close()
    assert on_hub == here  # every row once, with the laptop's content
    assert len(partial) + pushed == len(here)  # what was committed before the kill stayed
