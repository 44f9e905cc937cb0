"""A review comment made on the hub itself (``POST /v1/sessions/{id}/review``, from a page or
a script) is checked for personal details, as a laptop checks its comments before they
leave it (cxfield.privacy.texts): the hub has no person to ask which candidate to redact, so
a comment that holds any is refused in one line naming what was found (HTTP 422), and
nothing changes.  The detectors (the ``privacy`` extra, no model) are built once per hub
process, when the first comment comes; a hub installed without them accepts comments as
before and says so in its log once."""

from __future__ import annotations

import logging
import threading
from typing import Any

from cxfield.privacy.settings import DEFAULT_THRESHOLD

log = logging.getLogger("cxfield.hub")
_lock = threading.Lock()
_detector: list[Any] = []  # [Detector] once built, [None] when the extra is missing


def _get() -> Any:
    with _lock:
        if not _detector:
            from cxfield.privacy.detect import Detector, DetectorsMissing

            try:
                _detector.append(Detector())
            except DetectorsMissing as exc:
                log.warning("review comments are not checked for personal details: %s", exc)
                _detector.append(None)
        return _detector[0]


def personal_details(comment: str) -> list[str]:
    """The kinds of personal detail found in ``comment`` (``[PHONE]``, ``[SSN]``…), in the
    order they appear; empty when none (or no detectors on this hub)."""
    if not comment.strip():
        return []
    detector = _get()
    if detector is None:
        return []
    kinds: list[str] = []
    for span in detector.scan(comment):
        if span.score >= DEFAULT_THRESHOLD and span.kind.placeholder not in kinds:
            kinds.append(span.kind.placeholder)
    return kinds


def refusal(kinds: list[str]) -> str:
    return (
        f"The comment holds what looks like personal details ({', '.join(kinds)}): take them "
        "out and send it again. Nothing changed."
    )
