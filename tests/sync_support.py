"""Laptops syncing with a real hub in this process: the hub's FastAPI app on its own SQLite
database, reached through fastapi's TestClient transport, optionally through
:class:`FaultyTransport`, which drops requests, drops answers after the hub committed,
duplicates and replays earlier requests late (reordering), and survives hub restarts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from cxfield.app import AppContext, open_app
from cxfield.storage.database import Database
from cxfield.sync import connection, protocol
from cxfield.sync.client import HubClient, SyncSummary, sync_once

BASE_URL = "http://127.0.0.1:8765"  # what the laptops store; requests go in-process


def hub_app(hub_dir: Path, url: str | None = None) -> Any:
    """The hub app on ``url`` (default: ``hub_dir``'s SQLite database), created or
    upgraded first."""
    from cxfield.hub.app import create_app
    from cxfield.hub.config import HubConfig
    from cxfield.hub.migrate import upgrade_hub

    hub_dir.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{hub_dir / 'hub.sqlite'}"
    upgrade_hub(url)
    return create_app(HubConfig(hub_dir, url))


class InProcessTransport(httpx.BaseTransport):
    """The hub's ASGI app called in this process, for the laptops' (sync) httpx client:
    each request runs the app on a fresh event loop, as a server would, without a socket."""

    def __init__(self, app: Any) -> None:
        self.asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            copy = httpx.Request(
                request.method, request.url, headers=request.headers, content=request.read()
            )
            answer = await self.asgi.handle_async_request(copy)
            body = await answer.aread()
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=body, request=request
            )

        return asyncio.run(call())


def in_process_transport(app: Any) -> httpx.BaseTransport:
    return InProcessTransport(app)


Fault = str  # "drop_request" | "drop_answer" | "duplicate" | "late_replay" | "ok"


class FaultyTransport(httpx.BaseTransport):
    """Forwards to the hub, with faults chosen by ``plan`` (one per request)."""

    def __init__(self, inner: httpx.BaseTransport, plan: Callable[[httpx.Request], Fault]):
        self.inner = inner
        self.plan = plan
        self.held: list[httpx.Request] = []
        self.log: list[tuple[str, str, Fault]] = []

    def _copy(self, request: httpx.Request) -> httpx.Request:
        return httpx.Request(
            request.method, request.url, headers=request.headers, content=request.read()
        )

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(self._copy(request))
        response.read()
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan(request)
        self.log.append((request.method, request.url.path, fault))
        if fault == "drop_request":
            raise httpx.ConnectError("injected: request lost", request=request)
        if fault == "late_replay" and self.held:
            # an earlier request, delivered again now: after newer ones (reordered)
            self._send(self.held.pop(0))
        if request.method in ("POST", "PATCH"):
            self.held.append(self._copy(request))
            del self.held[:-4]
        response = self._send(request)
        if fault == "duplicate":
            response = self._send(request)
        if fault == "drop_answer":
            raise httpx.ReadError("injected: answer lost after the hub committed", request=request)
        return response


def random_plan(rng: random.Random, rate: float) -> Callable[[httpx.Request], Fault]:
    faults = ("drop_request", "drop_answer", "duplicate", "late_replay")

    def plan(_request: httpx.Request) -> Fault:
        return rng.choice(faults) if rng.random() < rate else "ok"

    return plan


@dataclass
class Laptop:
    name: str
    ctx: AppContext
    http: httpx.Client

    @property
    def db(self) -> Any:
        return self.ctx.db

    def client(self) -> HubClient:
        return connection.open_client(self.ctx.db, self.ctx.paths.root, http=self.http)

    def sync(self) -> SyncSummary:
        return sync_once(self.ctx.db, self.client(), data_dir=self.ctx.paths.root)


@dataclass
class Team:
    """A hub and the laptops that sync with it (all in this process)."""

    root: Path
    faults: Callable[[httpx.Request], Fault] = field(default=lambda _r: "ok")
    laptops: list[Laptop] = field(default_factory=list)
    #: the hub's database (None: SQLite in the hub folder)
    url: str | None = None

    def __post_init__(self) -> None:
        self.app = hub_app(self.root / "hub", self.url)
        self.transport = FaultyTransport(in_process_transport(self.app), self._fault)

    def _fault(self, request: httpx.Request) -> Fault:
        return self.faults(request)

    def restart_hub(self) -> None:
        """A new hub process on the same database and blob folder."""
        self.app.state.hub.engine.dispose()
        self.app = hub_app(self.root / "hub", self.url)
        self.transport.inner = in_process_transport(self.app)

    def laptop(self, name: str, role: str = "researcher") -> Laptop:
        from cxfield.hub import accounts

        _info, token = accounts.add_user(self.app.state.hub.engine, name, role)
        ctx = open_app(self.root / name)
        http = httpx.Client(transport=self.transport, base_url=BASE_URL)
        saved, self.faults = self.faults, (lambda _r: "ok")
        try:
            connection.connect(ctx.db, ctx.paths.root, BASE_URL, token, http=http)
        finally:
            self.faults = saved
        laptop = Laptop(name, ctx, http)
        self.laptops.append(laptop)
        return laptop

    def sync_for_review(self, researcher: Laptop, supervisor: Laptop | None = None) -> None:
        """Sync ``researcher``'s laptop whose sessions are in a mix of review states (the
        demo's) as a team does: she sends the decided ones submitted (a researcher may not
        send a session that arrives decided), ``supervisor`` (default: a supervisor account
        of its own, "Sup") decides them as they were, and she pulls the decisions."""
        decisions = submit_decided(researcher.db)
        researcher.sync()
        if supervisor is None:
            supervisor = next((lap for lap in self.laptops if lap.name == "Sup"), None)
        supervisor = supervisor or self.laptop("Sup", "supervisor")
        supervisor.sync()
        decide(supervisor.db, decisions)
        supervisor.sync()
        researcher.sync()

    def close(self) -> None:
        for laptop in self.laptops:
            laptop.http.close()
            laptop.ctx.close()
        self.app.state.hub.engine.dispose()

    # --- what everyone holds ----------------------------------------------------------

    def hub_rows(self) -> dict[tuple[str, str], str]:
        """(table, id) -> content hash of every live row on the hub."""
        from cxfield.hub import storage

        with self.app.state.hub.engine.connect() as conn:
            rows = conn.execute(
                select(
                    storage.record.c.table_name,
                    storage.record.c.row_id,
                    storage.record.c.content_hash,
                ).where(storage.record.c.deleted.is_(False))
            )
            return {(r.table_name, r.row_id): r.content_hash for r in rows}


def live_rows(
    ctx: AppContext, tables: tuple[str, ...] = protocol.TABLE_ORDER
) -> dict[tuple[str, str], str]:
    """(table, id) -> content hash of every live synced row on a laptop."""
    from cxfield.sync.state import table_of

    found: dict[tuple[str, str], str] = {}
    with ctx.db.engine.connect() as conn:
        for name in tables:
            table = table_of(name)
            for row in conn.execute(select(table).where(table.c.deleted_at.is_(None))):
                data = protocol.encode_row(protocol.TABLES[name], row)
                found[(name, row.id)] = protocol.content_hash(data, name)
    return found


def submit_decided(database: Database) -> dict[str, str]:
    """On a researcher's laptop: submit every session that is in a decided review state
    (approved, returned, rejected: the demo's mix) but was never sent, as she would before
    a supervisor decides it.  Returns session id -> the state it had, for :func:`decide`."""
    from sqlmodel import col
    from sqlmodel import select as select_rows

    from cxfield.domain.review import ReviewAction
    from cxfield.domain.vocabulary import SessionStatus
    from cxfield.services.review import record_move
    from cxfield.storage.models import ResearchSession, SyncRow

    decided = (SessionStatus.APPROVED, SessionStatus.HAS_ISSUES, SessionStatus.REJECTED)
    found: dict[str, str] = {}
    with database.session() as db:
        sent = select_rows(SyncRow.row_id).where(SyncRow.table_name == "session")
        query = select_rows(ResearchSession).where(
            col(ResearchSession.status).in_(decided), col(ResearchSession.id).not_in(sent)
        )
        for session in db.exec(query).all():
            found[session.id] = str(session.status)
            session.status = SessionStatus.DRAFT  # as it was before the demo decided it
            record_move(db, session, ReviewAction.SUBMIT)
    return found


def decide(database: Database, decisions: dict[str, str]) -> None:
    """On a supervisor's laptop (synced): decide each submitted session as ``decisions``
    says (approve, return or reject, with a comment where one is needed)."""
    from cxfield.domain.review import ReviewAction
    from cxfield.domain.vocabulary import SessionStatus
    from cxfield.services.review import move

    actions = {
        SessionStatus.APPROVED: ReviewAction.APPROVE,
        SessionStatus.HAS_ISSUES: ReviewAction.RETURN,
        SessionStatus.REJECTED: ReviewAction.REJECT,
    }
    for session_id, status in decisions.items():
        action = actions[SessionStatus(status)]
        comment = "" if action == ReviewAction.APPROVE else "Please check the captures."
        move(database, session_id, action, comment)
