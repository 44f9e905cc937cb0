"""Audio upload for studies that send recordings to the hub (``study.audio_upload``).

Chunked and resumable: the hub keeps how much of a file (content-addressed by SHA-256) it
has, so an upload cut off, also by an app restart, resumes at that offset; the hub checks
the checksum before the file counts.  The laptop never removes its copy.

A recording encrypted at rest with the laptop key never leaves as it is on disk: the hub
gets the WAV it holds (decrypted into ``DATA/outbox`` for the upload, 0600, removed once
confirmed) or, for a study with end-to-end encryption, that WAV sealed with the study's key.
Its checksum is that of the WAV (:func:`cxfield.audio.encrypted.audio_sha256`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cxfield.audio import encrypted
from cxfield.audio.at_rest import AtRestError, is_encrypted
from cxfield.domain.ids import utcnow
from cxfield.privacy import at_rest, sealing
from cxfield.storage.database import Database
from cxfield.sync.state import SYNC_UPLOAD, table_of

if TYPE_CHECKING:
    from cxfield.sync.client import CancelCheck, HubClient, SyncProgress, SyncSummary

CHUNK_BYTES = 4 * 1024 * 1024
UPLOADABLE_STATES = ("complete", "recovered", "imported")


@dataclass(frozen=True)
class PendingAudio:
    recording_id: str
    path: Path
    sha256: str
    study_id: str = ""


def waiting_audio(database: Database, data_dir: Path | None = None) -> list[PendingAudio]:
    """Recordings of studies that upload audio, not confirmed by the hub yet."""
    root = data_dir or database.path.parent
    recordings, sessions, studies = (table_of(n) for n in ("recording", "session", "study"))
    rec, ses, stu = recordings.c, sessions.c, studies.c
    done = exists().where(and_(SYNC_UPLOAD.c.sha256 == rec.sha256, SYNC_UPLOAD.c.state == "done"))
    query = (
        select(rec.id, rec.path, rec.sha256, ses.study_id)
        .select_from(
            recordings.join(sessions, ses.id == rec.session_id).join(
                studies, stu.id == ses.study_id
            )
        )
        .where(
            stu.audio_upload.is_(True),
            rec.deleted_at.is_(None),
            rec.state.in_(UPLOADABLE_STATES),
            rec.sha256 != "",
            ~done,
        )
        .order_by(rec.started_at)
    )
    with database.engine.connect() as conn:
        return [
            PendingAudio(r.id, root / r.path, r.sha256, r.study_id) for r in conn.execute(query)
        ]


def _same_audio(audio: PendingAudio) -> bool:
    """Is the file still the recorded audio (its WAV's checksum; a file that cannot be
    opened is not)?"""
    try:
        return encrypted.audio_sha256(audio.path) == audio.sha256
    except AtRestError:
        return False


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _set_state(database: Database, audio: PendingAudio, size: int, state: str) -> None:
    statement = sqlite_insert(SYNC_UPLOAD).values(
        sha256=audio.sha256,
        recording_id=audio.recording_id,
        size=size,
        state=state,
        updated_at=utcnow(),
    )
    with database.engine.begin() as conn:
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["sha256"], set_={"state": state, "updated_at": utcnow()}
            )
        )


def upload_all(
    database: Database,
    client: HubClient,
    summary: SyncSummary,
    progress: SyncProgress,
    cancel: CancelCheck,
    *,
    data_dir: Path | None = None,
) -> None:
    from cxfield.sync.client import HubError, HubUnreachable

    pending, held = _leaving(
        database, data_dir or database.path.parent, waiting_audio(database, data_dir), summary
    )
    with database.engine.connect() as conn:
        seals = sealing.protections(conn)
    for index, audio in enumerate(pending):
        if not audio.path.is_file():
            summary.messages.append(f"Recording {audio.recording_id}: file missing, not uploaded")
            continue
        try:
            size = encrypted.wav_size(audio.path)
        except AtRestError as exc:  # another laptop's key, a damaged file: said, not sent
            summary.messages.append(f"Recording {audio.recording_id}: not uploaded: {exc}")
            continue
        with database.engine.connect() as conn:
            known = conn.execute(
                select(SYNC_UPLOAD.c.state).where(SYNC_UPLOAD.c.sha256 == audio.sha256)
            ).scalar()
        if known == "done":
            continue  # a redacted copy the hub already has
        if known is None:
            if audio.recording_id not in held and not _same_audio(audio):
                summary.messages.append(
                    f"Recording {audio.recording_id}: the file changed since it was recorded; "
                    "not uploaded"
                )
                continue
            _set_state(database, audio, size, "waiting")
        seal = seals.get(audio.study_id)
        try:
            if seal is not None:
                # an encrypted study: only a copy sealed with the study's key leaves
                confirmed = _upload_sealed(database, client, audio, seal, cancel, data_dir)
            elif is_encrypted(audio.path):
                confirmed = _upload_decrypted(database, client, audio, cancel, data_dir)
            else:
                confirmed = upload_file(client, audio.path, audio.sha256, size, cancel)
        except HubUnreachable:
            raise
        except HubError as exc:  # refused or checksum mismatch: the next sync tries again
            summary.messages.append(f"Recording {audio.recording_id}: {exc}")
            continue
        if confirmed:
            _set_state(database, audio, size, "done")
            summary.uploaded += 1
        progress("upload", index + 1, len(pending))


def _leaving(
    database: Database, data_dir: Path, pending: list[PendingAudio], summary: SyncSummary
) -> tuple[list[PendingAudio], set[str]]:
    """What may leave instead of each original: the redacted copy where something is muted;
    nothing for a session held for its redaction review or a span that cannot be placed."""
    from cxfield.privacy import outgoing as privacy

    if not pending:
        return pending, set()
    leaving = privacy.prepare(database, scan=False, audio_dir=data_dir)
    with database.engine.connect() as conn:
        recordings = table_of("recording")
        owners = {
            r.id: r.session_id
            for r in conn.execute(
                select(recordings.c.id, recordings.c.session_id).where(
                    recordings.c.id.in_([a.recording_id for a in pending])
                )
            )
        }
    out: list[PendingAudio] = []
    redacted: set[str] = set()
    for audio in pending:
        if owners.get(audio.recording_id) in leaving.held:
            summary.messages.append(
                f"Recording {audio.recording_id}: not uploaded, its session waits for its "
                "redaction review"
            )
            continue
        copy = leaving.recordings.get(audio.recording_id)
        if copy is not None and copy.problem:
            summary.messages.append(f"Recording {audio.recording_id}: not uploaded: {copy.problem}")
            continue
        if copy is not None and copy.windows and copy.path is not None:
            out.append(PendingAudio(audio.recording_id, copy.path, copy.sha256, audio.study_id))
            redacted.add(audio.recording_id)
        else:
            out.append(audio)
    return out, redacted


def upload_file(client: HubClient, path: Path, sha256: str, size: int, cancel: CancelCheck) -> bool:
    """Send the file in chunks from wherever the hub stopped; True once the hub confirmed
    the checksum."""
    from cxfield.sync.client import HubError, SyncCancelled

    url = f"/v1/blobs/{sha256}"
    head = client.request("HEAD", url, ok=(200, 204, 404))
    if head.status_code == 404:
        head = client.request("POST", url, headers={"Upload-Length": str(size)}, ok=(200, 201, 204))
    if head.headers.get("X-Complete", "").lower() in ("1", "true", "yes"):
        return True
    offset = int(head.headers.get("Upload-Offset", "0") or 0)
    with path.open("rb") as handle:
        while offset < size:
            if cancel():
                raise SyncCancelled("Sync cancelled.")
            handle.seek(offset)
            chunk = handle.read(CHUNK_BYTES)
            answer = client.request(
                "PATCH",
                url,
                content=chunk,
                headers={
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                },
                ok=(200, 204, 409),
            )
            new_offset = int(answer.headers.get("Upload-Offset", offset))
            if answer.status_code == 409 and new_offset == offset:
                raise HubError(f"The hub refused the upload of {path.name} at byte {offset}.")
            offset = new_offset
            if answer.headers.get("X-Complete", "").lower() in ("1", "true", "yes"):
                return True
    final = client.request("HEAD", url, ok=(200, 204))
    return final.headers.get("X-Complete", "").lower() in ("1", "true", "yes")


OUTBOX = "outbox"


def _upload_decrypted(
    database: Database,
    client: HubClient,
    audio: PendingAudio,
    cancel: CancelCheck,
    data_dir: Path | None,
) -> bool:
    """Upload the WAV an encrypted recording holds, from a 0600 copy in the outbox."""
    outbox = (data_dir or database.path.parent) / OUTBOX
    outbox.mkdir(mode=0o700, exist_ok=True)
    plain = outbox / f"{audio.sha256}.wav"
    try:
        size = encrypted.write_plain_wav(audio.path, plain)
        return upload_file(client, plain, audio.sha256, size, cancel)
    finally:
        plain.unlink(missing_ok=True)


def _upload_sealed(
    database: Database,
    client: HubClient,
    audio: PendingAudio,
    seal: sealing.StudySeal,
    cancel: CancelCheck,
    data_dir: Path | None,
) -> bool:
    """Seal the recording once into ``DATA/outbox/<sha256>.sealed`` (kept until the hub
    confirmed it, so a resumed upload sends the same bytes), upload that, and note its
    checksum on the recording (it syncs: supervisors fetch the sealed copy by it)."""
    root = data_dir or database.path.parent
    outbox = root / OUTBOX
    outbox.mkdir(mode=0o700, exist_ok=True)
    sealed = outbox / f"{audio.sha256}.sealed"
    if not sealed.is_file():
        partial = outbox / f"{audio.sha256}.sealed.partial"
        partial.unlink(missing_ok=True)
        preamble, file_key = at_rest.study_preamble(seal.public_key, seal.key_id)
        # the WAV itself (decrypted as it is read when it is encrypted at rest)
        at_rest.encrypt_chunks(encrypted.wav_chunks(audio.path), partial, preamble, file_key)
        partial.replace(sealed)
    digest = _file_sha256(sealed)
    if not upload_file(client, sealed, digest, sealed.stat().st_size, cancel):
        return False
    recordings = table_of("recording")
    with database.engine.begin() as conn:
        conn.execute(
            recordings.update()
            .where(recordings.c.id == audio.recording_id, recordings.c.sealed_sha256 != digest)
            .values(
                sealed_sha256=digest,
                version=recordings.c.version + 1,
                updated_at=utcnow(),
                device_id=database.device_id,
            )
        )
    sealed.unlink(missing_ok=True)
    return True
