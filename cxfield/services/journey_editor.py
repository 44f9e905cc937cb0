"""Editing a study and its journey map: fields, consent versions, segment attributes,
stages and steps (add, rename, describe, reorder, move, lane, channel, delete).

Every function is one unit of work and validates before writing, so bad input changes
nothing.  Deleting a step that already holds captures needs ``confirm=True`` and only
tombstones the step: the captures stay (data is never silently dropped)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from cxfield.domain.errors import ConflictError, NotFoundError, ValidationError
from cxfield.domain.rules import (
    check_role,
    check_segment_key,
    clean_name,
    clean_roles,
    segment_key,
)
from cxfield.domain.survey import EFFECTIVENESS_VARIANTS, TRUST_VARIANTS, SurveyVersion
from cxfield.domain.vocabulary import BASE_EMOTIONS, PREFER_NOT_TO_SAY, BlueprintLane, Channel
from cxfield.services.common import get_live, tombstone
from cxfield.storage.database import Database
from cxfield.storage.models import ConsentText, Stage, Step, StepCapture, Study

#: Study fields that :func:`update_study` accepts.
EDITABLE_FIELDS = (
    "name",
    "program",
    "agency",
    "a11_population",
    "description",
    "extra_emotions",
    "survey_version",
    "survey_trust_variant",
    "survey_effectiveness_variant",
    "audio_upload",
)


@dataclass(frozen=True)
class StepDeletion:
    """What deleting a step did (or would do): how many captures it holds."""

    step_id: str
    captures: int
    deleted: bool


def _check_unique_study_name(db: Session, name: str, study_id: str | None) -> None:
    clash = db.exec(
        select(Study).where(Study.name == name, col(Study.deleted_at).is_(None))
    ).first()
    if clash is not None and clash.id != study_id:
        raise ConflictError(f"A study named {name!r} already exists.")


def clean_emotions(values: Iterable[str]) -> list[str]:
    """Study-specific emotion words: trimmed, lower-case, no repeats of the base set."""
    result: list[str] = []
    for raw in values:
        emotion = " ".join(str(raw).split()).lower()
        if not emotion:
            continue
        if len(emotion) > 30:
            raise ValidationError(f"Emotion {emotion!r} is longer than 30 characters.")
        if emotion not in result and emotion not in BASE_EMOTIONS:
            result.append(emotion)
    return result


def check_trust_population(trust_variant: str, population: str) -> None:
    """The "commitment" trust item names a population: without one the customer would read
    "... our country's commitment to [relevant population]."."""
    if trust_variant == "commitment" and not population.strip():
        raise ValidationError(
            "The trust question about our country's commitment needs the population it "
            "names (e.g. veterans): fill in the A-11 population."
        )


def update_study(database: Database, study_id: str, **changes: Any) -> Study:
    """Change study fields (see :data:`EDITABLE_FIELDS`); validates everything first."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError(f"Cannot edit study field(s): {', '.join(sorted(unknown))}.")
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = clean_name(str(changes["name"]), "Study name")
    for key in ("program", "agency", "a11_population"):
        if key in changes:
            value = " ".join(str(changes[key] or "").split())
            if len(value) > 200:
                what = "A-11 population" if key == "a11_population" else f"{key} name"
                raise ValidationError(f"The {what} is longer than 200 characters.")
            clean[key] = value
    if "description" in changes:
        clean["description"] = str(changes["description"] or "").strip()
    if "extra_emotions" in changes:
        clean["extra_emotions"] = clean_emotions(changes["extra_emotions"])
    if "survey_version" in changes:
        try:
            clean["survey_version"] = SurveyVersion(changes["survey_version"])
        except ValueError as exc:
            raise ValidationError("The survey version must be v1 or v2.") from exc
    if "survey_trust_variant" in changes:
        if changes["survey_trust_variant"] not in TRUST_VARIANTS:
            raise ValidationError(f"Trust variant must be one of: {', '.join(TRUST_VARIANTS)}.")
        clean["survey_trust_variant"] = changes["survey_trust_variant"]
    if "survey_effectiveness_variant" in changes:
        if changes["survey_effectiveness_variant"] not in EFFECTIVENESS_VARIANTS:
            raise ValidationError(
                f"Effectiveness variant must be one of: {', '.join(EFFECTIVENESS_VARIANTS)}."
            )
        clean["survey_effectiveness_variant"] = changes["survey_effectiveness_variant"]
    if "audio_upload" in changes:
        if not isinstance(changes["audio_upload"], bool):
            raise ValidationError("Audio upload is on (true) or off (false).")
        clean["audio_upload"] = changes["audio_upload"]
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        if "name" in clean:
            _check_unique_study_name(db, clean["name"], study_id)
        check_trust_population(
            clean.get("survey_trust_variant", study.survey_trust_variant),
            clean.get("a11_population", study.a11_population),
        )
        for key, value in clean.items():
            setattr(study, key, value)
        db.add(study)
        return study


