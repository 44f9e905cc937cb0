"""Helpers for the staff-research and operations-data tests: a study with customer and staff
interviews whose numbers are known, and queue exports written as a queue system writes them."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cxfield.app import AppContext
from cxfield.domain.vocabulary import ParticipantKind
from cxfield.services import capture, participants, studies, templates
from cxfield.storage.models import Study

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def office(ctx: AppContext) -> tuple[Study, dict[str, str]]:
    study = templates.create_from_definition(
        ctx.db, templates.load_template("benefits-office-visit")
    )
    steps = {s.name: s.id for s in studies.get_journey(ctx.db, study.id).steps}
    return study, steps


def interview(
    ctx: AppContext,
    study: Study,
    at: datetime,
    *,
    role: str | None = None,
    site_id: str | None = None,
) -> str:
    """A customer's interview, or a staff member's when ``role`` is given."""
    kind = ParticipantKind.STAFF if role else ParticipantKind.CUSTOMER
    person = participants.add_participant(ctx.db, study.id, kind=kind, role=role)
    participants.record_consent(ctx.db, person.id, interview=True, recording=False)
    return capture.start_session(
        ctx.db, study.id, participant_id=person.id, site_id=site_id, now=at
    ).id


def rate(
    ctx: AppContext, session_id: str, step_id: str, valence: int, *, pain: bool = False
) -> None:
    capture.save_capture(ctx.db, session_id, step_id, valence=valence, pain_point=pain)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


QUEUE_HEADER = ("ticket", "office", "issued", "called", "closed")


def write_queue(
    path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = QUEUE_HEADER
) -> Path:
    """A queue-management export as CSV (UTF-8 with a byte-order mark, as Excel saves it)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def ticket(
    number: int, office: str, issued: datetime, wait_s: float, serve_s: float
) -> tuple[str, str, str, str, str]:
    """One row: issued, called after ``wait_s``, closed ``serve_s`` later."""
    called = issued + timedelta(seconds=wait_s)
    return (f"A{number:04d}", office, stamp(issued), stamp(called),
            stamp(called + timedelta(seconds=serve_s)))  # fmt: skip
