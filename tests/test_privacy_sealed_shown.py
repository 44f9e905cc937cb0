"""An encrypted study pulled to a supervisor's laptop that has not opened the study key: the
session window, the transcript tab and every export show a placeholder and say how to read
the texts -- never the ciphertext -- and nothing stored changes; once the key is opened the
texts are back everywhere."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from cxfield.export import jobs
from cxfield.privacy import keys, sealing, study_protection
from cxfield.privacy import texts as privacy_texts
from cxfield.privacy.sealed_texts import SHOWN, shown, shown_tree
from cxfield.services import demo
from cxfield.services.sessions import session_detail
from tests.export_support import pdf_text
from tests.privacy_support import PLANTED, plant_texts
from tests.sync_support import Team, submit_decided

PASS = "correct horse battery"


def test_placeholders_for_sealed_values() -> None:
    locked = keys.create_study_key("study-1", PASS)
    sealed = sealing.seal_text(locked.public_key, locked.key_id, "Me llamo María")
    assert shown(sealed) == SHOWN and shown("plain") == "plain" and shown(None) is None
    tree, count = shown_tree({"a": [sealed, "x", {"b": sealed}], "n": 3, "t": ("y", sealed)})
    assert count == 3
    assert tree == {"a": [SHOWN, "x", {"b": SHOWN}], "n": 3, "t": ("y", SHOWN)}


def test_a_supervisor_without_the_key_sees_placeholders_not_ciphertext(
    team: Team, tmp_path: Path, qtbot: object
) -> None:
    ana, sam = team.laptop("Ana"), team.laptop("Sam", "supervisor")
    study = demo.create_demo(ana.db, 4)
    created = study_protection.create_key(ana.db, ana.ctx.paths.root, study.id, PASS)
    planted = plant_texts(ana.db, study.id)
    submit_decided(ana.db)
    ana.sync()
    sam.sync()
    stored = session_detail(sam.db, planted.session_id)
    assert any(sealing.is_sealed(n["text"]) for n in stored["notes"])
    # The redaction scan leaves ciphertext alone (it was scanned before it was sealed).
    with sam.db.engine.connect() as conn:
        scanned = privacy_texts.session_texts(conn, [planted.session_id])[planted.session_id]
    assert not any(sealing.is_sealed(t.text) for t in scanned)
    assert planted.note_id not in {t.row_id for t in scanned}

    # The session window: the placeholder, a line saying how to read them, no editing.
    from cxfield.gui.session_view import SessionView

    view = SessionView(sam.ctx, planted.session_id)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(1366, 768)
    view.show()
    qtbot.waitExposed(view)  # type: ignore[attr-defined]
    view.activateWindow()
    assert view.sealed_notice.isVisible()
    assert "cxfield keys open --study " + study.id in view.sealed_notice.text()
    cells = [
        view.notes.item(r, c).text()
        for r in range(view.notes.rowCount())
        for c in range(view.notes.columnCount())
    ]
    quotes = [view.captures.item(r, 6).text() for r in range(view.captures.rowCount())]
    assert SHOWN in cells and SHOWN in quotes
    assert not any("cxsealed" in text for text in cells + quotes)
    row = next(r for r in range(view.notes.rowCount()) if view.notes.item(r, 3).text() == SHOWN)
    view.tabs.setCurrentWidget(view.notes)
    view.notes.selectRow(row)
    view.notes.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.notes)  # type: ignore[attr-defined]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F2)  # type: ignore[attr-defined]
    assert "encrypted" in view.statusBar().currentMessage()  # refused, no dialog opened
    transcript = view.transcript.table
    texts = [transcript.item(r, 2) for r in range(transcript.rowCount())]
    sealed_items = [item for item in texts if item is not None and item.text() == SHOWN]
    assert sealed_items and not sealed_items[0].flags() & Qt.ItemFlag.ItemIsEditable
    editor = view.transcript
    line = next(r for r, row in enumerate(editor.rows) if row.id == planted.segment_id)
    transcript.selectRow(line)
    assert editor.selected_segments() and editor.step_combo.count() > 0
    assert not editor.quote_button.isEnabled()  # no quote made of the placeholder
    view.close()

    # Exports: the placeholder, and one line that says how to read them.
    csv_folder = tmp_path / "csv"
    csv_folder.mkdir()
    written = jobs.export_study_csv(sam.db, study.id, csv_folder)
    everything = "".join(p.read_text() for p in csv_folder.iterdir())
    assert "cxsealed" not in everything and SHOWN in everything
    assert any("cxfield keys open" in m for m in written.messages)
    as_json = jobs.export_study_json(sam.db, study.id, tmp_path / "study.json")
    assert "cxsealed" not in (tmp_path / "study.json").read_text()
    assert any("encrypted" in m for m in as_json.messages)
    pdf = jobs.export_session_pdf(sam.db, planted.session_id, tmp_path / "session.pdf")
    assert any("encrypted" in m for m in pdf.messages)
    report = jobs.export_study_pdf(sam.db, study.id, tmp_path / "study.pdf")
    assert any("encrypted" in m for m in report.messages)
    text = pdf_text(tmp_path / "study.pdf")
    assert "cxsealed" not in text and SHOWN in text  # in the pain points' table
    assert "Most frequent pain point: “(encrypted" not in text  # but no key finding
    srt = jobs.export_session_transcript(sam.db, planted.session_id, "srt", tmp_path / "t.srt")
    assert SHOWN in srt.read_text() and "cxsealed" not in srt.read_text()
    # What is stored did not change: still sealed.
    assert session_detail(sam.db, planted.session_id) == stored

    # Once the key is opened here, the texts are back in the window and the exports.
    exported = tmp_path / "study.key"
    keys.export_study_key(created.locked, exported)
    study_protection.import_key(sam.db, sam.ctx.paths.root, exported, PASS)
    study_protection.open_texts(sam.db, sam.ctx.paths.root, study.id, PASS)
    again = SessionView(sam.ctx, planted.session_id)
    qtbot.addWidget(again)  # type: ignore[attr-defined]
    assert not again.sealed_notice.isVisibleTo(again)
    assert any(
        again.notes.item(r, 3).text() == PLANTED + " (note)" for r in range(again.notes.rowCount())
    )
    json.loads((tmp_path / "study.json").read_text())  # the earlier export is whole JSON
    written = jobs.export_study_csv(sam.db, study.id, csv_folder)
    assert not any("encrypted" in m for m in written.messages)
