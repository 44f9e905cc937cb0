"""Run a plain function on Qt's thread pool and get its result back on the GUI thread.

The one adapter between plain core functions and Qt signals: services stay Qt-free."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, func: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.func = func
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.func()
        except Exception as exc:  # handed to the GUI thread, shown there
            self.relay.failed.emit(exc)
            return
        self.relay.done.emit(result)


def run_in_thread(
    func: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception], None],
    owner: QObject,
) -> None:
    """Call ``func`` off the GUI thread; ``on_done``/``on_error`` run on the GUI thread.

    ``owner`` keeps the relay alive (and its slots die with it)."""
    relay = _Relay(owner)
    relay.done.connect(on_done)
    relay.failed.connect(on_error)
    relay.done.connect(relay.deleteLater)
    relay.failed.connect(relay.deleteLater)
    QThreadPool.globalInstance().start(_Task(func, relay))
