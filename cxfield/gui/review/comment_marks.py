"""Each comment next to the thing it is about: in review mode the captures and the notes
get a Comments column (shown while one of their items has a comment) holding the threads
anchored to that row (replies indented), and a commented transcript line is tinted with
its threads as its tooltip."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from cxfield.domain.review import AnchorKind
from cxfield.services import review
from cxfield.storage.models import ReviewComment

HEADER = "Comments"
#: the tint of a commented transcript line (readable under black text)
TINT = QColor("#fff3c4")


def thread_text(thread: review.Thread) -> str:
    """A thread as a few lines: the comment, then its answers indented."""
    first = thread.comment
    lines = [f"{first.author_name}: {first.text}"]
    lines += [f"  ↳ {r.author_name}: {r.text}" for r in thread.replies]
    return "\n".join(lines)


def by_anchor(comments: list[ReviewComment]) -> dict[tuple[str, str], list[review.Thread]]:
    """The threads per (anchor kind, anchor id); a step's and its quote's apart."""
    found: dict[tuple[str, str], list[review.Thread]] = {}
    for thread in review.threads(comments):
        c = thread.comment
        if c.anchor != AnchorKind.SESSION and c.anchor_id:
            found.setdefault((c.anchor.value, c.anchor_id), []).append(thread)
    return found


#: the Comments column is shown right after this one (the step's name, the note's time)
SHOWN_AFTER = 1
WIDTH = 300


def _column(table: QTableWidget) -> int:
    """The Comments column (added the first time): last in the model, so the other columns
    keep their numbers, but shown beside the item's name, where it is seen without
    scrolling."""
    last = table.columnCount() - 1
    header = table.horizontalHeaderItem(last)
    if header is not None and header.text() == HEADER:
        return last
    column = last + 1
    table.setColumnCount(column + 1)
    caption = QTableWidgetItem(HEADER)
    font = caption.font()
    font.setBold(True)  # as the other headers
    caption.setFont(font)
    table.setHorizontalHeaderItem(column, caption)
    table.setAccessibleName(table.accessibleName() + " / " + HEADER)
    bar = table.horizontalHeader()
    bar.moveSection(bar.visualIndex(column), SHOWN_AFTER + 1)
    bar.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
    table.setColumnWidth(column, WIDTH)
    if table.currentRow() >= 0:  # the highlight takes in the new column
        table.selectRow(table.currentRow())
    return column


def _put(table: QTableWidget, row: int, column: int, texts: list[str]) -> None:
    item = QTableWidgetItem("\n".join(texts))
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    table.setItem(row, column, item)


def mark_captures(
    table: QTableWidget, detail: dict[str, Any], threads: dict[tuple[str, str], list[Any]]
) -> None:
    column = _column(table)
    steps = [s for s in detail["steps"] if s["capture"]]
    shown = False
    for row, step in enumerate(steps[: table.rowCount()]):
        step_id = step["step_id"]
        texts = [thread_text(t) for t in threads.get(("step", step_id), [])]
        texts += ["On the quote: " + thread_text(t) for t in threads.get(("quote", step_id), [])]
        _put(table, row, column, texts)
        shown = shown or bool(texts)
    _show_if(table, column, shown)


def mark_notes(
    table: QTableWidget, detail: dict[str, Any], threads: dict[tuple[str, str], list[Any]]
) -> None:
    column = _column(table)
    shown = False
    for row, note in enumerate(detail["notes"][: table.rowCount()]):
        texts = [thread_text(t) for t in threads.get(("note", note["id"]), [])]
        _put(table, row, column, texts)
        shown = shown or bool(texts)
    _show_if(table, column, shown)


def _show_if(table: QTableWidget, column: int, shown: bool) -> None:
    """The column takes room only when one of the table's items has a comment."""
    table.setColumnHidden(column, not shown)
    table.resizeRowsToContents()


def mark_transcript(
    table: QTableWidget, rows: list[Any], threads: dict[tuple[str, str], list[Any]]
) -> None:
    """Tint the commented lines (segments, and notes shown among them)."""
    for r, line in enumerate(rows[: table.rowCount()]):
        kind = "note" if hasattr(line, "at_s") else "segment"
        found = threads.get((kind, line.id), [])
        for c in range(table.columnCount()):
            item = table.item(r, c)
            if item is None:
                continue
            item.setBackground(QBrush(TINT) if found else QBrush())
            if found:
                item.setToolTip("\n".join(thread_text(t) for t in found))
