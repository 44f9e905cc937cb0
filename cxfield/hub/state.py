"""What a running hub holds: its configuration, database engine and blob store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from cxfield.hub.blobs import BlobStore
from cxfield.hub.config import HubConfig


@dataclass
class HubState:
    config: HubConfig
    engine: Engine
    blobs: BlobStore
    hub_id: str
