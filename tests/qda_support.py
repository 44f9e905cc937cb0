"""Reading a REFI-QDA export back: schema validation with lxml and the checks the schema
cannot make (references resolve, GUIDs unique, internal files present, positions inside
their text)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from tests.conftest import FIXTURES

SCHEMAS = FIXTURES / "refi-qda"
PROJECT = "urn:QDA-XML:project:1.0"
CODEBOOK = "urn:QDA-XML:codebook:1.0"
NS = {"q": PROJECT}
INTERNAL = re.compile(r"^internal://([0-9a-f-]{36}\.[a-z0-9]+)$")
#: reference attribute -> the elements it may point at
TARGETS = {
    "CodeRef": {"Code"},
    "NoteRef": {"Note"},
    "SourceRef": {"TextSource", "AudioSource", "PictureSource", "PDFSource", "VideoSource"},
    "VariableRef": {"Variable"},
}


@cache
def schema(name: str) -> Any:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def validate(document: bytes, name: str) -> None:
    """Assert ``document`` is valid against the official schema ``name``."""
    checker = schema(name)
    root = etree.fromstring(document)
    assert checker.validate(root), "\n".join(str(e) for e in checker.error_log)


def local(element: Any) -> str:
    return str(etree.QName(element).localname)


@dataclass
class QdpxExport:
    names: list[str]
    files: dict[str, bytes]
    root: Any
    by_guid: dict[str, Any] = field(default_factory=dict)

    def text_of(self, element: Any) -> str:
        """The plain text of a TextSource or Transcript (file inside or content)."""
        path = element.get("plainTextPath")
        if path is not None:
            match = INTERNAL.match(path)
            assert match, path
            return self.files[f"sources/{match.group(1)}"].decode("utf-8")
        content = element.find("q:PlainTextContent", NS)
        return "" if content is None else str(content.text or "")

    def all(self, tag: str) -> list[Any]:
        return list(self.root.iter(f"{{{PROJECT}}}{tag}"))

    def codes_of(self, selection: Any) -> set[str]:
        """Names of the codes a selection is coded with."""
        return {
            self.by_guid[ref.get("targetGUID")].get("name")
            for ref in selection.iterfind("q:Coding/q:CodeRef", NS)
        }

    def selection_text(self, selection: Any) -> str:
        """The text a PlainTextSelection or TranscriptSelection covers."""
        if local(selection) == "PlainTextSelection":
            text = self.text_of(selection.getparent())
            return text[int(selection.get("startPosition")) : int(selection.get("endPosition"))]
        transcript = selection.getparent()
        start = int(self.by_guid[selection.get("fromSyncPoint")].get("position"))
        end = int(self.by_guid[selection.get("toSyncPoint")].get("position"))
        return self.text_of(transcript)[start:end]


def read_qdpx(path: Path) -> QdpxExport:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        files = {name: archive.read(name) for name in names}
    root = etree.fromstring(files["project.qde"])
    export = QdpxExport(names, files, root)
    for element in root.iter():
        if element.get("guid") is not None:
            export.by_guid[element.get("guid")] = element
    return export


def check_qdpx(export: QdpxExport) -> None:
    """Everything the schema cannot check."""
    validate(export.files["project.qde"], "Project.xsd")
    # the archive: project.qde at the root and a flat, lower-case sources/ folder
    assert "project.qde" in export.names
    for name in export.names:
        assert name == "project.qde" or re.fullmatch(r"sources/[0-9a-f-]{36}\.[a-z0-9]+", name)
    # GUIDs unique
    guids = [e.get("guid") for e in export.root.iter() if e.get("guid") is not None]
    assert len(guids) == len(set(guids)), "duplicate GUIDs"
    # every reference resolves, to the right kind of element; names are one line
    for element in export.root.iter():
        assert "\n" not in element.get("name", ""), element.get("name")
        kind = local(element)
        if kind in TARGETS:
            target = export.by_guid.get(element.get("targetGUID"))
            assert target is not None, f"{kind} {element.get('targetGUID')} points at nothing"
            assert local(target) in TARGETS[kind], f"{kind} points at a {local(target)}"
        for attribute in ("creatingUser", "modifyingUser", "creatingUserGUID"):
            user = element.get(attribute)
            if user is not None:
                assert local(export.by_guid[user]) == "User"
        for attribute in ("fromSyncPoint", "toSyncPoint"):
            point = element.get(attribute)
            if point is not None:
                target = export.by_guid[point]
                assert local(target) == "SyncPoint" and target.getparent() is element.getparent()
    # every internal file is in the zip, and the zip holds nothing else
    referenced = set()
    for element in export.root.iter():
        for attribute in ("path", "plainTextPath", "richTextPath"):
            value = element.get(attribute)
            if value is not None:
                match = INTERNAL.match(value)
                assert match, f"{attribute}={value} is not an internal:// path"
                name = f"sources/{match.group(1)}"
                assert name in export.files, f"{name} is not in the archive"
                referenced.add(name)
    assert referenced == set(export.names) - {"project.qde"}
    _check_positions(export)


def _check_positions(export: QdpxExport) -> None:
    for source in export.all("TextSource"):
        length = len(export.text_of(source))
        for sel in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert 0 <= start < end <= length, (start, end, length)
    for transcript in export.all("Transcript"):
        length = len(export.text_of(transcript))
        points = transcript.findall("q:SyncPoint", NS)
        positions = [int(p.get("position")) for p in points]
        times = [int(p.get("timeStamp")) for p in points]
        assert positions == sorted(positions) and all(0 <= p <= length for p in positions)
        assert times == sorted(times) and all(t >= 0 for t in times)
        order = {p.get("guid"): i for i, p in enumerate(points)}
        for sel in transcript.iterfind("q:TranscriptSelection", NS):
            assert order[sel.get("fromSyncPoint")] < order[sel.get("toSyncPoint")]
    for sel in export.all("AudioSelection"):
        assert 0 <= int(sel.get("begin")) < int(sel.get("end"))
