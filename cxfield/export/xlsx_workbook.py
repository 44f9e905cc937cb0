"""The CSV tables as the sheets of one Excel workbook (openpyxl), with typed cells.

The rows are the CSV tables' own (:func:`cxfield.export.csv_tables.tables`), so the two
exports never disagree on columns.  Cells get their type back: times as dates (UTC,
shown ``yyyy-mm-dd hh:mm:ss``), counts and scores as numbers, ``true``/``false`` as
booleans.  Text stays text even when it looks like a formula: a workbook stores a text
cell as text, so the CSV's protective apostrophe is taken off and the cell typed ``s``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from cxfield.export.csv_format import safe
from cxfield.export.csv_tables import tables
from cxfield.export.data import SURVEY_ITEMS, StudyRows

DATE_COLUMNS = frozenset(
    {
        "started_at",
        "ended_at",
        "updated_at",
        "withdrawn_at",
        "created_at",
        "observed_start",
        "observed_end",
        "responded_at",
        "entered_at",
        "left_at",
    }
)
BOOLEAN_COLUMNS = frozenset({"withdrawn", "pain_point", "survey_answered"})
NUMBER_COLUMNS = frozenset(
    {
        "duration_s",
        "steps_captured",
        "notes_count",
        "sessions",
        "step_order",
        "valence",
        "intensity",
        "session_offset_s",
        "recording_offset_s",
        "visit",
        "seconds",
        *SURVEY_ITEMS,
    }
)
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: the most characters Excel keeps in one cell
CELL_LIMIT = 32767
_ISO = "%Y-%m-%dT%H:%M:%SZ"


def column_kind(name: str) -> str:
    if name in DATE_COLUMNS:
        return "date"
    if name in BOOLEAN_COLUMNS:
        return "boolean"
    if name in NUMBER_COLUMNS:
        return "number"
    return "text"


def unescaped(text: str) -> str:
    """The text a CSV cell was made from: ``safe`` puts an apostrophe before text a
    spreadsheet would run; in a typed workbook cell that apostrophe is not needed."""
    if text.startswith("'") and safe(text[1:]) == text:
        return text[1:]
    return text


def typed(kind: str, value: Any) -> Any:
    """A CSV cell's value as the workbook should hold it (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if kind == "date":
        return datetime.strptime(text, _ISO)  # naive UTC: Excel has no time zones
    if kind == "boolean":
        return text == "true"
    if kind == "number":
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return unescaped(text)


def write_workbook(
    handle: IO[bytes],
    rows: StudyRows,
    *,
    on_table: Callable[[int, int], None] | None = None,
    check: Callable[[], None] | None = None,
) -> list[str]:
    """Write every table as a sheet; returns notes for the user (cut cells)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    parts = tables(rows)
    cut = 0
    for index, (name, header, body) in enumerate(parts):
        sheet = book.create_sheet(title=name.removesuffix(".csv"))
        sheet.freeze_panes = "A2"
        kinds = [column_kind(column) for column in header]
        for number, column in enumerate(header, start=1):
            width = 20 if kinds[number - 1] == "date" else max(10, min(40, len(column) + 2))
            sheet.column_dimensions[_letter(number)].width = width
        head = []
        for column in header:
            cell = WriteOnlyCell(sheet, value=column)
            cell.font = bold
            head.append(cell)
        sheet.append(head)
        for count, row in enumerate(body):
            if check is not None and count % 500 == 0:
                check()
            cells = []
            for kind, raw in zip(kinds, row, strict=True):
                value = typed(kind, raw)
                if isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)
                    if len(value) > CELL_LIMIT:
                        value, cut = value[:CELL_LIMIT], cut + 1
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, even "=SUM(...)": never a formula
                elif isinstance(value, datetime):
                    cell.number_format = DATE_FORMAT
                cells.append(cell)
            sheet.append(cells)
        if on_table is not None:
            on_table(index + 1, len(parts))
    book.save(handle)
    if cut:
        return [f"{cut} cell(s) were longer than Excel's {CELL_LIMIT:,} characters and were cut."]
    return []


def _letter(number: int) -> str:
    from openpyxl.utils import get_column_letter

    letter: str = get_column_letter(number)
    return letter
