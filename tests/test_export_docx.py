"""A session's transcript as a Word document: read back with python-docx, converted to
PDF by LibreOffice and read again (it opens), and written by `transcribe --format docx`."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import col, select

from cxfield.app import AppContext, open_app
from cxfield.domain.errors import NotFoundError
from cxfield.export import jobs
from cxfield.services import demo, transcript
from cxfield.storage.models import Note, Recording, ResearchSession, Step, TranscriptSegment
from cxfield.transcribe.model_store import ModelStore
from tests.conftest import cli_env
from tests.export_support import ARABIC, CHINESE, SPANISH, has_words, pdf_text
from tests.test_cli import run
from tests.transcribe_support import fast_setup, place, session_with_recording, speech_like

LINES = [
    (2.0, "interviewer", "How was your visit today?"),
    (6.0, "participant", SPANISH),
    (12.0, "participant", CHINESE),
    (75.0, "participant", ARABIC),
    (90.0, "unknown", "Then the café was closed."),
]


@pytest.fixture
def session(ctx: AppContext) -> ResearchSession:
    """A demo interview with a transcript in four scripts, one line edited, and notes."""
    study = demo.create_demo(ctx.db, 4, seed=3)
    with ctx.db.session() as db:
        found = db.exec(
            select(ResearchSession)
            .where(ResearchSession.study_id == study.id, ResearchSession.mode == "interview")
            .order_by(col(ResearchSession.started_at))
        ).first()
        assert found is not None
        wait = db.exec(select(Step).where(Step.study_id == study.id, Step.name == "Wait")).one()
        rec = Recording(session_id=found.id, path="recordings/t.wav", duration_s=120.0,
                        started_at=found.started_at)  # fmt: skip
        db.add(rec)
        db.flush()
        for start, speaker, text in LINES:
            db.add(TranscriptSegment(recording_id=rec.id, session_id=found.id, start_s=start,
                                     end_s=start + 4, text=text, speaker=speaker))  # fmt: skip
        db.add(Note(session_id=found.id, step_id=wait.id, text="Looked at the clock again",
                    tags=["barrier"], recording_id=rec.id, recording_offset_frames=16000 * 80,
                    session_offset_ms=80_000))  # fmt: skip
    # an approved or rejected session is read-only (its transcript cannot be edited): the
    # demo may have made this one approved, so it is put back to submitted first
    with ctx.db.engine.begin() as conn:
        table = ResearchSession.__table__  # type: ignore[attr-defined]
        conn.execute(table.update().where(table.c.id == found.id).values(status="submitted"))
    edited = transcript.segments(ctx.db, found.id)[0]
    transcript.edit_text(ctx.db, edited.id, "How was your visit to the office today?")
    return found


def test_docx_has_speakers_times_notes_and_edits(
    ctx: AppContext, session: ResearchSession, tmp_path: Path
) -> None:
    out = tmp_path / "t.docx"
    result = jobs.export_session_docx(ctx.db, session.id, out)
    assert result.paths == [out]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    lines = [p for p in paragraphs if p.startswith("[")]
    segments = [p for p in lines if "Note" not in p.split("]")[1][:6]]
    assert len(segments) == len(LINES)
    assert segments[0] == "[00:02] Interviewer: How was your visit to the office today?  ✎ edited"
    assert segments[1] == f"[00:06] Participant: {SPANISH}"
    assert segments[3] == f"[01:15] Participant: {ARABIC}"
    assert segments[4] == "[01:30] Then the café was closed."  # unknown speaker: no label
    assert sum("edited" in p for p in segments) == 1
    # notes at their times, between the lines, with step and tags
    note = "[01:20] Note (Arrive › Wait): Looked at the clock again  #barrier"
    assert note in lines
    assert lines.index(note) == lines.index(segments[3]) + 1
    marks = transcript.notes_on_recording(ctx.db, session.id)
    assert len(lines) == len(LINES) + len(marks)
    times = [p[1 : p.index("]")] for p in lines]
    as_seconds = [int(t.split(":")[0]) * 60 + int(t.split(":")[1]) for t in times]
    assert as_seconds == sorted(as_seconds)


def _suggest(ctx: AppContext, session_id: str, start_s: float, speaker: str) -> None:
    """A speaker suggested from the voices (not confirmed) for the line at ``start_s``."""
    with ctx.db.session() as db:
        row = db.exec(
            select(TranscriptSegment).where(
                TranscriptSegment.session_id == session_id, TranscriptSegment.start_s == start_s
            )
        ).one()
        row.speaker_suggested = speaker  # type: ignore[assignment]
        db.add(row)


def test_docx_and_pdf_write_a_suggested_speaker_as_a_suggestion(
    ctx: AppContext, session: ResearchSession, tmp_path: Path
) -> None:
    _suggest(ctx, session.id, 90.0, "participant")
    out = tmp_path / "t.docx"
    jobs.export_session_docx(ctx.db, session.id, out)
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    assert "[01:30] Participant (suggested): Then the café was closed." in paragraphs
    assert f"[00:06] Participant: {SPANISH}" in paragraphs  # a confirmed one stays plain
    pdf = tmp_path / "s.pdf"
    jobs.export_session_pdf(ctx.db, session.id, pdf)
    assert has_words(pdf_text(pdf), "Participant (suggested)")


def test_docx_opens_in_libreoffice(
    ctx: AppContext, session: ResearchSession, tmp_path: Path
) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    out = tmp_path / "t.docx"
    jobs.export_session_docx(ctx.db, session.id, out)
    pdf = convert(soffice, out, "pdf", tmp_path)
    text = pdf_text(pdf)
    for words in ("Interviewer: How was your visit to the office today?", SPANISH, ARABIC,
                  CHINESE, "Looked at the clock again", "edited", "Confidential"):  # fmt: skip
        assert has_words(text, words), words


def convert(soffice: str, path: Path, fmt: str, tmp_path: Path) -> Path:
    """Convert with LibreOffice in its own profile (never a shared one) and a time limit."""
    profile = tmp_path / "lo-profile"
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", fmt,
         "--outdir", str(tmp_path / "converted"), str(path)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    converted = tmp_path / "converted" / f"{path.stem}.{fmt.split(':')[0]}"
    assert done.returncode == 0 and converted.is_file(), done.stdout + done.stderr
    return converted


def test_no_transcript_is_refused_and_nothing_written(ctx: AppContext, tmp_path: Path) -> None:
    study = demo.create_demo(ctx.db, 2, seed=1)
    with ctx.db.session() as db:
        first = db.exec(select(ResearchSession).where(ResearchSession.study_id == study.id)).first()
        assert first is not None
    with pytest.raises(NotFoundError, match="no transcript"):
        jobs.export_session_docx(ctx.db, first.id, tmp_path / "t.docx")
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


@pytest.mark.slow
def test_transcribe_session_format_docx(data_dir: Path, whisper_checkpoint: Path) -> None:
    ctx = open_app(data_dir)
    try:
        ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
        fast_setup(ctx)
        session_id, _ = session_with_recording(ctx, place(12, [(1.0, speech_like(8.0))]))
    finally:
        ctx.close()
    out = data_dir.parent / "t.docx"
    wrong = run("transcribe", "--session", session_id, "--format", "docx", data_dir=data_dir)
    assert wrong.returncode != 0 and "--out" in wrong.stderr and "Queued" not in wrong.stderr
    done = run("transcribe", "--session", session_id, "--format", "docx", "--out", str(out),
               data_dir=data_dir)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ctx = open_app(data_dir)
    try:
        stored = transcript.segments(ctx.db, session_id)
    finally:
        ctx.close()
    assert stored
    lines = [p.text for p in Document(str(out)).paragraphs if p.text.startswith("[")]
    assert len(lines) == len(stored)
    assert all(s.text.strip() in line for s, line in zip(stored, lines, strict=True))


def test_docx_format_needs_a_session(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cxfield", "--data-dir", str(tmp_path / "d"), "transcribe",
         str(tmp_path / "x.wav"), "--format", "docx", "--out", str(tmp_path / "x.docx")],
        capture_output=True, text=True, env=cli_env(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 or done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "--session" in done.stderr
    assert not (tmp_path / "x.docx").exists()


@pytest.mark.qt
def test_transcript_editor_exports_docx(
    qtbot: object, ctx: AppContext, session: ResearchSession, tmp_path: Path, monkeypatch: object
) -> None:
    pytest.importorskip("PySide6")
    import wave

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QFileDialog

    from cxfield.gui.transcripts.playback import PlaybackWidget
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor
    from tests.audio_support import FakeBackend

    wav = ctx.paths.root / "recordings" / "t.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(wav), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(b"\0\0" * 16000)
    out = tmp_path / "from-editor.docx"
    asked: list[str] = []

    def save_as(_parent: object, title: str, suggested: str) -> tuple[str, str]:
        asked.append(suggested)
        return str(out), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)  # type: ignore[attr-defined]
    editor = TranscriptEditor(ctx, session.id, playback=PlaybackWidget(backend=FakeBackend()))
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    editor.resize(1366, 768)
    editor.show()
    button = editor.export_buttons["docx"]
    assert button.text() == "DOCX"
    button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is button)  # type: ignore[attr-defined]
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)  # type: ignore[attr-defined]
    assert asked and asked[0].endswith(".docx")
    assert out.is_file() and f"Exported {out}" in editor.status.text()
    texts = [p.text for p in Document(str(out)).paragraphs]
    assert f"[00:06] Participant: {SPANISH}" in texts
    editor.close()
