"""Embedded Unicode fonts and per-character font fallback.

DejaVu Sans covers Latin (accents, Vietnamese), Greek, Cyrillic and Arabic; Droid Sans
Fallback covers Chinese, Japanese and Korean.  Both ship in ``resources/fonts`` so a PDF
looks the same on every laptop.  reportlab keeps registered fonts in a process-wide table;
:func:`register_fonts` fills it on first use (never at import) and is idempotent."""

from __future__ import annotations

import threading
from functools import lru_cache

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from cxfield.resources import resource_path

REGULAR = "CxSans"
BOLD = "CxSans-Bold"
ITALIC = "CxSans-Oblique"
CJK = "CxCJK"

_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    CJK: "DroidSansFallbackFull.ttf",
}
_lock = threading.Lock()


def register_fonts() -> None:
    """Register the embedded fonts with reportlab (safe to call from any thread, repeatedly)."""
    with _lock:
        known = set(pdfmetrics.getRegisteredFontNames())
        for name, filename in _FILES.items():
            if name not in known:
                pdfmetrics.registerFont(TTFont(name, str(resource_path("fonts", filename))))
        # So that <b>/<i> inside paragraph markup pick the right faces.
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        addMapping(REGULAR, 0, 1, ITALIC)
        addMapping(REGULAR, 1, 1, BOLD)


@lru_cache(maxsize=8)
def _glyphs(font: str) -> frozenset[int]:
    face = pdfmetrics.getFont(font).face
    return frozenset(face.charToGlyph)


def chain(font: str) -> tuple[str, ...]:
    """The fonts tried in order for a character when text is set in ``font``.

    The oblique face has no Arabic and no face here has CJK, so those fall back to the
    regular face and then to the CJK face."""
    return tuple(dict.fromkeys((font, REGULAR, CJK)))


@lru_cache(maxsize=4096)
def font_for(char: str, font: str) -> str:
    """The first font of ``font``'s fallback chain that has a glyph for ``char``."""
    code = ord(char)
    for candidate in chain(font):
        if code in _glyphs(candidate):
            return candidate
    return font


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """Split ``text`` into (font, substring) runs so that every character has a glyph.

    Spaces and characters the current run's font also has stay in that run, so ordinary
    punctuation between CJK characters does not fragment the text."""
    result: list[tuple[str, str]] = []
    current_font = ""
    start = 0
    for index, char in enumerate(text):
        code = ord(char)
        stays = current_font and (char == " " or code in _glyphs(current_font))
        # ...but go back to the requested face as soon as it has the glyph again.
        if stays and (current_font == font or code not in _glyphs(font)):
            continue
        chosen = font_for(char, font)
        if chosen != current_font:
            if current_font:
                result.append((current_font, text[start:index]))
            current_font, start = chosen, index
    if current_font:
        result.append((current_font, text[start:]))
    return result


def text_width(text: str, font: str, size: float) -> float:
    """Width in points of ``text`` set in ``font`` with fallback."""
    return float(sum(pdfmetrics.stringWidth(part, name, size) for name, part in runs(text, font)))
