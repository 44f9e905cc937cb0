"""cxfield's Presidio recognizers for what Presidio lacks (see :mod:`.patterns`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from cxfield.privacy import patterns
from cxfield.privacy.kinds import Kind

#: how far before a number its context word may be ("my social is ...")
CONTEXT_CHARS = 40


def _entity(kind: Kind) -> str:
    return kind.name


class _Recognizer(EntityRecognizer):
    ENTITIES: tuple[Kind, ...] = ()

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entities=[_entity(k) for k in self.ENTITIES],
            supported_language=language,
            name=type(self).__name__,
        )
        self.label = type(self).__name__

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        wanted = set(entities or [])
        return [
            RecognizerResult(
                entity_type=_entity(kind),
                start=start,
                end=end,
                score=score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, kind, score in self.find(text)
            if not wanted or _entity(kind) in wanted
        ]

    def find(self, text: str) -> Iterator[tuple[int, int, Kind, float]]:
        raise NotImplementedError


def _context_before(text: str, start: int, pattern: Any) -> bool:
    return bool(pattern.search(text, max(0, start - CONTEXT_CHARS), start))


class RuleRecognizer(_Recognizer):
    """Emails (written and spoken), street addresses, dates of birth, ZIP codes."""

    ENTITIES = (Kind.EMAIL, Kind.ADDRESS, Kind.DOB, Kind.ZIP)

    def find(self, text: str) -> Iterator[tuple[int, int, Kind, float]]:
        for rule in patterns.FIXED_RULES:
            for match in rule.pattern.finditer(text):
                yield match.start("pii"), match.end("pii"), rule.kind, rule.score


class SsnRecognizer(_Recognizer):
    """Written SSNs (``123-45-6789``, ``123 45 6789``; nine bare digits only with context),
    checked against the numbers the SSA never issues."""

    ENTITIES = (Kind.SSN,)

    def find(self, text: str) -> Iterator[tuple[int, int, Kind, float]]:
        for match in patterns.SSN.finditer(text):
            value = match.group("pii")
            digits = "".join(c for c in value if c.isdigit())
            if not patterns.valid_ssn(digits):
                continue
            context = _context_before(text, match.start(), patterns.SSN_CONTEXT)
            if len(value) == 9 and not context:
                continue  # nine bare digits: a case number as often as an SSN
            yield match.start("pii"), match.end("pii"), Kind.SSN, 0.95 if context else 0.85


class SpokenNumberRecognizer(_Recognizer):
    """Numbers said digit by digit: nine digits an SSN, seven, ten (or eleven after a 1)
    a phone number, five after "zip code" a ZIP."""

    ENTITIES = (Kind.SSN, Kind.PHONE, Kind.ZIP)

    def find(self, text: str) -> Iterator[tuple[int, int, Kind, float]]:
        for match in patterns.SPOKEN_NUMBER.finditer(text):
            digits = patterns.spoken_digits(match.group("pii"))
            start, end = match.start("pii"), match.end("pii")
            if len(digits) == 9 and patterns.valid_ssn(digits):
                context = _context_before(text, start, patterns.SSN_CONTEXT)
                yield start, end, Kind.SSN, 0.9 if context else 0.6
            elif len(digits) in (7, 10) or (len(digits) == 11 and digits[0] == "1"):
                context = _context_before(text, start, patterns.PHONE_CONTEXT)
                yield start, end, Kind.PHONE, 0.9 if context else 0.7
            elif len(digits) == 5 and _context_before(text, start, patterns.ZIP_CONTEXT_WORD):
                yield start, end, Kind.ZIP, 0.85


class TriggerNameRecognizer(_Recognizer):
    """A name after "my name is", "me llamo", "my daughter's name is" ..."""

    ENTITIES = (Kind.NAME,)

    def find(self, text: str) -> Iterator[tuple[int, int, Kind, float]]:
        for match in patterns.TRIGGER_NAME.finditer(text):
            name = patterns.trim_name(match.group("pii"))
            if name:
                start = match.start("pii")
                yield start, start + len(name), Kind.NAME, 0.8


def cxfield_recognizers(language: str) -> list[Any]:
    return [
        RuleRecognizer(language),
        SsnRecognizer(language),
        SpokenNumberRecognizer(language),
        TriggerNameRecognizer(language),
    ]
