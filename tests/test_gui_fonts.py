"""Text in any script renders on screen: the bundled fonts back up the system's."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QFont, QTextLayout  # noqa: E402

from cxfield.gui.fonts import register_bundled_fonts  # noqa: E402

QUOTES = {
    "Chinese": "我等了三个小时，没有人告诉我为什么",
    "Arabic": "لم أكن أعرف أي الوثائق يجب أن أحضرها",
    "Vietnamese": "Tôi đợi rất lâu mà không biết còn bao nhiêu người",
    # a laptop without an emoji font gets the bundled monochrome Noto Emoji (as in PDFs)
    "Emoji": "Two hours 😤⏳ then 🎉👍🏽 👩‍⚕️ 🇲🇽",
}


@pytest.mark.parametrize("script", sorted(QUOTES))
def test_quotes_in_any_script_have_glyphs(qapp: Any, script: str) -> None:
    families = register_bundled_fonts()
    assert "Droid Sans Fallback" in families and "DejaVu Sans" in families
    assert "Noto Emoji" in families
    text = QUOTES[script]
    layout = QTextLayout(text, QFont())
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    runs = layout.glyphRuns()
    assert runs
    for run in runs:
        # Every glyph drawn is a real one: glyph 0 is the empty "missing" box, which is what
        # a Chinese quote got from DejaVu Sans before the bundled fonts were registered.
        assert 0 not in run.glyphIndexes(), (script, run.rawFont().familyName())
