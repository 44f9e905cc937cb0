"""`cxfield studies ...`"""

from __future__ import annotations

import argparse
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, print_json, print_table
from cxfield.services import studies


def register(subparsers: Any) -> None:
    sub = group(subparsers, "studies", "list and manage studies")
    p = command(sub, "list", _list, "list studies")
    p.add_argument("--json", action="store_true", help="print JSON")


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    rows = studies.list_studies(ctx.db)
    if args.json:
        print_json(
            [
                {
                    "id": s.id,
                    "name": s.name,
                    "program": s.program,
                    "sessions": s.sessions,
                    "participants": s.participants,
                    "updated_at": s.updated_at.isoformat(),
                }
                for s in rows
            ]
        )
    else:
        print_table(
            ["ID", "NAME", "PROGRAM", "SESSIONS"],
            [(s.id, s.name, s.program, s.sessions) for s in rows],
        )
    return 0
