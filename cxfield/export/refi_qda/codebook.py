"""The study's codebook: its note tags and its journey map (stages with their steps).

Tags are the fixed vocabulary (pain point, quote, idea, workaround, barrier, harm, equity)
followed by any other tag found on the exported notes.  Steps are codable and nested under
their stage, so an analyst sees the journey's order in the code tree."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from cxfield.domain.vocabulary import NoteTag
from cxfield.export.data import StudyRows
from cxfield.export.refi_qda.guids import guid
from cxfield.export.refi_qda.qdaxml import CODEBOOK_NS, element, sub, to_bytes

TAG_COLOURS: dict[str, str] = {
    NoteTag.PAIN_POINT: "#C62828",
    NoteTag.QUOTE: "#1565C0",
    NoteTag.IDEA: "#2E7D32",
    NoteTag.WORKAROUND: "#EF6C00",
    NoteTag.BARRIER: "#6A1B9A",
    NoteTag.HARM: "#4E342E",
    NoteTag.EQUITY: "#00838F",
}
CUSTOM_COLOUR = "#757575"


def tag_label(tag: str) -> str:
    """``pain_point`` → ``pain point``."""
    return tag.replace("_", " ").strip()


@dataclass(frozen=True)
class Code:
    guid: str
    name: str
    codable: bool
    description: str = ""
    colour: str | None = None
    children: tuple[Code, ...] = ()


@dataclass
class Codebook:
    codes: list[Code]
    #: tag (as stored on notes) → its code's GUID
    tags: dict[str, str] = field(default_factory=dict)
    #: step id → its code's GUID
    steps: dict[str, str] = field(default_factory=dict)

    def all_guids(self) -> list[str]:
        found: list[str] = []

        def walk(codes: Iterable[Code]) -> None:
            for code in codes:
                found.append(code.guid)
                walk(code.children)

        walk(self.codes)
        return found


def used_tags(rows: StudyRows) -> list[str]:
    """The fixed tags, then every other tag on the exported notes (sorted)."""
    fixed = [t.value for t in NoteTag]
    seen = {t.strip() for notes in rows.notes.values() for n in notes for t in n.tags}
    return fixed + sorted(t for t in seen if t and t not in fixed)


def build_codebook(rows: StudyRows) -> Codebook:
    study = rows.study.id
    book = Codebook([])
    tag_codes = []
    for tag in used_tags(rows):
        code_guid = guid("tag", study, tag)
        book.tags[tag] = code_guid
        fixed = tag in TAG_COLOURS
        tag_codes.append(
            Code(
                code_guid,
                tag_label(tag),
                True,
                "" if fixed else "A tag typed on notes (not one of cxfield's own).",
                TAG_COLOURS.get(tag, CUSTOM_COLOUR),
            )
        )
    stage_codes = []
    for view in rows.journey.stages:
        step_codes = []
        for step in view.steps:
            code_guid = guid("step", step.id)
            book.steps[step.id] = code_guid
            about = f"{step.lane.label}, {step.channel.label.lower()}."
            step_codes.append(
                Code(code_guid, step.name, True, " ".join(filter(None, [about, step.description])))
            )
        stage_codes.append(
            Code(
                guid("stage", view.stage.id),
                view.stage.name,
                False,
                view.stage.description,
                children=tuple(step_codes),
            )
        )
    book.codes = [
        Code(
            guid("tags", study),
            "Tags",
            False,
            "Tags of notes and quotes.",
            children=tuple(tag_codes),
        ),
        Code(
            guid("journey", study),
            f"Journey: {rows.study.name}",
            False,
            "Stages of the journey map with their steps.",
            children=tuple(stage_codes),
        ),
    ]
    return book


def add_codes(parent: ET.Element, codes: Iterable[Code]) -> None:
    """``Code`` elements (Description first, then child codes, as both schemas order them)."""
    for code in codes:
        node = sub(
            parent,
            "Code",
            guid=code.guid,
            name=code.name,
            isCodable="true" if code.codable else "false",
            color=code.colour,
        )
        if code.description:
            sub(node, "Description", code.description)
        add_codes(node, code.children)


def codebook_document(book: Codebook, origin: str) -> bytes:
    """The codebook alone, as a ``.qdc`` file (``urn:QDA-XML:codebook:1.0``)."""
    root = element(CODEBOOK_NS, "CodeBook", origin=origin)
    add_codes(sub(root, "Codes"), book.codes)
    return to_bytes(root)
