"""Writing QDA-XML elements with the standard library's ElementTree."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"

# Characters XML 1.0 cannot carry at all (most C0 controls, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str | None) -> str:
    """Text that XML 1.0 can carry: forbidden control characters are dropped (before any
    position is counted, so positions stay true) and line ends are ``\\n``."""
    if not text:
        return ""
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def when(value: datetime | None) -> str | None:
    """An ``xsd:dateTime`` in UTC (``2026-03-01T09:15:00Z``)."""
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def element(ns: str, tag: str, **attrs: str | None) -> ET.Element:
    """The root element, with ``ns`` as the default namespace of the whole document.

    (Written as an ``xmlns`` attribute with plain child names: ElementTree's own
    ``default_namespace`` refuses the schema's unqualified attributes.)"""
    return ET.Element(tag, {"xmlns": ns} | _attributes(attrs))


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str | None) -> ET.Element:
    """A child of ``parent``; attributes given as None are left out."""
    child = ET.SubElement(parent, tag, _attributes(attrs))
    if text is not None:
        child.text = clean(text)
    return child


def _attributes(attrs: dict[str, str | None]) -> dict[str, str]:
    # Names come from what people typed (a note's first words): clean them like text.
    return {k: clean(v) for k, v in attrs.items() if v is not None}


def to_bytes(root: ET.Element) -> bytes:
    """The document as UTF-8 with an XML declaration."""
    ET.indent(root, space=" ")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
