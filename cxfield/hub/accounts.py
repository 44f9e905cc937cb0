"""Accounts, enrolment and device tokens, and the admin audit trail.

A token is ``secrets.token_urlsafe(32)`` (32 random bytes); only its SHA-256 is stored,
looked up by that hash and then compared in constant time.  An enrolment token is used
once, to obtain a device token; every device has its own, revocable on its own."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast, get_args

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import OperationalError

from cxfield.domain.ids import new_id, utcnow
from cxfield.hub import storage as t
from cxfield.hub.config import HubError, write_transaction
from cxfield.sync.protocol import Role, normalised_name

ROLES: tuple[str, ...] = get_args(Role)
#: how often a token's ``last_seen_at`` is written (not at every request)
LAST_SEEN_EVERY = timedelta(minutes=1)


class AuthError(HubError):
    """The credentials do not open the hub (HTTP 401)."""


@dataclass(frozen=True)
class AccountInfo:
    id: str
    name: str
    role: Role


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account behind a valid device token."""

    account: AccountInfo
    token_id: str
    device_id: str

    @property
    def sees_all_sessions(self) -> bool:
        return self.account.role in ("supervisor", "admin")


@dataclass(frozen=True)
class TokenInfo:
    id: str
    kind: str
    label: str
    device_id: str | None
    created_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    last_seen_at: datetime | None


@dataclass(frozen=True)
class UserSummary:
    account: AccountInfo
    created_at: datetime
    disabled_at: datetime | None
    tokens: list[TokenInfo]

    @property
    def devices(self) -> int:
        return sum(1 for tok in self.tokens if tok.kind == "device" and tok.revoked_at is None)

    @property
    def last_seen_at(self) -> datetime | None:
        seen = [tok.last_seen_at for tok in self.tokens if tok.last_seen_at is not None]
        return max(seen) if seen else None


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def audit(
    conn: Connection, account_id: str | None, action: str, target: str, detail: Any = None
) -> None:
    conn.execute(
        t.audit.insert().values(
            id=new_id(),
            at=utcnow(),
            account_id=account_id,
            action=action,
            target=target[:200],
            detail=detail,
        )
    )


def _check_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 200 or any(ord(ch) < 32 for ch in name):
        raise HubError("An account name is 1 to 200 printable characters.")
    return cleaned


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise HubError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    return cast(Role, role)


def _account_by_name(conn: Connection, name: str) -> AccountInfo:
    row = conn.execute(
        select(t.account).where(t.account.c.name_key == normalised_name(name))
    ).first()
    if row is None:
        raise HubError(f"No account is called {name!r} (see `cxfield hub users list`).")
    return AccountInfo(row.id, row.name, row.role)


def _insert_token(conn: Connection, account_id: str, kind: str, **values: Any) -> tuple[str, str]:
    token, token_id = new_token(), new_id()
    conn.execute(
        t.token.insert().values(
            id=token_id,
            account_id=account_id,
            kind=kind,
            token_hash=hash_token(token),
            label=values.pop("label", ""),
            created_at=utcnow(),
            **values,
        )
    )
    return token, token_id


def add_user(engine: Engine, name: str, role: str) -> tuple[AccountInfo, str]:
    """Create an account; returns it and its first one-time enrolment token."""
    name, role_ = _check_name(name), _check_role(role)
    with write_transaction(engine) as conn:
        taken = conn.execute(
            select(t.account.c.name).where(t.account.c.name_key == normalised_name(name))
        ).first()
        if taken is not None:
            raise HubError(f"An account called {taken.name!r} exists already.")
        info = AccountInfo(new_id(), name, role_)
        conn.execute(
            t.account.insert().values(
                id=info.id,
                name=name,
                name_key=normalised_name(name),
                role=role_,
                created_at=utcnow(),
            )
        )
        token, token_id = _insert_token(conn, info.id, "enrol")
        audit(conn, None, "users add", info.id, {"role": role_, "enrol_token": token_id})
    return info, token


def issue_enrolment(engine: Engine, name: str) -> tuple[AccountInfo, str]:
    """Another one-time enrolment token for an existing account (a second device)."""
    with write_transaction(engine) as conn:
        info = _account_by_name(conn, name)
        token, token_id = _insert_token(conn, info.id, "enrol")
        audit(conn, None, "users enrol", info.id, {"enrol_token": token_id})
    return info, token


