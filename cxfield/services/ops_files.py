"""Reading an operations file (CSV or XLSX) into a header and rows, and the preview the
import dialog shows: columns, sample values, which columns look like times or like a site.

Nothing here writes: a file is read whole (within limits no real export reaches), hashed,
and handed to :mod:`cxfield.services.ops_import`, which checks every row before storing
any."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cxfield.domain.errors import ValidationError
from cxfield.domain.operations import looks_like_times

#: limits no real export reaches (a year of a busy office's tickets is ~100,000 rows)
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 500_000
MAX_COLUMNS = 200
#: column names that suggest where the customer was served
_SITE_WORDS = ("site", "office", "branch", "location", "centre", "center", "service point")

Cell = str | datetime | date | float | int | None


@dataclass(frozen=True)
class OpsTable:
    """A file's header and data rows (line numbers as a person counts them: the header is
    line 1 of a CSV, row 1 of a sheet)."""

    name: str
    sha256: str
    columns: list[str]
    #: (line, cells) for every data row that is not entirely empty
    rows: list[tuple[int, list[Cell]]]


@dataclass(frozen=True)
class ColumnPreview:
    name: str
    #: the column's cells in the file's first rows, row by row ("" for an empty cell), so
    #: the preview's rows are the file's rows
    samples: list[str]
    looks_like_times: bool
    looks_like_site: bool
    #: the first value the column holds (within the rows checked), "" if none
    example: str = ""


@dataclass(frozen=True)
class OpsPreview:
    name: str
    rows: int
    columns: list[ColumnPreview]


def read_table(path: Path) -> OpsTable:
    """The file as a table; a one-line ValidationError when it cannot be read as one."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if not path.is_file():
        raise ValidationError(f"{path} is not a file.")
    if size > MAX_FILE_BYTES:
        raise ValidationError(
            f"{path.name} is {size / 1e6:.0f} MB; operations files are limited to "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB (split it by month)."
        )
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(data, path.name)
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        header, rows = _read_csv(data, path.name)
    else:
        raise ValidationError(f"{path.name}: operations files are CSV or XLSX.")
    columns = [str(c).strip() if c is not None else "" for c in header]
    while columns and not columns[-1]:
        columns.pop()
    if not columns:
        raise ValidationError(f"{path.name} has no header row with column names.")
    if len(columns) > MAX_COLUMNS:
        raise ValidationError(f"{path.name} has {len(columns)} columns; at most {MAX_COLUMNS}.")
    blank = [i + 1 for i, c in enumerate(columns) if not c]
    if blank:
        raise ValidationError(f"{path.name}: column {blank[0]} of the header has no name.")
    seen: set[str] = set()
    for column in columns:
        if column.casefold() in seen:
            raise ValidationError(f"{path.name}: two columns are named {column!r}.")
        seen.add(column.casefold())
    if len(rows) > MAX_ROWS:
        raise ValidationError(f"{path.name} has {len(rows)} rows; at most {MAX_ROWS:,}.")
    return OpsTable(path.name, digest, columns, rows)


def _read_csv(data: bytes, name: str) -> tuple[list[Cell], list[tuple[int, list[Cell]]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            f"{name} is not UTF-8 text; save it as “CSV UTF-8” and import it again."
        ) from None
    if "\x00" in text:
        raise ValidationError(f"{name} holds NUL bytes: it is not a CSV file.")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t|"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header: list[Cell] = list(next(reader, []))
        rows: list[tuple[int, list[Cell]]] = []
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, list(cells)))
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise ValidationError(f"{name}: line {reader.line_num} is not valid CSV ({exc}).") from None
    return header, rows


def _read_xlsx(data: bytes, name: str) -> tuple[list[Cell], list[tuple[int, list[Cell]]]]:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl comes with the export extra
        raise ValidationError(
            "Reading XLSX needs openpyxl (pip install 'cxfield[export]')."
        ) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a zip that is not a workbook, a damaged file: one line, no trace
        raise ValidationError(f"{name} is not a readable XLSX workbook.") from None
    try:
        sheet = book.worksheets[0]
        header: list[Cell] = []
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_cell(v) for v in values]
            if number == 1:
                header = cells
            elif any(c is not None and str(c).strip() for c in cells):
                rows.append((number, cells))
            if len(rows) > MAX_ROWS:
                break
    finally:
        book.close()
    return header, rows


def _xlsx_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | datetime | date | int | float):
        return value
    return str(value)


def cell_text(cell: Cell) -> str:
    """A cell as text, the same for CSV and XLSX (a spreadsheet time as ISO 8601)."""
    if cell is None:
        return ""
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def column_values(table: OpsTable, index: int, limit: int | None = None) -> list[Cell]:
    rows = table.rows if limit is None else table.rows[:limit]
    return [cells[index] if index < len(cells) else None for _line, cells in rows]


def preview(path: Path, samples: int = 6) -> OpsPreview:
    """What the import dialog shows: each column with its first values and whether it looks
    like times (checked over the first 200 rows) or like a site."""
    table = read_table(path)
    columns = []
    for index, name in enumerate(table.columns):
        values = column_values(table, index, 200)
        texts = [cell_text(v) for v in values]
        times = looks_like_times(values)
        site = not times and any(word in name.casefold() for word in _SITE_WORDS)
        example = next((t for t in texts if t), "")
        columns.append(ColumnPreview(name, texts[:samples], times, site, example))
    return OpsPreview(table.name, len(table.rows), columns)
