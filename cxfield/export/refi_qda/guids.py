"""GUIDs for REFI-QDA elements, derived from cxfield's record ids (UUID version 5).

Exporting the same study twice gives the same GUIDs, so an analyst can import an updated
project over the old one and keep the work done on it."""

from __future__ import annotations

import uuid

#: fixed for ever: changing it would give every exported element a new GUID
NAMESPACE = uuid.UUID("7c1f8f6e-5d0b-5b7e-9a44-2f3c6f0d9e21")


def guid(kind: str, *parts: str) -> str:
    """The GUID of the element of ``kind`` made from the record(s) named by ``parts``."""
    return str(uuid.uuid5(NAMESPACE, "/".join((kind, *parts))))
