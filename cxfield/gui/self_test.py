"""The self-test's window check: the main window opens on a new data directory, paints
and closes (offscreen unless a display is given)."""

from __future__ import annotations

import os
from pathlib import Path


def open_and_close_window(folder: Path) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from cxfield.app import open_app
    from cxfield.gui.application import create_application
    from cxfield.gui.main_window import MainWindow

    app = create_application()
    ctx = open_app(folder / "data")
    try:
        window = MainWindow(ctx)
        window.show()
        QApplication.processEvents()
        image = window.grab()
        if image.isNull() or not window.isVisible():
            raise RuntimeError("the main window did not paint")
        size = f"{image.width()}x{image.height()}"
        window.close()
        window.deleteLater()
        QApplication.processEvents()
    finally:
        ctx.close()
    return f"{size} on {app.platformName()}, Qt plugins {_plugins_dir()}"


def _plugins_dir() -> str:
    from PySide6.QtCore import QLibraryInfo

    return QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
