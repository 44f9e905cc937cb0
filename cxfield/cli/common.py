"""Shared plumbing of the CLI: output helpers and the command-handler signature."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from cxfield.app import AppContext

Handler = Callable[[AppContext, argparse.Namespace], int]
SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned text table (no colour, pipe-friendly)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line.rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


#: the signals that ask a command to stop besides Ctrl-C: a shutdown or service manager
#: (SIGTERM) and a closed terminal window (SIGHUP, where the platform has it)
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def on_stop_signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    """Run ``handler`` for :data:`STOP_SIGNALS` inside the block (then restore), so that a
    closed terminal stops a recording or a transcription cleanly instead of killing it."""
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def status(message: str) -> None:
    """Progress and information go to stderr so stdout stays parseable."""
    print(message, file=sys.stderr, flush=True)


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a value given before the command is not overwritten by the default.
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data directory (default: $CXFIELD_DATA_DIR or the platform's user data dir)",
    )


def command(
    subparsers: Any, name: str, handler: Handler, help_text: str, *, needs_db: bool = True
) -> argparse.ArgumentParser:
    """Add a sub-command with the options every command shares."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help_text, description=help_text
    )
    add_data_dir(parser)
    parser.set_defaults(handler=handler, needs_db=needs_db)
    return parser


def group(subparsers: Any, name: str, help_text: str) -> Any:
    """A command group such as ``studies`` whose sub-commands are required."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    add_data_dir(parser)
    inner = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)
    return inner