def set_consent_text(database: Database, study_id: str, text: str) -> Study:
    """Store a new version of the consent text (old consent records keep theirs).

    An unchanged text creates no new version."""
    text = text.strip()
    if not text:
        raise ValidationError("The consent text must not be empty.")
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        if text == study.consent_text.strip():
            return study
        latest = db.exec(
            select(func.max(ConsentText.consent_version)).where(ConsentText.study_id == study_id)
        ).one()
        version = max(int(latest or 0), study.consent_version) + 1
        db.add(ConsentText(study_id=study_id, consent_version=version, text=text))
        study.consent_text = text
        study.consent_version = version
        db.add(study)
        return study


def consent_history(database: Database, study_id: str) -> list[ConsentText]:
    """Every version of the study's consent text, oldest first."""
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        return list(
            db.exec(
                select(ConsentText)
                .where(ConsentText.study_id == study_id, col(ConsentText.deleted_at).is_(None))
                .order_by(col(ConsentText.consent_version))
            ).all()
        )


def validate_segment_attributes(
    attributes: Sequence[Mapping[str, Any]], *, open_allowed: bool = False
) -> list[dict[str, Any]]:
    """Normalise segment attribute definitions; raise ValidationError on any flaw.

    Each is ``{"key", "label", "values"}``; "prefer not to say" is always offered, so it is
    not stored among the values.  ``open_allowed`` (staff attributes): an attribute without
    values takes any answer (an office's name)."""
    result: list[dict[str, Any]] = []
    keys: set[str] = set()
    for index, attribute in enumerate(attributes, 1):
        label = clean_name(str(attribute.get("label", "")), f"Segment attribute {index} label")
        # a key once stored stays as it is (participants' answers are filed under it)
        key = check_segment_key(str(attribute.get("key") or segment_key(label)))
        if key in keys:
            raise ValidationError(f"Two segment attributes share the key {key!r}.")
        keys.add(key)
        raw_values = attribute.get("values", [])
        if not isinstance(raw_values, list | tuple):
            raise ValidationError(f"The values of {label!r} must be a list.")
        values: list[str] = []
        for raw in raw_values:
            value = " ".join(str(raw).split())
            if not value or value.lower() == PREFER_NOT_TO_SAY:
                continue
            if value in values:
                raise ValidationError(f"{label!r} lists the value {value!r} twice.")
            values.append(value)
        if not values and not open_allowed:
            raise ValidationError(f"Segment attribute {label!r} needs at least one value.")
        result.append({"key": key, "label": label, "values": values})
    return result


def set_segment_attributes(
    database: Database, study_id: str, attributes: Sequence[Mapping[str, Any]]
) -> Study:
    """Replace the study's segment attributes (the equity lens)."""
    clean = validate_segment_attributes(attributes)
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        study.segment_attributes = clean
        db.add(study)
        return study


def set_staff_profile(
    database: Database,
    study_id: str,
    roles: Sequence[str],
    attributes: Sequence[Mapping[str, Any]],
) -> Study:
    """Replace the study's staff roles and staff segment attributes (kept apart from the
    customers' segments).  Staff already added keep their role even if it is no longer
    listed; a customer attribute's key may be reused, the two sets never mix."""
    clean_list = clean_roles(roles)
    if not clean_list:
        raise ValidationError("A study needs at least one staff role.")
    clean = validate_segment_attributes(attributes, open_allowed=True)
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        study.staff_roles = clean_list
        study.staff_segment_attributes = clean
        db.add(study)
        return study


