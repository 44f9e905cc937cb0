"""The kinds of personal detail cxfield redacts, and the placeholder each becomes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    SSN = "ssn"
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    DOB = "dob"
    ZIP = "zip"
    CASE = "case"
    NAME = "name"
    OTHER = "other"

    @property
    def placeholder(self) -> str:
        return f"[{self.name}]"


#: a span of one text: ``text[start:end]`` is the personal detail
@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: Kind
    score: float = 1.0
    #: which detector found it (``listed``, ``trigger``, ``pattern``, ``spoken``, ``manual``)
    source: str = "pattern"

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def parse_kind(value: str) -> Kind:
    """A kind as typed by a person (``ssn``, ``SSN``, ``[SSN]``); ValueError with the list."""
    cleaned = value.strip().strip("[]").lower()
    try:
        return Kind(cleaned)
    except ValueError:
        names = ", ".join(k.value for k in Kind)
        raise ValueError(f"Unknown kind {value!r}; use one of: {names}.") from None


def merge_spans(spans: list[Span]) -> list[Span]:
    """Overlapping spans become one: the longest (then the best scored) names the kind."""
    ordered = sorted(spans, key=lambda s: (s.start, -(s.end - s.start), -s.score))
    merged: list[Span] = []
    for span in ordered:
        if merged and span.overlaps(merged[-1]):
            last = merged[-1]
            keep = (
                last
                if (last.end - last.start, last.score)
                >= (
                    span.end - span.start,
                    span.score,
                )
                else span
            )
            merged[-1] = Span(
                min(last.start, span.start),
                max(last.end, span.end),
                keep.kind,
                max(last.score, span.score),
                keep.source,
            )
        else:
            merged.append(span)
    return merged


def apply_spans(text: str, spans: list[Span]) -> str:
    """The text with every span replaced by its kind's placeholder (spans may overlap)."""
    out: list[str] = []
    cursor = 0
    for span in merge_spans([s for s in spans if 0 <= s.start < s.end <= len(text)]):
        out.append(text[cursor : span.start])
        out.append(span.kind.placeholder)
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)
