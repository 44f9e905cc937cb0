"""The ``project.qde`` document and the ``.qdpx`` archive around it.

The archive holds ``project.qde`` at its root and a flat, lower-case ``sources/`` folder
(ATLAS.ti rejects an upper-case one) with every internal file named by its GUID:
the sessions' texts and transcripts (UTF-8 ``.txt``) and their audio files, referenced as
``internal://<guid>.<ext>``.  Elements are written in the order ``Project.xsd`` binds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO

from cxfield import __version__
from cxfield.export.data import StudyRows
from cxfield.export.refi_qda.codebook import Codebook, add_codes, build_codebook
from cxfield.export.refi_qda.guids import guid
from cxfield.export.refi_qda.qdaxml import PROJECT_NS, element, sub, to_bytes, when
from cxfield.export.refi_qda.sources import Memo, SessionExport, SessionSources, Source
from cxfield.export.refi_qda.variables import (
    StudyVariables,
    Value,
    Variable,
    case_values,
    study_variables,
    value_element,
)

ORIGIN = f"cxfield {__version__}"
#: zip entries readable by their owner only, like the export itself: research data
_PRIVATE = 0o100600 << 16


def internal(name: str) -> str:
    return f"internal://{name}"


class ProjectWriter:
    """Gathers every session's sources, then writes the document and the archive."""

    def __init__(
        self, rows: StudyRows, data_root: Path, check: Callable[[], None] | None = None
    ) -> None:
        self.rows = rows
        self.book: Codebook = build_codebook(rows)
        self.variables: StudyVariables = study_variables(rows)
        builder = SessionSources(rows, self.book, self.variables, data_root)
        #: each session's export, by session id, in the sessions' order
        self.sessions: dict[str, SessionExport] = {}
        self.messages: list[str] = []
        for index, session in enumerate(rows.sessions):
            if check is not None and index % 100 == 0:
                check()
            built = builder.build(session)
            self.sessions[session.id] = built
            self.messages += built.messages

    # -- the document -----------------------------------------------------------------

    def document(self, exported_at: datetime) -> bytes:
        rows = self.rows
        root = element(
            PROJECT_NS,
            "Project",
            name=rows.study.name,
            origin=ORIGIN,
            creationDateTime=when(exported_at),
            modifiedDateTime=when(exported_at),
        )
        used = {s.researcher_id for s in rows.sessions}
        people = [p for pid, p in rows.researchers.items() if pid in used]
        if people:
            users = sub(root, "Users")
            for person in sorted(people, key=lambda p: p.name.casefold()):
                sub(users, "User", guid=guid("user", person.id), name=person.name, id=person.id)
        add_codes(sub(sub(root, "CodeBook"), "Codes"), self.book.codes)
        declared = self.variables.all()
        if declared:
            node = sub(root, "Variables")
            for var in declared:
                v = sub(node, "Variable", guid=var.guid, name=var.name, typeOfVariable=var.kind)
                if var.description:
                    sub(v, "Description", var.description)
        self._cases(root)
        sources = [src for built in self.sessions.values() for src in built.sources]
        if sources:
            node = sub(root, "Sources")
            for source in sources:
                self._source(node, source)
        memos = [memo for built in self.sessions.values() for memo in built.memos]
        if memos:
            node = sub(root, "Notes")
            for memo in memos:
                _memo(node, memo)
        filters = "; ".join(rows.filters) or "all sessions"
        sub(root, "Description", f"Exported from cxfield ({filters}).")
        return to_bytes(root)

    def _cases(self, root: ET.Element) -> None:
        sources_of: dict[str, list[str]] = {}
        for session in self.rows.sessions:
            if session.participant_id:
                sources_of.setdefault(session.participant_id, []).extend(
                    s.guid for s in self.sessions[session.id].sources
                )
        people = [p for p in self.rows.participants if not p.withdrawn]
        if not people:
            return
        node = sub(root, "Cases")
        for person in people:
            case = sub(node, "Case", guid=guid("case", person.id), name=person.code)
            sub(case, "Description", f"Participant {person.code}")
            for var, value in case_values(self.variables, person):
                _value(case, var, value)
            for source_guid in sources_of.get(person.id, []):
                sub(case, "SourceRef", targetGUID=source_guid)

    def _source(self, parent: ET.Element, src: Source) -> None:
        common = {
            "guid": src.guid,
            "name": src.name,
            "creatingUser": src.user,
            "creationDateTime": when(src.created),
        }
        if src.text is not None:
            node = sub(parent, "TextSource", plainTextPath=internal(f"{src.guid}.txt"), **common)
            sub(node, "Description", src.description)
            for s in src.selections:
                sel = sub(
                    node,
                    "PlainTextSelection",
                    guid=s.guid,
                    name=s.name,
                    startPosition=str(s.start),
                    endPosition=str(s.end),
                    creatingUser=s.user,
                    creationDateTime=when(s.created),
                )
                _codings(sel, s.guid, s.codes, s.user, s.created, s.memos)
        else:
            node = sub(parent, "AudioSource", path=internal(src.audio_name), **common)
            sub(node, "Description", src.description)
            text = src.transcript
            if text is not None:
                tr = sub(
                    node,
                    "Transcript",
                    guid=src.transcript_guid,
                    name=src.name,
                    plainTextPath=internal(f"{src.transcript_guid}.txt"),
                    creatingUser=src.user,
                    creationDateTime=when(src.created),
                )
                for point in text.sync:
                    sub(
                        tr,
                        "SyncPoint",
                        guid=point.guid,
                        timeStamp=str(point.ms),
                        position=str(point.position),
                    )
                for s in src.selections:
                    sel = sub(
                        tr,
                        "TranscriptSelection",
                        guid=s.guid,
                        name=s.name,
                        fromSyncPoint=text.sync[s.start].guid,
                        toSyncPoint=text.sync[s.end].guid,
                        creatingUser=s.user,
                        creationDateTime=when(s.created),
                    )
                    _codings(sel, s.guid, s.codes, s.user, s.created, s.memos)
            else:
                for s in src.selections:
                    sel = sub(
                        node,
                        "AudioSelection",
                        guid=s.guid,
                        name=s.name,
                        begin=str(s.start),
                        end=str(s.end),
                        creatingUser=s.user,
                        creationDateTime=when(s.created),
                    )
                    _codings(sel, s.guid, s.codes, s.user, s.created, s.memos)
        for memo_guid in src.memos:
            sub(node, "NoteRef", targetGUID=memo_guid)
        for var, value in src.values:
            _value(node, var, value)

    # -- the archive ------------------------------------------------------------------

    def write(
        self, handle: IO[bytes], exported_at: datetime, check: Callable[[], None] | None = None
    ) -> None:
        """The ``.qdpx`` zip: every internal file, then ``project.qde``."""
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for built in self.sessions.values():
                if check is not None:
                    check()
                for src in built.sources:
                    if src.text is not None:
                        _put(archive, f"sources/{src.guid}.txt", src.text.encode("utf-8"))
                    if src.audio is not None:
                        _put_file(archive, f"sources/{src.audio_name}", src.audio)
                    if src.transcript is not None:
                        _put(
                            archive,
                            f"sources/{src.transcript_guid}.txt",
                            src.transcript.text.encode("utf-8"),
                        )
            _put(archive, "project.qde", self.document(exported_at))