# --- stages ---------------------------------------------------------------------------


def _live_stages(db: Session, study_id: str) -> list[Stage]:
    return list(
        db.exec(
            select(Stage)
            .where(Stage.study_id == study_id, col(Stage.deleted_at).is_(None))
            .order_by(col(Stage.position), col(Stage.created_at))
        ).all()
    )


def _live_steps(db: Session, stage_id: str) -> list[Step]:
    return list(
        db.exec(
            select(Step)
            .where(Step.stage_id == stage_id, col(Step.deleted_at).is_(None))
            .order_by(col(Step.position), col(Step.created_at))
        ).all()
    )


def _renumber(db: Session, rows: Sequence[Stage | Step]) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            db.add(row)


def _clamp_index(index: int, length: int) -> int:
    return max(0, min(index, length))


def update_stage(
    database: Database, stage_id: str, *, name: str | None = None, description: str | None = None
) -> Stage:
    """Rename and/or describe a stage."""
    with database.session() as db:
        stage = get_live(db, Stage, stage_id, "stage")
        if name is not None:
            stage.name = clean_name(name, "Stage name")
        if description is not None:
            stage.description = description.strip()
        db.add(stage)
        return stage


def move_stage(database: Database, stage_id: str, index: int) -> Stage:
    """Put a stage at ``index`` (0-based, clamped) among the study's stages."""
    with database.session() as db:
        stage = get_live(db, Stage, stage_id, "stage")
        stages = [s for s in _live_stages(db, stage.study_id) if s.id != stage_id]
        stages.insert(_clamp_index(index, len(stages)), stage)
        _renumber(db, stages)
        return stage


def delete_stage(database: Database, stage_id: str) -> None:
    """Delete an empty stage (move or delete its steps first)."""
    with database.session() as db:
        stage = get_live(db, Stage, stage_id, "stage")
        if _live_steps(db, stage_id):
            raise ConflictError(f"Stage {stage.name!r} still has steps; move or delete them first.")
        tombstone(db, stage)
        _renumber(db, [s for s in _live_stages(db, stage.study_id) if s.id != stage_id])


# --- steps ----------------------------------------------------------------------------


def update_step(
    database: Database,
    step_id: str,
    *,
    name: str | None = None,
    description: str | None = None,
    lane: BlueprintLane | str | None = None,
    channel: Channel | str | None = None,
    staff_roles: Sequence[str] | None = None,
) -> Step:
    """Rename, describe, or change the blueprint lane, the channel or the staff roles that
    take part in a step (each one of the study's staff roles)."""
    try:
        new_lane = BlueprintLane(lane) if lane is not None else None
        new_channel = Channel(channel) if channel is not None else None
    except ValueError as exc:
        raise ValidationError(f"Unknown lane or channel: {exc}.") from exc
    with database.session() as db:
        step = get_live(db, Step, step_id, "step")
        if name is not None:
            step.name = clean_name(name, "Step name")
        if description is not None:
            step.description = description.strip()
        if new_lane is not None:
            step.lane = new_lane
        if new_channel is not None:
            step.channel = new_channel
        if staff_roles is not None:
            study = get_live(db, Study, step.study_id, "study")
            roles: list[str] = []
            for role in staff_roles:
                if role.strip() and (named := check_role(role, study.staff_roles)) not in roles:
                    roles.append(named)
            step.staff_roles = roles
        db.add(step)
        return step


def move_step(database: Database, step_id: str, stage_id: str, index: int) -> Step:
    """Move a step to position ``index`` (0-based, clamped) of a stage of the same study."""
    with database.session() as db:
        step = get_live(db, Step, step_id, "step")
        target = get_live(db, Stage, stage_id, "stage")
        if target.study_id != step.study_id:
            raise ValidationError("A step can only move to a stage of the same study.")
        old_stage = step.stage_id
        siblings = [s for s in _live_steps(db, stage_id) if s.id != step_id]
        siblings.insert(_clamp_index(index, len(siblings)), step)
        step.stage_id = stage_id
        db.add(step)
        _renumber(db, siblings)
        if old_stage != stage_id:
            _renumber(db, [s for s in _live_steps(db, old_stage) if s.id != step_id])
        return step


