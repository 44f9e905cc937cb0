"""The transcript editor and the models page, offscreen, with the real services and the
worker process (small random checkpoint) and the audio helper's fake output device."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import transcript  # noqa: E402
from cxfield.storage.models import Note, ResearchSession, Stage, Step  # noqa: E402
from cxfield.transcribe.model_store import ModelStore  # noqa: E402
from tests.audio_support import FakeBackend  # noqa: E402
from tests.transcribe_support import (  # noqa: E402
    fast_setup,
    place,
    session_with_recording,
    speech_like,
)

pytestmark = pytest.mark.qt
SHOTS = os.environ.get("CXFIELD_SCREENSHOTS")


def _shot(widget: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))  # type: ignore[attr-defined]


def _session(ctx: AppContext) -> tuple[str, str, str]:
    audio = place(80, [(2.0, speech_like(30.0)), (45.0, speech_like(30.0, 1))])
    session_id, rec_id = session_with_recording(ctx, audio)
    with ctx.db.session() as db:
        session = db.get(ResearchSession, session_id)
        assert session is not None
        stage = Stage(study_id=session.study_id, name="Arrive")
        db.add(stage)
        db.flush()
        step = Step(study_id=session.study_id, stage_id=stage.id, name="Check in at the desk")
        db.add(step)
        db.flush()
        db.add(
            Note(session_id=session_id, text="Long queue, participant sighs", tags=["pain"],
                 recording_id=rec_id, recording_offset_frames=40 * 16000)
        )  # fmt: skip
        return session_id, rec_id, step.id


def test_transcript_editor_end_to_end(
    qtbot: object,
    ctx: AppContext,
    whisper_checkpoint: Path,
    tmp_path: Path,
) -> None:
    from cxfield.gui.transcripts.playback import PlaybackWidget
    from cxfield.gui.transcripts.transcript_editor import COL_TEXT, COL_TIME, TranscriptEditor

    ModelStore(ctx.paths.models).import_file(whisper_checkpoint, "test")
    fast_setup(ctx)
    session_id, _, step_id = _session(ctx)
    playback = PlaybackWidget(backend=FakeBackend())
    editor = TranscriptEditor(ctx, session_id, playback=playback)
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    editor.resize(1200, 720)
    editor.show()
    assert [type(r).__name__ for r in editor.rows] == ["NoteMark"]  # only the note so far
    _shot(editor, "transcript-empty")

    # options chosen in the editor apply to the study, the model stays the installation's
    editor.language_combo.setCurrentIndex(editor.language_combo.findData("es"))
    from cxfield.services import transcription

    study_id = editor.study_id
    assert transcription.get_options(ctx.db, study_id).language == "es"
    assert transcription.get_options(ctx.db, study_id).model == "test"
    assert transcription.get_options(ctx.db).language is None
    editor.transcribe()
    qtbot.waitUntil(lambda: not editor.runner.running, timeout=60_000)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: "Transcribed" in editor.status.text(), timeout=5_000)  # type: ignore[attr-defined]
    segments = [r for r in editor.rows if type(r).__name__ == "SegmentView"]
    assert segments
    note_row = next(i for i, r in enumerate(editor.rows) if type(r).__name__ == "NoteMark")
    assert editor.table.item(note_row, 1).text() == "Note"
    before = [r for r in editor.rows[:note_row] if type(r).__name__ == "SegmentView"]
    assert all(s.start_s <= 40.0 for s in before)  # the note sits at its time

    # edit a line: marked, model's text kept
    row = editor.rows.index(segments[0])
    editor.table.item(row, COL_TEXT).setText("We waited two hours before anyone called us.")
    stored = transcript.segments(ctx.db, session_id)[0]
    assert stored.edited and stored.original_text == segments[0].text
    assert editor.table.item(row, 3).text() == "✎ edited"

    # speaker for a range in one click
    editor.table.selectAll()
    editor.speaker_buttons["participant"].click()
    assert {s.speaker for s in transcript.segments(ctx.db, session_id)} == {"participant"}

    # click a time: playback jumps there; the current line follows playback
    last = max(i for i, r in enumerate(editor.rows) if type(r).__name__ == "SegmentView")
    editor._cell_clicked(last, COL_TIME)
    assert playback.position_s == pytest.approx(editor.rows[last].start_s, abs=0.05)
    assert editor.current_row == last
    editor.follow(editor.rows[row].start_s + 0.01)
    assert editor.current_row == row
    assert editor.table.item(row, COL_TEXT).font().bold()

    # select words, make a quote for a journey step
    editor.table.clearSelection()
    editor.table.selectRow(row)
    cursor = editor.quote_text.textCursor()
    cursor.setPosition(3)
    cursor.setPosition(9, cursor.MoveMode.KeepAnchor)
    editor.quote_text.setTextCursor(cursor)
    assert editor.step_combo.currentData() == step_id
    editor.quote_button.click()
    assert "Quote added" in editor.status.text()
    detail = transcript.notes_on_recording(ctx.db, session_id)
    assert any(m.text == "waited" and "quote" in m.tags for m in detail)
    editor.table.selectRow(row)
    _shot(editor, "transcript-editor")

    written = editor.export("srt", tmp_path / "t.srt")
    assert written is not None and " --> " in written.read_text()
    editor.close()


def test_models_page_import_with_progress(
    qtbot: object,
    ctx: AppContext,
    whisper_checkpoint: Path,
    tmp_path: Path,
) -> None:
    from cxfield.gui.transcripts.models_page import ModelsPage

    page = ModelsPage(ctx)
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    page.resize(860, 420)
    page.show()
    assert page.table.rowCount() == 0 and "No model installed" in page.status.text()
    steps: list[float] = []
    task = page.import_file(whisper_checkpoint, "field-small")
    task.progress.connect(lambda done, total: steps.append(done / total))
    assert page.progress.isVisible() and not page.import_button.isEnabled()
    qtbot.waitUntil(lambda: page.task is None, timeout=30_000)  # type: ignore[attr-defined]
    assert page.table.rowCount() == 1
    assert page.table.item(0, 0).text() == "field-small"
    assert page.table.item(0, 3).text() == "Yes"
    assert "Installed field-small" in page.status.text()
    page.table.selectRow(0)
    page.default_button.click()
    assert "field-small" in page.default_label.text()
    _shot(page, "models-page")

    broken = tmp_path / "base.pt"
    broken.write_bytes(b"\0" * 4096)
    page.import_file(broken)
    qtbot.waitUntil(lambda: page.task is None, timeout=30_000)  # type: ignore[attr-defined]
    assert "not the official base model" in page.status.text()
    assert page.table.rowCount() == 1
    _shot(page, "models-page-error")


def test_main_window_opens_models_and_transcript(qtbot: object, ctx: AppContext) -> None:
    from cxfield.gui.main_window import MainWindow
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

    session_id, _, _ = _session(ctx)
    window = MainWindow(ctx)
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    menu = next(a for a in window.menuBar().actions() if a.text() == "&Transcription")
    labels = [a.text() for a in menu.menu().actions()]  # type: ignore[attr-defined]
    assert labels == ["&Models…", "&Transcript of the selected session…"]
    window.session_table.selectRow(0)
    window._open_transcript()
    editors = window.findChildren(TranscriptEditor)
    assert [e.session_id for e in editors] == [session_id]
    assert editors[0].runner is window.transcription_runner
    for editor in editors:
        editor.close()


def test_session_view_has_a_transcript_tab_sharing_its_player(
    qtbot: object, ctx: AppContext
) -> None:
    from cxfield.gui.session_view import SessionView
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

    session_id, _, _ = _session(ctx)
    view = SessionView(ctx, session_id, audio_backend=FakeBackend())
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    titles = [view.tabs.tabText(i) for i in range(view.tabs.count())]
    assert "&Transcript" in titles
    editor = view.tabs.widget(titles.index("&Transcript"))
    assert isinstance(editor, TranscriptEditor)
    assert editor.playback is view.player and view.player.player is not None
    view.tabs.setCurrentWidget(editor)
    view.show()
    _shot(view, "session-view-transcript")
    view.close()
