"""Privacy → Export the laptop's recording key…: recordings on this laptop are encrypted
with a key in the system keyring; a lost key is lost audio, so the key can be saved to a
file (0600, never over another file) to keep away from the laptop."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from cxfield.domain.errors import CxfieldError
from cxfield.privacy import keys
from cxfield.services import at_rest

TITLE = "Export the laptop's recording key"


class LaptopKeyActions(QObject):
    def __init__(self, window: QMainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx  # type: ignore[attr-defined]
        self.box: QMessageBox | None = None
        menu.addSeparator()
        self.export_action = QAction("Export the laptop's &recording key…", window)
        self.export_action.triggered.connect(self.export_key)
        menu.addAction(self.export_action)

    def export_key(self) -> None:
        root, device = self.ctx.paths.root, self.ctx.db.device_id
        made_now = ""
        if at_rest.encrypts_recordings(self.ctx.db):
            _key, made = keys.laptop_key_made(root, device)
            if made is not None:
                made_now = keys.LAPTOP_KEY_WARNING.format(where=made.where) + "\n\n"
        if not keys.has_laptop_key(root, device):
            self._tell("This laptop has no recording key: its recordings are not encrypted.")
            return
        name, _ = QFileDialog.getSaveFileName(
            self.window, TITLE, str(Path.home() / "cxfield-laptop.key"), "Key files (*.key)"
        )
        if not name:
            return
        try:
            keys.export_laptop_key(root, device, Path(name))
        except (CxfieldError, OSError) as exc:
            self._tell(made_now + str(exc), warning=True)
            return
        self._tell(
            made_now + f"The recording key was saved to {name} (readable by you only). "
            "Whoever holds this file can open the recordings: keep it away from the laptop. "
            "On a new laptop: cxfield keys import-laptop FILE."
        )

    def _tell(self, text: str, *, warning: bool = False) -> None:
        icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
        self.box = QMessageBox(icon, TITLE, text, QMessageBox.StandardButton.Ok, self.window)
        self.box.open()