def shift_step(database: Database, step_id: str, delta: int) -> Step:
    """Move a step one place up (-1) or down (+1) through the whole journey, crossing into
    the neighbouring stage at a stage's edge (what the keyboard reorder does)."""
    with database.session() as db:
        step = get_live(db, Step, step_id, "step")
        stages = _live_stages(db, step.study_id)
        stage_ids = [s.id for s in stages]
        steps = _live_steps(db, step.stage_id)
        index = [s.id for s in steps].index(step_id)
        stage_index = stage_ids.index(step.stage_id)
    new_index = index + delta
    if 0 <= new_index < len(steps):
        return move_step(database, step_id, step.stage_id, new_index)
    neighbour = stage_index + (1 if delta > 0 else -1)
    if not 0 <= neighbour < len(stage_ids):
        return step  # already first / last of the journey
    return move_step(database, step_id, stage_ids[neighbour], 0 if delta > 0 else 10**6)


def capture_count(database: Database, step_id: str) -> int:
    """How many live captures a step holds (what deleting it would hide)."""
    with database.session() as db:
        return int(
            db.exec(
                select(func.count())
                .select_from(StepCapture)
                .where(StepCapture.step_id == step_id, col(StepCapture.deleted_at).is_(None))
            ).one()
        )


def delete_step(database: Database, step_id: str, *, confirm: bool = False) -> StepDeletion:
    """Tombstone a step.  A step that holds captures is only deleted with ``confirm=True``
    (otherwise ConflictError says how many); the captures themselves are kept."""
    captures = capture_count(database, step_id)
    if captures and not confirm:
        raise ConflictError(
            f"This step holds {captures} capture(s) from sessions; confirm to delete it. "
            "The captures are kept."
        )
    with database.session() as db:
        step = get_live(db, Step, step_id, "step")
        tombstone(db, step)
        _renumber(db, [s for s in _live_steps(db, step.stage_id) if s.id != step_id])
    return StepDeletion(step_id, captures, True)


@dataclass(frozen=True)
class DeletedStep:
    step_id: str
    name: str
    stage: str
    deleted_at: datetime
    captures: int


def deleted_steps(database: Database, study_id: str) -> list[DeletedStep]:
    """The study's deleted steps, newest deletion first (what :func:`restore_step` offers)."""
    with database.session() as db:
        get_live(db, Study, study_id, "study")
        stages = {s.id: s.name for s in db.exec(select(Stage).where(Stage.study_id == study_id))}
        counts = dict(
            db.exec(
                select(StepCapture.step_id, func.count())
                .where(col(StepCapture.deleted_at).is_(None))
                .group_by(col(StepCapture.step_id))
            ).all()
        )
        rows = db.exec(
            select(Step)
            .where(Step.study_id == study_id, col(Step.deleted_at).is_not(None))
            .order_by(col(Step.deleted_at).desc())
        ).all()
        return [
            DeletedStep(s.id, s.name, stages.get(s.stage_id, ""), s.deleted_at, counts.get(s.id, 0))
            for s in rows
            if s.deleted_at is not None
        ]


def restore_step(database: Database, step_id: str) -> Step:
    """Undo :func:`delete_step`: the step comes back, with its captures, at the end of its
    stage — or of the last stage when its own stage was deleted meanwhile."""
    with database.session() as db:
        step = db.get(Step, step_id)
        if step is None:
            raise NotFoundError(f"No step with id {step_id}.")
        if step.deleted_at is None:
            return step
        stage = db.get(Stage, step.stage_id)
        if stage is None or stage.deleted_at is not None:
            live = _live_stages(db, step.study_id)
            if not live:
                raise ConflictError("The map has no stage to put the step back in; add one first.")
            step.stage_id = live[-1].id
        step.position = len(_live_steps(db, step.stage_id))  # counted while still deleted
        step.deleted_at = None
        db.add(step)
        return step
