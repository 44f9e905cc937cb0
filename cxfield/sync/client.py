"""The laptop's side of the sync: :class:`HubClient` talks to the hub over HTTPS (httpx),
:func:`sync_once` pushes what waits, then pulls what changed.

Every step is safe to repeat: a push names the hub version each row derives from and its
content hash, so a replay is answered "duplicate"; the pull cursor is stored in the same
local transaction as the page it follows.  A dropped connection at any point is healed by
the next sync.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from cxfield import __version__
from cxfield.domain.errors import CxfieldError
from cxfield.domain.ids import utcnow
from cxfield.storage.database import Database
from cxfield.sync import protocol
from cxfield.sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

M = TypeVar("M", bound=BaseModel)

#: (phase, done, total): phase is "push", "pull" or "upload"
SyncProgress = Callable[[str, int, int], None]
CancelCheck = Callable[[], bool]


class HubError(CxfieldError):
    """The hub answered, but not with what the laptop needs (one-line message)."""


class HubUnreachable(HubError):
    """No answer (offline, hub down, connection dropped): normal in the field."""

    exit_code = 3


class HubThrottled(HubUnreachable):
    """The hub refuses this address for a while (too many refused tokens from it)."""


class HubAuthError(HubError):
    """401: the token is missing, unknown or revoked (``detail``: the hub's words)."""

    exit_code = 4

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class SyncCancelled(CxfieldError):
    exit_code = 130


def check_url(url: str, *, allow_http: bool = False) -> str:
    """The hub's base URL, refused when it is not https (plain http only to loopback or
    with ``allow_http``)."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HubError(f"{url!r} is not a hub address; give one like https://hub.example.org.")
    if parts.scheme == "http" and not allow_http and not _is_loopback(parts.hostname):
        raise HubError(
            f"{url} is plain http to another machine: tokens and research data would "
            "travel unencrypted. Use https, or --allow-http on a network you trust."
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class HubClient:
    """One hub, one device token.  ``http`` may be given (tests pass an in-process client or
    a transport that injects faults); otherwise an httpx client with timeouts and TLS
    verification (``ca_file`` for an agency CA) is made."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        allow_http: bool = False,
        ca_file: Path | None = None,
        http: httpx.Client | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.url = check_url(url, allow_http=allow_http)
        if http is None:
            verify: ssl.SSLContext | bool = True
            if ca_file is not None:
                try:
                    verify = ssl.create_default_context(cafile=str(ca_file))
                except (OSError, ssl.SSLError) as exc:
                    raise HubError(f"Cannot use {ca_file} as a CA certificate: {exc}.") from exc
            http = httpx.Client(
                base_url=self.url,
                verify=verify,
                timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
                follow_redirects=False,
            )
        self.http = http
        self.token = token

    def close(self) -> None:
        self.http.close()

    # --- requests ------------------------------------------------------------------------

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
            "User-Agent": f"cxfield/{__version__}",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> httpx.Response:
        try:
            response = self.http.request(
                method,
                path,
                json=json,
                content=content,
                params=params,
                headers=self._headers(headers),
            )
        except httpx.TransportError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                raise HubError(
                    f"The hub at {self.url} shows a certificate this laptop does not trust; "
                    "if it is your agency's, give its CA certificate with --ca FILE. "
                    "Nothing changed."
                ) from exc
            raise HubUnreachable(
                f"Hub not reachable at {self.url} ({_reason(exc)}); nothing changed — "
                "try again later."
            ) from exc
        if response.status_code in ok:
            return response
        detail = _detail(response)
        if response.status_code == 401:
            raise HubAuthError(
                f"The hub at {self.url} does not accept this laptop's token ({detail}); "
                "connect again with a new enrolment token: cxfield sync connect URL --token T.",
                detail,
            )
        if response.status_code == 429:  # too many refused tokens from this address
            raise HubThrottled(
                f"The hub at {self.url} is refusing this address for now ({detail}); "
                "nothing changed."
            )
        if response.status_code == 426:
            raise HubError(f"The hub speaks another sync protocol: {detail}")
        if response.status_code >= 500:
            raise HubUnreachable(
                f"The hub at {self.url} had a problem ({response.status_code}: {detail}); "
                "nothing changed — try again later."
            )
        raise HubError(f"The hub refused the request ({response.status_code}): {detail}")

    def _model(self, model: type[M], response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            first = str(exc).splitlines()[0]
            raise HubError(f"The hub's answer could not be read ({first}).") from exc

    def health(self) -> protocol.Health:
        return self._model(protocol.Health, self.request("GET", "/health"))

    def enrol(self, token: str, device_id: str, label: str) -> protocol.EnrolResponse:
        try:
            body = protocol.EnrolRequest(token=token, device_id=device_id, device_label=label)
        except ValidationError as exc:
            raise HubError("That is not an enrolment token (ask the hub's admin for one).") from exc
        try:
            answer = self.request("POST", "/v1/enrol", json=body.model_dump(), ok=(200, 201))
        except HubAuthError as exc:
            raise HubAuthError(
                f"The hub refused the enrolment token ({exc.detail}); nothing changed.",
                exc.detail,
            ) from None
        return self._model(protocol.EnrolResponse, answer)

    def me(self) -> protocol.Account:
        return self._model(protocol.Account, self.request("GET", "/v1/me"))

    def push(self, body: protocol.PushRequest) -> protocol.PushResponse:
        answer = self.request("POST", "/v1/push", json=body.model_dump(mode="json"))
        return self._model(protocol.PushResponse, answer)

    def changes(self, since: int, limit: int = protocol.MAX_PULL_PAGE) -> protocol.ChangesResponse:
        answer = self.request("GET", "/v1/changes", params={"since": since, "limit": limit})
        return self._model(protocol.ChangesResponse, answer)

    def conflicts(self) -> protocol.ConflictsResponse:
        return self._model(protocol.ConflictsResponse, self.request("GET", "/v1/conflicts"))


def _reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return "connection dropped"


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no detail"
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI's validation errors
        detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return str(detail or response.reason_phrase or "no detail")


@dataclass
class SyncSummary:
    pushed: int = 0
    duplicates: int = 0
    pulled: int = 0
    conflicts: int = 0
    merged: int = 0
    refused: int = 0
    clashes: int = 0
    kept_local: int = 0
    uploaded: int = 0
    #: participants' withdrawals from the hub applied to this laptop's copy
    withdrawals: int = 0
    cursor: int = 0
    cancelled: bool = False
    messages: list[str] = field(default_factory=list)
    #: sessions held back until their redactions are reviewed, one line each (why)
    held: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = f"pushed {self.pushed}, pulled {self.pulled}, conflicts {self.conflicts}"
        extras = [
            f"{n} {what}"
            for n, what in (
                (self.merged, "merged"),
                (self.refused, "refused by the hub"),
                (self.clashes, "clashes"),
                (self.uploaded, "recordings uploaded"),
                (self.withdrawals, "withdrawals applied"),
                (len(self.held), "sessions held for redaction review"),
            )
            if n
        ]
        if extras:
            text += " (" + ", ".join(extras) + ")"
        return text + (" — cancelled" if self.cancelled else "")

    def as_json(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "pushed",
                "duplicates",
                "pulled",
                "conflicts",
                "merged",
                "refused",
                "clashes",
                "kept_local",
                "uploaded",
                "cursor",
                "cancelled",
                "messages",
                "held",
            )
        }


def sync_once(
    database: Database,
    client: HubClient,
    on_progress: SyncProgress | None = None,
    cancel: CancelCheck | None = None,
    *,
    data_dir: Path | None = None,
) -> SyncSummary:
    """Push everything that waits (parent tables first, batches of 500), then pull every
    change since the stored cursor (pages of 1000), then upload the audio of studies that
    upload it.  Cancel stops between batches; what was done stays done."""
    from cxfield.privacy import retention, withdrawal
    from cxfield.sync import pull, push, upload
    from cxfield.sync.state import LAST_SYNCED

    progress = on_progress or (lambda _phase, _done, _total: None)
    stop = cancel or (lambda: False)
    summary = SyncSummary()
    try:
        push.push_all(database, client, summary, progress, stop)
        pull.pull_all(database, client, summary, progress, stop)
        purged = withdrawal.apply_pulled(database, data_dir or database.path.parent)
        retention.remove_expired_audio(database, data_dir or database.path.parent)
        if purged:
            # a withdrawal came from the hub: this laptop's copy is gone; say where at once
            summary.withdrawals += len(purged)
            push.push_all(database, client, summary, progress, stop)
        upload.upload_all(database, client, summary, progress, stop, data_dir=data_dir)
    except SyncCancelled:
        summary.cancelled = True
        return summary
    database.set_setting(LAST_SYNCED, utcnow().isoformat().replace("+00:00", "Z"))
    return summary
