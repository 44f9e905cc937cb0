"""Start the Qt application on an opened AppContext."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from cxfield.app import AppContext
from cxfield.gui.main_window import MainWindow


def create_application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("cxfield")
    app.setOrganizationName("cxfield")
    app.setApplicationDisplayName("cxfield")
    return app


def run(ctx: AppContext) -> int:
    app = create_application()
    window = MainWindow(ctx)
    window.show()
    for message in ctx.messages:
        QMessageBox.information(window, "cxfield", message)
    return app.exec()
