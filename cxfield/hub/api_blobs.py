"""Audio uploads under ``/v1/blobs`` (tus-like: HEAD for the offset, POST to start,
PATCH to append a chunk at the hub's offset, GET to download)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.requests import ClientDisconnect

from cxfield.hub.api import CallerDep, HubDep, check_protocol
from cxfield.hub.blobs import BlobError, BlobState, OffsetMismatch
from cxfield.hub.models import (
    SHA256_PATTERN,
    BlobStatus,
    MissingBlobsRequest,
    MissingBlobsResponse,
)
from cxfield.sync.protocol import ErrorBody

router = APIRouter(
    prefix="/v1/blobs",
    responses={code: {"model": ErrorBody} for code in (401, 403, 404, 409, 413, 422, 426, 429)},
)
Sha = Annotated[str, Path(pattern=SHA256_PATTERN, description="SHA-256 of the file, hex")]
#: the chunk's bytes; any content type is taken (tus clients send application/offset+octet-stream)
CHUNK_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _headers(state: BlobState) -> dict[str, str]:
    return {
        "Upload-Offset": str(state.offset),
        "Upload-Length": str(state.length),
        "X-Complete": "true" if state.complete else "false",
    }


def _answer(state: BlobState, code: int = 200) -> JSONResponse:
    body = BlobStatus(
        sha256=state.sha256, length=state.length, offset=state.offset, complete=state.complete
    )
    return JSONResponse(body.model_dump(), status_code=code, headers=_headers(state))


def _refused(exc: BlobError) -> HTTPException:
    headers = {"Upload-Offset": str(exc.offset)} if isinstance(exc, OffsetMismatch) else None
    return HTTPException(exc.status_code, str(exc), headers=headers)


@router.post("/missing", response_model=MissingBlobsResponse, summary="Which files the hub lacks")
def missing(body: MissingBlobsRequest, state: HubDep, _caller: CallerDep) -> MissingBlobsResponse:
    check_protocol(body.protocol)
    return MissingBlobsResponse(missing=state.blobs.missing(body.sha256))


@router.head("/{sha256}", summary="How much of a file the hub has", response_class=Response)
def blob_head(sha256: Sha, state: HubDep, _caller: CallerDep) -> Response:
    found = state.blobs.state(sha256)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The hub has no upload of this file.")
    return Response(status_code=200, headers=_headers(found))


@router.post(
    "/{sha256}", response_model=BlobStatus, status_code=201, summary="Start (or look up) an upload"
)
def blob_create(
    sha256: Sha,
    state: HubDep,
    caller: CallerDep,
    upload_length: Annotated[int, Header(alias="Upload-Length", ge=0, le=2**62)],
) -> JSONResponse:
    try:
        found, created = state.blobs.create(sha256, upload_length, caller)
    except BlobError as exc:
        raise _refused(exc) from None
    return _answer(found, 201 if created else 200)


@router.patch(
    "/{sha256}",
    response_model=BlobStatus,
    summary="Append a chunk at the hub's offset",
    openapi_extra=CHUNK_BODY,
)
async def blob_append(
    sha256: Sha,
    request: Request,
    state: HubDep,
    _caller: CallerDep,
    upload_offset: Annotated[int, Header(alias="Upload-Offset", ge=0, le=2**62)],
) -> JSONResponse:
    try:
        chunk = await request.body()
    except ClientDisconnect:  # the laptop hung up mid-chunk: nothing of it counts
        return JSONResponse({"detail": "The connection dropped mid-chunk."}, status_code=499)
    try:
        found = await run_in_threadpool(state.blobs.append, sha256, upload_offset, chunk)
    except BlobError as exc:
        raise _refused(exc) from None
    return _answer(found)


@router.get(
    "/{sha256}", response_class=FileResponse, summary="Download a file (its owner or a supervisor)"
)
def blob_download(sha256: Sha, state: HubDep, caller: CallerDep) -> FileResponse:
    found = state.blobs.state(sha256)
    if found is None or not found.complete:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "The hub has no complete copy of this file.")
    if not caller.sees_all_sessions and state.blobs.owner(sha256) != caller.account.id:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Only the recording's owner or a supervisor can download it."
        )
    return FileResponse(state.blobs.final_path(sha256), media_type="application/octet-stream")
