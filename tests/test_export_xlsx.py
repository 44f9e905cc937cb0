"""The Excel workbook: the CSV tables as sheets with typed cells, frozen header rows and
formula-looking text kept as text; read back with openpyxl and opened by LibreOffice."""

from __future__ import annotations

import csv
import os
import shutil
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.export import jobs
from cxfield.export.filters import FilterRequest
from cxfield.export.xlsx_workbook import column_kind
from cxfield.services import demo
from cxfield.storage.models import Note, ResearchSession, StepCapture, Study
from tests.conftest import cli_env
from tests.export_support import ARABIC, CHINESE
from tests.test_cli import NO_QT
from tests.test_export_docx import convert

SHEETS = [
    "sessions", "participants", "captures", "notes", "survey_answers", "observation_times",
]  # fmt: skip
FORMULAS = ['=HYPERLINK("http://x","click")', "+1 555 0100", "-2 is bad", "@SUM(A1:A2)"]


@pytest.fixture
def study(ctx: AppContext) -> Study:
    study = demo.create_demo(ctx.db, 30, seed=4)
    with ctx.db.session() as db:
        first = db.exec(select(ResearchSession).where(ResearchSession.mode == "interview")).first()
        assert first is not None
        for text in [*FORMULAS, ARABIC, CHINESE, 'two\nlines, "quoted"', "bell\x07 gone"]:
            db.add(Note(session_id=first.id, text=text, tags=["idea"]))
    return study


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def expected(kind: str, text: str) -> Any:
    """What a CSV cell should become in the workbook."""
    if text == "":
        return None
    if kind == "date":
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    if kind == "boolean":
        return {"true": True, "false": False}[text]
    if kind == "number":
        return float(text)
    return text


def test_workbook_holds_the_csv_tables_typed(ctx: AppContext, study: Study, tmp_path: Path) -> None:
    book_path = tmp_path / "study.xlsx"
    result = jobs.export_study_xlsx(ctx.db, study.id, book_path)
    assert result.paths == [book_path] and not result.messages
    assert stat.S_IMODE(os.stat(book_path).st_mode) == 0o600
    jobs.export_study_csv(ctx.db, study.id, tmp_path / "csv")
    book = load_workbook(book_path)
    assert book.sheetnames == SHEETS
    for name in SHEETS:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        table = read_csv(tmp_path / "csv" / f"{name}.csv")
        rows = list(sheet.iter_rows())
        assert [c.value for c in rows[0]] == table[0] and all(c.font.b for c in rows[0])
        assert len(rows) == len(table), name
        kinds = [column_kind(column) for column in table[0]]
        for cells, line in zip(rows[1:], table[1:], strict=True):
            for cell, kind, text in zip(cells, kinds, line, strict=True):
                assert cell.data_type != "f", (name, cell.coordinate)
                want = expected(kind, text)
                if kind == "text" and text.startswith("'") and text[1:] in FORMULAS:
                    want = text[1:]  # the apostrophe only protects the CSV
                if kind == "text" and want is not None:
                    want = want.replace("\x07", "")
                assert cell.value == want, (name, cell.coordinate, text)
                if want is None:
                    continue
                if kind == "date":
                    assert cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm:ss"
                elif kind == "number":
                    assert isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
                elif kind == "boolean":
                    assert isinstance(cell.value, bool)
                else:
                    assert cell.data_type == "s"

    notes = [c.value for c in book["notes"]["F"]]
    assert all(f in notes for f in FORMULAS)  # text, exactly as typed, never run
    assert ARABIC in notes and CHINESE in notes
    with ctx.db.session() as db:
        captures = list(db.exec(select(StepCapture)))
        sessions = {s.id: s for s in db.exec(select(ResearchSession))}
    valences = [c.value for c in book["captures"]["J"][1:]]
    assert sorted(v for v in valences if v is not None) == sorted(
        c.valence for c in captures if c.valence is not None
    )
    assert all(type(v) is int for v in valences if v is not None)
    for row in book["sessions"].iter_rows(min_row=2, values_only=True):
        assert row[2] == sessions[str(row[0])].started_at.replace(tzinfo=None, microsecond=0)


