"""Who is making changes on this laptop: the hub account it is connected as, else the
local researcher profile (the default researcher for new sessions)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cxfield.domain.vocabulary import ResearcherRole
from cxfield.storage.models import LocalSetting, Researcher

#: settings the sync client and the session start dialog write (same keys, read here)
ACCOUNT_KEY = "sync.account"
PROFILE_KEY = "runner.last_researcher"
ACTOR_INFO_KEY = "cxfield.actor"
REVIEWER_ROLES = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class Actor:
    id: str | None
    name: str
    role: str

    @property
    def is_reviewer(self) -> bool:
        return self.role in REVIEWER_ROLES

    @property
    def known(self) -> bool:
        return self.id is not None


NOBODY = Actor(None, "", "")


def _setting(db: Session, key: str) -> object:
    row = db.get(LocalSetting, key)
    return None if row is None else row.value


def actor_of(db: Session) -> Actor:
    """This laptop's actor, looked up once per unit of work."""
    cached = db.info.get(ACTOR_INFO_KEY)
    if isinstance(cached, Actor):
        return cached
    with db.no_autoflush:
        actor = _lookup(db)
    db.info[ACTOR_INFO_KEY] = actor
    return actor


def _lookup(db: Session) -> Actor:
    account = _setting(db, ACCOUNT_KEY)
    if isinstance(account, dict) and account.get("id"):
        return Actor(str(account["id"]), str(account.get("name", "")), str(account.get("role", "")))
    profile = _setting(db, PROFILE_KEY)
    if isinstance(profile, str) and profile:
        researcher = db.get(Researcher, profile)
        if researcher is not None and researcher.deleted_at is None:
            role = ResearcherRole(researcher.role)
            return Actor(researcher.id, researcher.name, role.value)
    return NOBODY
