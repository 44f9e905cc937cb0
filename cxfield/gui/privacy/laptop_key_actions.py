"""Privacy → Export the laptop's recording key…: recordings on this laptop are encrypted
with a key in the system keyring; a lost key is lost audio, so the key can be saved to a
file (0600, never over another file) to keep away from the laptop.  Privacy → Import a
recording key…: the saved file, on a new laptop (or after the keyring was lost), opens the
recordings copied there again; a different key already here is refused, nothing changed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from cxfield.domain.errors import CxfieldError
from cxfield.privacy import keys
from cxfield.services import at_rest

TITLE = "Export the laptop's recording key"
IMPORT_TITLE = "Import a recording key"


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
        self.import_action = QAction("&Import a recording key…", window)
        self.import_action.triggered.connect(self.import_key)
        menu.addAction(self.import_action)

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
            "On a new laptop: Privacy → Import a recording key…."
        )

    def import_key(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self.window, IMPORT_TITLE, str(Path.home()), "Key files (*.key);;All files (*)"
        )
        if not name:
            return
        try:
            store = keys.import_laptop_key(self.ctx.paths.root, self.ctx.db.device_id, Path(name))
        except CxfieldError as exc:
            self._tell(str(exc), warning=True, title=IMPORT_TITLE)
            return
        self._tell(
            f"The recording key from {name} is kept in {store.where}: this laptop opens the "
            "recordings it encrypts.",
            title=IMPORT_TITLE,
        )

    def _tell(self, text: str, *, warning: bool = False, title: str = TITLE) -> None:
        icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
        self.box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self.window)
        self.box.open()
