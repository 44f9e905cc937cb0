"""Sites (offices, call centres) and researchers: the small lists a session points to."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from cxfield.domain.errors import ConflictError, ValidationError
from cxfield.domain.rules import clean_name
from cxfield.domain.vocabulary import ResearcherRole
from cxfield.services.common import get_live, tombstone
from cxfield.storage.database import Database
from cxfield.storage.models import ConsentRecord, Researcher, ResearchSession, Site


def list_sites(database: Database) -> list[Site]:
    with database.session() as db:
        return list(
            db.exec(select(Site).where(col(Site.deleted_at).is_(None)).order_by(col(Site.name)))
        )


def add_site(database: Database, name: str, location: str = "") -> Site:
    """Add a site; names are unique (case-insensitive) so pick lists stay unambiguous."""
    name = clean_name(name, "Site name")
    with database.session() as db:
        for site in db.exec(select(Site).where(col(Site.deleted_at).is_(None))):
            if site.name.casefold() == name.casefold():
                raise ConflictError(f"A site named {site.name!r} already exists.")
        site = Site(name=name, location=location.strip())
        db.add(site)
        return site


def rename_site(database: Database, site_id: str, name: str, location: str | None = None) -> Site:
    name = clean_name(name, "Site name")
    with database.session() as db:
        site = get_live(db, Site, site_id, "site")
        for other in db.exec(select(Site).where(col(Site.deleted_at).is_(None))):
            if other.id != site_id and other.name.casefold() == name.casefold():
                raise ConflictError(f"A site named {other.name!r} already exists.")
        site.name = name
        if location is not None:
            site.location = location.strip()
        db.add(site)
        return site


def delete_site(database: Database, site_id: str) -> None:
    """Tombstone a site; sessions keep pointing at it (their history stays readable)."""
    with database.session() as db:
        tombstone(db, get_live(db, Site, site_id, "site"))


def list_researchers(database: Database) -> list[Researcher]:
    with database.session() as db:
        return list(
            db.exec(
                select(Researcher)
                .where(col(Researcher.deleted_at).is_(None))
                .order_by(col(Researcher.name))
            )
        )


def add_researcher(
    database: Database, name: str, role: ResearcherRole | str = ResearcherRole.RESEARCHER
) -> Researcher:
    name = clean_name(name, "Researcher name")
    try:
        role = ResearcherRole(role)
    except ValueError as exc:
        roles = ", ".join(r.value for r in ResearcherRole)
        raise ValidationError(f"Role must be one of: {roles}.") from exc
    with database.session() as db:
        for other in db.exec(select(Researcher).where(col(Researcher.deleted_at).is_(None))):
            if other.name.casefold() == name.casefold():
                raise ConflictError(f"A researcher named {other.name!r} already exists.")
        researcher = Researcher(name=name, role=role)
        db.add(researcher)
        return researcher


def delete_researcher(database: Database, researcher_id: str) -> None:
    with database.session() as db:
        tombstone(db, get_live(db, Researcher, researcher_id, "researcher"))


#: the researcher new sessions start with (the start dialog remembers the last one)
DEFAULT_RESEARCHER_KEY = "runner.last_researcher"
ACCOUNT_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def adopt_researcher_identity(
    database: Database, researcher_id: str, name: str, role: ResearcherRole | str
) -> Researcher:
    """Make the team hub's account this laptop's researcher: a Researcher whose id is the
    account id, with the account's name and role, the default for new sessions.  A local
    profile of the same name becomes it (its sessions and consents point at the account)."""
    name = clean_name(name, "Researcher name")
    role = ResearcherRole(role)
    with database.session() as db:
        researcher = db.get(Researcher, researcher_id)
        if researcher is None:
            # Made identically on every laptop of the account (fixed creation time), so two
            # laptops pushing it are a duplicate, not a conflict.
            researcher = Researcher(
                id=researcher_id, name=name, role=role, created_at=ACCOUNT_EPOCH
            )
            db.add(researcher)
        elif (researcher.name, researcher.role, researcher.deleted_at) != (name, role, None):
            researcher.name, researcher.role, researcher.deleted_at = name, role, None
            db.add(researcher)
        for other in db.exec(select(Researcher).where(col(Researcher.deleted_at).is_(None))):
            if other.id != researcher_id and " ".join(other.name.split()).casefold() == (
                name.casefold()
            ):
                _point_at(db, other.id, researcher_id)
                tombstone(db, other)
        db.flush()
    database.set_setting(DEFAULT_RESEARCHER_KEY, researcher_id)
    return researcher


def _point_at(db: Session, old_id: str, new_id: str) -> None:
    for session in db.exec(select(ResearchSession).where(ResearchSession.researcher_id == old_id)):
        session.researcher_id = new_id
        db.add(session)
    for consent in db.exec(select(ConsentRecord).where(ConsentRecord.recorded_by == old_id)):
        consent.recorded_by = new_id
        db.add(consent)
