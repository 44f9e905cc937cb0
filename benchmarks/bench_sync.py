"""Sync figures against a real hub on loopback (PostgreSQL when the PG* variables are set,
e.g. under ``pg_virtualenv -t``; SQLite otherwise — the figure line says which).

    pg_virtualenv -t .venv/bin/python benchmarks/bench_sync.py [--sessions 1000]

Prints, for one run:
* first sync of a laptop holding ``demo --sessions N`` (push of every row), with the
  100-session first sync in the same run as the baseline (ratio per 10× the data);
* a no-op sync (nothing waits, nothing new on the hub);
* a supervisor pulling the sessions of two laptops (2 × N sessions);
* a resumable upload of a 1-hour 16 kHz WAV through the hub's blob endpoints (the client's
  own chunked upload) against one plain ``curl`` PUT-like upload of the same bytes to the
  same hub (ratio).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def cli(*args: str, data: Path | None = None, check: bool = True) -> str:
    cmd = [PY, "-m", "cxfield", *(["--data-dir", str(data)] if data else []), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_database(hub_dir: Path) -> tuple[str, str, str | None]:
    """(kind, URL, PostgreSQL database name to drop) for the hub under test."""
    if not os.environ.get("PGHOST") and not os.environ.get("PGPORT"):
        return "sqlite", f"sqlite:///{hub_dir / 'hub.sqlite'}", None
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    user = os.environ.get("PGUSER", "postgres")
    password = os.environ.get("PGPASSWORD", "")
    host = os.environ.get("PGHOST", "localhost")
    port = os.environ.get("PGPORT", "5432")
    auth = f"{user}:{password}@" if password else f"{user}@"
    if host.startswith("/"):
        return "postgresql", f"postgresql+psycopg://{auth}/{name}?host={host}&port={port}", name
    return "postgresql", f"postgresql+psycopg://{auth}{host}:{port}/{name}", name


def drop(name: str | None) -> None:
    if name is None:
        return
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Hub:
    def __init__(self, root: Path) -> None:
        self.dir = root / "hub"
        self.dir.mkdir()
        self.kind, self.url_db, self.pg_name = hub_database(self.dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        base = ["hub", "users", "add"]
        self.tokens = {
            who: cli(*base, who, "--role", role, "--dir", str(self.dir), "--database", self.url_db)
            for who, role in (
                ("alice", "researcher"),
                ("bob", "researcher"),
                ("sam", "supervisor"),
            )
        }
        log = open(root / "hub.log", "wb")  # noqa: SIM115 - lives as long as the hub
        self.proc = subprocess.Popen(
            [
                PY,
                "-m",
                "cxfield",
                "hub",
                "serve",
                "--dir",
                str(self.dir),
                "--database",
                self.url_db,
                "--port",
                str(self.port),
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        import httpx

        for _ in range(200):
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit("the hub did not start; see hub.log")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        drop(self.pg_name)


def laptop(root: Path, name: str, hub: Hub, sessions: int, study: str | None) -> Path:
    """A researcher's laptop with ``sessions`` demo sessions, all submitted (the hub refuses
    a researcher's new session that arrives already decided)."""
    data = root / name
    if study is None:
        cli("demo", "--sessions", str(sessions), "--seed", "7", "--submitted", data=data)
    cli("sync", "connect", hub.url, f"--token={hub.tokens[name]}", data=data)
    if study is not None:
        cli("sync", data=data)  # fetch the study first
        cli(
            "demo", "--into", study, "--sessions", str(sessions), "--seed", "11", "--submitted",
            data=data,
        )  # fmt: skip
    return data


def timed_sync(data: Path) -> tuple[float, str]:
    """Seconds of one in-process sync (no interpreter start-up) and its summary line."""
    from cxfield.app import open_app
    from cxfield.sync.client import sync_once
    from cxfield.sync.connection import open_client

    ctx = open_app(data)
    client = open_client(ctx.db, ctx.paths.root)
    try:
        start = time.perf_counter()
        summary = sync_once(ctx.db, client, data_dir=ctx.paths.root)
        seconds = time.perf_counter() - start
    finally:
        client.close()
        ctx.close()
    if summary.refused or summary.conflicts:  # the figure would be of another sync
        raise SystemExit(f"the sync of {data.name} was not clean: {summary.line()}")
    return seconds, summary.line()