def _codings(
    parent: ET.Element,
    selection: str,
    codes: list[str],
    user: str | None,
    created: datetime | None,
    memos: list[str],
) -> None:
    for code in codes:
        coding = sub(
            parent,
            "Coding",
            guid=guid("coding", selection, code),
            creatingUser=user,
            creationDateTime=when(created),
        )
        sub(coding, "CodeRef", targetGUID=code)
    for memo in memos:
        sub(parent, "NoteRef", targetGUID=memo)


def _memo(parent: ET.Element, memo: Memo) -> None:
    node = sub(
        parent,
        "Note",
        guid=memo.guid,
        name=memo.name,
        creatingUser=memo.user,
        creationDateTime=when(memo.created),
    )
    sub(node, "PlainTextContent", memo.text)


def _value(parent: ET.Element, var: Variable, value: Value) -> None:
    node = sub(parent, "VariableValue")
    sub(node, "VariableRef", targetGUID=var.guid)
    tag, text = value_element(var.kind, value)
    sub(node, tag, text)


def _entry(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compress
    info.external_attr = _PRIVATE
    return info


def _put(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    archive.writestr(_entry(name, zipfile.ZIP_DEFLATED), data)


def _put_file(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    # Audio is already dense: stored, not deflated (deflate would cost minutes for hours).
    # A recording encrypted at rest goes in as the WAV it holds, decrypted as it is read.
    from cxfield.audio.encrypted import wav_chunks, wav_size

    info = _entry(name, zipfile.ZIP_STORED)
    info.file_size = wav_size(path)  # lets zipfile choose ZIP64 for files over 2 GiB
    with archive.open(info, "w") as dest:
        for chunk in wav_chunks(path):
            dest.write(chunk)
