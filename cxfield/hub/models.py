"""Hub answers that only the hub's own endpoints use (the sync messages shared with the
laptop are in :mod:`cxfield.sync.protocol`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from cxfield.sync.protocol import PROTOCOL_VERSION, Change, ConflictInfo

SHA256_PATTERN = "^[0-9a-f]{64}$"


class ResolveResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    conflict: ConflictInfo
    #: the row's hub version after the resolution
    version: int


class SessionRows(BaseModel):
    protocol: int = PROTOCOL_VERSION
    session_id: str
    rows: list[Change]


class BlobStatus(BaseModel):
    sha256: str
    length: int
    offset: int
    complete: bool


class MissingBlobsRequest(BaseModel):
    protocol: int = PROTOCOL_VERSION
    sha256: list[Annotated[str, Field(pattern=SHA256_PATTERN)]] = Field(max_length=1000)


class MissingBlobsResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    missing: list[str]
