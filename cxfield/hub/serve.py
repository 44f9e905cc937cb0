"""Running the hub under uvicorn (``cxfield hub serve``)."""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

from cxfield.hub.config import HubConfig, HubError, redact
from cxfield.hub.migrate import upgrade_hub


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback
                for info in socket.getaddrinfo(host, None)
            )
        except (OSError, ValueError):
            return False


def _say(text: str) -> None:
    print(f"cxfield hub: {text}", file=sys.stderr, flush=True)


def serve(
    config: HubConfig,
    host: str = "127.0.0.1",
    port: int = 8765,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> None:
    """Upgrade the schema if needed, then serve until SIGINT/SIGTERM."""
    import uvicorn

    from cxfield.hub.app import create_app

    if (tls_cert is None) != (tls_key is None):
        raise HubError("Give both --tls-cert and --tls-key (or neither).")
    for path in (tls_cert, tls_key):
        if path is not None and not path.is_file():
            raise HubError(f"TLS file not found: {path}.")
    config.hub_dir.mkdir(parents=True, exist_ok=True)
    upgraded = upgrade_hub(config.url)
    app = create_app(config)
    scheme = "https" if tls_cert else "http"
    if upgraded.from_revision != upgraded.to_revision:
        _say(f"database schema {upgraded.from_revision or 'new'} -> {upgraded.to_revision}")
    if tls_cert is None and not is_loopback(host):
        _say(
            f"warning: serving plain HTTP on {host}: tokens and interviews travel unencrypted. "
            "Use --tls-cert/--tls-key, or a TLS reverse proxy in front of a loopback hub."
        )
    _say(
        f"serving {scheme}://{host}:{port} (database {redact(config.url)}, "
        f"blobs {config.blobs_dir})"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        access_log=False,  # the hub writes its own, without paths or query strings
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def check_server(app: object) -> str:
    """Load uvicorn's configuration for ``app`` without serving: the event loop, HTTP
    protocol and lifespan modules it picks by name at run time (what a packaged app could
    miss).  For ``cxfield --self-test``; returns what was picked."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None)  # type: ignore[arg-type]
    config.load()
    protocol = getattr(config.http_protocol_class, "__module__", "?")
    return f"uvicorn {uvicorn.__version__} ({protocol.rsplit('.', 1)[-1]})"
