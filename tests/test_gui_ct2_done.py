"""Issue 17's "done when", in the app by keyboard (keys go to whatever widget has the
focus): a study set to ctranslate2 in the Transcript tab transcribes a session with an
imported CTranslate2 folder (no .pt installed) through the same queue, with progress, and
Cancel stops it storing nothing; a two-voice recording gets speaker suggestions, shown as
suggestions, which the researcher confirms with one key for a range."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import requires

requires.module("PySide6")
requires.module("resemblyzer")
requires.programs("espeak-ng", "sox")

from PySide6.QtCore import Qt  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.services import transcript, transcription  # noqa: E402
from cxfield.storage.models import ResearchSession  # noqa: E402
from cxfield.transcribe.model_store import ModelStore  # noqa: E402
from tests.audio_support import FakeBackend  # noqa: E402
from tests.gui_support import focused, press, settle, show_active  # noqa: E402
from tests.speech_support import conversation  # noqa: E402
from tests.transcribe_support import fast_setup, session_with_recording, speech_like  # noqa: E402

pytestmark = [pytest.mark.qt, pytest.mark.slow, pytest.mark.timeout(280)]
SHOTS = os.environ.get("CXFIELD_SCREENSHOTS")


def _shots(widget: object, name: str) -> None:
    if not SHOTS:
        return
    for width, height in ((1366, 768), (1920, 1080)):
        widget.resize(width, height)  # type: ignore[attr-defined]
        settle()
        widget.grab().save(str(Path(SHOTS) / f"{name}-{width}x{height}.png"))  # type: ignore[attr-defined]


def _editor(qtbot: object, ctx: AppContext, session_id: str) -> object:
    from cxfield.gui.transcripts.playback import PlaybackWidget
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

    editor = TranscriptEditor(ctx, session_id, playback=PlaybackWidget(backend=FakeBackend()))
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    editor.resize(1366, 768)
    show_active(qtbot, editor)
    return editor


def test_ctranslate2_study_transcribes_cancels_and_gets_confirmed_speakers(
    qtbot: object, ctx: AppContext, engine_models: tuple[Path, Path]
) -> None:
    from cxfield.gui.transcripts.transcript_editor import COL_SPEAKER

    _, folder = engine_models
    store = ModelStore(ctx.paths.models)
    store.import_folder(folder, "test")  # as `cxfield models import DIR` does
    assert [m.engine for m in store.list()] == ["ctranslate2"]
    fast_setup(ctx)
    talk = conversation(["en-US+m3", "en-US+f3"])
    session_id, _ = session_with_recording(ctx, talk.samples, name="Family visits")
    long_id, _ = session_with_recording(ctx, speech_like(900.0), name="Family visits")
    with ctx.db.session() as db:  # both sessions in one study
        talk_session = db.get(ResearchSession, session_id)
        long_session = db.get(ResearchSession, long_id)
        assert talk_session is not None and long_session is not None
        talk_session.study_id = long_session.study_id
        db.add(talk_session)

    # the study's engine and speaker suggestions, chosen by keyboard in the Transcript tab
    editor = _editor(qtbot, ctx, long_id)
    editor.engine_combo.setFocus()  # type: ignore[attr-defined]
    settle()
    assert focused() is editor.engine_combo  # type: ignore[attr-defined]
    press(Qt.Key.Key_Down)
    press(Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)  # Suggest speakers
    qtbot.waitUntil(editor.speakers_check.isChecked)  # type: ignore[attr-defined]
    options = transcription.get_options(ctx.db, editor.study_id)  # type: ignore[attr-defined]
    assert options.engine == "ctranslate2" and options.speaker_labels
    assert transcription.get_options(ctx.db).engine == "openai-whisper"

    # batch through the queue with progress; Cancel stores nothing
    seen: list[float] = []
    editor.runner.progress.connect(lambda _j, done, total, _eta: seen.append(done / total))  # type: ignore[attr-defined]
    press(Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # Transcribe
    qtbot.waitUntil(lambda: "(ctranslate2)" in editor.status.text(), timeout=5000)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: bool(seen), timeout=120_000)  # type: ignore[attr-defined]
    assert editor.job_progress.isVisible() and editor.cancel_button.isVisible()  # type: ignore[attr-defined]
    editor.cancel_button.click()  # type: ignore[attr-defined]
    # the editor says so (it said "No transcript yet" over it)
    qtbot.waitUntil(lambda: "Cancelled" in editor.status.text(), timeout=60_000)  # type: ignore[attr-defined]
    assert transcript.segments(ctx.db, long_id) == []
    _shots(editor, "transcript-ct2-cancelled")
    (cancelled,) = transcription.list_jobs(ctx.db)
    assert cancelled.state == "cancelled" and cancelled.engine == "ctranslate2"
    assert seen[0] < 1.0
    editor.close()  # type: ignore[attr-defined]

    # the two-voice recording: transcribed with CT2, speakers suggested, marked as such
    editor = _editor(qtbot, ctx, session_id)
    editor.table.setFocus()  # type: ignore[attr-defined]
    settle()
    press(Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "Transcribed" in editor.status.text(), timeout=180_000)  # type: ignore[attr-defined]
    segments = transcript.segments(ctx.db, session_id)
    assert segments and all(s.speaker == "unknown" for s in segments)
    # a line over a pause (no voice turn under it) gets no suggestion
    assert sum(bool(s.speaker_suggested) for s in segments) >= 2
    table = editor.table  # type: ignore[attr-defined]
    shown = [table.item(r, COL_SPEAKER).text() for r in range(table.rowCount())]
    assert sum(text.endswith("?") for text in shown) == sum(
        bool(s.speaker_suggested) for s in segments
    )
    # (which role each line gets depends on the random model's segment boundaries)
    assert {"Interviewer?", "Participant?"} & set(shown)
    assert editor.suggestion_note.isVisible()  # type: ignore[attr-defined]
    assert "need checking" in editor.suggestion_note.text()  # type: ignore[attr-defined]
    # one key for the range: select every line, Ctrl+3 accepts the suggestions
    table.setFocus()
    table.setCurrentCell(0, COL_SPEAKER)
    settle()
    assert focused() is table
    for _ in range(table.rowCount() - 1):  # Shift+Down to the last line: the range
        press(Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert editor.selected_rows() == list(range(table.rowCount()))  # type: ignore[attr-defined]
    press(Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    confirmed = transcript.segments(ctx.db, session_id)
    assert [s.speaker for s in confirmed] == [s.speaker_suggested or "unknown" for s in segments]
    assert all(s.speaker_suggested is None for s in confirmed)
    _shots(editor, "transcript-ct2-confirmed")
    assert not any(table.item(r, COL_SPEAKER).text().endswith("?") for r in range(table.rowCount()))
    (done_job,) = [j for j in transcription.list_jobs(ctx.db) if j.state == "done"]
    assert done_job.engine == "ctranslate2"
