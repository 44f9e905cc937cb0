"""Privacy → Export the laptop's recording key…: the key is saved to a 0600 file chosen in
a file dialog, the lost-key warning is said when the key is made, an existing file is
refused; the message fits at 1366×768 and 1920×1080."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QFileDialog  # noqa: E402

from cxfield.app import AppContext  # noqa: E402
from cxfield.privacy import keys  # noqa: E402
from tests.gui_support import SCREENS, fits_screen, settle, shoot, show_active  # noqa: E402

pytestmark = [pytest.mark.qt, pytest.mark.timeout(90)]


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_export_the_laptop_key_from_the_privacy_menu(
    qtbot: Any, ctx: AppContext, tmp_path: Path, monkeypatch: Any, screen: tuple[int, int]
) -> None:
    from cxfield.gui.main_window import MainWindow
    from tests.gui_support import shots_dir

    target = tmp_path / "laptop.key"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(*screen)
    show_active(qtbot, window)
    actions = window.laptop_key_actions
    assert actions.export_action in window.redaction_actions.menu.actions()
    actions.export_action.trigger()
    settle()
    box = actions.box
    assert box is not None and box.isVisible()
    # a new data directory encrypts: the key was made now, and the warning says so
    assert "cannot be opened" in box.text() and str(target) in box.text()
    assert (target.stat().st_mode & 0o777) == 0o600
    assert keys.has_laptop_key(ctx.paths.root, ctx.db.device_id)
    assert fits_screen(box, screen) == []
    shoot(box, shots_dir("atrest", tmp_path), f"export-key-{screen[0]}x{screen[1]}")
    box.accept()
    before = target.read_bytes()
    actions.export_action.trigger()  # the same file again: refused, nothing changed
    settle()
    assert actions.box is not None and "exists already" in actions.box.text()
    assert "cannot be opened" not in actions.box.text()  # said once, when made
    assert target.read_bytes() == before
    actions.box.accept()
