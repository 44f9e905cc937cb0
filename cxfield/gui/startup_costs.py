"""Two costs of starting a PySide6 app that the desktop start avoids (both measured by
benchmarks/bench_startup.py; tests/test_startup_costs.py keeps them correct).

PySide6's import hook.  Importing PySide6 replaces ``builtins.__import__`` with its
``__feature__`` hook (for the opt-in ``from __feature__ import snake_case``), which runs
Python code around every import in the process, Qt or not: on this machine a quarter of a
second on the database and services' imports done behind the first window (napari reports
the same tax, issue 8584).  Nothing below :mod:`cxfield.gui` imports PySide6 (import-linter)
and cxfield never uses ``__feature__``, so :func:`without_qt_import_hook` lets those imports
go through the interpreter's own ``__import__``; the hook is back as soon as they are done.

The cyclic garbage collector.  The start allocates some 120,000 objects that live as long as
the app (modules, classes, SQLAlchemy's tables and mappers), and the collector walks them
again and again while they are made.  :func:`pause_collection` turns it off until the window
is usable; :func:`resume_collection` moves what exists then out of its reach (``gc.freeze``)
and turns it back on.
"""

from __future__ import annotations

import builtins
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cxfield.gui import PLAIN_IMPORT

_lock = threading.Lock()


@contextmanager
def without_qt_import_hook() -> Iterator[None]:
    """Imports in this block skip PySide6's hook (a no-op when it was never installed)."""
    with _lock:
        hooked = builtins.__import__
        builtins.__import__ = PLAIN_IMPORT
        try:
            yield
        finally:
            builtins.__import__ = hooked


def pause_collection() -> None:
    gc.disable()


def resume_collection() -> None:
    """Once the window is usable: what the start made stays, collection resumes."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
