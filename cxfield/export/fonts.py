"""Embedded Unicode fonts and per-character font fallback.

DejaVu Sans covers Latin (accents, Vietnamese), Greek, Cyrillic and Arabic; Droid Sans
Fallback covers Chinese, Japanese and Korean; Noto Emoji (monochrome outlines: reportlab
cannot embed colour bitmap emoji) covers emoji in names, notes and quotes.  All ship in
``resources/fonts`` so a PDF looks the same on every laptop.  reportlab keeps registered
fonts in a process-wide table; :func:`register_fonts` fills it on first use (never at
import) and is idempotent."""

from __future__ import annotations

import threading
from functools import lru_cache

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from cxfield.resources import resource_path

REGULAR = "CxSans"
BOLD = "CxSans-Bold"
ITALIC = "CxSans-Oblique"
CJK = "CxCJK"
EMOJI = "CxEmoji"

_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    CJK: "DroidSansFallbackFull.ttf",
    EMOJI: "NotoEmoji-Regular.ttf",
}
_lock = threading.Lock()


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with characters beyond U+FFFF (emoji) written as UTF-16
    surrogate pairs as the PDF format wants: reportlab writes ``<1F624>``, which readers
    take for another character, so copying, searching and screen readers got "ὢ" for 😤."""
    lines = str(_reportlab_cmap(fontname, subset)).split("\n")
    wide = {
        f"<{index:02X}> <{code:04X}>": f"<{index:02X}> <{_utf16(code)}>"
        for index, code in enumerate(subset)
        if code > 0xFFFF
    }
    return "\n".join(wide.get(line, line) for line in lines)


def _utf16(code: int) -> str:
    code -= 0x10000
    return f"{0xD800 + (code >> 10):04X}{0xDC00 + (code & 0x3FF):04X}"


_reportlab_cmap = ttfonts.makeToUnicodeCMap


def register_fonts() -> None:
    """Register the embedded fonts with reportlab (safe to call from any thread, repeatedly)."""
    with _lock:
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # looked up by name when a PDF is saved
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

    The oblique face has no Arabic and no face here has CJK or emoji, so those fall back to
    the regular face, then to the CJK face, then to the emoji face (last, so that symbols
    DejaVu Sans has, such as ⚠ or ☕, keep the text's look)."""
    return tuple(dict.fromkeys((font, REGULAR, CJK, EMOJI)))


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
