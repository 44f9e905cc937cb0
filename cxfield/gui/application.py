"""Start the Qt application on an opened AppContext."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError
from cxfield.gui.fonts import register_bundled_fonts
from cxfield.gui.main_window import MainWindow
from cxfield.gui.widgets import FOCUS_STYLE


def check_display() -> None:
    """Qt aborts the process without a display; say what to do instead."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise CxfieldError(
            "No display found (DISPLAY is not set): start cxfield from a desktop session, "
            "or on a headless machine run it under Xvfb: xvfb-run -a ./dev.sh run"
        )


def create_application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("cxfield")
        app.setOrganizationName("cxfield")
        app.setApplicationDisplayName("cxfield")
    register_bundled_fonts()
    # The thick focus frame, once for every window and dialog (README: "focus is always
    # drawn as a thick blue frame").
    app.setStyleSheet(FOCUS_STYLE)
    return app


def run(ctx: AppContext) -> int:
    check_display()
    app = create_application()
    window = MainWindow(ctx)
    window.show()
    # Once the event loop runs and the window is painted: first what happened at start-up
    # (upgrades, recovered recordings), then the offer to resume unfinished sessions.
    QTimer.singleShot(200, lambda: _after_start(window, ctx))
    return app.exec()


def _after_start(window: MainWindow, ctx: AppContext) -> None:
    for message in ctx.messages:
        QMessageBox.information(window, "cxfield", message)
    window.capture_actions.offer_resume()
