"""Start the Qt application: the main window first, the database and services behind it.

:func:`launch` (``cxfield`` with no command) shows the window before anything heavy is
imported -- SQLAlchemy, the services, Alembic (only when the schema needs an upgrade),
numpy and PortAudio (when the recorder opens), whisper and torch (when a transcription
runs) -- and opens the data directory in the event loop's first turn.
tests/test_startup_imports.py keeps it that way; benchmarks/bench_startup.py measures it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from cxfield.domain.errors import CxfieldError
from cxfield.gui.fonts import register_bundled_fonts
from cxfield.gui.main_window import MainWindow
from cxfield.gui.startup_costs import (
    pause_collection,
    resume_collection,
    without_qt_import_hook,
)
from cxfield.gui.startup_probe import StartupProbe
from cxfield.gui.widgets import FOCUS_STYLE

if TYPE_CHECKING:
    from cxfield.app import AppContext


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


def launch(data_dir: Path | None) -> int:
    """Show the main window, then open ``data_dir`` (None: the default) behind it."""
    pause_collection()  # until the window is usable (startup_costs)
    try:
        return _launch(data_dir)
    finally:
        resume_collection()


def _launch(data_dir: Path | None) -> int:
    with without_qt_import_hook():
        from cxfield.app import default_data_dir, prepare_data_dir

    probe = StartupProbe.from_environment()
    try:
        check_display()
        paths = prepare_data_dir(data_dir or default_data_dir())
    except CxfieldError as exc:
        print(f"cxfield: error: {_one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    app = create_application()
    window = MainWindow(None, data_root=paths.root)
    if probe is not None:
        probe.watch(window)
    window.show()
    opened: list[AppContext] = []

    def open_behind() -> None:
        try:
            with without_qt_import_hook():  # the database and the services: no Qt in them
                from cxfield.app import open_paths

                ctx = open_paths(paths, retention_later=True)
        except CxfieldError as exc:
            resume_collection()
            print(f"cxfield: error: {_one_line(exc)}", file=sys.stderr)
            QMessageBox.critical(window, "cxfield", str(exc))
            app.exit(exc.exit_code)
            return
        opened.append(ctx)
        window.attach(ctx, later=True)
        resume_collection()
        if probe is not None:
            probe.usable(window)
        QTimer.singleShot(200, lambda: _retention_then_after_start(window, ctx))

    app.processEvents()  # the first paint, before the database is opened
    QTimer.singleShot(0, open_behind)
    try:
        return app.exec()
    finally:
        for ctx in opened:
            ctx.close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def run(ctx: AppContext) -> int:
    """The app on a context opened beforehand (``cxfield`` through :mod:`cxfield.cli`)."""
    check_display()
    app = create_application()
    window = MainWindow(ctx)
    window.show()
    # Once the event loop runs and the window is painted: first what happened at start-up
    # (upgrades, recovered recordings), then the offer to resume unfinished sessions.
    QTimer.singleShot(200, lambda: _after_start(window, ctx))
    return app.exec()


def _retention_then_after_start(window: MainWindow, ctx: AppContext) -> None:
    """The start's retention check, once the window is usable (then as :func:`_after_start`)."""
    from cxfield.app import apply_retention

    before = len(ctx.messages)
    try:
        apply_retention(ctx)
    except (CxfieldError, OSError) as exc:
        ctx.messages.append(f"The retention check failed: {exc}")
    if len(ctx.messages) > before:
        window.refresh()
    _after_start(window, ctx)


def _after_start(window: MainWindow, ctx: AppContext) -> None:
    for message in ctx.messages:
        QMessageBox.information(window, "cxfield", message)
    window.capture_actions.offer_resume()