def one_hour_wav(path: Path) -> str:
    frames = 16000 * 3600
    block = os.urandom(32000)  # 1 s of noise-like 16-bit samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        for _ in range(frames // 16000):
            w.writeframesraw(block)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def upload_figures(root: Path, hub: Hub, data: Path) -> tuple[float, float, int]:
    """(client's resumable upload s, plain curl upload s, bytes)."""
    from cxfield.app import open_app
    from cxfield.sync import upload
    from cxfield.sync.connection import open_client

    wav = root / "hour.wav"
    sha = one_hour_wav(wav)
    size = wav.stat().st_size
    ctx = open_app(data)
    client = open_client(ctx.db, ctx.paths.root)
    try:
        start = time.perf_counter()
        upload.upload_file(client, wav, sha, size, lambda: False)
        ours = time.perf_counter() - start
    finally:
        client.close()
        ctx.close()
    # the same bytes again (two bytes longer, so another file), sent by one curl process in
    # the same 8 MB chunks over one kept-alive connection: no hashing, no offset checks
    from cxfield.sync.protocol import MAX_CHUNK_BYTES

    other = root / "hour2.wav"
    shutil.copyfile(wav, other)
    with open(other, "ab") as f:
        f.write(b"\0\0")
    sha2 = hashlib.sha256(other.read_bytes()).hexdigest()
    size2 = other.stat().st_size
    ctx = open_app(data)
    client = open_client(ctx.db, ctx.paths.root)
    head = [f"-H{k}: {v}" for k, v in client._headers().items()]  # noqa: SLF001 - same auth
    client.close()
    ctx.close()
    url = f"{hub.url}/v1/blobs/{sha2}"
    subprocess.run(
        ["curl", "-sf", "-X", "POST", *head, "-H", f"Upload-Length: {size2}", url],
        check=True,
        capture_output=True,
    )
    chunks = root / "chunks"
    chunks.mkdir()
    command = ["curl", "-sf", "-o", "/dev/null"]
    with open(other, "rb") as f:
        offset, index = 0, 0
        while piece := f.read(MAX_CHUNK_BYTES):
            part = chunks / f"{index:04d}"
            part.write_bytes(piece)
            if index:
                command += ["--next", "-sf", "-o", "/dev/null"]
            command += [
                "-X",
                "PATCH",
                *head,
                "-H",
                f"Upload-Offset: {offset}",
                "-H",
                "Content-Type: application/offset+octet-stream",
                "--data-binary",
                f"@{part}",
                url,
            ]
            offset += len(piece)
            index += 1
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    plain = time.perf_counter() - start
    return ours, plain, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--skip-upload", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cxfield-bench-sync-"))
    hub = Hub(root)
    try:
        print(f"hub: {hub.kind} on loopback; load average {os.getloadavg()[0]:.1f}")
        base = laptop(root, "bob", hub, args.sessions // 10, None)
        base_s, base_line = timed_sync(base)
        big = laptop(root, "alice", hub, args.sessions, None)
        first_s, first_line = timed_sync(big)
        print(
            f"first sync, {args.sessions // 10} sessions (baseline): {base_s:.2f} s ({base_line})"
        )
        print(
            f"first sync, {args.sessions} sessions: {first_s:.2f} s ({first_line}); "
            f"{first_s / base_s:.1f}x the baseline for 10x the data"
        )
        noop_s, noop_line = min(timed_sync(big) for _ in range(3))
        print(f"no-op sync: {noop_s * 1000:.0f} ms ({noop_line})")
        sup = root / "sam"
        cli("sync", "connect", hub.url, f"--token={hub.tokens['sam']}", data=sup)
        third = 2000 - args.sessions - args.sessions // 10
        if third > 0:  # a third laptop, so the supervisor pulls 2,000 sessions
            hub.tokens["carol"] = cli(
                "hub",
                "users",
                "add",
                "carol",
                "--role",
                "researcher",
                "--dir",
                str(hub.dir),
                "--database",
                hub.url_db,
            )
            timed_sync(laptop(root, "carol", hub, third, None))
        pulled = args.sessions + args.sessions // 10 + max(0, third)
        pull_s, pull_line = timed_sync(sup)
        print(
            f"supervisor first pull ({pulled} sessions from {3 if third > 0 else 2} laptops): "
            f"{pull_s:.2f} s ({pull_line})"
        )
        if not args.skip_upload and shutil.which("curl"):
            ours, plain, size = upload_figures(root, hub, big)
            print(
                f"1-hour WAV ({size / 1e6:.0f} MB): resumable chunked upload {ours:.2f} s, "
                f"plain curl upload {plain:.2f} s, ratio {ours / plain:.2f}"
            )
    finally:
        hub.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
