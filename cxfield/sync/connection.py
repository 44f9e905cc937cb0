"""This data directory's link to a team hub: connect (enrol), the stored client, status and
disconnect.  Settings live in ``local_setting`` (``sync.*``), the token in the keyring."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from cxfield.domain.errors import ValidationError
from cxfield.domain.vocabulary import ResearcherRole
from cxfield.privacy import outgoing as privacy
from cxfield.services.sites import adopt_researcher_identity
from cxfield.storage.database import Database
from cxfield.sync import conflicts, credentials, state
from cxfield.sync.client import HubClient, HubError, check_url
from cxfield.sync.protocol import Account
from cxfield.sync.upload import waiting_audio

#: hub roles -> the researcher role shown in the app
ROLE_OF_ACCOUNT = {
    "researcher": ResearcherRole.RESEARCHER,
    "supervisor": ResearcherRole.SUPERVISOR,
    "admin": ResearcherRole.SUPERVISOR,
    "viewer": ResearcherRole.OBSERVER,
}


@dataclass(frozen=True)
class Connected:
    url: str
    account: Account
    token_store: credentials.TokenStore


class NotConnected(HubError):
    def __init__(self) -> None:
        super().__init__(
            "This laptop is not connected to a hub; run cxfield sync connect URL --token TOKEN."
        )


def connect(
    database: Database,
    data_dir: Path,
    url: str,
    enrol_token: str,
    *,
    allow_http: bool = False,
    ca_file: Path | None = None,
    http: httpx.Client | None = None,
) -> Connected:
    """Enrol this laptop with the hub (the one-time token becomes a device token, kept in
    the keyring) and make the hub account this laptop's researcher identity."""
    url = check_url(url, allow_http=allow_http)
    if ca_file is not None and not ca_file.is_file():
        raise ValidationError(f"No CA certificate file at {ca_file}.")
    current = database.get_setting(state.HUB_URL)
    if current and current != url:
        raise ValidationError(
            f"This laptop syncs with {current}; run cxfield sync disconnect first."
        )
    client = HubClient(url, allow_http=allow_http, ca_file=ca_file, http=http)
    try:
        answer = client.enrol(enrol_token.strip(), database.device_id, platform.node()[:200])
    finally:
        if http is None:
            client.close()
    store = credentials.save_token(data_dir, url, answer.token, database.device_id)
    account = answer.account
    for key, value in (
        (state.HUB_URL, url),
        (state.ACCOUNT, account.model_dump()),
        (state.ALLOW_HTTP, allow_http),
        (state.CA_FILE, str(ca_file.resolve()) if ca_file else None),
        (state.HUB_ID, answer.hub_id),
        (state.TOKEN_ID, answer.token_id),
    ):
        database.set_setting(key, value)
    adopt_researcher_identity(database, account.id, account.name, ROLE_OF_ACCOUNT[account.role])
    return Connected(url, account, store)


def open_client(
    database: Database, data_dir: Path, *, http: httpx.Client | None = None
) -> HubClient:
    """The client for the connected hub, with the stored token."""
    url = database.get_setting(state.HUB_URL)
    if not url:
        raise NotConnected()
    token = credentials.load_token(data_dir, url, database.device_id)
    if not token:
        raise HubError(
            f"No device token for {url} on this laptop; connect again: "
            "cxfield sync connect URL --token TOKEN."
        )
    ca = database.get_setting(state.CA_FILE)
    return HubClient(
        url,
        token,
        allow_http=bool(database.get_setting(state.ALLOW_HTTP, False)),
        ca_file=Path(ca) if ca else None,
        http=http,
    )


def disconnect(database: Database, data_dir: Path) -> str | None:
    """Forget the hub: token, settings and sync bookkeeping (the data stays)."""
    url = database.get_setting(state.HUB_URL)
    if url:
        credentials.delete_token(data_dir, url, database.device_id)
    for key in state.SETTINGS:
        database.set_setting(key, None)
    state.forget_all(database)
    return str(url) if url else None


def status(database: Database, data_dir: Path | None = None) -> dict[str, Any]:
    """Hub, account, last sync, changes waiting, conflicts and audio waiting (no network)."""
    waiting = state.waiting_counts(database)
    return {
        "hub": database.get_setting(state.HUB_URL),
        "account": database.get_setting(state.ACCOUNT),
        "last_synced_at": database.get_setting(state.LAST_SYNCED),
        "cursor": state.cursor(database),
        "changes_waiting": sum(waiting.values()),
        "waiting_by_table": waiting,
        "conflicts": conflicts.open_count(database),
        "audio_waiting": len(waiting_audio(database, data_dir)),
        # sessions the next sync will hold back, and why (not scanned here: no detectors run)
        "held_for_review": privacy.describe(database, privacy.prepare(database, scan=False).held),
    }
