"""The study JSON export is written one session at a time, yet it is the same document, byte
for byte, as ``json.dumps(document(...), ensure_ascii=False)``; cancelling part-way leaves
no file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from cxfield.app import AppContext
from cxfield.export import jobs
from cxfield.export.json_doc import document
from cxfield.export.layout import ExportCancelled
from cxfield.services import demo
from cxfield.storage.models import Note, ResearchSession

FIXED = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)


def test_streamed_json_is_the_document_byte_for_byte(ctx: AppContext, tmp_path: Path) -> None:
    study = demo.create_demo(ctx.db, 260, seed=3)  # > 200: the cancel check runs twice
    with ctx.db.session() as db:
        first = db.exec(select(ResearchSession).where(ResearchSession.study_id == study.id))
        session = next(iter(first))
        # non-ASCII text stays as it is (ensure_ascii=False), quotes and newlines escaped
        db.add(Note(session_id=session.id, text='Zoë: “the queue” —\n"line two" 中文 \\ ok'))
    out = tmp_path / "study.json"
    checks: list[int] = []

    def cancelled() -> bool:
        checks.append(1)
        return False

    jobs.export_study_json(ctx.db, study.id, out, cancelled=cancelled, now=FIXED)
    text = out.read_text(encoding="utf-8")

    rows, _ = jobs._load(ctx.db, study.id, None)
    expected = json.dumps(document(rows, FIXED), ensure_ascii=False) + "\n"
    assert text == expected
    doc = json.loads(text)
    assert list(doc) == [
        "format", "format_version", "exported_at", "filters", "study", "stages", "sites",
        "researchers", "participants", "sessions",
    ]  # fmt: skip
    assert len(doc["sessions"]) == 260 and doc["exported_at"].startswith("2026-05-04T10:30")
    assert "Zoë: “the queue”" in text and "中文" in text
    assert len(checks) == 3  # after loading, and at sessions 0 and 200


def test_json_export_of_no_sessions_is_still_the_document(ctx: AppContext, tmp_path: Path) -> None:
    study = demo.create_demo(ctx.db, 3, seed=5)
    out = tmp_path / "none.json"
    request = jobs.FilterRequest(date_from="2001-01-01", date_to="2001-12-31")
    result = jobs.export_study_json(ctx.db, study.id, out, request, now=FIXED)
    assert result.messages and "No sessions match" in result.messages[0]
    rows, _ = jobs._load(ctx.db, study.id, request)
    text = out.read_text(encoding="utf-8")
    assert text == json.dumps(document(rows, FIXED), ensure_ascii=False) + "\n"
    assert json.loads(text)["sessions"] == []


def test_cancelling_while_sessions_are_written_leaves_no_file(
    ctx: AppContext, tmp_path: Path
) -> None:
    study = demo.create_demo(ctx.db, 230, seed=4)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "study.json"
    calls: list[int] = []

    def cancelled() -> bool:  # after loading and at session 0: go on; at session 200: stop
        calls.append(1)
        return len(calls) == 3

    with pytest.raises(ExportCancelled):
        jobs.export_study_json(ctx.db, study.id, out, cancelled=cancelled, now=FIXED)
    assert len(calls) == 3 and not out.exists()
    assert list(out.parent.iterdir()) == []  # no temporary file left behind either
