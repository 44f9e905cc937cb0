"""A session's transcript as a Word document (python-docx), for staff who read in Word.

One paragraph per segment: its time on the recording's clock, the speaker (a suggestion
from the voices that nobody has confirmed: ``Interviewer (suggested)``), the words;
segments edited by hand end with an *edited* mark.  The session's notes stand between the
lines at their times, shaded, with their step and tags — as the transcript editor shows
them.  Opens in Word and LibreOffice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO, Any

from cxfield.domain.errors import NotFoundError
from cxfield.services.transcript import NoteMark, SegmentView
from cxfield.transcribe.export import speaker_label

NOTE_SHADE = "FFF8E1"
GREY = (0x75, 0x75, 0x75)
EDITED = (0xB7, 0x1C, 0x1C)
CONFIDENTIAL = "Confidential: research data about members of the public."


def clock(seconds: float) -> str:
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def lines_in_order(
    segments: list[SegmentView], notes: list[NoteMark]
) -> list[SegmentView | NoteMark]:
    """Segments and notes by time; a note comes before a segment starting at its time."""
    merged: list[tuple[float, int, SegmentView | NoteMark]] = [
        (s.start_s, 1, s) for s in segments
    ] + [(n.at_s, 0, n) for n in notes]
    return [row for _, _, row in sorted(merged, key=lambda t: (t[0], t[1]))]


def write_transcript_docx(
    handle: IO[bytes],
    detail: dict[str, Any],
    segments: list[SegmentView],
    notes: list[NoteMark],
    *,
    exported_at: datetime | None = None,
) -> int:
    """Write the document; returns the number of transcript lines written."""
    from docx import Document
    from docx.shared import Pt, RGBColor

    if not segments:
        raise NotFoundError(f"Session {detail['id']} has no transcript yet.")
    exported_at = exported_at or datetime.now(UTC)
    steps = {s["step_id"]: f"{s['stage']} › {s['step']}" for s in detail["steps"]}
    note_steps = {n["id"]: n.get("step_id") for n in detail["notes"]}
    who = detail["participant_code"] or detail["mode"].capitalize()
    study = detail["study"]["name"] if detail["study"] else ""

    doc = Document()
    doc.core_properties.title = f"Transcript — {who}"
    doc.core_properties.author = "cxfield"
    doc.core_properties.created = exported_at.replace(tzinfo=None)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    doc.add_heading(f"Transcript — {who}", level=1)
    started = datetime.fromisoformat(detail["started_at"])
    about = [f"{detail['mode'].capitalize()} on {started:%Y-%m-%d %H:%M} UTC"]
    if detail["site"]:
        about.append(f"at {detail['site']}")
    if detail["researcher"]:
        about.append(f"by {detail['researcher']}")
    doc.add_paragraph(" · ".join(filter(None, [study, " ".join(about)])))
    legend = doc.add_paragraph()
    run = legend.add_run(
        "Times are on the recording's clock. Shaded lines are the researcher's notes at "
        "their times. \u270e edited: text corrected by hand (cxfield keeps the model's text)."
    )
    run.italic = True
    run.font.size = Pt(9)
    run.font.color.rgb = RGBColor(*GREY)

    for row in lines_in_order(segments, notes):
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(4)
        if isinstance(row, NoteMark):
            _shade(para, NOTE_SHADE)
            stamp = para.add_run(f"[{clock(row.at_s)}] ")
            stamp.font.color.rgb = RGBColor(*GREY)
            step = steps.get(note_steps.get(row.id) or "")
            label = para.add_run(f"Note{f' ({step})' if step else ''}: ")
            label.bold = True
            body = para.add_run(row.text + "".join(f"  #{t}" for t in row.tags))
            body.italic = True
            continue
        stamp = para.add_run(f"[{clock(row.start_s)}] ")
        stamp.font.color.rgb = RGBColor(*GREY)
        # a suggestion nobody has confirmed yet is written "Interviewer (suggested)"
        speaker = speaker_label(
            {"speaker": row.speaker, "speaker_suggested": row.speaker_suggested}
        )
        if speaker:
            para.add_run(f"{speaker}: ").bold = True
        para.add_run(row.text.strip())
        if row.edited:
            mark = para.add_run("  \u270e edited")
            mark.italic = True
            mark.font.size = Pt(8.5)
            mark.font.color.rgb = RGBColor(*EDITED)

    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = f"{CONFIDENTIAL} Exported {exported_at:%Y-%m-%d %H:%M} UTC."
    footer.runs[0].font.size = Pt(8)
    doc.save(handle)
    return len(segments)


_AFTER_SHADING = (
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)


def _shade(paragraph: Any, fill: str) -> None:
    """A background colour behind the paragraph (python-docx has no API for it)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    # Word refuses a document whose paragraph properties are out of the schema's order.
    paragraph._p.get_or_add_pPr().insert_element_before(shading, *_AFTER_SHADING)
