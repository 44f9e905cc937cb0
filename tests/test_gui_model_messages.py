"""What the app says about models: an offline download says what the CLI says (with the
app's button instead of a command), the Transcript tab points at Transcription → Models,
and Models… has a shortcut."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")
whisper = pytest.importorskip("whisper")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QInputDialog  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.cli import main  # noqa: E402
from tests.gui_support import press, show_active  # noqa: E402

pytestmark = pytest.mark.qt
OFFLINE = "Cannot download tiny: this computer is offline or cannot reach the model server"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_a: Any, **_k: Any) -> None:
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(whisper, "_download", no_network)


def test_offline_download_says_what_the_cli_says(
    qtbot: Any,
    ctx: AppContext,
    data_dir: Path,
    offline: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cxfield.gui.transcripts.models_page import ModelsPage

    assert main(["--data-dir", str(data_dir), "models", "download", "tiny"]) == 1
    cli = capsys.readouterr().err
    assert OFFLINE in cli and "cxfield models import PATH" in cli

    page = ModelsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("tiny", True))
    page.download_button.click()
    qtbot.waitUntil(lambda: page.task is None, timeout=10_000)
    shown = page.status.text()
    assert OFFLINE in shown and "Import .pt file…" in shown  # not "No model installed yet"
    assert cli.split(". Copy")[0].removeprefix("cxfield: error: ") in shown
    assert "cxfield models" not in shown and page.status.isVisible()


def test_transcript_tab_points_at_the_models_page(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.transcripts.transcript_editor import TranscriptEditor
    from tests.transcribe_support import session_with_recording, speech_like

    session_id, _ = session_with_recording(ctx, speech_like(3.0))
    editor = TranscriptEditor(ctx, session_id)
    qtbot.addWidget(editor)
    editor.transcribe_button.click()  # no model installed
    said = editor.status.text()
    assert "is not installed" in said and "Transcription → Models… (Ctrl+Shift+T)" in said
    assert "cxfield models" not in said


def test_models_has_a_shortcut(qtbot: Any, ctx: AppContext) -> None:
    from cxfield.gui.main_window import MainWindow
    from cxfield.gui.transcripts.models_page import ModelsPage

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    show_active(qtbot, window)
    press(Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    dialogs = [d for d in window.findChildren(QDialog) if d.findChild(ModelsPage)]
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    dialogs[0].close()
