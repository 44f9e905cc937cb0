"""Studies and their journey maps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from cxfield.domain.errors import ConflictError
from cxfield.domain.rules import clean_name
from cxfield.domain.vocabulary import BlueprintLane, Channel
from cxfield.services.common import get_live
from cxfield.storage.database import Database
from cxfield.storage.models import (
    ConsentText,
    Participant,
    ResearchSession,
    Stage,
    Step,
    Study,
    StudyBase,
)


@dataclass(frozen=True)
class StudySummary:
    id: str
    name: str
    program: str
    sessions: int
    participants: int
    updated_at: datetime


@dataclass
class StageView:
    stage: Stage
    steps: list[Step] = field(default_factory=list)


@dataclass
class Journey:
    study: Study
    stages: list[StageView]

    @property
    def steps(self) -> list[Step]:
        return [step for stage in self.stages for step in stage.steps]


def create_study(database: Database, data: StudyBase) -> Study:
    """Create a study (consent text version 1 is stored alongside)."""
    name = clean_name(data.name, "Study name")
    with database.session() as db:
        clash = db.exec(
            select(Study).where(Study.name == name, col(Study.deleted_at).is_(None))
        ).first()
        if clash is not None:
            raise ConflictError(f"A study named {name!r} already exists.")
        study = Study.model_validate(data.model_dump() | {"name": name, "consent_version": 1})
        db.add(study)
        db.flush()
        db.add(ConsentText(study_id=study.id, consent_version=1, text=study.consent_text))
        return study


def list_studies(database: Database) -> list[StudySummary]:
    with database.session() as db:
        sessions = (
            select(ResearchSession.study_id, func.count().label("n"))
            .where(col(ResearchSession.deleted_at).is_(None))
            .group_by(col(ResearchSession.study_id))
            .subquery()
        )
        participants = (
            select(Participant.study_id, func.count().label("n"))
            .where(col(Participant.deleted_at).is_(None))
            .group_by(col(Participant.study_id))
            .subquery()
        )
        rows = db.exec(
            select(Study, sessions.c.n, participants.c.n)
            .outerjoin(sessions, sessions.c.study_id == Study.id)
            .outerjoin(participants, participants.c.study_id == Study.id)
            .where(col(Study.deleted_at).is_(None))
            .order_by(col(Study.name))
        ).all()
        return [
            StudySummary(s.id, s.name, s.program, n_sessions or 0, n_parts or 0, s.updated_at)
            for s, n_sessions, n_parts in rows
        ]


#: LocalSetting key of the study the app showed last (its id), reselected at the next start
LAST_STUDY_SETTING = "gui.last_study"


def remembered_study(database: Database) -> str | None:
    """The id of the study the app showed last (it may have been deleted since)."""
    value = database.get_setting(LAST_STUDY_SETTING)
    return value if isinstance(value, str) and value else None


def remember_study(database: Database, study_id: str) -> None:
    if remembered_study(database) != study_id:
        database.set_setting(LAST_STUDY_SETTING, study_id)


def get_study(database: Database, study_id: str) -> Study:
    with database.session() as db:
        return get_live(db, Study, study_id, "study")


def get_journey(database: Database, study_id: str) -> Journey:
    """The study's stages and steps in order (tombstoned ones left out)."""
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        stages = db.exec(
            select(Stage)
            .where(Stage.study_id == study_id, col(Stage.deleted_at).is_(None))
            .order_by(col(Stage.position))
        ).all()
        steps = db.exec(
            select(Step)
            .where(Step.study_id == study_id, col(Step.deleted_at).is_(None))
            .order_by(col(Step.position))
        ).all()
        views = {stage.id: StageView(stage) for stage in stages}
        for step in steps:
            if step.stage_id in views:
                views[step.stage_id].steps.append(step)
        return Journey(study, list(views.values()))


def add_stage(database: Database, study_id: str, name: str, description: str = "") -> Stage:
    name = clean_name(name, "Stage name")
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        position = db.exec(
            select(func.count()).select_from(Stage).where(Stage.study_id == study_id)
        ).one()
        stage = Stage(study_id=study_id, name=name, description=description, position=position)
        db.add(stage)
        return stage


def add_step(
    database: Database,
    stage_id: str,
    name: str,
    *,
    description: str = "",
    lane: BlueprintLane = BlueprintLane.USER,
    channel: Channel = Channel.IN_PERSON,
) -> Step:
    name = clean_name(name, "Step name")
    with database.session() as db:
        stage = get_live(db, Stage, stage_id, "stage")
        position = db.exec(
            select(func.count()).select_from(Step).where(Step.stage_id == stage_id)
        ).one()
        step = Step(
            study_id=stage.study_id,
            stage_id=stage_id,
            name=name,
            description=description,
            lane=BlueprintLane(lane),
            channel=Channel(channel),
            position=position,
        )
        db.add(step)
        return step


def study_public(study: Study) -> dict[str, Any]:
    return study.model_dump(mode="json")
