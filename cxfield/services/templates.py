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
from cxfield.services import study_identity
from cxfield.services.common import get_live
from cxfield.services.journey_editor import (
    check_trust_population,
    clean_emotions,
    validate_segment_attributes,
)
from cxfield.storage.database import Database
from cxfield.storage.models import ConsentText, Stage, Step, Study, StudyBase

#: The study fields a definition carries; an exported file adds the ids, positions and
#: stamps that keep the study's identity (see :mod:`cxfield.services.study_identity`).
DEFINITION_FIELDS = (
    "name",
    "program",
    "agency",
    "a11_population",
    "description",
    "consent_text",
    "segment_attributes",
    "extra_emotions",
    "survey_version",
    "survey_trust_variant",
    "survey_effectiveness_variant",
    "audio_upload",
)

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
        validate_segment_attributes(study.get("segment_attributes") or [])
        if not isinstance(study.get("extra_emotions", []), list):
            raise ValidationError("extra_emotions must be a list of words.")
        clean_emotions(study.get("extra_emotions", []))
        if not isinstance(study.get("consent_text", ""), str):
            raise ValidationError("consent_text must be text.")
        check_trust_population(
            str(study.get("survey_trust_variant", "")), str(study.get("a11_population", ""))
        )
        for s_index, stage in enumerate(stages, 1):
            if not isinstance(stage, dict):
                raise ValidationError(f"Stage {s_index} is not an object.")
            clean_name(str(stage.get("name", "")), f"Stage {s_index} name")
            if not isinstance(stage.get("steps", []), list):
                raise ValidationError(f"The steps of stage {s_index} must be a list.")
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
    fields = {k: v for k, v in data["study"].items() if k in DEFINITION_FIELDS}
    fields["name"] = clean_name(fields["name"] if name is None else name, "Study name")
    fields["segment_attributes"] = validate_segment_attributes(
        fields.get("segment_attributes") or []
    )
    fields["extra_emotions"] = clean_emotions(fields.get("extra_emotions") or [])
    with database.session() as db:
        clash = db.exec(
            select(Study).where(Study.name == fields["name"], col(Study.deleted_at).is_(None))
        ).first()
        if clash is not None:
            raise ConflictError(f"A study named {fields['name']!r} already exists.")
        study = Study.model_validate(fields | {"consent_version": 1})
        db.add(study)
        db.flush()
        db.add(ConsentText(study_id=study.id, consent_version=1, text=study.consent_text))
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


def export_definition(database: Database, study_id: str) -> dict[str, Any]:
    """The study's definition (fields, consent text, segments, journey map) as a document
    that :func:`import_study` reads back: what a lead hands to researchers.  It carries the
    ids of the study, its stages and steps and a ``revision``, so importing it anywhere
    gives the same study, never a copy."""
    with database.session() as db:
        study = get_live(db, Study, study_id, "study")
        stages = db.exec(
            select(Stage)
            .where(Stage.study_id == study_id, col(Stage.deleted_at).is_(None))
            .order_by(col(Stage.position), col(Stage.created_at))
        ).all()
        steps = db.exec(
            select(Step)
            .where(Step.study_id == study_id, col(Step.deleted_at).is_(None))
            .order_by(col(Step.position), col(Step.created_at))
        ).all()
        live_stages = {stage.id for stage in stages}
        shown = {step.id for step in steps if step.stage_id in live_stages}
        extra = study_identity.identity_parts(db, study, shown)
        revision = study_identity.revision(db, study_id)
    dumped = study.model_dump(mode="json")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "study": {key: dumped[key] for key in DEFINITION_FIELDS}
        | study_identity.stamps(study)
        | {
            "consent_version": study.consent_version,
            "revision": study_identity.iso(revision),
        },
        "stages": [
            {
                "name": stage.name,
                "description": stage.description,
                **study_identity.stage_stamps(stage),
                "steps": [
                    study_identity.step_entry(step) for step in steps if step.stage_id == stage.id
                ],
            }
            for stage in stages
        ],
        **extra,
    }


def write_definition(database: Database, study_id: str, path: Path) -> Path:
    """Write the study's definition as UTF-8 JSON (atomically: temp file, then rename)."""
    data = export_definition(database, study_id)
    path = path.expanduser()
    if path.is_dir():
        raise ValidationError(f"{path} is a directory; give a file name.")
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ValidationError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return path


def read_definition(path: Path) -> dict[str, Any]:
    """Read and validate a study definition file; clear one-line errors for any flaw."""
    try:
        raw = path.expanduser().read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path} is not a JSON study definition ({exc}).") from exc
    return validate_definition(data)


def import_definition(database: Database, path: Path, name: str | None = None) -> Study:
    """Import a definition file (see :func:`import_study`) and return the study."""
    return import_study(database, path, name=name).study


def import_study(
    database: Database, path: Path, name: str | None = None
) -> study_identity.StudyImport:
    """Bring a definition file in; nothing is written if anything is wrong.

    A file with ids (every export) gives the same study as everywhere else: created with
    those ids, updated when the file is newer than this laptop's copy, else left as it is.
    A file without ids (a template, an older export) creates a new study."""
    data = read_definition(path)
    if not study_identity.has_identity(data):
        return study_identity.StudyImport(
            create_from_definition(database, data, name=name), "created"
        )
    if name is not None:
        raise ValidationError(
            "This file carries its study's id, so it is imported as that study under its own "
            "name; rename the study after importing."
        )
    return study_identity.import_identified(database, data, _clean_fields(data))


def _clean_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in data["study"].items() if k in DEFINITION_FIELDS}
    fields["name"] = clean_name(fields["name"], "Study name")
    fields["segment_attributes"] = validate_segment_attributes(
        fields.get("segment_attributes") or []
    )
    fields["extra_emotions"] = clean_emotions(fields.get("extra_emotions") or [])
    return fields
