"""What a sealed text shows on a laptop that has not opened its study's key.

A supervisor's laptop pulls an encrypted study's texts sealed (``cxsealed:1:…``, see
:mod:`cxfield.privacy.sealing`) and keeps them so until the study key is opened there
(``cxfield keys open``, the Privacy tab's "Open sealed texts…").  Until then the session
window, the review window and every export show :data:`SHOWN` in their place -- never the
ciphertext -- and say how to read them.  The stored values are left as they are: opening the
key later still turns them back into text.  (Light on purpose: windows import it at start.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: how every sealed value begins: ``cxsealed:1:<key id>:<base64 sealed box>``
PREFIX = "cxsealed:1:"
#: what stands in for a sealed text
SHOWN = "(encrypted: open the study key to read)"


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def shown(value: Any) -> Any:
    """``value``, or :data:`SHOWN` where it is sealed."""
    return SHOWN if is_sealed(value) else value


def shown_tree(value: Any) -> tuple[Any, int]:
    """A copy of a JSON-like value (dicts, lists, strings) with every sealed text replaced by
    :data:`SHOWN`, and how many were replaced."""
    if isinstance(value, str):
        return (SHOWN, 1) if is_sealed(value) else (value, 0)
    if isinstance(value, dict):
        count = 0
        out: dict[Any, Any] = {}
        for key, item in value.items():
            out[key], n = shown_tree(item)
            count += n
        return out, count
    if isinstance(value, (list, tuple)):
        items = [shown_tree(item) for item in value]
        return type(value)(item for item, _ in items), sum(n for _, n in items)
    return value, 0


def hide_on(rows: Iterable[Any], columns: Iterable[str]) -> int:
    """Put :data:`SHOWN` in place of each sealed value of ``columns`` on ``rows`` (detached
    objects, never written back); a JSON column (the history's before and after) is walked.
    Returns how many were hidden."""
    names = tuple(columns)
    count = 0
    for row in rows:
        for name in names:
            value = getattr(row, name, None)
            replaced, n = shown_tree(value)
            if n:
                setattr(row, name, replaced)
                count += n
    return count


def how_to_read(count: int, study_id: str) -> str:
    """The one line an export or a window gives when it hid sealed texts."""
    texts = "text is" if count == 1 else "texts are"
    return (
        f"{count} {texts} encrypted and shown as {SHOWN!r}: open the study key on this "
        f"laptop first (Edit study → Privacy → Open sealed texts…, or cxfield keys open "
        f"--study {study_id}) to read them."
    )
