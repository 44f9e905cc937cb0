"""Helpers for the export tests: read PDFs back with poppler, recount from the database."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

from sqlmodel import select

from cxfield.app import AppContext
from cxfield.storage.models import Note, Recording, ResearchSession, TranscriptSegment

BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: quotes the demo puts in participants' mouths, in four scripts
SPANISH = "Esperé casi dos horas y nadie me explicó nada."
VIETNAMESE = "Tôi đợi rất lâu mà không biết còn bao nhiêu người."
CHINESE = "他们问了很多问题，我有些听不懂。"
ARABIC = "لم أكن أعرف أي الوثائق يجب أن أحضرها."


def pdf_text(path: Path, *, layout: bool = False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)
    assert match, info.stdout
    return int(match.group(1))


def normal(text: str) -> str:
    """NFKC (Arabic presentation forms -> letters), no bidi marks, single spaces."""
    text = BIDI_MARKS.sub("", unicodedata.normalize("NFKC", text))
    return re.sub(r"\s+", " ", text)


def has_words(text: str, sentence: str) -> bool:
    """Every word of ``sentence`` (punctuation aside) occurs in the extracted ``text``."""
    haystack = normal(text)
    words = [w.strip('.,“”"') for w in normal(sentence).split()]
    return all(w in haystack for w in words if w)


def add_transcript(ctx: AppContext, session_id: str, lines: list[tuple[float, str]]) -> str:
    """A recording with transcript segments and a note linked to the recording's clock."""
    with ctx.db.session() as db:
        rec = Recording(session_id=session_id, path="recordings/t.wav", duration_s=600.0)
        db.add(rec)
        db.flush()
        for start, text in lines:
            db.add(
                TranscriptSegment(
                    recording_id=rec.id, session_id=session_id, start_s=start,
                    end_s=start + 5, text=text, speaker="participant",
                )
            )  # fmt: skip
        db.add(
            Note(
                session_id=session_id, text="Linked to the audio", tags=["idea"],
                session_offset_ms=95_000, recording_id=rec.id,
                recording_offset_frames=16000 * 83,
            )
        )  # fmt: skip
        return rec.id


def sessions_of(ctx: AppContext, study_id: str) -> list[ResearchSession]:
    with ctx.db.session() as db:
        return list(db.exec(select(ResearchSession).where(ResearchSession.study_id == study_id)))
