"""A study's redaction settings (``study.redaction``, synced with the study)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxfield.privacy.detect import check_case_pattern

#: detector candidates at or above this score are accepted by ``redact apply``
DEFAULT_THRESHOLD = 0.5
MAX_WORDS = 500


@dataclass(frozen=True)
class StudyRedaction:
    #: "review redactions before sync and export": on by default
    review: bool = True
    threshold: float = DEFAULT_THRESHOLD
    case_patterns: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "review": self.review,
            "threshold": self.threshold,
            "case_patterns": list(self.case_patterns),
            "words": list(self.words),
        }


def study_redaction(value: Any) -> StudyRedaction:
    """The settings stored on a study; anything missing or malformed takes its default."""
    data = value if isinstance(value, dict) else {}
    threshold = data.get("threshold", DEFAULT_THRESHOLD)
    patterns = [p for p in data.get("case_patterns") or [] if isinstance(p, str)]
    words = [w for w in data.get("words") or [] if isinstance(w, str) and w.strip()]
    return StudyRedaction(
        review=data.get("review", True) is not False,
        threshold=float(threshold) if isinstance(threshold, int | float) else DEFAULT_THRESHOLD,
        case_patterns=tuple(p for p in patterns if check_case_pattern(p) is None),
        words=tuple(words[:MAX_WORDS]),
    )


def checked(
    current: StudyRedaction,
    *,
    review: bool | None = None,
    threshold: float | None = None,
    case_patterns: list[str] | None = None,
    words: list[str] | None = None,
) -> StudyRedaction:
    """New settings from a person's input; ValueError (one line) when something is wrong."""
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError("The threshold must be between 0 and 1.")
    for pattern in case_patterns or []:
        problem = check_case_pattern(pattern)
        if problem:
            raise ValueError(problem)
    if words is not None and len(words) > MAX_WORDS:
        raise ValueError(f"A study word list holds at most {MAX_WORDS} words.")
    return StudyRedaction(
        review=current.review if review is None else review,
        threshold=current.threshold if threshold is None else threshold,
        case_patterns=current.case_patterns if case_patterns is None else tuple(case_patterns),
        words=current.words
        if words is None
        else tuple(dict.fromkeys(w.strip() for w in words if w.strip())),
    )
