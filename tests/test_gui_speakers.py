"""Speaker suggestions in the transcript editor, by keyboard (keys go to whatever widget has
the focus): a suggestion shows with a question mark, Ctrl+3 accepts the suggestions of a
selected range, Ctrl+1 overrides one line; and the models page's engine controls.
Screenshots at 1366×768 and 1920×1080 when CXFIELD_SCREENSHOTS names a folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.domain.vocabulary import Speaker  # noqa: E402
from cxfield.services import transcript, transcription  # noqa: E402
from cxfield.storage.models import TranscriptSegment  # noqa: E402
from tests.audio_support import FakeBackend  # noqa: E402
from tests.gui_support import focused, press, settle, show_active  # noqa: E402
from tests.transcribe_support import place, session_with_recording, speech_like  # noqa: E402

pytestmark = pytest.mark.qt
SHOTS = os.environ.get("CXFIELD_SCREENSHOTS")
LINES = [
    ("Good morning, thank you for coming in today.", "interviewer"),
    ("Hello. Thanks for having me.", "participant"),
    ("Could you tell me how your visit to the benefits office went?", "interviewer"),
    ("I came in at eight and the queue was already out of the door.", "participant"),
    ("What happened when you reached the front desk?", "interviewer"),
    ("Nobody told me which form I needed, so I filled in two of them.", "participant"),
]


def _shot(widget: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))  # type: ignore[attr-defined]


def _transcript_with_suggestions(ctx: AppContext) -> str:
    session_id, rec_id = session_with_recording(ctx, place(40, [(1.0, speech_like(30.0))]))
    with ctx.db.session() as db:
        for i, (text, who) in enumerate(LINES):
            db.add(
                TranscriptSegment(
                    recording_id=rec_id, session_id=session_id, start_s=1.0 + 5 * i,
                    end_s=5.5 + 5 * i, text=text, speaker_suggested=Speaker(who),
                )
            )  # fmt: skip
    return session_id


def test_suggestions_are_confirmed_by_keyboard(qtbot: object, ctx: AppContext) -> None:
    from cxfield.gui.transcripts.playback import PlaybackWidget
    from cxfield.gui.transcripts.transcript_editor import COL_SPEAKER, TranscriptEditor

    session_id = _transcript_with_suggestions(ctx)
    editor = TranscriptEditor(ctx, session_id, playback=PlaybackWidget(backend=FakeBackend()))
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    show_active(qtbot, editor)
    assert editor.table.item(0, COL_SPEAKER).text() == "Interviewer?"
    assert editor.suggestion_note.isVisible() and "need checking" in editor.suggestion_note.text()
    for size in ((1366, 768), (1920, 1080)):
        editor.resize(*size)
        settle()
        _shot(editor, f"transcript-suggestions-{size[0]}x{size[1]}")
    editor.table.setFocus()
    editor.table.setCurrentCell(0, COL_SPEAKER)
    settle()
    assert focused() is editor.table
    # Shift+Down three times selects lines 1-4; Ctrl+3 accepts their suggestions
    for _ in range(3):
        press(Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    press(Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    settle()
    stored = transcript.segments(ctx.db, session_id)
    assert [s.speaker for s in stored[:4]] == [who for _, who in LINES[:4]]
    assert all(s.speaker_suggested is None for s in stored[:4])
    assert stored[4].speaker == "unknown" and stored[4].speaker_suggested == "interviewer"
    assert editor.table.item(0, COL_SPEAKER).text() == "Interviewer"
    # a wrong suggestion: the researcher overrides it with Ctrl+2 on the focused table
    editor.table.setFocus()
    editor.table.setCurrentCell(3, COL_SPEAKER)
    settle()
    press(Qt.Key.Key_Down)  # the next line alone is selected
    assert editor.selected_rows() == [4]
    press(Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    settle()
    stored = transcript.segments(ctx.db, session_id)
    assert stored[4].speaker == "participant" and stored[4].speaker_suggested is None
    # the study's switch for suggestions and its engine are saved from the editor
    editor.speakers_check.setChecked(True)
    editor.engine_combo.setCurrentIndex(editor.engine_combo.findData("ctranslate2"))
    options = transcription.get_options(ctx.db, editor.study_id)
    assert options.speaker_labels and options.engine == "ctranslate2"
    assert transcription.get_options(ctx.db).engine == "openai-whisper"


def test_models_page_engine_controls(
    qtbot: object, ctx: AppContext, engine_models: tuple[Path, Path]
) -> None:
    from cxfield.gui.transcripts.models_page import ModelsPage
    from cxfield.transcribe.model_store import ModelStore

    checkpoint, folder = engine_models
    ModelStore(ctx.paths.models).import_file(checkpoint, "small-test")
    page = ModelsPage(ctx)
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    page.resize(980, 560)
    page.show()
    task = page.import_folder(folder, "small-test")
    qtbot.waitUntil(lambda: page.task is None, timeout=60_000)  # type: ignore[attr-defined]
    assert task is not None and "CTranslate2" in page.status.text()
    engines = [page.table.item(r, 4).text() for r in range(page.table.rowCount())]
    assert sorted(engines) == ["CTranslate2", "openai-whisper"]
    # the .pt row can be converted, the CT2 row cannot
    for row in range(page.table.rowCount()):
        page.table.selectRow(row)
        assert page.convert_button.isEnabled() == (page.selected_engine() == "openai-whisper")
    page.engine_combo.setCurrentIndex(page.engine_combo.findData("ctranslate2"))
    assert transcription.get_options(ctx.db).engine == "ctranslate2"
    assert "CTranslate2 engine" in page.default_label.text()
    page.speakers_check.setChecked(True)
    assert transcription.get_options(ctx.db).speaker_labels
    for size in ((1366, 768), (1920, 1080)):
        page.resize(*size)
        settle()
        _shot(page, f"models-page-{size[0]}x{size[1]}")


def test_the_study_sets_how_many_voices_by_keyboard(qtbot: object, ctx: AppContext) -> None:
    """A family or an interpreter: the study's speaker suggestions tell three voices apart
    (Alt+K switches suggestions on, Alt+V goes to the number of voices)."""
    from cxfield.gui.transcripts.playback import PlaybackWidget
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

    session_id = _transcript_with_suggestions(ctx)
    editor = TranscriptEditor(ctx, session_id, playback=PlaybackWidget(backend=FakeBackend()))
    qtbot.addWidget(editor)  # type: ignore[attr-defined]
    show_active(qtbot, editor)
    assert editor.voices_spin.value() == 2 and not editor.voices_spin.isEnabled()
    editor.table.setFocus()
    settle()
    press(Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)  # a mnemonic clicks after 100 ms
    qtbot.waitUntil(editor.speakers_check.isChecked)  # type: ignore[attr-defined]
    assert editor.voices_spin.isEnabled()
    press(Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    assert focused() is editor.voices_spin
    press(Qt.Key.Key_Up)
    options = transcription.get_options(ctx.db, editor.study_id)
    assert options.speaker_labels and options.speakers == 3
    assert transcription.get_options(ctx.db).speakers == 2  # the installation's stays
    # what a transcription of this study asks the worker for
    from cxfield.services.speakers import speaker_settings

    settings = speaker_settings(ctx.db, session_id, options)
    assert settings is not None and settings.speakers == 3
    for size in ((1366, 768), (1920, 1080)):
        editor.resize(*size)
        settle()
        _shot(editor, f"transcript-voices-{size[0]}x{size[1]}")
    # a new editor on the study shows its number of voices
    again = TranscriptEditor(ctx, session_id, playback=PlaybackWidget(backend=FakeBackend()))
    qtbot.addWidget(again)  # type: ignore[attr-defined]
    assert again.voices_spin.value() == 3 and again.voices_spin.isEnabled()


def test_models_page_sets_the_installations_number_of_voices(
    qtbot: object, ctx: AppContext
) -> None:
    from cxfield.gui.transcripts.models_page import ModelsPage

    page = ModelsPage(ctx)
    qtbot.addWidget(page)  # type: ignore[attr-defined]
    show_active(qtbot, page)
    page.table.setFocus()
    settle()
    press(Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)  # Suggest speakers (Alt+S: Skip silence)
    qtbot.waitUntil(page.speakers_check.isChecked)  # type: ignore[attr-defined]
    press(Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)  # Voices
    assert focused() is page.voices_spin
    press(Qt.Key.Key_Up)
    press(Qt.Key.Key_Up)
    assert transcription.get_options(ctx.db).speakers == 4
    assert "4 voices" in page.status.text()


def _mnemonics(widget: object) -> list[str]:
    """The Alt+letter of every button, check box and label with a buddy in ``widget``."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    letters = []
    children = [*widget.findChildren(QAbstractButton), *widget.findChildren(QLabel)]  # type: ignore[attr-defined]
    for child in children:
        if isinstance(child, QLabel) and child.buddy() is None:
            continue
        text = child.text().replace("&&", "")
        if "&" in text:
            letters.append(text[text.index("&") + 1].lower())
    return letters


def test_every_alt_key_on_the_speaker_screens_is_unambiguous(
    qtbot: object, ctx: AppContext
) -> None:
    """Two fields with one Alt+letter make the key only cycle the focus between them (Alt+S
    was both Skip silence and Suggest speakers, Alt+V both Verify and Interviewer voice)."""
    from cxfield.gui.transcripts.models_page import ModelsPage
    from cxfield.gui.transcripts.playback import PlaybackWidget
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor

    page = ModelsPage(ctx)
    editor = TranscriptEditor(
        ctx, _transcript_with_suggestions(ctx), playback=PlaybackWidget(backend=FakeBackend())
    )
    for widget in (page, editor):
        qtbot.addWidget(widget)  # type: ignore[attr-defined]
        letters = _mnemonics(widget)
        assert len(letters) >= 8
        assert sorted(letters) == sorted(set(letters)), letters
