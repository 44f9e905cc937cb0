"""Program entry point (console script ``cxfield`` and ``python -m cxfield``).

The only module outside :mod:`cxfield.gui` that refers to the GUI, and only lazily, so that
every command runs where PySide6 cannot be imported."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cxfield import cli
from cxfield.app import AppContext
from cxfield.domain.errors import CxfieldError


def launch_gui(ctx: AppContext) -> int:
    try:
        from cxfield.gui.application import run
    except ImportError as exc:
        raise CxfieldError(
            f"The desktop app needs PySide6, which cannot be imported ({exc}); "
            "run ./dev.sh setup, or use the commands (cxfield --help)."
        ) from exc
    return run(ctx)


def window_check(folder: Path) -> str:
    """The self-test's main-window check (needs PySide6)."""
    from cxfield.gui.self_test import open_and_close_window

    return open_and_close_window(folder)


def prepare_frozen() -> None:
    """In the packaged app: a spawned transcription worker runs its job instead of the app
    (``freeze_support``), and the bundled ffmpeg comes first on PATH."""
    if not getattr(sys, "frozen", False):
        return
    multiprocessing.freeze_support()
    bundle = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    os.environ["PATH"] = os.pathsep.join([str(bundle / "bin"), os.environ.get("PATH", "")])


def main(argv: Sequence[str] | None = None) -> int:
    prepare_frozen()
    args = list(sys.argv[1:] if argv is None else argv)
    return cli.main(args, launch_gui=launch_gui, window_check=window_check)
