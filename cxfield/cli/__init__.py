"""The ``cxfield`` command line.  Works without Qt; only launching the GUI needs it.

Each command group lives in its own module with a ``register(subparsers)`` function;
handlers receive the opened :class:`~cxfield.app.AppContext` and the parsed arguments."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from cxfield import __version__
from cxfield.app import AppContext, default_data_dir, open_app
from cxfield.cli import (
    audio,
    db,
    export,
    hub,
    models,
    ops,
    participants,
    privacy,
    redact,
    review,
    sessions,
    speakers,
    studies,
    sync,
    transcribe,
    transcripts,
)
from cxfield.cli.common import add_data_dir
from cxfield.domain.errors import CxfieldError
from cxfield.storage.files import PRIVATE_FILE_MODE, make_private_dir

GuiLauncher = Callable[[AppContext], int]
WindowCheck = Callable[[Path], str]

#: modules that add commands; later features append theirs here
COMMAND_MODULES = [
    studies,
    participants,
    sessions,
    db,
    audio,
    transcribe,
    models,
    speakers,
    export,
    ops,
    hub,
    sync,
    review,
    privacy,
    redact,
    transcripts,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxfield",
        description="Offline customer-experience field research. "
        "With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"cxfield {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check that every part of this installation works (in a temporary folder)",
    )
    add_data_dir(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(
    argv: Sequence[str] | None = None,
    launch_gui: GuiLauncher | None = None,
    window_check: WindowCheck | None = None,
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.self_test:
        from cxfield.cli import self_test

        return self_test.main(window_check)
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
        print(f"cxfield: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cxfield: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line for the user, details in a log
        log = _write_crash_log(data_dir)
        where = f" (details in {log})" if log else " (no crash log could be written)"
        what = one_line(f"{type(exc).__name__}: {exc}")
        print(f"cxfield: internal error: {what}{where}", file=sys.stderr)
        return 70
    finally:
        if ctx is not None:
            with contextlib.suppress(Exception):  # closing must not add a traceback
                ctx.close()


#: an error line longer than this is cut (a library's message can be a page long)
MAX_MESSAGE = 300


def one_line(message: str) -> str:
    """The first line of a message, cut to :data:`MAX_MESSAGE` characters."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= MAX_MESSAGE else first[: MAX_MESSAGE - 3] + "..."


def _write_crash_log(data_dir: Path) -> Path | None:
    """Append the current traceback to ``logs/cli-errors.log`` (0600: it may quote research
    data); None when that is impossible (a full disk, a read-only or odd folder such as
    /proc) -- then nothing else is printed either: the user gets one line, always."""
    try:
        log_dir = make_private_dir(data_dir / "logs")
        path = log_dir / "cli-errors.log"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
        return path
    except Exception:  # whatever stops the log, the user still gets one line
        return None
