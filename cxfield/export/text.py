"""Text that renders in any language: font runs, Arabic shaping and right-to-left order.

reportlab lays out text left to right and does not shape Arabic by itself (its experimental
RTL support needs ``rlbidi`` from reportlab's private index).  So Arabic is shaped with
``arabic-reshaper`` (contextual letter forms) and put in visual order with ``python-bidi``.
The Unicode bidi algorithm must run *after* line breaking, line by line, or a wrapped
sentence would read from its last line; :class:`UParagraph` therefore breaks right-to-left
text into lines itself, at the width it is given, and reorders each line."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape

import arabic_reshaper
from bidi import get_display
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from cxfield.export.fonts import runs, text_width

_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_STRONG = re.compile("[A-Za-z\u00c0-\u024f\u0370-\u058f\u0590-\u08ff\u3040-\u9fff\uac00-\ud7af]")


def has_rtl(text: str) -> bool:
    return _RTL.search(text) is not None


def base_direction(text: str) -> str:
    """'R' when the first strongly directional character is right-to-left, else 'L'."""
    match = _STRONG.search(text)
    return "R" if match is not None and _RTL.match(match.group()) else "L"


def markup(text: str, font: str) -> str:
    """Paragraph markup for plain ``text``: escaped, one ``<font>`` per fallback run,
    newlines as line breaks."""
    lines = []
    for line in text.split("\n"):
        lines.append(
            "".join(f'<font name="{name}">{escape(part)}</font>' for name, part in runs(line, font))
        )
    return "<br/>".join(lines)


def wrap_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking of logical-order text at spaces (long words broken anywhere)."""
    lines: list[str] = []
    for hard in text.split("\n"):
        current = ""
        for word in hard.split(" "):
            candidate = f"{current} {word}" if current else word
            if not current or text_width(candidate, font, size) <= width:
                current = candidate
                while text_width(current, font, size) > width and len(current) > 1:
                    cut = _fit(current, font, size, width)
                    lines.append(current[:cut])
                    current = current[cut:]
                continue
            lines.append(current)
            current = word
            while text_width(current, font, size) > width and len(current) > 1:
                cut = _fit(current, font, size, width)
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current)
    return lines


def _fit(text: str, font: str, size: float, width: float) -> int:
    cut = 1
    while cut < len(text) and text_width(text[: cut + 1], font, size) <= width:
        cut += 1
    return cut


def visual_lines(text: str, font: str, size: float, width: float) -> tuple[list[str], str]:
    """Shaped lines in display order and the paragraph's base direction ('L' or 'R')."""
    direction = base_direction(text)
    if not has_rtl(text):
        return wrap_lines(text, font, size, width), direction
    shaped = arabic_reshaper.reshape(text)
    return [
        get_display(line, base_dir=direction) for line in wrap_lines(shaped, font, size, width)
    ], direction


def visual(text: str) -> str:
    """One line of text in display order (for chart labels and single-line cells)."""
    if not has_rtl(text):
        return text
    return str(get_display(arabic_reshaper.reshape(text), base_dir=base_direction(text)))


class UParagraph(Paragraph):  # type: ignore[misc]  # reportlab is untyped
    """A Paragraph of plain text in any script (font fallback; Arabic shaped, RTL-ordered).

    Text without right-to-left characters is handed to reportlab's own line breaking;
    text with them is broken into lines here, at the width the layout offers."""

    def __init__(
        self,
        text: str | None,
        style: ParagraphStyle,
        bulletText: str | None = None,  # noqa: N803 - reportlab's signature (used by split)
        frags: Any = None,
        **kwargs: Any,
    ) -> None:
        self._source = None if frags is not None or text is None else text
        self._rtl = self._source is not None and has_rtl(self._source)
        self._laid_out_for: float | None = None
        if self._rtl:
            assert self._source is not None
            align = TA_RIGHT if base_direction(self._source) == "R" else TA_LEFT
            style = ParagraphStyle(f"{style.name}-bidi", parent=style, alignment=align)
            text = ""
        elif self._source is not None:
            text = markup(self._source, style.fontName)
        super().__init__(text, style, bulletText=bulletText, frags=frags, **kwargs)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        if self._rtl and self._laid_out_for != availWidth:
            assert self._source is not None
            style = self.style
            width = availWidth - style.leftIndent - style.rightIndent - 0.5
            lines, _ = visual_lines(self._source, style.fontName, style.fontSize, width)
            body = "<br/>".join(markup(line, style.fontName) for line in lines)
            Paragraph.__init__(self, body, style)
            self._laid_out_for = availWidth
        width, height = super().wrap(availWidth, availHeight)
        return float(width), float(height)
