"""`cxfield hub ...`: run a team hub and manage its accounts and tokens.

The hub (FastAPI, uvicorn) is imported inside the handlers, so the rest of the CLI works
where the ``hub`` extra is not installed."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxfield.cli.common import command, group, print_json, print_table, status
from cxfield.domain.errors import CxfieldError

if TYPE_CHECKING:
    from cxfield.hub.config import HubConfig

HUB_DIR_ENV = "CXFIELD_HUB_DIR"
HUB_DATABASE_ENV = "CXFIELD_HUB_DATABASE"


class HubUsageError(CxfieldError):
    exit_code = 2


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        metavar="HUBDIR",
        default=os.environ.get(HUB_DIR_ENV),
        help=f"the hub's folder: blobs and the default SQLite database (or ${HUB_DIR_ENV})",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        default=os.environ.get(HUB_DATABASE_ENV),
        help="sqlite:///FILE or postgresql+psycopg://USER@HOST/DB (default: HUBDIR/hub.sqlite; "
        f"or ${HUB_DATABASE_ENV}, which keeps a password out of the process list)",
    )


def _hub_command(sub: Any, name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
    parser = command(sub, name, handler, help_text, needs_db=False)
    _where(parser)
    return parser


def register(subparsers: Any) -> None:
    hub = group(subparsers, "hub", "run a team hub that laptops sync with")
    p = _hub_command(hub, "serve", _serve, "serve the hub over HTTP(S) (upgrades its schema first)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    p.add_argument("--tls-cert", metavar="FILE", type=Path, help="TLS certificate (PEM)")
    p.add_argument("--tls-key", metavar="FILE", type=Path, help="TLS private key (PEM)")

    users = group(hub, "users", "hub accounts")
    p = _hub_command(
        users, "add", _users_add, "add an account; prints its one-time enrolment token"
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("--role", required=True, choices=["researcher", "supervisor", "admin", "viewer"])
    p = _hub_command(users, "enrol", _users_enrol, "another enrolment token (for another device)")
    p.add_argument("name", metavar="NAME")
    p = _hub_command(users, "list", _users_list, "list accounts")
    p.add_argument("--json", action="store_true", help="print JSON (with every token)")

    tokens = group(hub, "tokens", "enrolment and device tokens")
    p = _hub_command(tokens, "list", _tokens_list, "list tokens (never the tokens themselves)")
    p.add_argument("--user", metavar="NAME", help="only this account's")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = _hub_command(
        tokens, "revoke", _tokens_revoke, "revoke a token, or every token of an account"
    )
    p.add_argument("token_id", metavar="TOKEN_ID", nargs="?")
    p.add_argument("--user", metavar="NAME", help="revoke all of this account's tokens")

    studies = group(hub, "studies", "studies on the hub's web pages")
    p = _hub_command(
        studies, "quotes", _studies_quotes, "show or hide quotes on a study's shared map"
    )
    p.add_argument("study_id", metavar="STUDY_ID")
    p.add_argument("state", choices=["on", "off"])

    kept = group(hub, "retention", "each study's retention applied to the hub's copies")
    p = _hub_command(
        kept, "run", _retention_run, "delete the audio and transcripts whose time has come"
    )
    p.add_argument("--dry-run", action="store_true", help="only list what would go")

    p = _hub_command(
        hub, "audit", _audit, "the admin audit trail: accounts, tokens, studies published"
    )
    p.add_argument("--action", metavar="ACTION", help="only this action (e.g. 'users add')")
    p.add_argument("--last", type=_positive, metavar="N", help="only the newest N entries")
    p.add_argument("--json", action="store_true", help="print JSON")

    db = group(hub, "db", "the hub's database")
    _hub_command(db, "upgrade", _db_upgrade, "create or upgrade the hub's schema")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is 1 to 65535")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _config(args: argparse.Namespace, *, need_dir: bool = False) -> HubConfig:
    from cxfield.hub.config import HubConfig

    if args.dir is None and (need_dir or args.database is None):
        raise HubUsageError(
            "Say where the hub is: --dir HUBDIR"
            + ("" if need_dir else " (or --database URL)")
            + "."
        )
    hub_dir = Path(args.dir).expanduser().resolve() if args.dir else Path.cwd()
    return HubConfig(hub_dir, args.database)


def _engine(args: argparse.Namespace) -> Any:
    from cxfield.hub.config import make_engine
    from cxfield.hub.migrate import upgrade_hub

    config = _config(args)
    if args.dir:
        config.hub_dir.mkdir(parents=True, exist_ok=True)
    upgrade_hub(config.url)
    return make_engine(config.url)


def _serve(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub.serve import serve

    if (args.tls_cert is None) != (args.tls_key is None):
        raise HubUsageError("Give both --tls-cert and --tls-key (or neither).")
    serve(_config(args, need_dir=True), args.host, args.port, args.tls_cert, args.tls_key)
    return 0


def _users_add(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub import accounts

    info, token = accounts.add_user(_engine(args), args.name, args.role)
    status(
        f"Added {info.role} {info.name!r}. Their enrolment token (shown once; it works once) is "
        "on stdout: give it to them for `cxfield sync connect HUB_URL --token TOKEN`."
    )
    print(token)
    return 0


def _studies_quotes(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub.web.data import set_quotes

    name = set_quotes(_engine(args), args.study_id, args.state == "on")
    shown = "shows" if args.state == "on" else "no longer shows"
    status(f"The shared map of {name!r} {shown} quotes (web page and report PDF).")
    return 0


def _users_enrol(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub import accounts

    info, token = accounts.issue_enrolment(_engine(args), args.name)
    status(f"A new enrolment token for {info.name!r} (shown once; it works once) is on stdout.")
    print(token)
    return 0


def _time(value: Any) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _users_list(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub import accounts

    users = accounts.list_users(_engine(args))
    if args.json:
        print_json(
            [
                {
                    "id": u.account.id,
                    "name": u.account.name,
                    "role": u.account.role,
                    "created_at": _time(u.created_at),
                    "disabled_at": _time(u.disabled_at),
                    "devices": u.devices,
                    "last_seen_at": _time(u.last_seen_at),
                    "tokens": [_token_json(tok) for tok in u.tokens],
                }
                for u in users
            ]
        )
        return 0
    print_table(
        ["NAME", "ROLE", "DEVICES", "LAST SEEN", "ID"],
        [
            (
                u.account.name,
                u.account.role,
                u.devices,
                _time(u.last_seen_at) or "never",
                u.account.id,
            )
            for u in users
        ],
    )
    return 0


def _token_json(tok: Any) -> dict[str, Any]:
    return {
        "id": tok.id,
        "kind": tok.kind,
        "label": tok.label,
        "device_id": tok.device_id,
        "created_at": _time(tok.created_at),
        "used_at": _time(tok.used_at),
        "revoked_at": _time(tok.revoked_at),
        "last_seen_at": _time(tok.last_seen_at),
    }


def _token_state(tok: Any) -> str:
    if tok.revoked_at is not None:
        return "revoked"
    if tok.kind == "enrol":
        return "used" if tok.used_at else "unused"
    return "active"


def _tokens_list(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub import accounts
    from cxfield.sync.protocol import normalised_name

    users = accounts.list_users(_engine(args))
    if args.user:
        users = [u for u in users if normalised_name(u.account.name) == normalised_name(args.user)]
        if not users:
            raise CxfieldError(f"No account is called {args.user!r}.")
    rows = [(u.account.name, tok) for u in users for tok in u.tokens]
    if args.json:
        print_json([{"account": name, **_token_json(tok)} for name, tok in rows])
        return 0
    print_table(
        ["ID", "ACCOUNT", "KIND", "STATE", "LABEL", "LAST SEEN"],
        [
            (tok.id, name, tok.kind, _token_state(tok), tok.label, _time(tok.last_seen_at) or "")
            for name, tok in rows
        ],
    )
    return 0


def _tokens_revoke(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub import accounts

    if (args.token_id is None) == (args.user is None):
        raise HubUsageError("Give a TOKEN_ID or --user NAME (one of them).")
    engine = _engine(args)
    if args.user:
        count = accounts.revoke_user_tokens(engine, args.user)
        status(f"Revoked {count} token(s) of {args.user!r}; their devices must enrol again.")
    else:
        accounts.revoke_token(engine, args.token_id)
        status(f"Revoked token {args.token_id}.")
    return 0


def _retention_run(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub import retention

    report = retention.run(_engine(args), _config(args).blobs_dir, dry_run=args.dry_run)
    for item in report.items:
        what = (
            f"{len(item.files)} blob(s)" if item.kind == "audio" else f"{item.segments} segment(s)"
        )
        due = item.due_at.strftime("due %Y-%m-%d")
        print(f"{item.kind:<10}  study {item.study_id}  session {item.session_id}  {due}  {what}")
    print(report.line())
    return 0


def _audit(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub import audit_trail

    engine = _engine(args)
    if args.action and args.action not in audit_trail.actions(engine):
        known = ", ".join(audit_trail.actions(engine)) or "none yet"
        raise CxfieldError(f"No audit entry has the action {args.action!r} (there are: {known}).")
    rows = audit_trail.list_audit(engine, action=args.action, last=args.last)
    if args.json:
        print_json([row.as_json() for row in rows])
        return 0
    print_table(
        ["WHEN", "WHO", "ACTION", "TARGET", "DETAIL"],
        [
            (
                row.at.strftime("%Y-%m-%d %H:%M:%S"),
                row.who,
                row.action,
                f"{row.target_name} ({row.target})" if row.target_name else row.target,
                _detail(row.detail),
            )
            for row in rows
        ],
    )
    return 0


def _detail(detail: Any) -> str:
    if isinstance(detail, dict):
        return ", ".join(f"{k}={v}" for k, v in detail.items())
    return "" if detail is None else str(detail)


def _db_upgrade(_ctx: Any, args: argparse.Namespace) -> int:
    from cxfield.hub.migrate import upgrade_hub

    config = _config(args)
    if args.dir:
        config.hub_dir.mkdir(parents=True, exist_ok=True)
    result = upgrade_hub(config.url)
    if result.from_revision == result.to_revision:
        print(f"The hub database is up to date (schema {result.to_revision}).")
    else:
        print(f"Upgraded {result.from_revision or 'new database'} -> {result.to_revision}.")
    return 0
