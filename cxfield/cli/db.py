"""`cxfield db ...` and `cxfield demo`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import command, group, status
from cxfield.domain.errors import ValidationError
from cxfield.services import demo, demo_staff, maintenance


def register(subparsers: Any) -> None:
    sub = group(subparsers, "db", "database upkeep")
    command(sub, "upgrade", _upgrade, "upgrade the database schema (after a backup)")
    p = command(sub, "backup", _backup, "copy the database safely, even while the app runs")
    p.add_argument("--out", metavar="FILE", type=Path, help="where to write the copy")

    p = command(
        subparsers,
        "demo",
        _demo,
        "create a realistic demo study, or add demo sessions to a study (--into)",
    )
    p.add_argument(
        "--sessions", type=_non_negative, default=12, metavar="N", help="sessions (default 12)"
    )
    p.add_argument(
        "--into",
        metavar="STUDY_ID",
        help="add the sessions to this existing study (e.g. one pulled from the hub)",
    )
    p.add_argument(
        "--staff",
        type=_non_negative,
        metavar="N",
        help="staff interviews of the same journey (default: half of N up to 6, then a quarter)",
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument(
        "--submitted",
        action="store_true",
        help="every session submitted for review (a queue to clear); default: a mix of states",
    )
    p.add_argument(
        "--queue-export",
        metavar="FILE",
        type=Path,
        help="write the demo's queue export to FILE (.csv or .xlsx) instead of importing it, "
        "to import it yourself with `cxfield ops import`",
    )


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _upgrade(ctx: AppContext, args: argparse.Namespace) -> int:
    # open_app already upgraded; report what happened.
    result = ctx.upgrade
    if result is None or result.from_revision == result.to_revision:
        print(f"Database is up to date (schema {result.to_revision if result else '?'}).")
    else:
        print(f"Upgraded {result.from_revision or 'new database'} -> {result.to_revision}.")
        if result.backup:
            print(f"Backup: {result.backup}")
    return 0


def _backup(ctx: AppContext, args: argparse.Namespace) -> int:
    target = maintenance.backup(ctx.db, args.out, ctx.paths.backups)
    print(target)
    return 0


def _demo(ctx: AppContext, args: argparse.Namespace) -> int:
    def progress(done: int, total: int) -> None:
        status(f"demo: {done}/{total} sessions")

    if args.into:
        study = demo.add_demo_sessions(
            ctx.db,
            args.into,
            args.sessions,
            seed=args.seed,
            on_progress=progress,
            submitted=args.submitted,
        )
        print(study.id)
        status(f"Added {args.sessions} demo sessions to study {study.name!r}.")
        return 0
    staff = demo_staff.default_staff(args.sessions) if args.staff is None else args.staff
    tickets = 0 if args.sessions == 0 else min(5000, max(600, args.sessions * 10))
    target = args.queue_export
    if target is not None:
        if target.exists():
            raise ValidationError(f"{target} already exists; choose a new file for the export.")
        if target.suffix.lower() not in (".csv", ".xlsx"):
            raise ValidationError("The queue export is written as .csv or .xlsx.")
        if not target.parent.is_dir():
            raise ValidationError(f"No folder {target.parent} to write the queue export in.")
    study = demo.create_demo(
        ctx.db,
        args.sessions,
        seed=args.seed,
        on_progress=progress,
        staff=staff,
        queue_rows=tickets,
        submitted=args.submitted,
        queue_export=target,
    )
    print(study.id)
    if target is None:
        status(
            f"Created demo study {study.name!r} with {args.sessions} customer sessions, "
            f"{staff} staff interviews and a queue export of {tickets} tickets."
        )
        return 0
    if not target.exists():
        status(
            f"Created demo study {study.name!r} with {args.sessions} customer sessions and "
            f"{staff} staff interviews; no queue export was written (a demo without sessions "
            "has no tickets)."
        )
        return 0
    status(
        f"Created demo study {study.name!r} with {args.sessions} customer sessions and "
        f"{staff} staff interviews; its queue export of {tickets} tickets is in {target}, "
        f"not imported. Import it with:\n  cxfield ops import {study.id} {target} "
        + " ".join(f'--map {column}="{step}"' for column, step in demo_staff.QUEUE_MAP)
        + " --end closed --site site"
    )
    return 0