def test_workbook_respects_filters(ctx: AppContext, study: Study, tmp_path: Path) -> None:
    out = tmp_path / "approved.xlsx"
    jobs.export_study_xlsx(ctx.db, study.id, out, FilterRequest(statuses=("approved",)))
    with ctx.db.session() as db:
        approved = {s.id for s in db.exec(select(ResearchSession)) if s.status == "approved"}
    ids = [r[0] for r in load_workbook(out)["sessions"].iter_rows(min_row=2, values_only=True)]
    assert approved and set(ids) == approved and len(ids) == len(approved)


def test_workbook_opens_in_libreoffice_with_typed_cells(
    ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "study.xlsx"
    jobs.export_study_xlsx(ctx.db, study.id, out)
    # LibreOffice reads the workbook and writes its own: what it understood comes back.
    written = convert(soffice, out, "xlsx:Calc MS Excel 2007 XML", tmp_path)
    again = load_workbook(written)
    assert again.sheetnames == SHEETS
    sessions = again["sessions"]
    # (Frozen rows are view settings: a headless LibreOffice has no view and drops them.)
    assert sessions["C2"].is_date and isinstance(sessions["C2"].value, datetime)
    assert isinstance(sessions["E2"].value, int | float)  # duration_s
    captures = again["captures"]
    assert any(isinstance(c.value, int) and not isinstance(c.value, bool)
               for c in captures["J"][1:])  # fmt: skip
    # pain_point: LibreOffice writes a boolean as TRUE()/FALSE() with a cached boolean value
    assert all(c.data_type in ("b", "f") for c in captures["M"][1:])
    cached = load_workbook(written, data_only=True)["captures"]
    assert all(isinstance(c.value, bool) for c in cached["M"][1:])
    notes = [c for c in again["notes"]["F"][1:] if c.value in FORMULAS]
    assert len(notes) == len(FORMULAS) and all(c.data_type == "s" for c in notes)


def test_command_line_writes_the_workbook(data_dir: Path, tmp_path: Path) -> None:
    from cxfield.app import open_app

    ctx = open_app(data_dir)
    try:
        study_id = demo.create_demo(ctx.db, 5, seed=1).id
    finally:
        ctx.close()
    script = NO_QT + "\nfrom cxfield.main import main\nsys.exit(main(sys.argv[1:]))"
    out = tmp_path / "s.xlsx"
    done = subprocess.run(
        [sys.executable, "-c", script, "--data-dir", str(data_dir), "export", "study", study_id,
         "--xlsx", str(out), "--status", "submitted,approved"],
        capture_output=True, text=True, env=cli_env(), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    statuses = {r[6] for r in load_workbook(out)["sessions"].iter_rows(min_row=2, values_only=True)}
    assert statuses <= {"submitted", "approved"}


@pytest.mark.qt
def test_export_dialog_offers_the_workbook(
    qtbot: object, ctx: AppContext, study: Study, tmp_path: Path
) -> None:
    pytest.importorskip("PySide6")
    from cxfield.gui.export_dialog import ExportDialog

    dialog = ExportDialog(ctx, study.id, study.name, None)
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    dialog.kind_buttons["xlsx"].setChecked(True)
    assert dialog.output.text().endswith(".xlsx") and dialog.filter_box.isVisibleTo(dialog)
    dialog.segment.setCurrentIndex(1)  # the first value of the first segment attribute
    out = tmp_path / "from-dialog.xlsx"
    dialog.output.setText(str(out))
    with qtbot.waitSignal(dialog.runner.finished, timeout=60_000):  # type: ignore[attr-defined]
        dialog.export_button.click()
    key, value = str(dialog.segment.currentData()).split("=")
    people = list(load_workbook(out)["participants"].iter_rows(min_row=1, values_only=True))
    column = people[0].index(f"segment_{key}")
    assert len(people) > 1 and all(row[column] == value for row in people[1:])
