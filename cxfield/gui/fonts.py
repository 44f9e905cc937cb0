"""The fonts shipped in ``resources/fonts`` for the screens, not only for the PDFs.

Participants' names and quotes come in any script (accented Latin, Vietnamese, Arabic,
Chinese ...) and with emoji.  A laptop without a CJK or an emoji font would draw them as
empty boxes; once the bundled DejaVu Sans, Droid Sans Fallback and Noto Emoji are in Qt's
font database, Qt falls back to them per character, as it does for any installed font, and
the screens show the same glyphs as the PDFs."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase

from cxfield.resources import resource_path

#: the bundled monochrome emoji face (resources/fonts/NotoEmoji-Regular.ttf)
EMOJI_FAMILY = "Noto Emoji"

_registered: list[str] = []


def register_bundled_fonts() -> list[str]:
    """Add the bundled TTFs to the application's fonts (once); return their family names."""
    if not _registered:
        for path in sorted(resource_path("fonts").glob("*.ttf")):
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id >= 0:  # a missing or broken file only costs that script's glyphs
                _registered.extend(QFontDatabase.applicationFontFamilies(font_id))
        _use_bundled_emoji_if_none()
    return sorted(set(_registered))


def _use_bundled_emoji_if_none() -> None:
    """Emoji sequences (👩‍⚕️, flags) are drawn with the system's emoji font; a laptop
    without one gets the bundled face, and a system colour emoji font is kept."""
    if EMOJI_FAMILY not in _registered:
        return
    system = [
        family
        for family in QFontDatabase.families()
        if "emoji" in family.lower() and family not in _registered
    ]
    if not system and EMOJI_FAMILY not in QFontDatabase.applicationEmojiFontFamilies():
        QFontDatabase.addApplicationEmojiFontFamily(EMOJI_FAMILY)
