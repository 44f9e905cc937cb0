"""Page furniture and styles shared by the PDF exports.

Every page carries a header (study name, document title), the export date, a
confidentiality footer and "Page X of Y".  The total page count is only known once the
document is finished, so the canvas keeps each page's drawing state and stamps the numbers
when it is saved (the usual reportlab two-stage canvas)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Table, TableStyle

from cxfield.domain.clock import duration_text
from cxfield.domain.errors import CxfieldError
from cxfield.export.fonts import BOLD, ITALIC, REGULAR, register_fonts, runs
from cxfield.export.text import UParagraph, visual

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6675")
RULE = colors.HexColor("#c9d1db")
ACCENT = colors.HexColor("#1f4e79")
ACCENT_LIGHT = colors.HexColor("#e8eef5")
ZEBRA = colors.HexColor("#f5f7fa")

CONFIDENTIAL = (
    "Confidential: research data about members of the public. "
    "Share only within the research team; participants are identified by code only."
)

MARGIN = 16 * mm
HEADER_GAP = 14 * mm  # room for the header above the frame
FOOTER_GAP = 14 * mm


class ExportCancelled(CxfieldError):
    """The user cancelled an export; no file was written."""

    exit_code = 130


def _style(name: str, **kw: Any) -> ParagraphStyle:
    base: dict[str, Any] = {"fontName": REGULAR, "fontSize": 9, "leading": 12, "textColor": INK}
    base.update(kw)
    return ParagraphStyle(name, **base)


@dataclass(frozen=True)
class Styles:
    title: ParagraphStyle
    subtitle: ParagraphStyle
    h1: ParagraphStyle
    h2: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle
    muted: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_right: ParagraphStyle
    head: ParagraphStyle
    quote: ParagraphStyle
    cell_quote: ParagraphStyle
    note: ParagraphStyle


def make_styles() -> Styles:
    register_fonts()
    return Styles(
        title=_style("title", fontName=BOLD, fontSize=20, leading=25, textColor=ACCENT),
        subtitle=_style("subtitle", fontSize=11, leading=15, textColor=MUTED),
        h1=_style(
            "h1",
            fontName=BOLD,
            fontSize=14,
            leading=18,
            spaceBefore=10,
            spaceAfter=6,
            textColor=ACCENT,
            keepWithNext=1,
        ),
        h2=_style(
            "h2",
            fontName=BOLD,
            fontSize=10.5,
            leading=14,
            spaceBefore=8,
            spaceAfter=3,
            keepWithNext=1,
        ),
        body=_style("body", spaceAfter=4),
        small=_style("small", fontSize=8, leading=10),
        muted=_style("muted", fontSize=8, leading=10.5, textColor=MUTED),
        cell=_style("cell", fontSize=8, leading=10),
        cell_bold=_style("cell_bold", fontName=BOLD, fontSize=8, leading=10),
        cell_right=_style("cell_right", fontSize=8, leading=10, alignment=TA_RIGHT),
        head=_style("head", fontName=BOLD, fontSize=7.5, leading=9.5, textColor=colors.white),
        quote=_style(
            "quote", fontName=ITALIC, fontSize=9, leading=12.5, leftIndent=8, spaceAfter=3
        ),
        cell_quote=_style("cell_quote", fontName=ITALIC, fontSize=8, leading=10),
        note=_style(
            "note",
            fontSize=8.5,
            leading=11,
            textColor=MUTED,
            backColor=ACCENT_LIGHT,
            borderPadding=(4, 6, 4, 6),
            spaceBefore=4,
            spaceAfter=8,
        ),
    )


def table(
    rows: list[list[Any]],
    widths: list[float],
    *,
    header_rows: int = 1,
    numeric_from: int | None = None,
    extra: list[tuple[Any, ...]] | None = None,
) -> Table:
    """A styled table; cells should be Paragraphs so that long text wraps inside them."""
    commands: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LEADING", (0, 0), (-1, -1), 10),  # as the cell paragraphs, so rows match
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
    ]
    if header_rows:
        commands += [
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), ACCENT),
            ("TEXTCOLOR", (0, 0), (-1, header_rows - 1), colors.white),
            ("FONTNAME", (0, 0), (-1, header_rows - 1), BOLD),
            ("FONTSIZE", (0, 0), (-1, header_rows - 1), 7.5),
            ("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, ZEBRA]),
        ]
    if numeric_from is not None:
        commands.append(("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"))
    t = Table(
        rows, colWidths=widths, repeatRows=header_rows, style=TableStyle(commands + (extra or []))
    )
    return t


def draw_runs(
    canvas: Canvas, x: float, y: float, text: str, font: str, size: float, anchor: str = "start"
) -> float:
    """Draw one line of text with font fallback (and Arabic shaped/reordered); returns width."""
    shown = visual(text)
    parts = runs(shown, font)
    width = sum(canvas.stringWidth(part, name, size) for name, part in parts)
    if anchor == "end":
        x -= width
    elif anchor == "middle":
        x -= width / 2
    for name, part in parts:
        canvas.setFont(name, size)
        canvas.drawString(x, y, part)
        x += canvas.stringWidth(part, name, size)
    return float(width)


Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


class ReportDocument(BaseDocTemplate):  # type: ignore[misc]  # reportlab is untyped
    """A4 portrait (and landscape pages on request) with header, footer and page numbers."""

    def __init__(
        self, target: Any, *, study_name: str, title: str, exported_at: datetime, subject: str = ""
    ) -> None:
        super().__init__(
            target,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + HEADER_GAP,
            bottomMargin=MARGIN + FOOTER_GAP,
            title=f"{title}: {study_name}",
            author="cxfield",
            subject=subject or title,
            creator="cxfield",
            # reportlab would otherwise reference (unembedded) Helvetica on every page
            initialFontName=REGULAR,
        )
        self.study_name = study_name
        self.doc_title = title
        self.exported_at = exported_at
        portrait = self._frame(A4, "portrait")
        wide = self._frame(landscape(A4), "landscape")
        self.addPageTemplates(
            [
                PageTemplate("portrait", [portrait], onPage=self._header, pagesize=A4),
                PageTemplate("landscape", [wide], onPage=self._header, pagesize=landscape(A4)),
            ]
        )

    def _frame(self, size: tuple[float, float], name: str) -> Frame:
        width, height = size
        return Frame(
            MARGIN,
            MARGIN + FOOTER_GAP,
            width - 2 * MARGIN,
            height - 2 * MARGIN - HEADER_GAP - FOOTER_GAP,
            id=name,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )

    @property
    def portrait_width(self) -> float:
        return float(A4[0] - 2 * MARGIN)

    @property
    def landscape_width(self) -> float:
        return float(A4[1] - 2 * MARGIN)

    @property
    def landscape_height(self) -> float:
        return float(A4[0] - 2 * MARGIN - HEADER_GAP - FOOTER_GAP)

    def _header(self, canvas: Canvas, doc: Any) -> None:
        width, height = canvas._pagesize
        top = height - MARGIN
        canvas.saveState()
        canvas.setFillColor(ACCENT)
        draw_runs(canvas, MARGIN, top - 9, _clip(canvas, self.study_name, width * 0.6), BOLD, 9.5)
        canvas.setFillColor(MUTED)
        draw_runs(canvas, width - MARGIN, top - 9, self.doc_title, REGULAR, 8.5, "end")
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(0.8)
        canvas.line(MARGIN, top - 14, width - MARGIN, top - 14)
        canvas.restoreState()

    def numbered_canvas(self) -> type[Canvas]:
        """A canvas class that stamps the footer with the final page count."""
        exported = self.exported_at.strftime("%Y-%m-%d %H:%M")
        label = f"Exported {exported} by cxfield"

        class NumberedCanvas(Canvas):  # type: ignore[misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._pages: list[dict[str, Any]] = []

            def showPage(self) -> None:  # noqa: N802 - reportlab's name
                self._pages.append(dict(self.__dict__))
                self._startPage()

            def save(self) -> None:
                total = len(self._pages)
                for number, state in enumerate(self._pages, start=1):
                    self.__dict__.update(state)
                    _footer(self, number, total, label)
                    Canvas.showPage(self)
                Canvas.save(self)

        return NumberedCanvas


def _footer(canvas: Canvas, number: int, total: int, label: str) -> None:
    width, _ = canvas._pagesize
    y = MARGIN
    canvas.saveState()
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, y + 12, width - MARGIN, y + 12)
    canvas.setFillColor(MUTED)
    canvas.setFont(ITALIC, 7)
    canvas.drawString(MARGIN, y + 3, CONFIDENTIAL)
    canvas.setFont(REGULAR, 7)
    canvas.drawString(MARGIN, y - 6, label)
    canvas.setFont(BOLD, 8)
    canvas.drawRightString(width - MARGIN, y - 6, f"Page {number} of {total}")
    canvas.restoreState()


def _clip(canvas: Canvas, text: str, width: float) -> str:
    if canvas.stringWidth(text, BOLD, 9.5) <= width:
        return text
    while text and canvas.stringWidth(text + "…", BOLD, 9.5) > width:
        text = text[:-1]
    return text + "…"


def centered(style: ParagraphStyle) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-c", parent=style, alignment=TA_CENTER)


def p(text: object, style: ParagraphStyle) -> UParagraph:
    """Plain text (any language) as a wrapping paragraph."""
    return UParagraph("" if text is None else str(text), style)


def fmt_seconds(value: float) -> str:
    """A duration (time in a step, a median), as on the journey map."""
    return duration_text(value)


def build(
    doc: ReportDocument,
    story: list[Flowable],
    on_progress: Progress | None,
    cancelled: Cancelled | None,
) -> int:
    total = [max(1, len(story))]

    def progress(kind: str, value: int) -> None:
        if cancelled is not None and cancelled():
            raise ExportCancelled("Export cancelled; no file was written.")
        if kind == "SIZE_EST":
            total[0] = max(1, value)
        elif kind == "PROGRESS" and on_progress is not None:
            on_progress(min(value, total[0]), total[0])

    doc.setProgressCallBack(progress)
    doc.build(story, canvasmaker=doc.numbered_canvas())
    return int(doc.page)
