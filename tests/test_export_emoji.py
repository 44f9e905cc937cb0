"""Emoji in names, notes and quotes print as emoji in PDFs, not as missing-glyph boxes:
the bundled monochrome Noto Emoji joins the per-character font fallback."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

from cxfield.app import AppContext
from cxfield.export import jobs
from cxfield.export.fonts import EMOJI, REGULAR, _glyphs, font_for, register_fonts, runs
from cxfield.services import capture, participants, sites, studies, templates
from tests.export_support import pdf_text

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
#: faces, hands with a skin tone, objects, a ZWJ sequence, a flag, a keycap, symbols
EMOJI_TEXT = "Two hours 😤⏳ then 🎉👍🏽 👩‍⚕️ 🇲🇽 1️⃣ ☕ ✅ 🏥📄🫠"


def test_every_emoji_character_has_a_glyph() -> None:
    register_fonts()
    for font, part in runs(EMOJI_TEXT, REGULAR):
        for char in part:
            assert ord(char) in _glyphs(font), (hex(ord(char)), font)  # never .notdef
    for char in "😤⏳🎉👍🏽🇲🇽🏥📄🫠":
        assert font_for(char, REGULAR) == EMOJI, hex(ord(char))
    assert font_for("☕", REGULAR) == REGULAR  # DejaVu Sans has it: the text keeps its look


def _fonts_in(path: Path) -> str:
    return subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout


def test_pdfs_embed_the_emoji_font(ctx: AppContext, tmp_path: Path) -> None:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    wait = next(s.id for s in studies.get_journey(ctx.db, study.id).steps if s.name == "Wait")
    site = sites.add_site(ctx.db, "Eastside 🏥")
    person = participants.add_participant(ctx.db, study.id)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    session = capture.start_session(
        ctx.db, study.id, participant_id=person.id, site_id=site.id, now=NOW
    )
    capture.save_capture(ctx.db, session.id, wait, valence=-2, quote="Two hours 😤⏳")
    capture.add_note(ctx.db, session.id, "Waved the ticket 🎟️ at us", step_id=wait)

    report, summary = tmp_path / "report.pdf", tmp_path / "session.pdf"
    jobs.export_study_pdf(ctx.db, study.id, report, now=NOW)
    jobs.export_session_pdf(ctx.db, session.id, summary, now=NOW)
    for path, words in ((report, ("Two hours 😤⏳", "Eastside 🏥")), (summary, ("🎟️", "😤⏳"))):
        assert "NotoEmoji-Regular" in _fonts_in(path), path.name
        text = pdf_text(path)
        for expected in words:
            assert expected.replace("\ufe0f", "") in text.replace("\ufe0f", ""), expected
