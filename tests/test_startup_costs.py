"""cxfield.gui.startup_costs: the database and services are imported behind the first window
without PySide6's import hook, and the garbage collector is paused until the window is
usable, then runs again (each in a fresh interpreter: both change process-wide state)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, cli_env

PROGRAM = r"""
import builtins, gc, sys
import cxfield.gui                      # keeps the interpreter's own __import__
import PySide6.QtWidgets                # puts PySide6's hook in its place
from cxfield.gui import PLAIN_IMPORT
from cxfield.gui.startup_costs import (
    pause_collection, resume_collection, without_qt_import_hook)

hooked = builtins.__import__
assert PLAIN_IMPORT.__name__ == "__import__", PLAIN_IMPORT
assert hooked is not PLAIN_IMPORT, "PySide6 installed no import hook"
seen = []
with without_qt_import_hook():
    seen.append(builtins.__import__)
    import sqlalchemy                   # imported with the plain __import__
assert seen == [PLAIN_IMPORT] and builtins.__import__ is hooked
try:
    with without_qt_import_hook():
        import cxfield.no_such_module   # an import that fails
except ImportError:
    pass
assert builtins.__import__ is hooked, "the hook was not put back after a failed import"
from PySide6.QtGui import QTextDocumentFragment  # Qt still imports through the hook

pause_collection()
assert not gc.isenabled()
garbage = [[]] ; garbage[0].append(garbage)
resume_collection()
assert gc.isenabled() and gc.get_freeze_count() > 0
resume_collection()                     # twice is harmless
assert gc.isenabled()
print("ok")
"""


def test_imports_skip_the_qt_hook_and_collection_resumes() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=REPO,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
