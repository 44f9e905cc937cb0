"""A start-up probe for the benchmark and the import test: with ``CXFIELD_STARTUP_PROBE``
set to a file name, the app writes there (JSON) the wall-clock time of the main window's
first paint and of the moment it is usable (studies listed), the modules imported by
then, which ``__import__`` is in place and whether the garbage collector runs, and quits.
Unset, nothing of this runs."""

from __future__ import annotations

import builtins
import gc
import json
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

PROBE_ENV = "CXFIELD_STARTUP_PROBE"


def loaded_modules() -> list[str]:
    return sorted(sys.modules)


def _import_in_use() -> str:
    """``__import__`` or PySide6's ``__feature_import__`` (see cxfield.gui.startup_costs)."""
    return str(getattr(builtins.__import__, "__name__", builtins.__import__))


class StartupProbe(QObject):
    def __init__(self, target: Path) -> None:
        super().__init__()
        self.target = target
        self.record: dict[str, object] = {"frozen": bool(getattr(sys, "frozen", False))}
        self._listed = False  # the studies are listed, the window not yet painted

    @classmethod
    def from_environment(cls) -> StartupProbe | None:
        target = os.environ.get(PROBE_ENV)
        return cls(Path(target)) if target else None

    def watch(self, window: QWidget) -> None:
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            if "first_paint" not in self.record:
                self.record["first_paint"] = time.time()
                self.record["modules_at_paint"] = loaded_modules()
                self.record["import_at_paint"] = _import_in_use()
            if self._listed:  # usable once the listed studies are on screen
                self._listed = False
                QTimer.singleShot(0, self._write)
        return False

    def usable(self, window: QWidget) -> None:
        """The window holds the studies: what is loaded now, then the time it is painted
        with them (at once where the window is already on screen), write, quit."""
        self.record["modules_at_usable"] = loaded_modules()
        self.record["import_at_usable"] = _import_in_use()
        self.record["collecting_at_usable"] = gc.isenabled()
        window.repaint()
        if "first_paint" in self.record:
            self._write()
        else:  # not exposed yet (X11 maps it later): the first paint shows the studies
            self._listed = True
            window.update()

    def _write(self) -> None:
        self.record["usable"] = time.time()
        self.target.write_text(json.dumps(self.record), encoding="utf-8")
        QTimer.singleShot(0, QApplication.quit)
