"""Edit study → Privacy, by keyboard only: create the study's key (the lost-key warning,
the offer to export it), turn encryption on, set retention; screenshots at 1366×768 and
1920×1080 with nothing cut off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.privacy import keys, study_protection  # noqa: E402
from cxfield.services import demo  # noqa: E402
from tests.gui_support import (  # noqa: E402
    SCREENS,
    fits_screen,
    focused,
    press,
    settle,
    shoot,
    show_active,
    type_text,
)

pytestmark = [pytest.mark.qt, pytest.mark.timeout(90)]


def _shots_dir(tmp_path: Path) -> Path:
    from tests.gui_support import shots_dir

    return shots_dir("crypto", tmp_path)


def test_create_key_encrypt_and_retention_by_keyboard(
    qtbot: Any, ctx: AppContext, tmp_path: Path, monkeypatch: Any
) -> None:
    from cxfield.gui.privacy.privacy_tab import CreateKeyDialog
    from cxfield.gui.study_editor import StudyEditorDialog

    study = demo.create_demo(ctx.db, 2)
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda _p, _t, text, *a: asked.append(text) or QMessageBox.StandardButton.Yes,
    )
    informed: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text, *a: informed.append(text))
    exported = tmp_path / "study.key"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(exported), ""))

    editor = StudyEditorDialog(ctx, study.id)
    qtbot.addWidget(editor)
    show_active(qtbot, editor)
    press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert editor.tabs.currentWidget() is editor.privacy
    assert (
        not editor.privacy.encrypt.isEnabled() and "No key yet" in editor.privacy.key_state.text()
    )
    shots: list[Path] = []

    errors: list[BaseException] = []

    def fill_in() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, CreateKeyDialog):
            return  # not open yet (a mnemonic clicks its button after a short animation)
        poll.stop()
        try:
            fill_in_dialog(dialog)
        except BaseException as exc:  # an assertion here must not leave the dialog open
            errors.append(exc)
            if dialog is not None:
                dialog.reject()

    def fill_in_dialog(dialog: Any) -> None:
        assert isinstance(dialog, CreateKeyDialog)
        assert (
            "Lost key = lost data" in dialog.findChildren(type(editor.privacy.key_state))[0].text()
        )
        dialog.resize(1366 // 2, 300)
        shots.append(shoot(dialog, _shots_dir(tmp_path), "create-key-dialog"))
        assert focused() is dialog.passphrase
        type_text("field passphrase 1")
        press(Qt.Key.Key_Tab)
        type_text("field passphrase 2")  # different: refused, focus back on the second
        press(Qt.Key.Key_Return)
        assert dialog.isVisible() and "differ" in dialog.message.text()
        focused().selectAll()  # type: ignore[attr-defined]
        type_text("field passphrase 1")
        press(Qt.Key.Key_Return)

    poll = QTimer()
    poll.setInterval(50)
    poll.timeout.connect(fill_in)
    poll.start()
    press(Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)  # Create &key…
    qtbot.waitUntil(lambda: bool(shots or errors) and not poll.isActive(), timeout=10000)
    poll.stop()
    qtbot.waitUntil(lambda: bool(informed or errors), timeout=10000)
    if errors:
        raise errors[0]
    assert shots, "the key dialog never opened"
    assert asked and "lost for good" in asked[0]  # the warning again, with the export offer
    assert exported.is_file() and informed and "still needs the passphrase" in informed[-1]
    locked = keys.parse_key(exported.read_text(), "x")
    keys.unlock(locked, "field passphrase 1")
    assert editor.privacy.encrypt.isEnabled() and editor.privacy.encrypt.isChecked()
    assert locked.key_id in editor.privacy.key_state.text()

    # Retention by keyboard: Alt+A to the audio days, Alt+T to the transcripts, Enter saves.
    show_active(qtbot, editor)  # the editor is active again once its dialogs closed
    press(Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert focused() is editor.privacy.audio_days
    focused().selectAll()  # type: ignore[attr-defined]
    type_text("30")
    press(Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    assert focused() is editor.privacy.transcript_days
    focused().selectAll()  # type: ignore[attr-defined]
    type_text("180")
    press(Qt.Key.Key_Return)
    assert not editor.isVisible()
    info = study_protection.get_protection(ctx.db, study.id)
    assert (info.encrypt, info.audio_days, info.transcript_days) == (True, 30, 180)


def test_turning_encryption_off_and_keep(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.study_editor import StudyEditorDialog

    study = demo.create_demo(ctx.db, 2)
    study_protection.create_key(ctx.db, ctx.paths.root, study.id, "passphrase-ok")
    study_protection.set_retention(ctx.db, study.id, audio_days=10)
    editor = StudyEditorDialog(ctx, study.id)
    qtbot.addWidget(editor)
    show_active(qtbot, editor)
    press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    press(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)  # &Encrypt toggles off
    qtbot.waitUntil(lambda: not editor.privacy.encrypt.isChecked(), timeout=3000)
    press(Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert focused() is editor.privacy.audio_days
    focused().selectAll()  # type: ignore[attr-defined]
    type_text("0")
    press(Qt.Key.Key_Down)  # below 0 is "Keep"
    assert editor.privacy.audio_days.text() == "Keep"
    press(Qt.Key.Key_Return)
    info = study_protection.get_protection(ctx.db, study.id)
    assert not info.encrypt and info.public_key and info.audio_days is None


def test_privacy_page_fits_both_screens(qtbot: Any, ctx: AppContext, tmp_path: Path) -> None:
    from cxfield.gui.study_editor import StudyEditorDialog

    study = demo.create_demo(ctx.db, 2)
    study_protection.create_key(ctx.db, ctx.paths.root, study.id, "passphrase-ok")
    study_protection.set_retention(ctx.db, study.id, audio_days=30, transcript_days=365)
    editor = StudyEditorDialog(ctx, study.id)
    qtbot.addWidget(editor)
    editor.show()
    editor.tabs.setCurrentWidget(editor.privacy)
    for size in SCREENS:
        editor.resize(*size)
        settle()
        shoot(editor, _shots_dir(tmp_path), f"edit-study-privacy-{size[0]}x{size[1]}")
        assert fits_screen(editor, size) == []
    assert editor.privacy.audio_days.value() == 30 and editor.privacy.encrypt.isChecked()


def test_open_app_checks_retention_once_a_day(qtbot: Any, ctx: AppContext) -> None:
    from datetime import timedelta

    from cxfield.domain.ids import utcnow
    from cxfield.gui.main_window import RETENTION_CHECK_MS, MainWindow
    from cxfield.privacy import retention
    from cxfield.storage.models import Recording
    from tests.privacy_support import plant_texts

    study = demo.create_demo(ctx.db, 4)
    planted = plant_texts(ctx.db, study.id, audio=b"RIFF" + b"z" * 100)
    with ctx.db.session() as db:
        from cxfield.domain.vocabulary import SessionStatus
        from cxfield.storage.models import ResearchSession

        session = db.get(ResearchSession, planted.session_id)
        assert session is not None
        session.status = SessionStatus.APPROVED
        db.add(session)
    study_protection.set_retention(ctx.db, study.id, audio_days=0)
    # It ran a day ago (at the last start): the hourly check runs it again now.
    ctx.db.set_setting(retention.LAST_RUN, (utcnow() - timedelta(days=1, minutes=1)).isoformat())
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    assert window.retention_timer.isActive()
    assert window.retention_timer.interval() == RETENTION_CHECK_MS
    window.retention_timer.timeout.emit()
    settle()
    with ctx.db.session() as db:
        recording = db.get(Recording, planted.recording_id)
        assert recording is not None and recording.state == "expired"
    assert "Retention deleted the audio of 1" in window.statusBar().currentMessage()


def test_redaction_settings_by_keyboard(qtbot: Any, ctx: AppContext, monkeypatch: Any) -> None:
    """The study's redaction settings in the Privacy tab: the review switch, case-number
    patterns and the word list, by keyboard; a bad pattern is refused and changes nothing."""
    from cxfield.gui.study_editor import StudyEditorDialog
    from cxfield.privacy import review

    study = demo.create_demo(ctx.db, 1)
    review.set_settings(ctx.db, study.id, review=True)
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: warned.append(text))

    editor = StudyEditorDialog(ctx, study.id)
    qtbot.addWidget(editor)
    show_active(qtbot, editor)
    press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert editor.tabs.currentWidget() is editor.privacy
    assert editor.privacy.review_redactions.isChecked()
    press(Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)  # Re&view: toggles it off
    assert focused() is editor.privacy.review_redactions
    qtbot.waitUntil(lambda: not editor.privacy.review_redactions.isChecked(), timeout=2000)
    press(Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    assert focused() is editor.privacy.case_patterns
    type_text("SNAP-([0-9")  # not a regular expression
    press(Qt.Key.Key_Return)
    assert len(warned) == 1 and editor.isVisible()
    assert review.get_settings(ctx.db, study.id).review  # nothing was written
    focused().selectAll()  # type: ignore[attr-defined]
    type_text(r"SNAP-\d{8}")
    press(Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    assert focused() is editor.privacy.words
    type_text("Eastside; Riverside")
    press(Qt.Key.Key_Return)
    assert not editor.isVisible(), warned
    saved = review.get_settings(ctx.db, study.id)
    assert not saved.review
    assert saved.case_patterns == (r"SNAP-\d{8}",)
    assert saved.words == ("Eastside", "Riverside")


def test_the_desktop_start_runs_retention_once_the_window_is_usable(
    qtbot: Any, ctx: AppContext, monkeypatch: Any
) -> None:
    """The desktop app opens its data behind the window without the retention check (it
    does not hold up the start), then runs it and says what went."""
    from cxfield.app import open_paths
    from cxfield.gui import application
    from cxfield.gui.main_window import MainWindow
    from cxfield.storage.models import Recording
    from tests.privacy_support import plant_texts

    study = demo.create_demo(ctx.db, 4)
    planted = plant_texts(ctx.db, study.id, audio=b"RIFF" + b"z" * 100)
    with ctx.db.engine.begin() as conn:
        from cxfield.storage.models import ResearchSession

        table = ResearchSession.__table__  # type: ignore[attr-defined]
        conn.execute(
            table.update().where(table.c.id == planted.session_id).values(status="approved")
        )
    study_protection.set_retention(ctx.db, study.id, audio_days=0)

    def state() -> str:
        with ctx.db.session() as db:
            recording = db.get(Recording, planted.recording_id)
            assert recording is not None
            return recording.state

    opened = open_paths(ctx.paths, retention_later=True)
    try:
        assert state() != "expired" and opened.messages == []
        said: list[str] = []
        monkeypatch.setattr(
            application.QMessageBox, "information", lambda _w, _t, m: said.append(m)
        )
        window = MainWindow(opened)
        qtbot.addWidget(window)
        monkeypatch.setattr(window.capture_actions, "offer_resume", lambda: None)
        application._retention_then_after_start(window, opened)
        assert state() == "expired"
        assert len(said) == 1 and "Retention deleted the audio of 1" in said[0]
    finally:
        opened.close()


def test_the_audio_clock_by_keyboard(qtbot: Any, ctx: AppContext, tmp_path: Path) -> None:
    """Alt+L moves to the audio's clock; Down chooses "when its transcript is checked";
    Enter saves it (with the days); the page shows it again, nothing cut off."""
    from cxfield.gui.study_editor import StudyEditorDialog
    from tests.gui_support import shots_dir

    study = demo.create_demo(ctx.db, 2)
    study_protection.set_retention(ctx.db, study.id, audio_days=30, transcript_days=365)
    editor = StudyEditorDialog(ctx, study.id)
    qtbot.addWidget(editor)
    show_active(qtbot, editor)
    # Alt+R: the Privacy tab (its tab keeps its whole text once the focus moves on)
    press(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    press(Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    assert focused() is editor.privacy.audio_clock
    assert editor.privacy.audio_clock.currentData() == "approved"
    press(Qt.Key.Key_Down)
    assert editor.privacy.audio_clock.currentData() == "checked"
    for size in SCREENS:
        editor.resize(*size)
        settle()
        shoot(editor, shots_dir("a14", tmp_path), f"edit-study-privacy-clock-{size[0]}x{size[1]}")
        assert fits_screen(editor, size) == []
    press(Qt.Key.Key_Return)
    assert not editor.isVisible()
    info = study_protection.get_protection(ctx.db, study.id)
    assert (info.audio_days, info.audio_clock, info.transcript_days) == (30, "checked", 365)
    again = StudyEditorDialog(ctx, study.id)
    qtbot.addWidget(again)
    assert again.privacy.audio_clock.currentData() == "checked"