def list_users(engine: Engine) -> list[UserSummary]:
    with engine.connect() as conn:
        accounts = conn.execute(select(t.account).order_by(t.account.c.name_key)).all()
        tokens = conn.execute(select(t.token).order_by(t.token.c.created_at)).all()
    by_account: dict[str, list[TokenInfo]] = {}
    for tok in tokens:
        by_account.setdefault(tok.account_id, []).append(
            TokenInfo(
                tok.id,
                tok.kind,
                tok.label,
                tok.device_id,
                tok.created_at,
                tok.used_at,
                tok.revoked_at,
                tok.last_seen_at,
            )
        )
    return [
        UserSummary(
            AccountInfo(a.id, a.name, a.role), a.created_at, a.disabled_at, by_account.get(a.id, [])
        )
        for a in accounts
    ]


def revoke_token(engine: Engine, token_id: str) -> None:
    with write_transaction(engine) as conn:
        row = conn.execute(select(t.token).where(t.token.c.id == token_id)).first()
        if row is None:
            raise HubError(f"No token has the id {token_id!r} (see `cxfield hub tokens list`).")
        if row.revoked_at is None:
            conn.execute(
                update(t.token).where(t.token.c.id == token_id).values(revoked_at=utcnow())
            )
        audit(conn, None, "tokens revoke", token_id, {"account": row.account_id})


def revoke_user_tokens(engine: Engine, name: str) -> int:
    """Revoke every token of an account (its devices must enrol again); returns how many."""
    with write_transaction(engine) as conn:
        info = _account_by_name(conn, name)
        result = conn.execute(
            update(t.token)
            .where(t.token.c.account_id == info.id, t.token.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        audit(conn, None, "tokens revoke", info.id, {"all": True, "count": result.rowcount})
        return int(result.rowcount)


def _live_account(conn: Connection, account_id: str) -> AccountInfo | None:
    row = conn.execute(select(t.account).where(t.account.c.id == account_id)).first()
    if row is None or row.disabled_at is not None:
        return None
    return AccountInfo(row.id, row.name, row.role)


def enrol(engine: Engine, token: str, device_id: str, label: str) -> tuple[str, str, AccountInfo]:
    """Use an enrolment token (once) for a device token; returns (token, token id, account).

    A device that enrols again gets a new token and its old one is revoked."""
    digest = hash_token(token)
    with write_transaction(engine) as conn:
        row = conn.execute(
            select(t.token).where(t.token.c.token_hash == digest, t.token.c.kind == "enrol")
        ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            raise AuthError("This enrolment token is not known to the hub.")
        # one statement: two hub processes cannot both use the same enrolment token
        used = conn.execute(
            update(t.token)
            .where(
                t.token.c.id == row.id, t.token.c.used_at.is_(None), t.token.c.revoked_at.is_(None)
            )
            .values(used_at=utcnow(), device_id=device_id, label=label[:200])
        )
        info = _live_account(conn, row.account_id)
        if used.rowcount != 1 or info is None:
            raise AuthError(
                "This enrolment token was used already or revoked; ask an admin for a new one "
                "(cxfield hub users enrol NAME)."
            )
        conn.execute(
            update(t.token)
            .where(
                t.token.c.account_id == info.id,
                t.token.c.kind == "device",
                t.token.c.device_id == device_id,
                t.token.c.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
        device_token, token_id = _insert_token(
            conn, info.id, "device", device_id=device_id, label=label[:200]
        )
        audit(conn, info.id, "device enrolled", token_id, {"device_id": device_id})
    return device_token, token_id, info


def authenticate(engine: Engine, token: str) -> Caller | None:
    """The caller behind a device token, or None (unknown, revoked, account disabled)."""
    digest = hash_token(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(t.token).where(t.token.c.token_hash == digest, t.token.c.kind == "device")
        ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        info = _live_account(conn, row.account_id)
        if row.revoked_at is not None or info is None:
            return None
    now = utcnow()
    if row.last_seen_at is None or now - row.last_seen_at > LAST_SEEN_EVERY:
        try:  # bookkeeping only: a busy database must not refuse the request
            with write_transaction(engine) as conn:
                conn.execute(update(t.token).where(t.token.c.id == row.id).values(last_seen_at=now))
        except OperationalError:
            pass
    return Caller(info, row.id, row.device_id or "")


def token_issued(engine: Engine, token: str) -> bool:
    """Whether this hub ever issued ``token`` (of any kind, revoked or used up included): a
    laptop whose access was revoked is not guessing, and is not counted as if it were."""
    with engine.connect() as conn:
        found = conn.execute(
            select(t.token.c.id).where(t.token.c.token_hash == hash_token(token))
        ).first()
    return found is not None


def hub_id(engine: Engine) -> str:
    with engine.connect() as conn:
        value = conn.execute(
            select(t.setting.c.value).where(t.setting.c.key == t.HUB_ID_SETTING)
        ).scalar_one()
    return str(value)
