"""The ``cxfield`` command line.  Works without Qt; only launching the GUI needs it.

Each command group lives in its own module with a ``register(subparsers)`` function;
handlers receive the opened :class:`~cxfield.app.AppContext` and the parsed arguments."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from cxfield import __version__
from cxfield.app import AppContext, default_data_dir, open_app
from cxfield.cli import audio, db, export, hub, models, sessions, studies, sync, transcribe
from cxfield.cli.common import add_data_dir
from cxfield.domain.errors import CxfieldError

GuiLauncher = Callable[[AppContext], int]

#: modules that add commands; later features append theirs here
COMMAND_MODULES = [studies, sessions, db, audio, transcribe, models, export, hub, sync]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxfield",
        description="Offline customer-experience field research. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"cxfield {__version__}")
    add_data_dir(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, launch_gui: GuiLauncher | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir) if getattr(args, "data_dir", None) else default_data_dir()
    ctx: AppContext | None = None
    try:
        if args.command is None:
            if launch_gui is None:
                parser.error("the desktop app is not available here; give a command")
            ctx = open_app(data_dir)
            return launch_gui(ctx)
        if not getattr(args, "needs_db", True):
            return int(args.handler(None, args))
        ctx = open_app(data_dir)
        for message in ctx.messages:
            print(f"cxfield: {message}", file=sys.stderr)
        return int(args.handler(ctx, args))
    except CxfieldError as exc:
        print(f"cxfield: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cxfield: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line for the user, details in a log
        log = _write_crash_log(data_dir)
        where = f" (details in {log})" if log else ""
        print(f"cxfield: internal error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return 70
    finally:
        if ctx is not None:
            ctx.close()


def _write_crash_log(data_dir: Path) -> Path | None:
    try:
        log_dir = data_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "cli-errors.log"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
        return path
    except OSError:
        logging.getLogger(__name__).exception("could not write crash log")
        return None
