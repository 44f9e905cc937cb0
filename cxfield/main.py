"""Program entry point (console script ``cxfield`` and ``python -m cxfield``).

The only module outside :mod:`cxfield.gui` that refers to the GUI, and only lazily, so that
every command runs where PySide6 cannot be imported.

Opening the desktop app (no command) skips the command line's imports: the window is shown
first, and the database and the services are loaded behind it
(:func:`cxfield.gui.application.launch`)."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cxfield.domain.errors import CxfieldError

if TYPE_CHECKING:
    from cxfield.app import AppContext


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


def desktop_launch(args: list[str]) -> Path | None | bool:
    """The data directory when ``args`` only open the desktop app (None: the default one),
    False when they name a command or anything else for the command line to parse."""
    if not args:
        return None
    if len(args) == 2 and args[0] == "--data-dir" and args[1] and not args[1].startswith("-"):
        return Path(args[1])
    if len(args) == 1 and args[0].startswith("--data-dir=") and len(args[0]) > 11:
        return Path(args[0].removeprefix("--data-dir="))
    return False


def main(argv: Sequence[str] | None = None) -> int:
    prepare_frozen()
    args = list(sys.argv[1:] if argv is None else argv)
    data_dir = desktop_launch(args)
    if data_dir is not False:
        try:
            from cxfield.gui.application import launch
        except ImportError:  # the command line says why, as before
            pass
        else:
            return launch(data_dir if isinstance(data_dir, Path) else None)
    from cxfield import cli

    return cli.main(args, launch_gui=launch_gui, window_check=window_check)
