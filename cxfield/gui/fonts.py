"""The fonts shipped in ``resources/fonts`` for the screens, not only for the PDFs.

Participants' names and quotes come in any script (accented Latin, Vietnamese, Arabic,
Chinese ...).  A laptop without a CJK font would draw Chinese quotes as empty boxes; once the
bundled DejaVu Sans and Droid Sans Fallback are in Qt's font database, Qt falls back to them
per character, as it does for any installed font."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase

from cxfield.resources import resource_path

_registered: list[str] = []


def register_bundled_fonts() -> list[str]:
    """Add the bundled TTFs to the application's fonts (once); return their family names."""
    if not _registered:
        for path in sorted(resource_path("fonts").glob("*.ttf")):
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id >= 0:  # a missing or broken file only costs that script's glyphs
                _registered.extend(QFontDatabase.applicationFontFamilies(font_id))
    return sorted(set(_registered))
