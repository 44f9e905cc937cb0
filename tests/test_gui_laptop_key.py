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


def _privacy_window(qtbot: Any, ctx: AppContext, screen: tuple[int, int]) -> Any:
    from cxfield.gui.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(*screen)
    show_active(qtbot, window)
    return window


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_export_the_laptop_key_from_the_privacy_menu(
    qtbot: Any, ctx: AppContext, tmp_path: Path, monkeypatch: Any, screen: tuple[int, int]
) -> None:
    from tests.gui_support import shots_dir

    target = tmp_path / "laptop.key"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window = _privacy_window(qtbot, ctx, screen)
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


@pytest.mark.parametrize("screen", SCREENS, ids=lambda s: f"{s[0]}x{s[1]}")
def test_import_a_recording_key_from_the_privacy_menu(
    qtbot: Any, ctx: AppContext, tmp_path: Path, monkeypatch: Any, screen: tuple[int, int]
) -> None:
    """The key saved on the old laptop, imported on the new one from a file dialog: the new
    laptop holds the same key; another laptop's key over it is refused, nothing changed; a
    file that is no key says so in one line."""
    from cxfield.app import open_app
    from tests.gui_support import shots_dir

    old_root = tmp_path / "old-laptop"
    old_root.mkdir()
    old = open_app(old_root)
    try:
        saved = tmp_path / "old.key"
        old_key, _ = keys.laptop_key_made(old.paths.root, old.db.device_id)
        keys.export_laptop_key(old.paths.root, old.db.device_id, saved)
    finally:
        old.close()
    chosen = [saved]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(chosen[0]), ""))
    window = _privacy_window(qtbot, ctx, screen)
    actions = window.laptop_key_actions
    assert actions.import_action in window.redaction_actions.menu.actions()
    actions.import_action.trigger()
    settle()
    box = actions.box
    assert box is not None and box.isVisible() and "is kept in" in box.text(), box.text()
    assert fits_screen(box, screen) == []
    shoot(box, shots_dir("atrest", tmp_path), f"import-key-{screen[0]}x{screen[1]}")
    box.accept()
    here, made = keys.laptop_key_made(ctx.paths.root, ctx.db.device_id)
    assert made is None and here == old_key

    other_root = tmp_path / "other-laptop"
    other_root.mkdir()
    other = open_app(other_root)
    try:
        keys.laptop_key_made(other.paths.root, other.db.device_id)
        chosen[0] = tmp_path / "other.key"
        keys.export_laptop_key(other.paths.root, other.db.device_id, chosen[0])
    finally:
        other.close()
    actions.import_action.trigger()
    settle()
    assert actions.box is not None and "already has another recording key" in actions.box.text()
    assert keys.laptop_key_made(ctx.paths.root, ctx.db.device_id)[0] == old_key
    actions.box.accept()
    chosen[0] = tmp_path / "not-a-key.txt"
    chosen[0].write_text("hello")
    actions.import_action.trigger()
    settle()
    assert actions.box is not None and "not a cxfield laptop key file" in actions.box.text()
    assert "\n" not in actions.box.text()
    actions.box.accept()
