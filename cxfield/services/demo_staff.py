"""The demo study's staff side and its operations data: staff interviews of the same
journey (how the work felt, pain points, workarounds, quotes) and a queue-management export
imported through :mod:`cxfield.services.ops_import`, as a lead would import one.

Both draw from their own random streams (derived from the demo's seed), so adding them does
not change one customer session of the demo."""

from __future__ import annotations

import csv
import random
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from cxfield.domain.journey import staff_takes_part
from cxfield.domain.review import ReviewAction
from cxfield.domain.rules import pseudonym_code
from cxfield.domain.vocabulary import NoteTag, ParticipantKind, SessionMode, SessionStatus
from cxfield.services import ops_import
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ConsentRecord,
    Note,
    Participant,
    Researcher,
    ResearchSession,
    ReviewEvent,
    Site,
    Stage,
    Step,
    StepCapture,
    Study,
)

# How doing the work at each step tends to feel for staff, what they say, what hurts and
# the workaround they use.
_STAFF_MOOD: dict[str, tuple[float, list[str], list[str], str]] = {
    "Check in": (
        0.3,
        ["The kiosk jams a couple of times a day and I reset it."],
        ["kiosk jams"],
        "Hands out paper numbers when the kiosk is down.",
    ),
    "Greet and triage": (
        0.4,
        ["Most people just need to know which line to stand in."],
        ["no interpreter at the desk"],
        "Uses a phone translation app.",
    ),
    "Wait": (
        -1.3,
        [
            "I watch the lobby fill up and I cannot tell anyone how long it will be.",
            "By eleven we are an hour behind and people start asking me.",
        ],
        ["no way to tell customers the wait", "too few caseworkers on shift"],
        "Writes the wait time on the whiteboard by hand.",
    ),
    "Intake interview": (
        0.1,
        ["The income questions take the longest; people do not have the numbers."],
        ["income questions hard to explain"],
        "Keeps a printed sheet that explains the income questions.",
    ),
    "Caseworker enters application": (
        -0.9,
        ["I type the same answers into two systems."],
        ["double data entry", "system times out"],
        "Copies the answers from the paper form afterwards.",
    ),
    "Eligibility system": (
        -1.0,
        ["The system freezes exactly when the lobby is busiest."],
        ["system slow at peak times"],
        "Saves every screen twice.",
    ),
    "Document verification": (
        -1.0,
        [
            "Half of them come without the second pay stub; the letter does not say so.",
            "The scanner is shared by six of us.",
        ],
        ["documents checklist unclear", "shared scanner"],
        "Keeps her own paper checklist to hand out.",
    ),
    "Eligibility decision": (
        0.2,
        ["Telling someone they are approved is the best part of the job."],
        ["pending cases with no reason to give"],
        "Calls the state help desk for pending cases.",
    ),
    "Notice by mail": (
        -0.4,
        ["We cannot change the notice wording; people call us about it."],
        ["notice wording"],
        "Explains the notice over the phone.",
    ),
}
#: the demo's staff take these roles in turn (so even a small demo hears every role)
_ROLE_CYCLE = (
    "caseworker", "front desk", "eligibility worker", "caseworker", "front desk", "supervisor"
)  # fmt: skip
_POSITIVE = ["hopeful", "relieved", "respected", "satisfied"]
_NEGATIVE = ["frustrated", "confused", "anxious", "rushed", "angry"]


