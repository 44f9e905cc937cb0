"""A realistic demo study for trying cxfield and for benchmarks (scales to thousands)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from cxfield.domain.errors import ValidationError
from cxfield.domain.rules import device_prefix, pseudonym_code
from cxfield.domain.survey import V1_ITEMS, V2_DRIVERS
from cxfield.domain.vocabulary import (
    BlueprintLane,
    NoteTag,
    ResearcherRole,
    SessionMode,
    SessionStatus,
)
from cxfield.services import demo_staff
from cxfield.services.common import ProgressCallback, get_live
from cxfield.services.participants import next_code
from cxfield.services.sites import DEFAULT_RESEARCHER_KEY
from cxfield.services.studies import list_studies
from cxfield.services.templates import create_from_definition, load_template
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ConsentRecord,
    LocalSetting,
    Note,
    ObservationVisit,
    Participant,
    Researcher,
    ResearchSession,
    Site,
    Stage,
    Step,
    StepCapture,
    Study,
    SurveyResponse,
)

# How each customer step tends to feel (mean valence) and what people say about it.
_STEP_MOOD: dict[str, tuple[float, list[str], list[str]]] = {
    "Check in": (
        0.5,
        ["The kiosk was easy, the lady at the desk helped me.", "Took a number, simple."],
        ["kiosk only in English", "no seats near the kiosk"],
    ),
    "Wait": (
        -1.2,
        [
            "Two hours on a plastic chair with my kids, nobody told us anything.",
            "Esperé casi dos horas y nadie me explicó nada.",
            "Tôi đợi rất lâu mà không biết còn bao nhiêu người.",
        ],
        ["no wait-time information", "long wait", "number called only in English"],
    ),
    "Intake interview": (
        0.2,
        [
            "She was patient and explained every question.",
            "他们问了很多问题，我有些听不懂。",
            "The questions about income were confusing.",
        ],
        ["confusing income questions", "no interpreter available"],
    ),
    "Document verification": (
        -0.8,
        [
            "I had to come back because they needed a second pay stub.",
            "لم أكن أعرف أي الوثائق يجب أن أحضرها.",
            "They scanned my papers right there, that was good.",
        ],
        ["documents list unclear", "second trip needed"],
    ),
    "Eligibility decision": (
        0.4,
        ["I was relieved when she said it was approved.", "Pending again, nobody says why."],
        ["decision reason not explained"],
    ),
    "Notice by mail": (
        -0.6,
        ["The letter was three pages of legal words.", "The notice came after the deadline."],
        ["notice hard to read", "notice arrived late"],
    ),
}

_SITES = [("Eastside Service Center", "1200 E Main St"), ("Riverside Office", "45 River Rd")]
_RESEARCHERS = [
    ("Ana Morales", ResearcherRole.RESEARCHER),
    ("Minh Tran", ResearcherRole.RESEARCHER),
    ("Grace Okafor", ResearcherRole.OBSERVER),
]
_POSITIVE = ["hopeful", "relieved", "respected", "satisfied"]
_NEGATIVE = ["frustrated", "confused", "anxious", "embarrassed", "angry"]


def _clamp(value: float) -> int:
    return max(-2, min(2, round(value)))


def create_demo(
    database: Database,
    sessions: int = 12,
    *,
    seed: int = 42,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
    now: Callable[[], datetime] | None = None,
    staff: int = 0,
    queue_rows: int = 0,
    submitted: bool = False,
    queue_export: Path | None = None,
) -> Study:
    """Create the demo study with ``sessions`` customer sessions (two of them observations),
    ``staff`` staff interviews of the same journey and a queue export of ``queue_rows``
    tickets imported as operations data — or, with ``queue_export``, written to that file
    (CSV, or XLSX) for the user to import, and not imported.  ``submitted``: every session
    is submitted for review (with its submission event), a queue for a supervisor to clear;
    otherwise the sessions are in a mix of review states."""
    if sessions < 0 or staff < 0 or queue_rows < 0:
        raise ValidationError("The number of demo sessions cannot be negative.")
    rng = random.Random(seed)
    definition = load_template("benefits-office-visit")
    study_name = name or _free_name(database, "Demo: " + definition["study"]["name"])
    study = create_from_definition(database, definition, name=study_name)
    with database.session() as db:
        # Made-up people: the demo syncs and exports without a redaction review (a study's
        # own setting; `cxfield redact settings ID --review on` turns it on).
        made = get_live(db, Study, study.id, "study")
        made.redaction = {"review": False}
        db.add(made)
        study = made
    end = (now or (lambda: datetime.now(UTC)))()
    start = end - timedelta(days=180)

    with database.session() as db:
        steps = [
            s
            for s in db.exec(
                select(Step).where(Step.study_id == study.id).order_by(col(Step.position))
            ).all()
        ]
        user_steps = [s for s in _ordered(db, study.id, steps) if s.lane == BlueprintLane.USER]
        sites = [Site(name=n, location=loc) for n, loc in _SITES]
        researchers = [Researcher(name=n, role=r) for n, r in _RESEARCHERS]
        db.add_all(sites)
        db.add_all(researchers)
        db.flush()

    segment_defs = study.segment_attributes
    n_observations = min(2, sessions)
    batch = 250
    for first in range(0, sessions, batch):
        with database.session() as db:
            for index in range(first, min(sessions, first + batch)):
                observation = index < n_observations
                _one_session(
                    db,
                    rng,
                    study,
                    index,
                    observation,
                    user_steps,
                    sites,
                    (researchers[2] if observation else researchers[index % 2]),
                    researchers[index % 2],
                    # customers are numbered from P-001 (observations have no participant)
                    pseudonym_code(max(1, index + 1 - n_observations)),
                    segment_defs,
                    start,
                    end,
                    submitted,
                )
        if on_progress:
            on_progress(min(sessions, first + batch), sessions)
    demo_staff.add_staff_interviews(
        database, study, staff, seed=seed, start=start, end=end, submitted=submitted
    )
    if queue_export is not None:
        demo_staff.write_queue_export(
            database, study, queue_export, seed=seed, start=start, end=end, rows=queue_rows
        )
        return study
    demo_staff.add_queue_export(database, study, seed=seed, start=start, end=end, rows=queue_rows)
    return study


def add_demo_sessions(
    database: Database,
    study_id: str,
    sessions: int,
    *,
    seed: int = 42,
    on_progress: ProgressCallback | None = None,
    now: Callable[[], datetime] | None = None,
    submitted: bool = False,
) -> Study:
    """Add ``sessions`` demo interviews to an existing study (one pulled from a hub, or
    imported): for trying sync with two laptops and for benchmarks.  Sessions go to this
    laptop's researcher (the hub account once connected), participants get this device's
    codes, and the demo sites are reused by name.  ``submitted`` as in :func:`create_demo`."""
    if sessions < 0:
        raise ValidationError("The number of demo sessions cannot be negative.")
    rng = random.Random(f"{seed}:{database.device_id}")
    end = (now or (lambda: datetime.now(UTC)))()
    start = end - timedelta(days=180)
    prefix = device_prefix(database.device_id)
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        steps = list(
            db.exec(select(Step).where(Step.study_id == study.id, col(Step.deleted_at).is_(None)))
        )
        user_steps = [s for s in _ordered(db, study.id, steps) if s.lane == BlueprintLane.USER]
        if not user_steps:
            raise ValidationError(
                "This study's journey map has no customer steps for demo sessions."
            )
        sites = [_site(db, name, location) for name, location in _SITES]
        researcher = _laptop_researcher(db, database)
        first = int(next_code(db, study.id, prefix).rsplit("-", 1)[1])
        db.flush()
    for done in range(0, sessions, 250):
        with database.session() as db:
            for index in range(done, min(sessions, done + 250)):
                _one_session(
                    db,
                    rng,
                    study,
                    index,
                    False,
                    user_steps,
                    sites,
                    researcher,
                    researcher,
                    pseudonym_code(first + index, prefix),
                    study.segment_attributes,
                    start,
                    end,
                    submitted,
                )
        if on_progress:
            on_progress(min(sessions, done + 250), sessions)
    return study


def _site(db: Session, name: str, location: str) -> Site:
    found = db.exec(select(Site).where(Site.name == name, col(Site.deleted_at).is_(None))).first()
    if found is None:
        found = Site(name=name, location=location)
        db.add(found)
    return found


def _laptop_researcher(db: Session, database: Database) -> Researcher:
    """The researcher new sessions default to (the hub account), else a demo researcher."""
    default = _setting(db, DEFAULT_RESEARCHER_KEY)
    found = db.get(Researcher, default) if isinstance(default, str) else None
    if found is not None and found.deleted_at is None:
        return found
    name, role = _RESEARCHERS[0]
    existing = db.exec(
        select(Researcher).where(Researcher.name == name, col(Researcher.deleted_at).is_(None))
    ).first()
    if existing is not None:
        return existing
    created = Researcher(name=name, role=role)
    db.add(created)
    return created


def _setting(db: Session, key: str) -> object:
    row = db.get(LocalSetting, key)
    return None if row is None else row.value


def _free_name(database: Database, base: str) -> str:
    taken = {s.name for s in list_studies(database)}
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


def _ordered(db: Session, study_id: str, steps: list[Step]) -> list[Step]:
    stage_pos = {
        s.id: s.position for s in db.exec(select(Stage).where(Stage.study_id == study_id)).all()
    }
    return sorted(steps, key=lambda s: (stage_pos.get(s.stage_id, 0), s.position))


def _observe(
    db: Session,
    rng: random.Random,
    session_id: str,
    steps: list[Step],
    started: datetime,
    *,
    sent_back: bool,
) -> float:
    """An observed visit, step by step; ``sent_back``: a missing document sends the customer
    back to the queue after document verification (a second visit of the wait)."""
    # One draw per step, as for interviews, so the demo's other sessions do not change.
    dwells = [rng.uniform(60, 400) * (4 if step.name == "Wait" else 1) for step in steps]
    route = list(zip(steps, dwells, strict=True))
    names = [step.name for step in steps]
    if sent_back and "Wait" in names and "Document verification" in names:
        back = names.index("Document verification") + 1
        wait = names.index("Wait")
        route[back:back] = [(steps[wait], dwells[wait] / 2), route[back - 1]]
    clock = 0.0
    visits: dict[str, list[tuple[datetime, datetime]]] = {}
    for step, dwell in route:
        entered = started + timedelta(seconds=clock)
        left = started + timedelta(seconds=clock + dwell)
        db.add(
            ObservationVisit(
                session_id=session_id, step_id=step.id, entered_at=entered, left_at=left
            )
        )
        visits.setdefault(step.id, []).append((entered, left))
        clock += dwell
    for step in steps:
        times = visits.get(step.id)
        if not times:
            continue
        db.add(
            StepCapture(
                session_id=session_id,
                step_id=step.id,
                observed_start=times[0][0],
                observed_end=times[-1][1],
                notes="Customer looked at the clock often." if step.name == "Wait" else "",
            )
        )
    return clock


def _one_session(
    db: Session,
    rng: random.Random,
    study: Study,
    index: int,
    observation: bool,
    steps: list[Step],
    sites: list[Site],
    researcher: Researcher,
    consent_taker: Researcher,
    code: str,
    segment_defs: list[dict[str, object]],
    start: datetime,
    end: datetime,
    submitted: bool = False,
) -> None:
    span = (end - start).total_seconds()
    started = start + timedelta(seconds=rng.uniform(0, span))
    started = started.replace(hour=rng.randint(8, 15), minute=rng.choice([0, 15, 30, 45]))
    participant = None
    if not observation:
        segments: dict[str, str] = {}
        for definition in segment_defs:
            values = definition.get("values")
            if isinstance(values, list) and rng.random() > 0.08:
                weights = [3 if i == 0 else 1 for i in range(len(values))]
                segments[str(definition["key"])] = str(rng.choices(values, weights)[0])
            elif rng.random() < 0.5:
                segments[str(definition["key"])] = "prefer not to say"
        participant = Participant(study_id=study.id, code=code, segments=segments)
        db.add(participant)
        db.flush()
        db.add(
            ConsentRecord(
                participant_id=participant.id,
                consent_version=study.consent_version,
                interview_consent=True,
                recording_consent=rng.random() < 0.8,
                consented_at=started,
                recorded_by=consent_taker.id,
            )
        )
    statuses = (
        [SessionStatus.SUBMITTED] * 6
        + [SessionStatus.APPROVED] * 3
        + [
            SessionStatus.HAS_ISSUES,
            SessionStatus.DRAFT,
        ]
    )
    site = rng.choice(sites)
    mixed = rng.choice(statuses)  # drawn either way: the same content with ``submitted``
    session = ResearchSession(
        study_id=study.id,
        site_id=site.id,
        researcher_id=researcher.id,
        participant_id=participant.id if participant else None,
        mode=SessionMode.OBSERVATION if observation else SessionMode.INTERVIEW,
        status=SessionStatus.SUBMITTED if submitted else mixed,
        started_at=started,
        notes="Observed from the lobby." if observation else "",
    )
    db.add(session)
    db.flush()

    # Language barriers make some steps feel worse for non-English speakers (equity lens).
    language = participant.segments.get("language") if participant else None
    barrier = 0.6 if language not in (None, "English", "prefer not to say") else 0.0
    clock = 0.0
    if observation:
        clock = _observe(db, rng, session.id, steps, started, sent_back=index == 0)
    for step in [] if observation else steps:
        mood, quotes, pains = _STEP_MOOD.get(step.name, (0.0, [], []))
        dwell = rng.uniform(60, 400) * (4 if step.name == "Wait" else 1)
        if rng.random() < 0.06:  # real visits skip steps
            continue
        valence = _clamp(rng.gauss(mood - barrier, 0.9))
        pool = _POSITIVE if valence > 0 else _NEGATIVE if valence < 0 else ["confused", "hopeful"]
        emotions = rng.sample(pool, k=rng.randint(0, 2 if valence else 1))
        pain = valence <= -1 and rng.random() < 0.7
        quote = rng.choice(quotes) if quotes and rng.random() < 0.35 else ""
        db.add(
            StepCapture(
                session_id=session.id,
                step_id=step.id,
                valence=valence,
                emotions=emotions,
                intensity=rng.randint(1, 5),
                pain_point=pain,
                notes=rng.choice(pains) if pain and pains else "",
                quote=quote,
            )
        )
        if pain and pains:
            db.add(
                Note(
                    session_id=session.id,
                    step_id=step.id,
                    text=rng.choice(pains).capitalize() + ".",
                    tags=[NoteTag.PAIN_POINT.value],
                    session_offset_ms=int(clock * 1000),
                )
            )
        if quote:
            db.add(
                Note(
                    session_id=session.id,
                    step_id=step.id,
                    text=quote,
                    tags=[NoteTag.QUOTE.value],
                    session_offset_ms=int((clock + 20) * 1000),
                )
            )
        clock += dwell / 6  # interviews walk through the visit faster than it happened
    session.ended_at = started + timedelta(seconds=max(clock, 600))
    if submitted:
        db.add(demo_staff.submission(session, researcher))
    if not observation and rng.random() < 0.85:
        base = 3.4 - barrier
        response = SurveyResponse(
            session_id=session.id,
            survey_version=study.survey_version,
            trust_variant=study.survey_trust_variant,
            effectiveness_variant=study.survey_effectiveness_variant,
            went_well=rng.sample(list(V2_DRIVERS[:6]), k=1),
            not_well=rng.sample(list(V2_DRIVERS[:6]), k=1),
            responded_at=session.ended_at,
        )
        for item in V1_ITEMS:
            setattr(response, item.key, max(1, min(5, round(rng.gauss(base, 1.0)))))
        db.add(response)
