"""How cxfield writes CSV, shared by every CSV file it makes (the study tables, A-11).

RFC 4180 quoting and CRLF line ends (:func:`csv_writer`).  Free text that a spreadsheet
would run as a formula gets a leading apostrophe (:func:`safe`, OWASP "CSV injection"):
text starting with ``=``, ``+``, ``-`` or ``@`` (or their full-width forms, which some
spreadsheets also accept), also after leading spaces, tabs or line breaks (Excel and
LibreOffice skip those before a formula), and text starting with a tab or carriage return
(the OWASP list)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

#: characters that start a formula in Excel, LibreOffice or Google Sheets
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
#: characters a spreadsheet skips before a formula
_LEADING = " \t\r\n"


def needs_escape(text: str) -> bool:
    """Would a spreadsheet take this cell for a formula?"""
    return text.startswith(("\t", "\r")) or text.lstrip(_LEADING).startswith(FORMULA_STARTS)


def safe(text: str | None) -> str:
    """Free text for a cell: never a formula in a spreadsheet."""
    if not text:
        return ""
    return "'" + text if needs_escape(text) else text


def flag(value: bool) -> str:
    return "true" if value else "false"


def joined(values: Iterable[str]) -> str:
    return safe("; ".join(values))


def csv_writer(handle: IO[str]) -> Any:
    """A writer with cxfield's dialect (RFC 4180 quoting, CRLF)."""
    return csv.writer(handle, lineterminator="\r\n")
