"""Exports see what may leave the laptop: accepted redactions applied, and sessions that
wait for their redaction review left out (a study export) or refused (a session export).

When something is to be redacted, the export reads a private copy of the database (made
with SQLite's backup API beside it, 0600, removed afterwards) in which the texts carry
the placeholders and the held sessions are gone.  Nothing needs a copy when nothing is
redacted or held: the export then reads the database itself."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

from sqlalchemy import delete, select, text, update

from cxfield.domain.errors import ValidationError
from cxfield.privacy import outgoing as privacy
from cxfield.privacy.audio import RECORDING, outgoing_audio
from cxfield.privacy.texts import FIELDS_BY_TABLE, table
from cxfield.storage.database import Database, make_engine
from cxfield.storage.migrate import backup_file
from cxfield.storage.models import SYNCED_TABLES, AuditEntry, ResearchSession

P = ParamSpec("P")
R = TypeVar("R")
SESSION = ResearchSession.__table__  # type: ignore[attr-defined]
AUDIT = AuditEntry.__table__  # type: ignore[attr-defined]


class HeldForReview(ValidationError):
    """The session waits for its redaction review; nothing was written."""


def _study_sessions(database: Database, study_id: str) -> list[str]:
    with database.engine.connect() as conn:
        query = select(SESSION.c.id).where(
            SESSION.c.study_id == study_id, SESSION.c.deleted_at.is_(None)
        )
        return [row.id for row in conn.execute(query)]


@contextmanager
def leaving(
    database: Database, session_ids: list[str], messages: list[str], *, single: bool
) -> Iterator[Database]:
    """The database an export of these sessions may read."""
    out = privacy.prepare(database, session_ids)
    data_dir = database.path.parent
    wanted = set(session_ids) - set(out.held)
    out.recordings = {
        rid: found
        for rid, found in outgoing_audio(database, data_dir, out.held, uploading_only=False).items()
        if _session_of_recording(database, rid) in wanted
    }
    lines = privacy.describe(database, out.held)
    if single and out.held:
        raise HeldForReview(
            f"{lines[0]} Review it first: cxfield redact list --session {session_ids[0]}.",
            in_app=f"{lines[0]} Review it first: Privacy → Review redactions… (Ctrl+Shift+R).",
        )
    if not out.held and not out.accepted and not out.recordings:
        yield database
        return
    for rid, found in out.recordings.items():
        if found.problem:
            messages.append(f"Recording {rid} is left out (its transcript stays): {found.problem}.")
    if out.held:
        messages.append(
            f"{len(out.held)} session(s) wait for their redaction review and are left out: "
            + " ".join(lines)
        )
    copy = database.path.parent / f".export-{uuid.uuid4().hex}.sqlite"
    try:
        backup_file(database.path, copy)
        _redact_copy(copy, out, data_dir)
        redacted = Database(copy, device_id=database.device_id)
        try:
            yield redacted
        finally:
            redacted.dispose()
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(FileNotFoundError):
                Path(f"{copy}{suffix}").unlink()


def _session_of_recording(database: Database, recording_id: str) -> str | None:
    with database.engine.connect() as conn:
        found = conn.execute(select(RECORDING.c.session_id).where(RECORDING.c.id == recording_id))
        return found.scalar()


def _redact_copy(path: Path, out: privacy.Outgoing, data_dir: Path) -> None:
    engine = make_engine(path)
    try:
        with engine.begin() as conn:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            held = list(out.held)
            for cls in SYNCED_TABLES:
                t = cls.__table__  # type: ignore[attr-defined]
                if "session_id" in t.c and held:
                    conn.execute(delete(t).where(t.c.session_id.in_(held)))
            if held:
                conn.execute(delete(SESSION).where(SESSION.c.id.in_(held)))
            for (name, row_id), _fields in out.accepted.items():
                t = table(name)
                row = conn.execute(select(t).where(t.c.id == row_id)).first()
                if row is None:
                    continue
                redacted = out.redact(name, dict(row._mapping))
                values = {f: redacted[f] for f in FIELDS_BY_TABLE[name]}
                conn.execute(update(t).where(t.c.id == row_id).values(**values))
            # the history of changes after submission holds those texts too (JSON export)
            targets = list(out.accepted)
            for start in range(0, len(targets), 500):
                chunk = {row_id for _name, row_id in targets[start : start + 500]}
                for entry in conn.execute(select(AUDIT).where(AUDIT.c.row_id.in_(chunk))):
                    redacted = out.redact("audit_entry", dict(entry._mapping))
                    conn.execute(
                        update(AUDIT)
                        .where(AUDIT.c.id == entry.id)
                        .values(before=redacted["before"], after=redacted["after"])
                    )
            for rid, found in out.recordings.items():
                if found.problem or found.path is None:
                    conn.execute(delete(RECORDING).where(RECORDING.c.id == rid))
                elif found.windows:  # the REFI-QDA project embeds the redacted copy
                    relative = found.path.relative_to(data_dir).as_posix()
                    conn.execute(
                        update(RECORDING)
                        .where(RECORDING.c.id == rid)
                        .values(path=relative, sha256=found.sha256)
                    )
    finally:
        engine.dispose()


def study_export(job: Callable[P, R]) -> Callable[P, R]:
    """For ``job(database, ..., study_id, ...)``: run it on what may leave the laptop."""
    return cast("Callable[P, R]", _wrap(job, single=False))


def session_export(job: Callable[P, R]) -> Callable[P, R]:
    """For ``job(database, session_id, ...)``: refused while the session is held."""
    return cast("Callable[P, R]", _wrap(job, single=True))


def _wrap(job: Callable[..., Any], *, single: bool) -> Any:
    @functools.wraps(job)
    def run(*args: Any, **kwargs: Any) -> Any:
        args_list = list(args)
        database: Database = args_list[0]
        # (database, study_id, ...) or (database, data_dir, study_id, ...) for the REFI-QDA
        key = "session_id" if single else "study_id"
        target = kwargs.get(key) or next(a for a in args_list[1:] if isinstance(a, str))
        ids = [target] if single else _study_sessions(database, target)
        messages: list[str] = []
        with leaving(database, ids, messages, single=single) as source:
            args_list[0] = source
            result = job(*args_list, **kwargs)
        if messages and hasattr(result, "messages"):
            result.messages[:0] = messages
        return result

    return run
