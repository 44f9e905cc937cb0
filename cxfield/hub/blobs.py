"""Audio on the hub: content-addressed, uploaded in chunks, resumable, verified.

``HUBDIR/blobs/partial/<sha256>`` grows chunk by chunk; the register (``hub_blob``) says
how many bytes count.  A chunk is written at the registered offset (the file is cut back
to it first, so a chunk half-written before a crash is simply written again) and counted
in the same transaction.  When the last byte arrives the file's SHA-256 is checked: a match
moves it to ``HUBDIR/blobs/ab/<sha256>`` (complete), a mismatch discards it."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select, update

from cxfield.domain.ids import utcnow
from cxfield.hub import storage as t
from cxfield.hub.accounts import Caller
from cxfield.hub.config import HubError, write_transaction


class BlobError(HubError):
    status_code = 400


class BlobNotFound(BlobError):
    status_code = 404


class BlobTooLarge(BlobError):
    status_code = 413


class OffsetMismatch(BlobError):
    status_code = 409

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


class ChecksumMismatch(BlobError):
    status_code = 422


@dataclass(frozen=True)
class BlobState:
    sha256: str
    length: int
    offset: int
    complete: bool


class BlobStore:
    def __init__(self, engine: Engine, root: Path, max_bytes: int) -> None:
        self.engine = engine
        self.root = root
        self.max_bytes = max_bytes

    def final_path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def partial_path(self, sha256: str) -> Path:
        return self.root / "partial" / sha256

    def state(self, sha256: str) -> BlobState | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.blob).where(t.blob.c.sha256 == sha256)).first()
        if row is None:
            return None
        if not row.complete and row.received == row.size:
            try:  # the hub stopped between the last chunk and the check: check now
                return self._finish(sha256, row.size)
            except ChecksumMismatch:
                return BlobState(sha256, row.size, 0, False)
        return BlobState(sha256, row.size, row.received, bool(row.complete))

    def owner(self, sha256: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.blob.c.owner_account_id).where(t.blob.c.sha256 == sha256)
            ).scalar()

    def create(self, sha256: str, length: int, caller: Caller) -> tuple[BlobState, bool]:
        """Register an upload (idempotent); returns its state and whether it is new."""
        if length < 0:
            raise BlobError("Upload-Length must be 0 or more.")
        if length > self.max_bytes:
            raise BlobTooLarge(f"This hub takes files of at most {self.max_bytes} bytes.")
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.blob).where(t.blob.c.sha256 == sha256).with_for_update()
            ).first()
            if row is not None:
                if row.size != length and not row.complete:
                    if row.received:
                        raise BlobError(
                            f"An upload of this file with another length ({row.size}) is under "
                            "way; a file's content decides its length."
                        )
                    conn.execute(
                        update(t.blob).where(t.blob.c.sha256 == sha256).values(size=length)
                    )
                    return BlobState(sha256, length, 0, False), False
                return BlobState(sha256, row.size, row.received, bool(row.complete)), False
            conn.execute(
                t.blob.insert().values(
                    sha256=sha256,
                    size=length,
                    received=0,
                    complete=False,
                    owner_account_id=caller.account.id,
                    created_at=utcnow(),
                )
            )
        if length == 0:
            return self._finish(sha256, 0), True
        return BlobState(sha256, length, 0, False), True

    def append(self, sha256: str, offset: int, chunk: bytes) -> BlobState:
        """Write a chunk at ``offset`` (which must be the hub's offset)."""
        verify = False
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                select(t.blob).where(t.blob.c.sha256 == sha256).with_for_update()
            ).first()
            if row is None:
                raise BlobNotFound("No upload of this file was started (POST it first).")
            if row.complete:
                return BlobState(sha256, row.size, row.size, True)
            if offset != row.received:
                raise OffsetMismatch(
                    f"The hub has {row.received} bytes of this file, not {offset}; "
                    "continue from there.",
                    row.received,
                )
            end = offset + len(chunk)
            if end > row.size:
                raise BlobError(f"This chunk goes past the file's length ({row.size} bytes).")
            partial = self.partial_path(sha256)
            partial.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("r+b" if partial.exists() else "w+b") as handle:
                handle.truncate(offset)
                handle.seek(offset)
                handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            conn.execute(update(t.blob).where(t.blob.c.sha256 == sha256).values(received=end))
            verify = end == row.size
            size = row.size
        if verify:
            return self._finish(sha256, size)
        return BlobState(sha256, size, end, False)

    def _finish(self, sha256: str, size: int) -> BlobState:
        partial, final = self.partial_path(sha256), self.final_path(sha256)
        partial.parent.mkdir(parents=True, exist_ok=True)
        if size == 0:
            partial.touch()
        if not partial.exists() and final.exists():  # finished by another request
            return self._mark_complete(sha256, size)
        if not partial.exists():
            self._restart(sha256)
            raise ChecksumMismatch("The partial upload is gone from the hub; upload it again.")
        digest = hashlib.sha256()
        with partial.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256:
            partial.unlink(missing_ok=True)
            self._restart(sha256)
            raise ChecksumMismatch(
                "The uploaded file does not match its SHA-256; the hub discarded it — "
                "upload it again from the start."
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, final)
        return self._mark_complete(sha256, size)

    def _restart(self, sha256: str) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(update(t.blob).where(t.blob.c.sha256 == sha256).values(received=0))

    def _mark_complete(self, sha256: str, size: int) -> BlobState:
        with write_transaction(self.engine) as conn:
            conn.execute(
                update(t.blob)
                .where(t.blob.c.sha256 == sha256)
                .values(received=size, complete=True, completed_at=utcnow())
            )
        return BlobState(sha256, size, size, True)

    def missing(self, hashes: list[str]) -> list[str]:
        with self.engine.connect() as conn:
            done = set(
                conn.execute(
                    select(t.blob.c.sha256).where(
                        t.blob.c.sha256.in_(sorted(set(hashes))), t.blob.c.complete.is_(True)
                    )
                ).scalars()
            )
        return [h for h in dict.fromkeys(hashes) if h not in done]
