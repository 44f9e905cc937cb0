"""Study definitions as JSON: the templates shipped in ``resources/templates`` and the
files a lead hands to researchers.  Loading validates everything before writing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from cxfield.domain.errors import ConflictError, ValidationError
from cxfield.domain.rules import clean_name
from cxfield.domain.survey import SurveyVersion
from cxfield.domain.vocabulary import BlueprintLane, Channel
from cxfield.resources import resource_path
from cxfield.storage.database import Database
from cxfield.storage.models import ConsentText, Stage, Step, Study, StudyBase

FORMAT = "cxfield-study"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    path: Path


def templates_dir() -> Path:
    return resource_path("templates")


def list_templates() -> list[Template]:
    result = []
    for path in sorted(templates_dir().glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        meta = data.get("template", {})
        result.append(Template(meta.get("name", path.stem), meta.get("title", path.stem), path))
    return result


def load_template(name: str) -> dict[str, Any]:
    for template in list_templates():
        if template.name == name:
            data: dict[str, Any] = json.loads(template.path.read_text(encoding="utf-8"))
            return data
    names = ", ".join(t.name for t in list_templates())
    raise ValidationError(f"No template named {name!r}; available: {names}.")


def validate_definition(data: Any) -> dict[str, Any]:
    """Check a study definition document completely; raise ValidationError on any flaw."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError('Not a cxfield study definition (missing "format": "cxfield-study").')
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise ValidationError(
            f"Study definition format version {version!r} is not supported "
            f"(this cxfield reads version {FORMAT_VERSION})."
        )
    study = data.get("study")
    if not isinstance(study, dict) or not isinstance(study.get("name"), str):
        raise ValidationError("The study definition has no study name.")
    stages = data.get("stages")
    if not isinstance(stages, list):
        raise ValidationError("The study definition has no list of stages.")
    try:
        StudyBase.model_validate({k: v for k, v in study.items() if k in StudyBase.model_fields})
        SurveyVersion(study.get("survey_version", "v1"))
        for s_index, stage in enumerate(stages, 1):
            if not isinstance(stage, dict):
                raise ValidationError(f"Stage {s_index} is not an object.")
            clean_name(str(stage.get("name", "")), f"Stage {s_index} name")
            for t_index, step in enumerate(stage.get("steps", []), 1):
                if not isinstance(step, dict):
                    raise ValidationError(f"Step {t_index} of stage {s_index} is not an object.")
                clean_name(str(step.get("name", "")), f"Step {t_index} of stage {s_index} name")
                BlueprintLane(step.get("lane", "user"))
                Channel(step.get("channel", "in_person"))
    except ValueError as exc:  # enum values and pydantic errors
        first = str(exc).splitlines()[0]
        raise ValidationError(f"Invalid study definition: {first}") from exc
    return data


def create_from_definition(
    database: Database, data: dict[str, Any], name: str | None = None
) -> Study:
    """Create a study with its journey map from a validated definition, in one transaction."""
    data = validate_definition(data)
    fields = {k: v for k, v in data["study"].items() if k in StudyBase.model_fields}
    fields["name"] = clean_name(name or fields["name"], "Study name")
    with database.session() as db:
        clash = db.exec(
            select(Study).where(Study.name == fields["name"], col(Study.deleted_at).is_(None))
        ).first()
        if clash is not None:
            raise ConflictError(f"A study named {fields['name']!r} already exists.")
        study = Study.model_validate(fields | {"consent_version": 1})
        db.add(study)
        db.flush()
        db.add(ConsentText(study_id=study.id, version=1, text=study.consent_text))
        for s_pos, stage_data in enumerate(data["stages"]):
            stage = Stage(
                study_id=study.id,
                position=s_pos,
                name=clean_name(stage_data["name"]),
                description=stage_data.get("description", ""),
            )
            db.add(stage)
            db.flush()
            for t_pos, step_data in enumerate(stage_data.get("steps", [])):
                db.add(
                    Step(
                        study_id=study.id,
                        stage_id=stage.id,
                        position=t_pos,
                        name=clean_name(step_data["name"]),
                        description=step_data.get("description", ""),
                        lane=BlueprintLane(step_data.get("lane", "user")),
                        channel=Channel(step_data.get("channel", "in_person")),
                    )
                )
        return study
