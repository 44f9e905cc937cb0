"""End-to-end encryption of a study's texts: what the participants said and what the
researcher wrote about it is sealed with the study's public key (libsodium sealed boxes,
X25519) before a row leaves the laptop; the hub stores and serves ciphertext only.

Sealed columns (:data:`SEALED_COLUMNS`): transcript text, notes, step notes and quotes,
session notes, survey comments.  Everything the shared journey map is computed from stays
readable: ratings, emotions, intensity, pain points, step times, A-11 answers, tags.  The
history of changes after submission (``audit_entry``) holds those texts too: its before and
after values of a sealed column (and a sealed column's value in the content of a row added
then) are sealed the same way (:data:`HISTORY`).

A sealed value is the text ``cxsealed:1:<key id>:<base64 sealed box>``.  A sealed box is
random each time, so the ciphertext sent for a column is remembered with the SHA-256 of the
text it seals (``sealed_value``, local-only): unchanged text goes out unchanged, and a
replayed push stays a duplicate.  A laptop without the private key (a researcher, or a
supervisor who has not opened the key yet) keeps pulled values sealed; opening the key
(:func:`open_study`) turns them back into text in place.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, and_, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cxfield.privacy.sealed_texts import PREFIX, is_sealed
from cxfield.storage.models import AuditEntry, ResearchSession, SealedValue, StudyProtection

#: table -> its columns that are sealed in an encrypted study
SEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "session": ("notes",),
    "step_capture": ("notes", "quote"),
    "note": ("text",),
    "transcript_segment": ("text", "original_text"),
    "survey_response": ("comments",),
}

#: the audit trail's columns that hold a changed value (or a new row's content)
HISTORY = "audit_entry"
HISTORY_SIDES = ("before", "after")

_SEALED: Table = SealedValue.__table__  # type: ignore[attr-defined]
_PROTECTION: Table = StudyProtection.__table__  # type: ignore[attr-defined]
_SESSION: Table = ResearchSession.__table__  # type: ignore[attr-defined]
_AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]


def sealed_key_id(value: str) -> str:
    return value[len(PREFIX) :].split(":", 1)[0]


def seal_text(public_key_b64: str, key_id: str, text: str) -> str:
    from nacl.public import PublicKey, SealedBox

    box = SealedBox(PublicKey(base64.b64decode(public_key_b64)))
    sealed = base64.b64encode(box.encrypt(text.encode("utf-8"))).decode("ascii")
    return f"{PREFIX}{key_id}:{sealed}"


def open_text(private_key: Any, value: str) -> str:
    """The text inside a sealed value (``private_key``: ``nacl.public.PrivateKey``)."""
    from nacl.public import SealedBox

    payload = value[len(PREFIX) :].split(":", 1)[1]
    return bytes(SealedBox(private_key).decrypt(base64.b64decode(payload))).decode("utf-8")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StudySeal:
    public_key: str
    key_id: str


def protections(conn: Connection) -> dict[str, StudySeal]:
    """Studies that encrypt and have a public key: study id -> how to seal."""
    rows = conn.execute(
        select(_PROTECTION.c.study_id, _PROTECTION.c.public_key, _PROTECTION.c.key_id).where(
            _PROTECTION.c.encrypt.is_(True),
            _PROTECTION.c.public_key != "",
            _PROTECTION.c.deleted_at.is_(None),
        )
    )
    return {r.study_id: StudySeal(r.public_key, r.key_id) for r in rows}


@dataclass
class Sealer:
    """Seals the wire data of rows of encrypted studies (one push)."""

    seals: dict[str, StudySeal]
    cache: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)
    session_study: dict[str, str] = field(default_factory=dict)
    new: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, conn: Connection) -> Sealer:
        seals = protections(conn)
        sealer = cls(seals)
        if seals:
            for r in conn.execute(select(_SESSION.c.id, _SESSION.c.study_id)):
                sealer.session_study[r.id] = r.study_id
            for c in conn.execute(select(_SEALED)):
                sealer.cache[(c.table_name, c.row_id, c.column)] = (c.plain_sha256, c.sealed)
        return sealer

    def _study_of(self, table: str, data: dict[str, Any]) -> str | None:
        if table == "session":
            return str(data.get("study_id"))
        session_id = data.get("session_id")
        return self.session_study.get(str(session_id)) if session_id else None

    def seal(self, table: str, data: dict[str, Any]) -> dict[str, Any]:
        columns = SEALED_COLUMNS.get(table)
        if table == HISTORY and self.seals:
            return self._seal_history(data)
        if not columns or not self.seals:
            return data
        study = self._study_of(table, data)
        seal = self.seals.get(study or "")
        if seal is None:
            return data
        out = dict(data)
        row_id = str(data["id"])
        for column in columns:
            out[column] = self._sealed(seal, table, row_id, column, out.get(column))
        return out

    def _sealed(self, seal: StudySeal, table: str, row_id: str, column: str, text: Any) -> Any:
        """``text`` sealed (the same ciphertext as before for the same text)."""
        if not isinstance(text, str) or not text or is_sealed(text):
            return text
        digest = _sha(text)
        known = self.cache.get((table, row_id, column))
        if known is not None and known[0] == digest and sealed_key_id(known[1]) == seal.key_id:
            return known[1]
        sealed = seal_text(seal.public_key, seal.key_id, text)
        self.cache[(table, row_id, column)] = (digest, sealed)
        self.new.append(
            {
                "table_name": table,
                "row_id": row_id,
                "column": column,
                "plain_sha256": digest,
                "sealed": sealed,
            }
        )
        return sealed

    def _seal_history(self, data: dict[str, Any]) -> dict[str, Any]:
        """An audit entry of a sealed column: its before and after values; of a row added
        after submission: the sealed columns in its content (``after.<column>``)."""
        columns = SEALED_COLUMNS.get(str(data.get("table_name")), ())
        seal = self.seals.get(self._study_of(HISTORY, data) or "")
        if not columns or seal is None:
            return data
        out = dict(data)
        row_id = str(data["id"])
        for side in HISTORY_SIDES:
            value = out.get(side)
            if isinstance(value, dict):
                out[side] = {
                    k: self._sealed(seal, HISTORY, row_id, f"{side}.{k}", v) if k in columns else v
                    for k, v in value.items()
                }
            elif data.get("field") in columns:
                out[side] = self._sealed(seal, HISTORY, row_id, side, value)
        return out

    def store(self, conn: Connection) -> None:
        """Remember the new ciphertexts (before the push is sent)."""
        remember(conn, self.new)
        self.new = []


def remember(conn: Connection, entries: list[dict[str, str]]) -> None:
    for entry in entries:
        statement = sqlite_insert(_SEALED).values(**entry)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["table_name", "row_id", "column"],
                set_={"plain_sha256": entry["plain_sha256"], "sealed": entry["sealed"]},
            )
        )


def _tables() -> dict[str, Table]:
    from cxfield.storage import models

    found: dict[str, Table] = {}
    for cls in models.SYNCED_TABLES:
        table: Table = cls.__table__  # type: ignore[attr-defined]
        if table.name in SEALED_COLUMNS:
            found[table.name] = table
    return found


def sealed_count(conn: Connection, study_ids: Iterable[str] | None = None) -> int:
    """How many values on this laptop are still sealed (of the given studies, or all)."""
    return sum(1 for _ in _sealed_values(conn, study_ids)) + sum(
        1 for _ in _sealed_history(conn, study_ids)
    )


def _sealed_history(
    conn: Connection, study_ids: Iterable[str] | None
) -> Iterable[tuple[str, str, str]]:
    """(audit entry id, column — ``before``, ``after`` or ``after.<column>`` —, value)."""
    wanted = None if study_ids is None else set(study_ids)
    query = select(_AUDIT.c.id, _SESSION.c.study_id, _AUDIT.c.before, _AUDIT.c.after).select_from(
        _AUDIT.join(_SESSION, _SESSION.c.id == _AUDIT.c.session_id)
    )
    for row in conn.execute(query):
        if wanted is not None and row.study_id not in wanted:
            continue
        for side in HISTORY_SIDES:
            value = row._mapping[side]
            if isinstance(value, dict):
                for key, inner in value.items():
                    if is_sealed(inner):
                        yield row.id, f"{side}.{key}", inner
            elif is_sealed(value):
                yield row.id, side, value


def _sealed_values(
    conn: Connection, study_ids: Iterable[str] | None
) -> Iterable[tuple[str, str, str, str]]:
    wanted = None if study_ids is None else set(study_ids)
    for name, table in _tables().items():
        columns = SEALED_COLUMNS[name]
        if name == "session":
            query = select(table.c.id, table.c.study_id, *[table.c[c] for c in columns])
        else:
            query = select(
                table.c.id, _SESSION.c.study_id, *[table.c[c] for c in columns]
            ).select_from(table.join(_SESSION, and_(_SESSION.c.id == table.c.session_id)))
        for row in conn.execute(query):
            if wanted is not None and row.study_id not in wanted:
                continue
            for column in columns:
                value = row._mapping[column]
                if is_sealed(value):
                    yield name, row.id, column, value


def open_study(conn: Connection, study_id: str, private_key: Any, key_id: str) -> int:
    """Turn this laptop's sealed values of a study back into text (in place, not a local
    change: nothing is pushed again); returns how many were opened."""
    tables = _tables()
    opened = 0
    entries: list[dict[str, str]] = []
    for name, row_id, column, value in list(_sealed_values(conn, [study_id])):
        if sealed_key_id(value) != key_id:
            continue
        text = open_text(private_key, value)
        table = tables[name]
        conn.execute(table.update().where(table.c.id == row_id).values({column: text}))
        entries.append(
            {
                "table_name": name,
                "row_id": row_id,
                "column": column,
                "plain_sha256": _sha(text),
                "sealed": value,
            }
        )
        opened += 1
    for row_id, column, value in list(_sealed_history(conn, [study_id])):
        if sealed_key_id(value) != key_id:
            continue
        text = open_text(private_key, value)
        side, _dot, key = column.partition(".")
        current = conn.execute(select(_AUDIT.c[side]).where(_AUDIT.c.id == row_id)).scalar()
        new = {**current, key: text} if key and isinstance(current, dict) else text
        conn.execute(_AUDIT.update().where(_AUDIT.c.id == row_id).values({side: new}))
        entries.append(
            {
                "table_name": HISTORY,
                "row_id": row_id,
                "column": column,
                "plain_sha256": _sha(text),
                "sealed": value,
            }
        )
        opened += 1
    remember(conn, entries)
    return opened
