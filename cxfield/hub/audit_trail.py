"""Reading the hub's admin audit trail (``hub_audit``): accounts added and enrolled, devices
enrolled, tokens revoked, studies published, quotes shown or hidden, retention's deletions.
Written by :func:`cxfield.hub.accounts.audit`; append-only, newest last."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from cxfield.hub import storage as t

#: who did it when the hub's own command line did (no account is signed in there)
HUB_CLI = "hub command line"


@dataclass(frozen=True)
class AuditRow:
    id: str
    at: datetime
    account_id: str | None
    who: str
    action: str
    target: str
    #: the account or study the target id names, where it is one ("" otherwise)
    target_name: str
    detail: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "account_id": self.account_id,
            "who": self.who,
            "action": self.action,
            "target": self.target,
            "target_name": self.target_name,
            "detail": self.detail,
        }


def actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        found = conn.execute(select(t.audit.c.action).distinct()).scalars()
        return sorted(str(a) for a in found)


def list_audit(
    engine: Engine, *, action: str | None = None, last: int | None = None
) -> list[AuditRow]:
    """The entries oldest first (``last``: only the newest N), ``action`` exactly."""
    query = select(t.audit, t.account.c.name).outerjoin(
        t.account, t.account.c.id == t.audit.c.account_id
    )
    if action:
        query = query.where(t.audit.c.action == action)
    query = query.order_by(t.audit.c.at.desc(), t.audit.c.id.desc())
    if last is not None:
        query = query.limit(last)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        names = _names(conn)
    return [
        AuditRow(
            r.id,
            r.at,
            r.account_id,
            r.name or (HUB_CLI if r.account_id is None else "(removed account)"),
            r.action,
            r.target,
            names.get(r.target, ""),
            r.detail,
        )
        for r in reversed(rows)
    ]


def _names(conn: Connection) -> dict[str, str]:
    """Account and study names by id (a withdrawn or deleted study keeps its name here)."""
    study = t.projection["study"]
    found = {str(i): str(n) for i, n in conn.execute(select(t.account.c.id, t.account.c.name))}
    found.update({str(i): str(n) for i, n in conn.execute(select(study.c.id, study.c.name))})
    return found
