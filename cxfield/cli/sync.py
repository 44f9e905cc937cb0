"""`cxfield sync ...`: this laptop and the team hub.

``cxfield sync`` pushes what waits, then pulls what changed: progress on stderr, one
summary line on stdout.  A hub that cannot be reached (normal in the field) is one calm line
and a non-zero exit; nothing changed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cxfield.app import AppContext
from cxfield.cli.common import add_data_dir, command, print_json, print_table, status
from cxfield.domain.errors import CxfieldError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sync",
        help="sync with the team hub (push, then pull); see the sub-commands",
        description="With no sub-command: push this laptop's changes to the hub, then pull "
        "the team's. Progress on stderr, a summary line on stdout.",
    )
    add_data_dir(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(handler=_sync, needs_db=True)
    sub = parser.add_subparsers(dest="sync_command", metavar="COMMAND")

    p = command(sub, "connect", _connect, "connect this laptop to a hub with an enrolment token")
    p.add_argument("url", metavar="URL", help="the hub, e.g. https://hub.example.org")
    p.add_argument(
        "--token",
        required=True,
        metavar="TOKEN",
        help="one-time enrolment token (write --token=TOKEN if it starts with a dash)",
    )
    p.add_argument(
        "--allow-http",
        action="store_true",
        help="allow plain http to another machine (only on a network you trust)",
    )
    p.add_argument("--ca", metavar="FILE", type=Path, help="CA certificate of an agency hub")

    p = command(sub, "status", _status, "hub, account, last sync, what waits, conflicts")
    p.add_argument("--json", action="store_true", help="print JSON")
    command(sub, "disconnect", _disconnect, "forget the hub (the data on this laptop stays)")
    p = command(sub, "conflicts", _conflicts, "rows changed on two devices, and refused ones")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--all", action="store_true", help="resolved ones too")
    p = command(sub, "resolve", _resolve, "keep one version of a conflict and push it")
    p.add_argument("id", metavar="ID", help="conflict id (see sync conflicts)")
    p.add_argument("--keep", required=True, choices=("mine", "theirs"), help="which version")


def _calm(exc: CxfieldError) -> int:
    """The hub's trouble in one line, without the word error: the laptop is fine."""
    print(f"cxfield: {exc}", flush=True, file=sys.stderr)
    return exc.exit_code


def _progress(phase: str, done: int, total: int) -> None:
    names = {"push": "pushed", "pull": "pulled", "upload": "uploaded"}
    if phase == "pull":
        status(f"sync: {names[phase]} {done} changes")
    elif total:
        status(f"sync: {names.get(phase, phase)} {done}/{total}")


def _sync(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.sync.client import HubUnreachable, sync_once
    from cxfield.sync.connection import open_client

    client = open_client(ctx.db, ctx.paths.root)
    try:
        summary = sync_once(ctx.db, client, _progress, data_dir=ctx.paths.root)
    except HubUnreachable as exc:
        return _calm(exc)
    finally:
        client.close()
    for message in summary.messages:
        status(f"sync: {message}")
    for line in summary.held:
        status(f"sync: {line}")
    from cxfield.cli.privacy import open_after_sync

    open_after_sync(ctx)  # supervisors holding a study key open what they pulled
    if args.json:
        print_json(summary.as_json())
    else:
        print(summary.line())
    return 0


def _connect(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.sync.client import HubUnreachable
    from cxfield.sync.connection import connect

    try:
        done = connect(
            ctx.db,
            ctx.paths.root,
            args.url,
            args.token,
            allow_http=args.allow_http,
            ca_file=args.ca,
        )
    except HubUnreachable as exc:
        return _calm(exc)
    if done.token_store.kind == "file":
        status(f"No system keyring here: the device token is kept in {done.token_store.where}.")
    else:
        status(f"The device token is kept in {done.token_store.where}.")
    print(f"Connected to {done.url} as {done.account.name} ({done.account.role}).")
    return 0


def _status(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.sync.connection import status as sync_status

    info = sync_status(ctx.db, ctx.paths.root)
    if args.json:
        print_json(info)
        return 0
    account = info["account"] or {}
    rows = [
        ("hub", info["hub"] or "not connected"),
        ("account", f"{account.get('name')} ({account.get('role')})" if account else "-"),
        ("last sync", info["last_synced_at"] or "never"),
        ("changes waiting", info["changes_waiting"]),
        ("conflicts", info["conflicts"]),
        ("audio waiting", info["audio_waiting"]),
    ]
    for label, value in rows:
        print(f"{label + ':':<17}{value}")
    for line in info["held_for_review"]:
        print(line)
    return 0


def _disconnect(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.sync.connection import disconnect

    url = disconnect(ctx.db, ctx.paths.root)
    print(f"Disconnected from {url}." if url else "This laptop was not connected to a hub.")
    return 0


def _conflicts(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.sync.conflicts import list_conflicts

    found = list_conflicts(ctx.db, include_resolved=args.all)
    if args.json:
        print_json([c.public() for c in found])
        return 0
    if not found:
        status("No conflicts.")
        return 0
    print_table(
        ["ID", "KIND", "TABLE", "ROW", "HUB KEPT", "FIELDS", "STATE"],
        [
            (
                c.id,
                c.kind,
                c.table,
                c.row_id,
                c.winner or "-",
                ", ".join(c.fields) or c.message,
                c.state,
            )
            for c in found
        ],
    )
    return 0


def _resolve(ctx: AppContext, args: argparse.Namespace) -> int:
    from cxfield.sync.client import HubError
    from cxfield.sync.conflicts import choose
    from cxfield.sync.connection import open_client
    from cxfield.sync.push import push_all

    chosen = choose(ctx.db, args.id, args.keep)
    if chosen.resolved_at is not None:
        print(f"Conflict {chosen.id} closed ({args.keep} kept).")
        return 0
    try:
        client = open_client(ctx.db, ctx.paths.root)
        try:
            from cxfield.sync.client import SyncSummary

            push_all(ctx.db, client, SyncSummary(), _progress, lambda: False)
        finally:
            client.close()
    except HubError as exc:
        status(f"{exc}")
        print(f"Kept {args.keep} for conflict {chosen.id}; it reaches the hub at the next sync.")
        return 0
    print(f"Conflict {chosen.id} resolved: {args.keep} kept and pushed.")
    return 0
