"""The detectors: Presidio's analyzer on blank spaCy pipelines (English and Spanish), with
Presidio's phone recognizer (``phonenumbers``), its deny-list recognizer for the names a
researcher lists and the study's word list, its pattern recognizer for per-study case
numbers, and cxfield's recognizers for what Presidio lacks (:mod:`.patterns`).

No model is loaded or fetched: ``spacy.blank`` only tokenises, and Presidio's email and
URL recognizers (which look up the public-suffix list on the internet through
``tldextract``) are not used."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cxfield.privacy import patterns
from cxfield.privacy.kinds import Kind, Span, merge_spans

LANGUAGES = ("en", "es")
PHONE_REGIONS = ("US", "MX", "ES")
_EXTENSION = re.compile(r"\s*(?:x|ext\.?|extension|extensi[oó]n)\s*\d{1,6}\b", re.IGNORECASE)
_SPANISH = frozenset(
    [
        "el",
        "la",
        "los",
        "las",
        "que",
        "de",
        "y",
        "en",
        "un",
        "una",
        "por",
        "para",
        "con",
        "es",
        "mi",
        "yo",
        "pero",
        "muy",
    ]
)
_ENGLISH = frozenset(
    [
        "the",
        "and",
        "of",
        "to",
        "in",
        "is",
        "it",
        "you",
        "that",
        "my",
        "was",
        "for",
        "on",
        "with",
        "but",
        "i",
    ]
)


class DetectorsMissing(RuntimeError):
    """The ``privacy`` extra (presidio-analyzer, spacy, phonenumbers) is not installed."""


@dataclass(frozen=True)
class ScanContext:
    """What a scan knows beyond the text: the session's listed names (laptop-only), the
    study's word list and case-number patterns."""

    names: Sequence[str] = ()
    words: Sequence[str] = ()
    case_patterns: Sequence[str] = ()
    language: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def guess_language(text: str) -> str:
    words = re.findall(r"[^\W\d_]+", text.lower())
    spanish = sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    return "es" if spanish > english else "en"


def fold(text: str) -> str:
    """Without accents (``María`` → ``Maria``): Whisper and typists drop them."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_variants(names: Iterable[str]) -> list[str]:
    """Every listed name, its parts (first name, surname) and their unaccented spellings."""
    out: set[str] = set()
    for name in names:
        cleaned = " ".join(name.split())
        if len(cleaned) < 2:
            continue
        pieces = [cleaned, *[p for p in cleaned.split() if len(p) >= 3]]
        for piece in pieces:
            if piece.lower() in patterns.NAME_STOPWORDS:
                continue
            out.add(piece)
            out.add(fold(piece))
    return sorted(out, key=len, reverse=True)


def check_case_pattern(pattern: str) -> str | None:
    """Why a per-study case-number pattern cannot be used, or None."""
    if not pattern or len(pattern) > 200:
        return "A case-number pattern must be 1–200 characters."
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"Case-number pattern {pattern!r} is not a valid regular expression: {exc}."
    if compiled.match(""):
        return f"Case-number pattern {pattern!r} matches empty text."
    return None


class Detector:
    """One analyzer, built once (about a second); ``scan`` is then a few milliseconds."""

    def __init__(self) -> None:
        self._analyzer = _build_analyzer()

    def scan(self, text: str, context: ScanContext | None = None) -> list[Span]:
        context = context or ScanContext()
        if not text.strip():
            return []
        language = context.language or guess_language(text)
        if language not in LANGUAGES:
            language = "en"
        results = self._analyzer.analyze(
            text=text,
            language=language,
            ad_hoc_recognizers=_ad_hoc(context, language),
            score_threshold=0.0,
        )
        spans = []
        for result in results:
            kind = _KINDS.get(result.entity_type)
            if kind is None:
                continue
            end = result.end
            score = float(result.score)
            if kind is Kind.PHONE:
                extension = _EXTENSION.match(text, end)
                end = extension.end() if extension else end
                digits = sum(c.isdigit() for c in text[result.start : result.end])
                # Presidio scores every possible number 0.4; a full national number is likely
                score = max(score, 0.7) if digits >= 10 else score
            source = (result.recognition_metadata or {}).get("recognizer_name", "pattern")
            spans.append(Span(result.start, end, kind, score, str(source)))
        return merge_spans(spans)


_KINDS = {
    "SSN": Kind.SSN,
    "PHONE": Kind.PHONE,
    "PHONE_NUMBER": Kind.PHONE,
    "EMAIL": Kind.EMAIL,
    "ADDRESS": Kind.ADDRESS,
    "DOB": Kind.DOB,
    "ZIP": Kind.ZIP,
    "CASE": Kind.CASE,
    "NAME": Kind.NAME,
}


def _ad_hoc(context: ScanContext, language: str) -> list[Any]:
    from presidio_analyzer import Pattern, PatternRecognizer

    recognizers: list[Any] = []
    names = name_variants([*context.names, *context.words])
    if names:
        recognizers.append(
            PatternRecognizer(
                supported_entity="NAME",
                deny_list=names,
                deny_list_score=1.0,
                supported_language=language,
                name="listed",
            )
        )
    cases = [p for p in context.case_patterns if check_case_pattern(p) is None]
    if cases:
        recognizers.append(
            PatternRecognizer(
                supported_entity="CASE",
                patterns=[Pattern(f"case {i}", p, 0.95) for i, p in enumerate(cases)],
                supported_language=language,
                name="case",
            )
        )
    return recognizers


@lru_cache(maxsize=1)
def _build_analyzer() -> Any:
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import PhoneRecognizer
    except ImportError as exc:
        raise DetectorsMissing(
            "The redaction detectors are not installed (pip install 'cxfield[privacy]')."
        ) from exc
    from cxfield.privacy.recognizers import cxfield_recognizers

    class BlankSpacy(SpacyNlpEngine):
        """Tokenisation only: ``spacy.blank`` needs no model package and no download."""

        def __init__(self) -> None:
            super().__init__(
                models=[{"lang_code": lang, "model_name": f"blank:{lang}"} for lang in LANGUAGES]
            )

        def load(self) -> None:
            self.nlp = {lang: spacy.blank(lang) for lang in LANGUAGES}  # type: ignore[assignment]

    engine = BlankSpacy()
    engine.load()
    registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
    for language in LANGUAGES:
        registry.add_recognizer(
            PhoneRecognizer(
                supported_language=language,
                supported_regions=PHONE_REGIONS,
                leniency=0,
                supported_entity="PHONE",
                context=["phone", "number", "call", "cell", "teléfono", "número", "celular"],
            )
        )
        for recognizer in cxfield_recognizers(language):
            registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=list(LANGUAGES))