def default_staff(sessions: int) -> int:
    """Staff interviews the demo adds to ``sessions`` customer sessions: half as many for a
    small demo, a quarter (at least 6) for a large one (12 -> 6, 2,000 -> 500)."""
    return min(sessions // 2, max(6, sessions // 4))


def add_staff_interviews(
    database: Database,
    study: Study,
    count: int,
    *,
    seed: int,
    start: datetime,
    end: datetime,
    submitted: bool = False,
) -> None:
    """``count`` staff interviews walking the steps their role takes part in (all of them
    submitted for review when ``submitted``)."""
    if count <= 0:
        return
    rng = random.Random(f"staff-{seed}")
    with database.session() as db:
        steps = _journey_steps(db, study.id)
        sites = list(db.exec(select(Site).order_by(col(Site.name))).all())
        researchers = list(db.exec(select(Researcher).order_by(col(Researcher.name))).all())
        roles = [r for r in _ROLE_CYCLE if r in study.staff_roles] or list(study.staff_roles)
        for index in range(count):
            role = roles[index % len(roles)]
            _staff_interview(
                db, rng, study, index, steps, sites, researchers, role, start, end, submitted
            )


def submission(session: ResearchSession, researcher: Researcher | None) -> ReviewEvent:
    """The event of a demo session submitted by its researcher when it ended."""
    return ReviewEvent(
        session_id=session.id,
        action=ReviewAction.SUBMIT,
        from_status=SessionStatus.DRAFT,
        to_status=SessionStatus.SUBMITTED,
        actor_id=researcher.id if researcher else None,
        actor_name=researcher.name if researcher else "",
        at=session.ended_at or session.started_at,
    )


def _journey_steps(db: Session, study_id: str) -> list[Step]:
    stage_pos = {
        s.id: s.position for s in db.exec(select(Stage).where(Stage.study_id == study_id)).all()
    }
    steps = db.exec(select(Step).where(Step.study_id == study_id)).all()
    return sorted(steps, key=lambda s: (stage_pos.get(s.stage_id, 0), s.position))


def _staff_interview(
    db: Session,
    rng: random.Random,
    study: Study,
    index: int,
    steps: list[Step],
    sites: list[Site],
    researchers: list[Researcher],
    role: str,
    start: datetime,
    end: datetime,
    submitted: bool = False,
) -> None:
    site = rng.choice(sites) if sites else None
    started = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
    started = started.replace(hour=rng.choice([7, 12, 16]), minute=rng.choice([0, 30]))
    segments = {"years_in_post": rng.choice(["under 1", "1–5", "1–5", "over 5"])}
    if site is not None:
        segments["office"] = site.name
    known = {str(a.get("key")) for a in study.staff_segment_attributes}
    person = Participant(
        study_id=study.id,
        code=pseudonym_code(index + 1, kind=ParticipantKind.STAFF),
        kind=ParticipantKind.STAFF,
        role=role,
        segments={k: v for k, v in segments.items() if k in known},
    )
    db.add(person)
    db.flush()
    researcher = researchers[index % len(researchers)] if researchers else None
    db.add(
        ConsentRecord(
            participant_id=person.id,
            consent_version=study.consent_version,
            interview_consent=True,
            recording_consent=rng.random() < 0.6,
            consented_at=started,
            recorded_by=researcher.id if researcher else None,
        )
    )
    mixed = rng.choice([SessionStatus.SUBMITTED] * 3 + [SessionStatus.APPROVED])
    session = ResearchSession(
        study_id=study.id,
        site_id=site.id if site else None,
        researcher_id=researcher.id if researcher else None,
        participant_id=person.id,
        mode=SessionMode.INTERVIEW,
        status=SessionStatus.SUBMITTED if submitted else mixed,
        started_at=started,
        ended_at=started + timedelta(minutes=rng.randint(25, 50)),
        notes=f"Staff interview ({role}) in the break room.",
    )
    db.add(session)
    if submitted:
        db.add(submission(session, researcher))
    db.flush()
    clock = 0.0
    for step in steps:
        if not staff_takes_part(step.lane, step.staff_roles, role):
            continue
        mood, quotes, pains, workaround = _STAFF_MOOD.get(step.name, (0.0, [], [], ""))
        valence = max(-2, min(2, round(rng.gauss(mood, 0.8))))
        pain = valence <= -1 and rng.random() < 0.75
        pool = _POSITIVE if valence > 0 else _NEGATIVE if valence < 0 else ["rushed", "hopeful"]
        quote = rng.choice(quotes) if quotes and rng.random() < 0.4 else ""
        db.add(
            StepCapture(
                session_id=session.id,
                step_id=step.id,
                valence=valence,
                emotions=rng.sample(pool, k=rng.randint(0, 2)),
                intensity=rng.randint(2, 5),
                pain_point=pain,
                notes=rng.choice(pains) if pain and pains else "",
                quote=quote,
            )
        )
        clock += rng.uniform(60, 240)
        if workaround and (pain or rng.random() < 0.3):
            db.add(
                Note(
                    session_id=session.id,
                    step_id=step.id,
                    text=workaround,
                    tags=[NoteTag.WORKAROUND.value],
                    session_offset_ms=int(clock * 1000),
                )
            )


# --- the queue-management export -------------------------------------------------------

#: the export's columns and the steps they open (issued: waiting starts, called: the intake
#: interview starts, verify: document verification starts; closed ends it)
QUEUE_MAP = (
    ("issued", "Wait"),
    ("called", "Intake interview"),
    ("verify", "Document verification"),
)


def add_queue_export(
    database: Database, study: Study, *, seed: int, start: datetime, end: datetime, rows: int
) -> None:
    """A queue export of ``rows`` tickets over the demo's period, imported like a real one."""
    with tempfile.TemporaryDirectory(prefix="cxfield-demo-") as folder:
        path = Path(folder) / "queue-export.csv"
        if write_queue_export(database, study, path, seed=seed, start=start, end=end, rows=rows):
            ops_import.import_operations(
                database, study.id, path, list(QUEUE_MAP), end_column="closed", site_column="site"
            )


def write_queue_export(
    database: Database,
    study: Study,
    path: Path,
    *,
    seed: int,
    start: datetime,
    end: datetime,
    rows: int,
) -> bool:
    """Write the demo's queue export to ``path`` (XLSX when it ends in .xlsx, with real
    date-time cells as a queue system's export opened in Excel has; else CSV), for a lead to
    import (``cxfield ops import``, or Study → Import operations data…).  Weeks whose
    interviewed customers felt the wait worse have longer waits, so the demo's correlation
    has something to show.  False (nothing written) when the study's journey lacks the
    export's steps or ``rows`` is 0."""
    rng = random.Random(f"queue-{seed}")
    with database.session() as db:
        names = {s.name for s in db.exec(select(Step).where(Step.study_id == study.id))}
        if any(step not in names for _col, step in QUEUE_MAP) or rows <= 0:
            return False
        sites = [s.name for s in db.exec(select(Site).order_by(col(Site.name)))] or ["Office"]
        moods = _weekly_wait_mood(db, study.id)
    days = max(1, (end - start).days)
    table: list[list[str | datetime | None]] = []
    for number in range(rows):
        day = start + timedelta(days=rng.randrange(days))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        issued = day.replace(
            hour=rng.randint(8, 15), minute=rng.randrange(60), second=rng.randrange(60)
        )
        mood = moods.get(issued.isocalendar()[:2], -1.2)
        wait = max(120.0, rng.gauss(1800 - mood * 900, 600))
        called = issued + timedelta(seconds=wait)
        verify = called + timedelta(seconds=max(300.0, rng.gauss(1300, 300)))
        closed = verify + timedelta(seconds=max(120.0, rng.gauss(600, 200)))
        skipped = rng.random() < 0.1  # no documents to check: straight to closed
        table.append(
            [f"A{number + 1:05d}", rng.choice(sites), _second(issued), _second(called),
             None if skipped else _second(verify), _second(closed)]
        )  # fmt: skip
    header = ["ticket", "site", "issued", "called", "verify", "closed"]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Tickets")
        sheet.append(header)
        for row in table:
            sheet.append(row)
        book.save(path)
        return True
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in table:
            writer.writerow(
                ["" if c is None else _stamp(c) if isinstance(c, datetime) else c for c in row]
            )
    return True


def _second(moment: datetime) -> datetime:
    """A queue system's time: to the second, local clock time (no zone), as exports have."""
    return moment.replace(microsecond=0, tzinfo=None)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _weekly_wait_mood(db: Session, study_id: str) -> dict[tuple[int, int], float]:
    """(ISO year, week) -> the mean valence customers gave the Wait that week."""
    wait = db.exec(select(Step).where(Step.study_id == study_id, Step.name == "Wait")).first()
    if wait is None:
        return {}
    rows = db.exec(
        select(ResearchSession.started_at, StepCapture.valence)
        .join(StepCapture, col(StepCapture.session_id) == col(ResearchSession.id))
        .join(Participant, col(Participant.id) == col(ResearchSession.participant_id))
        .where(
            StepCapture.step_id == wait.id,
            col(StepCapture.valence).is_not(None),
            Participant.kind == ParticipantKind.CUSTOMER,
        )
    ).all()
    totals: dict[tuple[int, int], list[int]] = defaultdict(list)
    for started, valence in rows:
        if valence is not None:
            totals[started.isocalendar()[:2]].append(valence)
    return {week: sum(v) / len(v) for week, v in totals.items()}
