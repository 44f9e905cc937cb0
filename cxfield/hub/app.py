"""``create_app(config)``: the hub as a FastAPI application (OpenAPI at ``/docs``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from sqlalchemy import Engine, text

from cxfield import __version__
from cxfield.hub import accounts, api, api_blobs, api_review, retention
from cxfield.hub.blobs import BlobStore
from cxfield.hub.config import HubConfig, make_engine
from cxfield.hub.http import (
    AccessLog,
    BodyLimit,
    ProtocolHeader,
    configure_logging,
    install_error_handlers,
)
from cxfield.hub.migrate import check_current
from cxfield.hub.state import HubState
from cxfield.hub.web import routes as web_routes
from cxfield.hub.web import throttle as web_throttle
from cxfield.privacy.retention import EVERY as RETENTION_EVERY
from cxfield.sync.protocol import Health


async def _retention_daily(engine: Engine, config: HubConfig) -> None:
    """... and once a day while the process serves."""
    while True:
        await asyncio.sleep(RETENTION_EVERY.total_seconds())
        await asyncio.to_thread(retention.run_safely, engine, config.blobs_dir)


def create_app(config: HubConfig) -> FastAPI:
    """The hub on ``config``'s database, which must be at the newest schema (``cxfield hub
    db upgrade``; ``cxfield hub serve`` upgrades before it starts)."""
    configure_logging()
    engine = make_engine(config.url)
    with engine.connect() as conn:
        check_current(conn, config.url)
    web_throttle.purge_now(engine)  # expired web sessions and old sign-in attempts
    retention.run_safely(engine, config.blobs_dir)  # each study's retention, at start ...
    state = HubState(
        config,
        engine,
        BlobStore(engine, config.blobs_dir, config.max_blob_bytes),
        accounts.hub_id(engine),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        daily = asyncio.create_task(_retention_daily(engine, config))
        yield
        daily.cancel()
        engine.dispose()

    app = FastAPI(
        title="cxfield hub",
        version=__version__,
        description="The team hub that cxfield laptops sync with.",
        lifespan=lifespan,
    )
    app.state.hub = state
    install_error_handlers(app)

    @app.get("/health", response_model=Health, summary="Is the hub up (no sign-in)")
    def health() -> Health:
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            raise HTTPException(503, "The hub cannot reach its database.") from None
        return Health(status="ok", database=config.dialect)

    app.include_router(api.router)
    app.include_router(api_blobs.router)
    app.include_router(web_routes.router)
    app.include_router(api_review.router)
    # outermost last: the log sees every answer, 413s and 426s included
    app.add_middleware(ProtocolHeader)
    app.add_middleware(BodyLimit)
    app.add_middleware(AccessLog)
    return app
