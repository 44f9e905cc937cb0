"""Program entry point (console script ``cxfield`` and ``python -m cxfield``).

The only module outside :mod:`cxfield.gui` that refers to the GUI, and only lazily, so that
every command runs where PySide6 cannot be imported."""

from __future__ import annotations

import sys
from collections.abc import Sequence

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


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(sys.argv[1:] if argv is None else argv, launch_gui=launch_gui)
