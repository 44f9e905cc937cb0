"""`cxfield transcripts check RECORDING_ID [--undo]`, `cxfield transcripts status
--session ID`: the "transcript checked" mark of a recording (who, when), which a study's
retention can take as the audio's clock."""

from __future__ import annotations

import argparse
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table


def register(subparsers: Any) -> None:
    sub = group(subparsers, "transcripts", "mark transcripts checked against their audio")
    p = command(sub, "check", _check, "mark a recording's transcript checked (--undo: unmark)")
    p.add_argument("recording", metavar="RECORDING_ID")
    p.add_argument("--undo", action="store_true", help="take the mark away again")
    p = command(sub, "status", _status, "which recordings of a session have a checked transcript")
    p.add_argument("--session", required=True, metavar="ID")
    p.add_argument("--json", action="store_true", help="print JSON")


def _check(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import transcript_check

    done = transcript_check.set_checked(ctx.db, args.recording, checked=not args.undo)
    print(f"recording {done.recording_id}: transcript {done.line()}")
    return 0


def _status(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.services import transcript_check

    checks = transcript_check.session_checks(ctx.db, args.session)
    if args.json:
        print_json(
            [
                {
                    "recording_id": c.recording_id,
                    "segments": c.segments,
                    "checked_at": c.checked_at.isoformat() if c.checked_at else None,
                    "checked_by": c.checked_by,
                }
                for c in checks
            ]
        )
        return 0
    if not checks:
        print("This session has no recording.")
        return 0
    print_table(
        ["recording", "segments", "transcript"],
        [[c.recording_id, c.segments, c.line()] for c in checks],
    )
    return 0
