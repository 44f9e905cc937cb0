"""Turning what a user typed (dates, site or researcher names, KEY=VALUE, statuses) into a
:class:`~cxfield.services.analysis.SessionFilter`, with one-line errors for bad input."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlmodel import Session, col, select

from cxfield.domain.errors import ValidationError
from cxfield.domain.vocabulary import SessionStatus
from cxfield.services.analysis import SessionFilter
from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import Researcher, Site, Study

Named = TypeVar("Named", Site, Researcher)

ALL_STATUSES: tuple[str, ...] = tuple(s.value for s in SessionStatus)


@dataclass(frozen=True)
class FilterRequest:
    """Filters as typed; every field optional."""

    date_from: str | None = None
    date_to: str | None = None
    site: str | None = None  # id or name
    researcher: str | None = None  # id or name
    segment: str | None = None  # KEY=VALUE
    statuses: Sequence[str] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (
            self.date_from
            or self.date_to
            or self.site
            or self.researcher
            or self.segment
            or self.statuses
        )


@dataclass(frozen=True)
class ResolvedFilter:
    flt: SessionFilter
    #: human-readable lines, e.g. "Site: Riverside Office" (empty when nothing is filtered)
    description: list[str]


def parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            f"{what} {value!r} is not a date; write it like 2026-03-31."
        ) from None


def parse_statuses(values: Sequence[str]) -> tuple[str, ...]:
    """Statuses from repeated and/or comma-separated values ("approved,submitted")."""
    result: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower().replace(" ", "_").replace("-", "_")
            if not name:
                continue
            if name not in ALL_STATUSES:
                raise ValidationError(
                    f"Unknown status {part.strip()!r}; use one of {', '.join(ALL_STATUSES)}."
                )
            if name not in result:
                result.append(name)
    return tuple(result)


def resolve_filter(
    database: Database, study_id: str, request: FilterRequest, *, default_all: bool = False
) -> ResolvedFilter:
    """Check every filter against the study and build the SessionFilter.

    Without ``--status``, reports leave rejected sessions out (review convention); data
    exports (``default_all``) keep every status, so analysts can filter on the column."""
    lines: list[str] = []
    date_from = parse_date(request.date_from, "--from") if request.date_from else None
    date_to = parse_date(request.date_to, "--to") if request.date_to else None
    if date_from and date_to and date_from > date_to:
        raise ValidationError(f"--from {date_from} is after --to {date_to}.")
    if date_from or date_to:
        lines.append(f"Dates: {date_from or 'start'} to {date_to or 'today'} (inclusive, UTC)")
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        site_id = None
        if request.site:
            site = _by_id_or_name(db, Site, request.site, "site")
            site_id = site.id
            lines.append(f"Site: {site.name}")
        researcher_id = None
        if request.researcher:
            person = _by_id_or_name(db, Researcher, request.researcher, "researcher")
            researcher_id = person.id
            lines.append(f"Researcher: {person.name}")
        segment = None
        if request.segment is not None:
            key, sep, value = request.segment.partition("=")
            # a terminal may hand over "tamaño" decomposed (NFD); keys are stored composed
            key, value = unicodedata.normalize("NFC", key.strip()), value.strip()
            if not sep or not key or not value:
                raise ValidationError(
                    f"--segment {request.segment!r} must be KEY=VALUE, e.g. language=Spanish."
                )
            known = {str(a.get("key")): a for a in study.segment_attributes}
            if key not in known:
                choices = ", ".join(known) or "none defined"
                raise ValidationError(
                    f"Unknown segment attribute {key!r}; this study has: {choices}."
                )
            segment = (key, value)
            lines.append(f"Segment: {known[key].get('label', key)} = {value}")
    statuses = parse_statuses(request.statuses) if request.statuses else None
    if statuses:
        lines.append("Status: " + ", ".join(statuses))
    elif default_all:
        statuses = ALL_STATUSES
    else:
        lines.append("Status: all except rejected")
    flt = SessionFilter(
        date_from=date_from,
        date_to=date_to,
        site_id=site_id,
        researcher_id=researcher_id,
        segment=segment,
        statuses=statuses,
    )
    return ResolvedFilter(flt, lines)


def _by_id_or_name(db: Session, model: type[Named], value: str, what: str) -> Named:
    found = db.get(model, value.strip())
    if found is not None and found.deleted_at is None:
        return found
    wanted = value.strip().casefold()
    rows = list(db.exec(select(model).where(col(model.deleted_at).is_(None))).all())
    named = [m for m in rows if m.name.casefold() == wanted]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationError(f"Several {what}s are named {value!r}; give the id instead.")
    raise ValidationError(f"No {what} with id or name {value!r}.")


@dataclass(frozen=True)
class FilterChoices:
    """What a filter form can offer for a study (sites and researchers of its sessions)."""

    sites: list[tuple[str, str]]  # (id, name)
    researchers: list[tuple[str, str]]
    #: (key, label, values) of the study's segment attributes
    segments: list[tuple[str, str, list[str]]]


def filter_choices(database: Database, study_id: str) -> FilterChoices:
    from cxfield.storage.models import ResearchSession

    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        live = (ResearchSession.study_id == study_id, col(ResearchSession.deleted_at).is_(None))
        site_ids = set(db.exec(select(ResearchSession.site_id).where(*live).distinct()))
        people_ids = set(db.exec(select(ResearchSession.researcher_id).where(*live).distinct()))
        sites = sorted(
            ((x.id, x.name) for x in db.exec(select(Site)) if x.id in site_ids),
            key=lambda t: t[1].casefold(),
        )
        people = sorted(
            ((x.id, x.name) for x in db.exec(select(Researcher)) if x.id in people_ids),
            key=lambda t: t[1].casefold(),
        )
        segments = [
            (
                str(a.get("key")),
                str(a.get("label") or a.get("key")),
                [str(v) for v in a.get("values") or []],
            )
            for a in study.segment_attributes
        ]
    return FilterChoices(sites, people, segments)
