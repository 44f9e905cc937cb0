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
from cxfield.domain.vocabulary import BlueprintLane, Channel
from cxfield.privacy.settings import study_redaction
from cxfield.resources import resource_path
from cxfield.services import study_identity
from cxfield.services.common import get_live
from cxfield.services.study_definition import (
    FORMAT,
    FORMAT_VERSION,
    MAX_FILE_BYTES,
    parse_definition,
    validate_definition,
)
from cxfield.storage.database import Database
from cxfield.storage.files import atomic_file
from cxfield.storage.models import ConsentText, Stage, Step, Study, StudyProtection

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
    "staff_roles",
    "staff_segment_attributes",
    "redaction",  # review before sync and export, case-number patterns, word list
)


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


def create_from_definition(
    database: Database, data: dict[str, Any], name: str | None = None
) -> Study:
    """Create a study with its journey map from a definition, in one transaction; the
    definition is checked completely first (see :mod:`cxfield.services.study_definition`)."""
    data = validate_definition(data)
    fields = dict(data["study"])
    if name is not None:
        fields["name"] = clean_name(name, "Study name")
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
        if data.get("protection"):
            db.add(StudyProtection(study_id=study.id, **data["protection"]))
        for s_pos, stage_data in enumerate(data["stages"]):
            stage = Stage(
                study_id=study.id,
                position=s_pos,
                name=stage_data["name"],
                description=stage_data["description"],
            )
            db.add(stage)
            db.flush()
            for t_pos, step_data in enumerate(stage_data["steps"]):
                db.add(
                    Step(
                        study_id=study.id,
                        stage_id=stage.id,
                        position=t_pos,
                        name=step_data["name"],
                        description=step_data["description"],
                        lane=BlueprintLane(step_data["lane"]),
                        channel=Channel(step_data["channel"]),
                        staff_roles=step_data["staff_roles"],
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
        protection = study_identity.protection_entry(db, study_id)
    dumped = study.model_dump(mode="json")
    # as the app reads them; never set stays {} so that both laptops hold the same row (a
    # sync then sends a duplicate, not a conflict); the names listed for a session stay here
    dumped["redaction"] = study_redaction(study.redaction).as_json() if study.redaction else {}
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
        **({"protection": protection} if protection else {}),
    }


def write_definition(database: Database, study_id: str, path: Path) -> Path:
    """Write the study's definition as UTF-8 JSON, atomically and 0600 like every export
    (a device, pipe or folder as ``path`` is refused; a failed write leaves nothing)."""
    data = export_definition(database, study_id)
    target = Path(path).expanduser()
    with atomic_file(target, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return target


def read_definition(path: Path) -> dict[str, Any]:
    """Read and validate a study definition file; clear one-line errors for any flaw."""
    try:
        with path.expanduser().open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ValidationError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    parsed = parse_definition(raw, str(path))
    return with_identity(parsed, validate_definition(parsed))


def with_identity(parsed: Any, checked: dict[str, Any]) -> dict[str, Any]:
    """The checked definition plus what keeps the study's identity in the file (ids,
    positions, stamps, revision, consent wordings, deleted stages and steps): validation
    normalises the fields a person wrote; the identity is checked where it is used
    (:mod:`cxfield.services.study_identity`)."""
    if not isinstance(parsed, dict) or not isinstance(parsed.get("study"), dict):
        return checked
    result = {k: v for k, v in parsed.items() if k not in checked} | checked
    result["study"] = {
        k: v for k, v in parsed["study"].items() if k not in checked["study"]
    } | checked["study"]
    if "protection" in checked and isinstance(parsed.get("protection"), dict):
        result["protection"] = parsed["protection"] | checked["protection"]  # its stamps kept
    raw_stages = parsed.get("stages") or []
    stages = []
    for raw_stage, stage in zip(raw_stages, checked["stages"], strict=True):
        raw_steps = raw_stage.get("steps") or []
        steps = [
            {k: v for k, v in raw_step.items() if k not in step} | step
            for raw_step, step in zip(raw_steps, stage["steps"], strict=True)
        ]
        stages.append({k: v for k, v in raw_stage.items() if k not in stage} | stage
                      | {"steps": steps})  # fmt: skip
    result["stages"] = stages
    return result


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
    # already checked and normalised by validate_definition (read_definition)
    fields["name"] = clean_name(fields["name"], "Study name")
    return fields
